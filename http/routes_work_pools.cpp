// /api/work_pools: pools (create with their default queue, read, update incl. pause, delete, filter, count), the
// poll workers make (get_scheduled_flow_runs), worker heartbeats, listing and deletion. Changes workers act on are
// told to their open channels (worker_channels.hpp). Queues under a pool:
// routes_work_queues.cpp. Names starting with "prefect" are Prefect's own: creating, deleting or (beyond pause and
// concurrency) updating such a pool is 403, as Prefect answers.
#include <nlohmann/json.hpp>

#include "http/api_support.hpp"
#include "http/routes.hpp"
#include "http/shapes.hpp"
#include "http/work_pool_fields.hpp"
#include "http/worker_channels.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/work_pool_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
namespace fields = work_pool_fields;

const std::string base = "/api/work_pools";

/// The pool named `name`, or not_found with Prefect's detail.
result<work_pool> pool_named(persistence::sql_connection& c, const std::string& name) {
  return persistence::or_not_found(persistence::find_pool_by_name(c, name), "Work pool \"" + name + "\" not found.");
}

std::optional<std::int64_t> slots_if_limited(persistence::sql_connection& c, const work_pool& p) {
  if (!p.concurrency_limit) return std::nullopt;
  return persistence::pool_active_slots(c, p.id);
}

void register_create(router& routes, const api_context& ctx) {
  routes.add(
      "POST", base + "/", "Create a work pool and its default queue (201)", [ctx](request& req, responder respond) {
        response error;
        auto body = parse_object_body(req, error);
        if (!body) return respond(std::move(error));
        work_pool pool;
        if (!fields::read_pool_create(*body, pool, error)) return respond(std::move(error));
        if (is_reserved_pool_name(pool.name))
          return respond(response::detail(403, "Work pools starting with 'Prefect' are reserved for internal use."));
        pool.id = work_pool_id{new_uuid4()};
        pool.created = pool.updated = ctx.time->now();
        if (auto status = initial_pool_status(pool.type, pool.is_paused)) pool.status = *status;
        persistence::write_value(
            ctx.db,
            [pool](persistence::sql_connection& c) mutable {
              persistence::create_pool(c, pool);
              return pool;
            },
            [respond](const result<work_pool>& created) {
              if (!created && created.error().code() == errc::conflict)
                return respond(response::detail(409, "A work pool with this name already exists."));
              respond(created ? response::json(201, fields::pool_json(*created, 0).dump())
                              : error_response(created.error()));
            });
      });
}

void register_read(router& routes, const api_context& ctx) {
  routes.add("GET", base + "/{name}", "Read a work pool by name", [ctx](request& req, responder respond) {
    persistence::read_value(
        ctx.db,
        [name = req.path_params["name"]](persistence::sql_connection& c) -> result<json> {
          auto p = pool_named(c, name);
          if (!p) return p.error();
          return fields::pool_json(*p, slots_if_limited(c, *p));
        },
        [respond](const result<json>& j) { respond(j ? response::json(200, j->dump()) : error_response(j.error())); });
  });
}

void register_filter(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/filter", "List work pools by name (filter, limit, offset)",
             [ctx](request& req, responder respond) {
               response error;
               auto listing = fields::read_listing(req, "work_pools", error);
               std::optional<filters::work_pool_filter> filter;
               if (!listing ||
                   !fields::parse_filter(listing->filter, "work_pools", filters::parse_work_pool_filter, filter, error))
                 return respond(std::move(error));
               persistence::read_value(
                   ctx.db,
                   [filter, l = *listing](persistence::sql_connection& c) {
                     json out = json::array();
                     const auto where = persistence::work_pool_where(c.dialect(), filter);
                     for (const auto& p : persistence::select_pools(c, where, l.limit, l.offset))
                       out.push_back(fields::pool_json(p, slots_if_limited(c, p)));
                     return out;
                   },
                   [respond](const result<json>& j) {
                     respond(j ? response::json(200, j->dump()) : error_response(j.error()));
                   });
             });
}

void register_count(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/count", "Count work pools", [ctx](request& req, responder respond) {
    response error;
    auto listing = fields::read_listing(req, "work_pools", error);
    std::optional<filters::work_pool_filter> filter;
    if (!listing ||
        !fields::parse_filter(listing->filter, "work_pools", filters::parse_work_pool_filter, filter, error))
      return respond(std::move(error));
    persistence::read_value(
        ctx.db,
        [filter](persistence::sql_connection& c) {
          return persistence::count_pools(c, persistence::work_pool_where(c.dialect(), filter));
        },
        [respond](const result<std::int64_t>& n) {
          respond(n ? response::json(200, json(*n).dump()) : error_response(n.error()));
        });
  });
}

void register_update(router& routes, const api_context& ctx) {
  routes.add(
      "PATCH", base + "/{name}", "Update a work pool; is_paused pauses it (204)",
      [ctx](request& req, responder respond) {
        response error;
        auto body = parse_object_body(req, error);
        if (!body) return respond(std::move(error));
        fields::pool_update update;
        if (!fields::read_pool_update(*body, update, error)) return respond(std::move(error));
        const auto name = req.path_params["name"];
        if (is_reserved_pool_name(name) && update.touches_more_than_pause_or_limit)
          return respond(response::detail(403,
                                          "Work pools starting with 'Prefect' are reserved for internal use and can "
                                          "only be updated to set concurrency limits or pause."));
        // Workers act on these; their channels get a fresh snapshot of the pool (Prefect's
        // WORK_POOL_FIELDS_THAT_TRIGGER_SNAPSHOTS).
        const bool workers_see_it =
            update.is_paused || update.concurrency_limit || update.base_job_template || update.storage_configuration;
        persistence::write_value(
            ctx.db,
            [name, update, clock = ctx.time](persistence::sql_connection& c) -> result<work_pool_id> {
              auto p = pool_named(c, name);
              if (!p) return p.error();
              const auto now = clock->now();
              fields::apply(update, *p);
              if (update.is_paused)
                apply_pool_pause(*p, *update.is_paused, persistence::any_worker_online(c, p->id), now);
              p->updated = now;
              persistence::update_pool(c, *p);
              return p->id;
            },
            [respond, channels = ctx.worker_channels, workers_see_it](const result<work_pool_id>& id) {
              if (id && workers_see_it) channels->notify(*id, worker_channel_hub::pool_event::updated);
              respond(id ? response::no_content() : error_response(id.error()));
            });
      });
}

void register_delete(router& routes, const api_context& ctx) {
  routes.add("DELETE", base + "/{name}", "Delete a work pool, its queues and workers (204)",
             [ctx](request& req, responder respond) {
               const auto name = req.path_params["name"];
               if (is_reserved_pool_name(name))
                 return respond(response::detail(
                     403, "Work pools starting with 'Prefect' are reserved for internal use and can not be deleted."));
               persistence::write_value(
                   ctx.db,
                   [name](persistence::sql_connection& c) -> result<work_pool_id> {
                     auto p = pool_named(c, name);
                     if (!p) return p.error();
                     persistence::delete_pool(c, p->id);
                     return p->id;
                   },
                   [respond, channels = ctx.worker_channels](const result<work_pool_id>& id) {
                     if (id) channels->notify(*id, worker_channel_hub::pool_event::deleted);  // they close
                     respond(id ? response::no_content() : error_response(id.error()));
                   });
             });
}

/// The body of get_scheduled_flow_runs: work_queue_names, scheduled_before/after, limit (others ignored).
bool read_poll(const json& body, std::optional<std::vector<std::string>>& names, persistence::poll_request& r,
               response& error) {
  auto refuse = [&](const char* key, const char* message, const char* type) {
    error = validation_error(key, message, type);
    return false;
  };
  // An empty list means every queue of the pool, as Prefect reads it (`if not work_queue_names`); a worker started
  // without --work-queue sends [].
  if (auto it = body.find("work_queue_names"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) return refuse("work_queue_names", "Input should be a valid list", "list_type");
    for (const auto& n : *it)
      if (!n.is_string()) return refuse("work_queue_names", "Input should be a valid string", "string_type");
    if (!it->empty()) names = it->get<std::vector<std::string>>();
  }
  for (auto [key, slot] :
       {std::pair{"scheduled_before", &r.scheduled_before}, std::pair{"scheduled_after", &r.scheduled_after}}) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) continue;
    *slot = it->is_string() ? parse_iso8601(it->get<std::string>()) : std::nullopt;
    if (!*slot) return refuse(key, "Input should be a valid datetime", "datetime_type");
  }
  return true;
}

struct poll_answer {
  work_pool pool;
  std::vector<work_queue> queues;
  std::vector<persistence::polled_run> runs;
};

void register_get_scheduled_flow_runs(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/{name}/get_scheduled_flow_runs",
             "Scheduled runs for a worker (queue priority, pool and queue limits); marks the queues polled",
             [ctx](request& req, responder respond) {
               response error;
               auto listing = fields::read_listing(req, "work_queue_names", error);
               if (!listing) return respond(std::move(error));
               std::optional<std::vector<std::string>> names;
               persistence::poll_request r;
               r.limit = listing->limit;
               if (!read_poll(listing->body, names, r, error)) return respond(std::move(error));
               const auto pool_name = req.path_params["name"];
               persistence::read_value(
                   ctx.db,
                   [pool_name, names, r](persistence::sql_connection& c) mutable -> result<poll_answer> {
                     auto p = pool_named(c, pool_name);
                     if (!p) return p.error();
                     poll_answer out{*p, {}, {}};
                     if (names) {
                       r.queues.emplace();
                       for (const auto& n : *names) {
                         auto q = persistence::find_queue_by_name(c, pool_name, n);
                         if (!q)
                           return status(errc::not_found, "Work pool queue '" + pool_name + "/" + n + "' not found.");
                         r.queues->push_back(q->id);
                         out.queues.push_back(std::move(*q));
                       }
                     } else {
                       out.queues = persistence::select_pool_queues(c, p->id, {});
                     }
                     out.runs = persistence::scheduled_runs(c, *p, r);
                     return out;
                   },
                   [ctx, respond](result<poll_answer> found) {
                     if (!found) return respond(error_response(found.error()));
                     json out = json::array();
                     const auto now = ctx.time->now();
                     for (const auto& pr : found->runs)
                       out.push_back({{"work_pool_id", found->pool.id.to_string()},
                                      {"work_queue_id", pr.queue.to_string()},
                                      {"flow_run", to_json(pr.run, now)}});
                     // The poll is recorded before the answer, so a worker's next read sees its queues READY.
                     persistence::write_value(
                         ctx.db,
                         [queues = std::move(found->queues), now](persistence::sql_connection& c) {
                           persistence::record_poll(c, queues, now);
                         },
                         [respond, body = out.dump()](const status&) { respond(response::json(200, body)); });
                   });
             });
}

}  // namespace

void register_work_pool_routes(router& routes, const api_context& ctx) {
  register_create(routes, ctx);
  register_filter(routes, ctx);
  register_count(routes, ctx);
  register_read(routes, ctx);
  register_update(routes, ctx);
  register_delete(routes, ctx);
  register_get_scheduled_flow_runs(routes, ctx);
  register_work_pool_worker_routes(routes, ctx);
  register_worker_channel_routes(routes, ctx);
}

}  // namespace osprey::http

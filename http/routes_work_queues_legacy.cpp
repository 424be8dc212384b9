// /api/work_queues: the id-based queue routes the Prefect client and `prefect work-queue` still call (create,
// read by id or name, update, delete, filter, get_runs, status). Queues created here without a pool live in
// Prefect's "default-agent-pool" (type prefect-agent), created on first use.
#include <nlohmann/json.hpp>

#include "http/api_support.hpp"
#include "http/routes.hpp"
#include "http/shapes.hpp"
#include "http/work_pool_fields.hpp"
#include "http/work_queue_jobs.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/work_pool_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
namespace fields = work_pool_fields;
namespace jobs = work_queue_jobs;

const std::string base = "/api/work_queues";

/// The queue with the id in the path. A path that is no UUID matches no route in Prefect ({id:uuid}): 404.
result<work_queue> queue_by_id(persistence::sql_connection& c, const std::string& text, const std::string& missing) {
  const auto id = uuid::parse(text);
  if (!id) return status(errc::not_found, "Not Found");
  return persistence::or_not_found(persistence::find_queue(c, work_queue_id{*id}), missing);
}

/// The default agent pool, created with its "default" queue when missing.
work_pool agent_pool(persistence::sql_connection& c, timestamp now) {
  if (auto p = persistence::find_pool_by_name(c, default_agent_pool_name)) return *p;
  work_pool p;
  p.id = work_pool_id{new_uuid4()};
  p.created = p.updated = now;
  p.name = default_agent_pool_name;
  p.type = agent_pool_type;
  p.storage_configuration = {{"bundle_upload_step", nullptr},
                             {"bundle_execution_step", nullptr},
                             {"default_result_storage_block_id", nullptr}};
  persistence::create_pool(c, p);
  return p;
}

void register_create(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/", "Create a work queue in the default agent pool (201)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               work_queue queue;
               std::optional<std::int64_t> priority;
               if (!fields::read_queue_create(*body, queue, priority, error)) return respond(std::move(error));
               queue.id = work_queue_id{new_uuid4()};
               queue.created = queue.updated = ctx.time->now();
               persistence::write_value(
                   ctx.db,
                   [queue, priority](persistence::sql_connection& c) mutable -> json {
                     const bool existed = persistence::find_pool_by_name(c, default_agent_pool_name).has_value();
                     auto pool = agent_pool(c, queue.created);
                     // A new agent pool already has "default": Prefect hands that one back.
                     if (!existed && queue.name == default_queue_name && pool.default_queue)
                       return jobs::answer(c, *persistence::find_queue(c, *pool.default_queue), true);
                     queue.pool = pool.id;
                     queue.pool_name = pool.name;
                     persistence::create_queue(c, queue, priority);
                     return fields::queue_json(queue, 0);
                   },
                   [respond](const result<json>& created) {
                     if (!created && created.error().code() == errc::conflict)
                       return respond(response::detail(409, "A work queue with this name already exists."));
                     respond(created ? response::json(201, created->dump()) : error_response(created.error()));
                   });
             });
}

void register_read(router& routes, const api_context& ctx) {
  routes.add("GET", base + "/{id}", "Read a work queue by id", [ctx](request& req, responder respond) {
    persistence::read_value(
        ctx.db,
        [id = req.path_params["id"]](persistence::sql_connection& c) -> result<json> {
          auto q = queue_by_id(c, id, "work queue not found");
          if (!q) return q.error();
          return jobs::answer(c, *q, true);
        },
        [respond](const result<json>& j) { respond(j ? response::json(200, j->dump()) : error_response(j.error())); });
  });
}

void register_read_by_name(router& routes, const api_context& ctx) {
  routes.add("GET", base + "/name/{name}", "Read a work queue by name (the default agent pool's first)",
             [ctx](request& req, responder respond) {
               persistence::read_value(
                   ctx.db,
                   [name = req.path_params["name"]](persistence::sql_connection& c) -> result<json> {
                     auto q = persistence::find_legacy_queue_by_name(c, name);
                     if (!q) return status(errc::not_found, "work queue not found");
                     return jobs::answer(c, *q, true);
                   },
                   [respond](const result<json>& j) {
                     respond(j ? response::json(200, j->dump()) : error_response(j.error()));
                   });
             });
}

void register_update(router& routes, const api_context& ctx) {
  routes.add("PATCH", base + "/{id}", "Update a work queue by id (204)", [ctx](request& req, responder respond) {
    response error;
    auto body = parse_object_body(req, error);
    if (!body) return respond(std::move(error));
    fields::queue_update update;
    if (!fields::read_queue_update(*body, update, error)) return respond(std::move(error));
    const auto id = req.path_params["id"];
    persistence::write_value(
        ctx.db,
        [id, update, clock = ctx.time](persistence::sql_connection& c) -> status {
          auto q = queue_by_id(c, id, "Work Queue " + id + " not found");
          if (!q) return q.error();
          jobs::change(c, *q, update, clock->now());
          return status::ok();
        },
        [respond](const status& s) {
          if (s.code() == errc::conflict)
            return respond(response::detail(409, "A work queue with this name already exists."));
          respond(s ? response::no_content() : error_response(s));
        });
  });
}

void register_delete(router& routes, const api_context& ctx) {
  routes.add("DELETE", base + "/{id}", "Delete a work queue by id (204)", [ctx](request& req, responder respond) {
    persistence::write_value(
        ctx.db,
        [id = req.path_params["id"]](persistence::sql_connection& c) -> status {
          auto q = queue_by_id(c, id, "work queue not found");
          if (!q) return q.error();
          return jobs::remove(c, *q);
        },
        [respond](const status& s) { respond(s ? response::no_content() : error_response(s)); });
  });
}

void register_filter(router& routes, const api_context& ctx) {
  routes.add(
      "POST", base + "/filter", "List work queues of every pool by name", [ctx](request& req, responder respond) {
        response error;
        auto listing = fields::read_listing(req, "work_queues", error);
        std::optional<filters::work_queue_filter> filter;
        if (!listing ||
            !fields::parse_filter(listing->filter, "work_queues", filters::parse_work_queue_filter, filter, error))
          return respond(std::move(error));
        persistence::read_value(
            ctx.db,
            [filter, l = *listing](persistence::sql_connection& c) {
              json out = json::array();
              const auto where = persistence::work_queue_where(c.dialect(), filter);
              for (const auto& q : persistence::select_queues(c, where, l.limit, l.offset))
                out.push_back(jobs::answer(c, q, true));
              return out;
            },
            [respond](const result<json>& j) {
              respond(j ? response::json(200, j->dump()) : error_response(j.error()));
            });
      });
}

struct queue_runs {
  work_queue queue;
  std::vector<persistence::polled_run> runs;
};

void register_get_runs(router& routes, const api_context& ctx) {
  routes.add(
      "POST", base + "/{id}/get_runs", "Scheduled runs of one queue; a poll unless X-Prefect-UI",
      [ctx](request& req, responder respond) {
        response error;
        auto listing = fields::read_listing(req, "scheduled_before", error);
        if (!listing) return respond(std::move(error));
        persistence::poll_request r;
        r.limit = listing->limit;
        if (!listing->filter.is_null()) {
          r.scheduled_before =
              listing->filter.is_string() ? parse_iso8601(listing->filter.get<std::string>()) : std::nullopt;
          if (!r.scheduled_before)
            return respond(validation_error("scheduled_before", "Input should be a valid datetime", "datetime_type"));
        }
        const bool from_ui = req.header("x-prefect-ui") == "true" || req.header("x-prefect-ui") == "1";
        persistence::read_value(
            ctx.db,
            [id = req.path_params["id"], r](persistence::sql_connection& c) mutable -> result<queue_runs> {
              auto q = queue_by_id(c, id, "Work queue with id " + id + " not found.");
              if (!q) return q.error();
              // One queue, without its pool's pause or limit (Prefect's get_runs_in_work_queue).
              work_pool unbounded;
              unbounded.id = q->pool;
              r.queues = std::vector<work_queue_id>{q->id};
              return queue_runs{*q, persistence::scheduled_runs(c, unbounded, r)};
            },
            [ctx, respond, from_ui](result<queue_runs> found) {
              if (!found) return respond(error_response(found.error()));
              json out = json::array();
              const auto now = ctx.time->now();
              for (const auto& pr : found->runs) out.push_back(to_json(pr.run, now));
              if (from_ui) return respond(response::json(200, out.dump()));
              persistence::write_value(
                  ctx.db,
                  [queue = found->queue, now](persistence::sql_connection& c) {
                    persistence::record_poll(c, {queue}, now);
                  },
                  [respond, body = out.dump()](const status&) { respond(response::json(200, body)); });
            });
      });
}

void register_status(router& routes, const api_context& ctx) {
  routes.add("GET", base + "/{id}/status", "A work queue's health", [ctx](request& req, responder respond) {
    persistence::read_value(
        ctx.db,
        [id = req.path_params["id"], clock = ctx.time](persistence::sql_connection& c) -> result<json> {
          auto q = queue_by_id(c, id, "Work queue with id " + id + " not found");
          if (!q) return q.error();
          const auto late = persistence::late_runs(c, q->id);
          return json{{"healthy", queue_is_healthy(late, q->last_polled, clock->now())},
                      {"late_runs_count", late},
                      {"last_polled", q->last_polled ? json(format_iso8601(*q->last_polled)) : json()},
                      {"health_check_policy", {{"maximum_late_runs", 0}, {"maximum_seconds_since_last_polled", 60}}}};
        },
        [respond](const result<json>& j) { respond(j ? response::json(200, j->dump()) : error_response(j.error())); });
  });
}

}  // namespace

void register_legacy_work_queue_routes(router& routes, const api_context& ctx) {
  register_create(routes, ctx);
  register_filter(routes, ctx);
  register_read_by_name(routes, ctx);
  register_read(routes, ctx);
  register_update(routes, ctx);
  register_delete(routes, ctx);
  register_get_runs(routes, ctx);
  register_status(routes, ctx);
}

}  // namespace osprey::http

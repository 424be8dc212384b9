// /api/work_pools/{name}/queues: a pool's queues by name (create, read, update incl. pause and priority, delete,
// filter). The legacy id-based /api/work_queues routes: routes_work_queues_legacy.cpp.
#include <nlohmann/json.hpp>

#include "http/api_support.hpp"
#include "http/routes.hpp"
#include "http/work_pool_fields.hpp"
#include "http/work_queue_jobs.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/work_pool_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
namespace fields = work_pool_fields;
namespace jobs = work_queue_jobs;

const std::string base = "/api/work_pools/{name}/queues";

result<work_pool> pool_named(persistence::sql_connection& c, const std::string& name) {
  return persistence::or_not_found(persistence::find_pool_by_name(c, name), "Work pool \"" + name + "\" not found.");
}

/// The pool's queue, or not_found naming the pool first when it is the pool that is missing.
result<work_queue> queue_named(persistence::sql_connection& c, const std::string& pool, const std::string& queue) {
  auto q = persistence::find_queue_by_name(c, pool, queue);
  if (q) return std::move(*q);
  if (auto p = pool_named(c, pool); !p) return p.error();
  return status(errc::not_found, "Work pool queue '" + pool + "/" + queue + "' not found.");
}

void register_create(router& routes, const api_context& ctx) {
  routes.add("POST", base, "Create a queue in a work pool (201)", [ctx](request& req, responder respond) {
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
        [pool = req.path_params["name"], queue, priority](persistence::sql_connection& c) mutable -> result<json> {
          auto p = pool_named(c, pool);
          if (!p) return p.error();
          queue.pool = p->id;
          queue.pool_name = p->name;
          persistence::create_queue(c, queue, priority);
          return fields::queue_json(queue, 0);
        },
        [respond](const result<json>& created) {
          // Prefect's detail is not an f-string: it says "{work_pool_name!r}" literally, and so does this one.
          if (!created && created.error().code() == errc::conflict)
            return respond(response::detail(409,
                                            "A work queue with this name already exists in work pool "
                                            "{work_pool_name!r}."));
          respond(created ? response::json(201, created->dump()) : error_response(created.error()));
        });
  });
}

void register_read(router& routes, const api_context& ctx) {
  routes.add("GET", base + "/{queue}", "Read a pool's queue by name", [ctx](request& req, responder respond) {
    persistence::read_value(
        ctx.db,
        [pool = req.path_params["name"],
         queue = req.path_params["queue"]](persistence::sql_connection& c) -> result<json> {
          auto q = queue_named(c, pool, queue);
          if (!q) return q.error();
          return jobs::answer(c, *q, false);
        },
        [respond](const result<json>& j) { respond(j ? response::json(200, j->dump()) : error_response(j.error())); });
  });
}

void register_filter(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/filter", "List a pool's queues by priority", [ctx](request& req, responder respond) {
    response error;
    auto listing = fields::read_listing(req, "work_queues", error);
    std::optional<filters::work_queue_filter> filter;
    if (!listing ||
        !fields::parse_filter(listing->filter, "work_queues", filters::parse_work_queue_filter, filter, error))
      return respond(std::move(error));
    persistence::read_value(
        ctx.db,
        [pool = req.path_params["name"], filter, l = *listing](persistence::sql_connection& c) -> result<json> {
          auto p = pool_named(c, pool);
          if (!p) return p.error();
          json out = json::array();
          const auto where = persistence::work_queue_where(c.dialect(), filter);
          for (const auto& q : persistence::select_pool_queues(c, p->id, where, l.limit, l.offset))
            out.push_back(jobs::answer(c, q, false));
          return out;
        },
        [respond](const result<json>& j) { respond(j ? response::json(200, j->dump()) : error_response(j.error())); });
  });
}

void register_update(router& routes, const api_context& ctx) {
  routes.add(
      "PATCH", base + "/{queue}", "Update a pool's queue; is_paused pauses it (204)",
      [ctx](request& req, responder respond) {
        response error;
        auto body = parse_object_body(req, error);
        if (!body) return respond(std::move(error));
        fields::queue_update update;
        if (!fields::read_queue_update(*body, update, error)) return respond(std::move(error));
        persistence::write_value(
            ctx.db,
            [pool = req.path_params["name"], queue = req.path_params["queue"], update,
             clock = ctx.time](persistence::sql_connection& c) -> status {
              auto q = queue_named(c, pool, queue);
              if (!q) return q.error();
              jobs::change(c, *q, update, clock->now());
              return status::ok();
            },
            [respond](const status& s) {
              if (s.code() == errc::conflict)
                return respond(response::detail(409, "A work queue with this name already exists in this work pool."));
              respond(s ? response::no_content() : error_response(s));
            });
      });
}

void register_delete(router& routes, const api_context& ctx) {
  routes.add("DELETE", base + "/{queue}", "Delete a pool's queue (204; never its default queue)",
             [ctx](request& req, responder respond) {
               persistence::write_value(
                   ctx.db,
                   [pool = req.path_params["name"],
                    queue = req.path_params["queue"]](persistence::sql_connection& c) -> status {
                     auto q = queue_named(c, pool, queue);
                     if (!q) return q.error();
                     return jobs::remove(c, *q);
                   },
                   [respond](const status& s) { respond(s ? response::no_content() : error_response(s)); });
             });
}

}  // namespace

void register_work_queue_routes(router& routes, const api_context& ctx) {
  register_create(routes, ctx);
  register_filter(routes, ctx);
  register_read(routes, ctx);
  register_update(routes, ctx);
  register_delete(routes, ctx);
  register_legacy_work_queue_routes(routes, ctx);
}

}  // namespace osprey::http

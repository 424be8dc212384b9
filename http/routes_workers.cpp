// /api/work_pools/{name}/workers: heartbeats (which bring a NOT_READY pool to READY), listing, deletion. The
// worker channel (routes_worker_channel.cpp) records its heartbeats the same way. The foreman (actors/foreman.hpp)
// takes workers OFFLINE and pools back to NOT_READY when heartbeats stop.
#include <nlohmann/json.hpp>

#include "http/api_support.hpp"
#include "http/concurrency_fields.hpp"
#include "http/routes.hpp"
#include "http/work_pool_fields.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/work_pool_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
namespace fields = work_pool_fields;

const std::string base = "/api/work_pools/{name}/workers";

result<work_pool> pool_named(persistence::sql_connection& c, const std::string& name) {
  return persistence::or_not_found(persistence::find_pool_by_name(c, name), "Work pool \"" + name + "\" not found.");
}

void register_heartbeat(router& routes, const api_context& ctx) {
  routes.add(
      "POST", base + "/heartbeat", "A worker's heartbeat: ONLINE now; a NOT_READY pool becomes READY (204)",
      [ctx](request& req, responder respond) {
        response error;
        auto body = parse_object_body(req, error);
        if (!body) return respond(std::move(error));
        // Only these two are read; the client's return_id and metadata are ignored, as Prefect's server does.
        json known = json::object();
        for (const char* key : {"name", "heartbeat_interval_seconds"})
          if (auto it = body->find(key); it != body->end()) known[key] = *it;
        concurrency_fields::reader in(known);
        std::string name;
        std::int64_t interval = 0;
        if (!in.string("name", name, true) ||
            !in.integer("heartbeat_interval_seconds", interval, std::numeric_limits<std::int64_t>::min()))
          return respond(in.error());
        const auto given = in.given("heartbeat_interval_seconds") ? std::optional(interval) : std::nullopt;
        persistence::write_value(
            ctx.db,
            [pool = req.path_params["name"], name, given, clock = ctx.time](persistence::sql_connection& c) -> status {
              auto p = pool_named(c, pool);
              if (!p) return p.error();
              persistence::record_worker_heartbeat(c, *p, name, given, clock->now());
              return status::ok();
            },
            [respond](const status& s) { respond(s ? response::no_content() : error_response(s)); });
      });
}

void register_filter(router& routes, const api_context& ctx) {
  routes.add(
      "POST", base + "/filter", "List a pool's workers, newest heartbeat first",
      [ctx](request& req, responder respond) {
        response error;
        auto listing = fields::read_listing(req, "workers", error);
        std::optional<filters::worker_filter> filter;
        if (!listing || !fields::parse_filter(listing->filter, "workers", filters::parse_worker_filter, filter, error))
          return respond(std::move(error));
        persistence::read_value(
            ctx.db,
            [pool = req.path_params["name"], filter, l = *listing](persistence::sql_connection& c) -> result<json> {
              auto p = pool_named(c, pool);
              if (!p) return p.error();
              json out = json::array();
              const auto where = persistence::worker_where(c.dialect(), filter);
              for (const auto& w : persistence::select_workers(c, p->id, where, l.limit, l.offset))
                out.push_back(fields::worker_json(w));
              return out;
            },
            [respond](const result<json>& j) {
              respond(j ? response::json(200, j->dump()) : error_response(j.error()));
            });
      });
}

void register_delete(router& routes, const api_context& ctx) {
  routes.add("DELETE", base + "/{worker_name}", "Delete a pool's worker (204)", [ctx](request& req, responder respond) {
    persistence::write_value(
        ctx.db,
        [pool = req.path_params["name"],
         name = req.path_params["worker_name"]](persistence::sql_connection& c) -> status {
          auto p = pool_named(c, pool);
          if (!p) return p.error();
          if (!persistence::delete_worker(c, p->id, name)) return status(errc::not_found, "Worker not found.");
          return status::ok();
        },
        [respond](const status& s) { respond(s ? response::no_content() : error_response(s)); });
  });
}

}  // namespace

void register_work_pool_worker_routes(router& routes, const api_context& ctx) {
  register_heartbeat(routes, ctx);
  register_filter(routes, ctx);
  register_delete(routes, ctx);
}

}  // namespace osprey::http

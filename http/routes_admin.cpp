// Health, readiness and versions: what the Prefect client checks before it works; the server default result
// storage (/api/admin/storage); the background services' status (/api/admin/services).
#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>

#include "actors/periodic_service.hpp"
#include "domain/version.hpp"
#include "http/api_support.hpp"
#include "http/routes.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/result_storage_store.hpp"

namespace osprey::http {
namespace {

std::string storage_json(const std::optional<block_document_id>& d) {
  return nlohmann::json{{"default_result_storage_block_id", d ? nlohmann::json(d->to_string()) : nlohmann::json()}}
      .dump();
}

// The server's default result storage (persistence/result_storage_store.hpp): clients without a result storage
// setting of their own read it when a flow persists results; `prefect experimental result-storage set|clear|inspect`.
void register_result_storage_routes(router& routes, const api_context& ctx) {
  routes.add("GET", "/api/admin/storage", "The server's default result storage block",
             [ctx](request&, responder respond) {
               persistence::read_value(
                   ctx.db, [](persistence::sql_connection& c) { return persistence::default_result_storage(c); },
                   [respond](const result<std::optional<block_document_id>>& d) {
                     respond(d ? response::json(200, storage_json(*d)) : error_response(d.error()));
                   });
             });

  routes.add("PUT", "/api/admin/storage", "Set the server's default result storage block (one that can write paths)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               auto it = body->find("default_result_storage_block_id");
               if (it == body->end() || it->is_null())
                 return respond(validation_error("default_result_storage_block_id", "Field required", "missing"));
               auto id = it->is_string() ? uuid::parse(it->get<std::string>()) : std::nullopt;
               if (!id)
                 return respond(validation_error("default_result_storage_block_id", "Input should be a valid UUID",
                                                 "uuid_parsing"));
               persistence::write_value(
                   ctx.db,
                   [d = block_document_id{*id},
                    now = ctx.time->now()](persistence::sql_connection& c) -> result<block_document_id> {
                     if (auto s = persistence::check_result_storage_block(c, d); !s) return s;
                     persistence::set_default_result_storage(c, d, now);
                     return d;
                   },
                   [respond](const result<block_document_id>& d) {
                     if (d) return respond(response::json(200, storage_json(*d)));
                     // Prefect answers both refusals with a plain {"detail"} (HTTPException).
                     const auto code = d.error().code();
                     if (code == errc::not_found || code == errc::invalid_argument)
                       return respond(response::detail(http_status_for(code), d.error().message()));
                     respond(error_response(d.error()));
                   });
             });

  routes.add("DELETE", "/api/admin/storage", "Clear the server's default result storage block (204)",
             [ctx](request&, responder respond) {
               persistence::write_value(
                   ctx.db, [](persistence::sql_connection& c) { persistence::clear_default_result_storage(c); },
                   [respond](const status& s) { respond(s ? response::no_content() : error_response(s)); });
             });
}

// Each background service: its settings, and what its actor has done since the daemon started. Answered
// once every enabled service has called back; a service that stopped drops its callback, and then its entry
// says so instead of the answer waiting for it.
void register_services_route(router& routes, const api_context& ctx) {
  routes.add("GET", "/api/admin/services", "The background services: enabled, interval, passes, last pass",
             [ctx](request&, responder respond) {
               struct gathering {
                 std::mutex lock;
                 nlohmann::json rows = nlohmann::json::array();
                 responder respond;
                 ~gathering() { respond(response::json(200, rows.dump())); }
               };
               auto g = std::make_shared<gathering>();
               g->respond = respond;
               for (std::size_t i = 0; i < ctx.services.size(); ++i) {
                 const auto& s = ctx.services[i];
                 g->rows.push_back({{"name", s.name},
                                    {"purpose", s.purpose},
                                    {"enabled", static_cast<bool>(s.actor)},
                                    {"interval_seconds", s.interval.count()},
                                    {"passes", 0},
                                    {"changed", 0},
                                    {"running", false},
                                    {"standby", false},
                                    {"last_pass_finished", nullptr},
                                    {"last_pass_seconds", nullptr},
                                    {"responding", !s.actor ? nlohmann::json() : nlohmann::json(false)}});
               }
               for (std::size_t i = 0; i < ctx.services.size(); ++i) {
                 if (!ctx.services[i].actor) continue;
                 actors::request_service_status(ctx.services[i].actor, [g, i](const actors::service_status& st) {
                   std::lock_guard guard(g->lock);
                   auto& row = g->rows[i];
                   row["passes"] = st.passes;
                   row["changed"] = st.changed;
                   row["running"] = st.running;
                   row["standby"] = st.standby;
                   row["responding"] = true;
                   if (st.last_pass_finished) {
                     row["last_pass_finished"] = format_iso8601(*st.last_pass_finished);
                     row["last_pass_seconds"] = std::chrono::duration<double>(st.last_pass_took).count();
                   }
                 });
               }
             });
}

}  // namespace

void register_admin_routes(router& routes, const api_context& ctx) {
  routes.add("GET", "/api/health", "Liveness: true while the server runs",
             [](request&, responder respond) { respond(response::json(200, "true")); });

  routes.add("GET", "/api/ready", "Readiness: 200 when the database answers and takes writes, 503 otherwise",
             [ctx](request&, responder respond) {
               // Reads may still work on a full disk; what a client needs, writing, does not.
               if (ctx.db.disk_full())
                 return respond(response::detail(503, std::string(persistence::disk_full_message)));
               auto reachable = std::make_shared<bool>(false);
               ctx.db.read({[reachable](persistence::sql_connection& c) { *reachable = c.ping(); }},
                           [reachable, respond](const status& s) {
                             if (s && *reachable)
                               respond(response::json(200, R"({"message":"OK"})"));
                             else
                               respond(response::detail(
                                   503, "Database is not reachable" + (s ? std::string() : ": " + s.message())));
                           });
             });

  routes.add("GET", "/api/version", "Prefect REST API version", [](request&, responder respond) {
    respond(response::json(200, nlohmann::json(prefect_api_version).dump()));
  });

  routes.add("GET", "/api/admin/version", "Server version (a Prefect 3.x version the client accepts)",
             [](request&, responder respond) {
               respond(response::json(200, nlohmann::json(prefect_compatible_version).dump()));
             });

  routes.add("GET", "/api/hello", "Say hello", [](request&, responder respond) {
    respond(response::json(200, nlohmann::json("\xF0\x9F\x91\x8B").dump()));
  });

  register_result_storage_routes(routes, ctx);
  register_services_route(routes, ctx);
}

}  // namespace osprey::http

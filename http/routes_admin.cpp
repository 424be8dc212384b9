// Health, readiness and versions: what the Prefect client checks before it works.
#include <nlohmann/json.hpp>

#include "domain/version.hpp"
#include "http/api_support.hpp"
#include "http/routes.hpp"

namespace osprey::http {

void register_admin_routes(router& routes, const api_context& ctx) {
  routes.add("GET", "/api/health", "Liveness: true while the server runs",
             [](request&, responder respond) { respond(response::json(200, "true")); });

  routes.add("GET", "/api/ready", "Readiness: 200 when the database answers and takes writes, 503 otherwise",
             [ctx](request&, responder respond) {
               // Reads may still work on a full disk; what a client needs, writing, does not.
               if (ctx.db.disk_full()) return respond(response::detail(503, std::string(persistence::disk_full_message)));
               auto reachable = std::make_shared<bool>(false);
               ctx.db.read({[reachable](persistence::sql_connection& c) { *reachable = c.ping(); }},
                           [reachable, respond](const status& s) {
                             if (s && *reachable) respond(response::json(200, R"({"message":"OK"})"));
                             else
                               respond(response::detail(503, "Database is not reachable" +
                                                                 (s ? std::string() : ": " + s.message())));
                           });
             });

  routes.add("GET", "/api/version", "Prefect REST API version",
             [](request&, responder respond) {
               respond(response::json(200, nlohmann::json(prefect_api_version).dump()));
             });

  routes.add("GET", "/api/admin/version", "Server version (a Prefect 3.x version the client accepts)",
             [](request&, responder respond) {
               respond(response::json(200, nlohmann::json(prefect_compatible_version).dump()));
             });

  routes.add("GET", "/api/hello", "Say hello", [](request&, responder respond) {
    respond(response::json(200, nlohmann::json("\xF0\x9F\x91\x8B").dump()));
  });

  // No server-wide default result storage block yet: the client falls back to local storage.
  routes.add("GET", "/api/admin/storage", "Default result storage", [](request&, responder respond) {
    respond(response::json(200, R"({"default_result_storage_block_id":null})"));
  });
}

}  // namespace osprey::http

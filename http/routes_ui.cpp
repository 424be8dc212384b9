// Small routes the Prefect UI calls: GET /api/admin/settings (a Prefect-shaped settings object without any
// secret), GET /api/collections/views/{view} (the integration registry Prefect fetches from GitHub; Osprey
// reaches no network beyond its clients and answers the known views empty), POST /api/templates/validate (a
// Jinja syntax check, domain/template_syntax.hpp), POST /api/automations/filter and /count (empty).
#include <nlohmann/json.hpp>

#include "domain/template_syntax.hpp"
#include "domain/version.hpp"
#include "http/api_support.hpp"
#include "http/routes.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;

/// Prefect's Settings shape, for what a reader of the UI's settings page looks for. Values Osprey does not
/// have are Prefect's defaults; secrets (API key, auth string, database URL and password) are never included.
json settings_json(const request& req, const api_context& ctx) {
  const auto host = req.header("host");
  const json api_url = host.empty() ? json(nullptr) : json("http://" + host + "/api");
  const char* dialect = ctx.db.target_dialect() == persistence::dialect::postgresql ? "postgresql" : "sqlite";
  return {{"home", nullptr},
          {"debug_mode", false},
          {"api", {{"url", api_url}, {"auth_string", nullptr}, {"key", nullptr}, {"tls_insecure_skip_verify", false},
                   {"enable_http2", false}, {"request_timeout", 60.0}}},
          {"server",
           {{"analytics_enabled", false},
            {"api", {{"auth_string", nullptr}, {"csrf_protection_enabled", ctx.csrf_protection}, {"default_limit", 200}}},
            {"database", {{"connection_url", nullptr}, {"driver", nullptr}, {"dialect", dialect}, {"password", nullptr}}},
            {"ui", {{"enabled", false}, {"api_url", api_url}}}}},
          {"ui_url", nullptr},
          {"x_osprey", {{"version", osprey_version}, {"prefect_compatible_version", prefect_compatible_version}}}};
}

void register_settings(router& routes, const api_context& ctx) {
  routes.add("GET", "/api/admin/settings", "Server settings (Prefect's shape; secrets never included)",
             [ctx](request& req, responder respond) { respond(response::json(200, settings_json(req, ctx).dump())); });
}

void register_collection_views(router& routes) {
  routes.add("GET", "/api/collections/views/{view}", "Integration registry views (answered empty: no network)",
             [](request& req, responder respond) {
               const auto& view = req.path_params["view"];
               for (const char* known : {"aggregate-block-metadata", "aggregate-flow-metadata",
                                         "aggregate-worker-metadata", "demo-flows"})
                 if (view == known) return respond(response::json(200, "{}"));
               respond(response::detail(404, "View " + view + " not found in registry"));
             });
}

void register_template_validation(router& routes) {
  routes.add("POST", "/api/templates/validate", "Check a Jinja template's syntax (204, or 422 with the error)",
             [](request& req, responder respond) {
               std::string source;
               if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
                 response error;
                 auto body = parse_json_body(req, error);
                 if (!body) return respond(std::move(error));
                 if (!body->is_string() && !body->is_null())
                   return respond(validation_error("", "Input should be a valid string", "string_type"));
                 if (body->is_string()) source = body->get<std::string>();
               }
               auto problem = check_template_syntax(source);
               if (!problem) return respond(response::no_content());
               respond(response::json(422, dump_lenient({{"error", {{"line", problem->line},
                                                                    {"message", problem->message},
                                                                    {"source", source}}}})));
             });
}

// Osprey stores no automations yet: the UI's automations page and the flow-run page's automation cards read
// an empty list (Prefect answers the same on a server that has none).
void register_automation_reads(router& routes) {
  routes.add("POST", "/api/automations/filter", "Automations matching a filter (none: not stored)",
             [](request&, responder respond) { respond(response::json(200, "[]")); });
  routes.add("POST", "/api/automations/count", "Count automations (0: not stored)",
             [](request&, responder respond) { respond(response::json(200, "0")); });
}

}  // namespace

void register_ui_routes(router& routes, const api_context& ctx) {
  register_automation_reads(routes);
  register_settings(routes, ctx);
  register_collection_views(routes);
  register_template_validation(routes);
}

}  // namespace osprey::http

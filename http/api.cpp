#include "http/api.hpp"

#include <nlohmann/json.hpp>

#include "domain/basic_auth.hpp"
#include "domain/version.hpp"
#include "http/api_support.hpp"
#include "http/csrf.hpp"
#include "http/routes.hpp"

namespace osprey::http {
namespace {

// X-PREFECT-API-VERSION, when sent, must be x.y.z and at least 0.8.0 (Prefect's own check).
std::optional<response> check_api_version(const request& req) {
  const auto& v = req.header("x-prefect-api-version");
  if (v.empty()) return std::nullopt;
  int major = 0, minor = 0, patch = 0;
  char extra = 0;
  if (std::sscanf(v.c_str(), "%d.%d.%d%c", &major, &minor, &patch, &extra) != 3)
    return response::detail(400, "Invalid X-PREFECT-API-VERSION header format: '" + v + "'; expected x.y.z");
  if (major == 0 && minor < 8)
    return response::detail(400, "The request specified API version " + v +
                                     " but this server requires version 0.8.0 or higher.");
  return std::nullopt;
}

// A path parameter holding U+0000 (%00) names nothing that can be stored, and libpq would cut it short.
std::optional<response> check_path_params(const request& req) {
  static const std::string message = "Path parameters must not contain the NUL character (%00)";
  for (const auto& [name, value] : req.path_params) {
    if (value.find('\0') == std::string::npos) continue;
    return response::json(422, nlohmann::json{{"detail", message},
                                              {"exception_message", "Invalid request received."},
                                              {"exception_detail",
                                               {{{"loc", {"path", name}}, {"msg", message}, {"type", "string_nul"}}}}}
                                   .dump());
  }
  return std::nullopt;
}

// server.auth_string (Prefect's PREFECT_SERVER_API_AUTH_STRING): every request needs it but the probes
// (GET /api/health, /api/ready) and websocket upgrades, which authenticate in their first message instead.
std::optional<response> check_auth(const request& req, const std::string& secret) {
  if (secret.empty() || is_websocket_upgrade(req)) return std::nullopt;
  if (req.method == "GET" && (req.path == "/api/health" || req.path == "/api/ready")) return std::nullopt;
  if (basic_auth_matches(req.header("authorization"), secret)) return std::nullopt;
  return response::json(401, R"({"exception_message":"Unauthorized"})");
}

}  // namespace

void register_openapi_route(router& routes, const std::string& auth_string) {
  routes.add("GET", "/api/openapi.json", "This document", [&routes, auth_string](request& req, responder respond) {
    if (auto refusal = check_auth(req, auth_string)) return respond(std::move(*refusal));
    nlohmann::json paths = nlohmann::json::object();
    for (const auto& r : routes.routes()) {
      std::string method = r.method;
      for (auto& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      paths[r.path_template][method] = {{"summary", r.summary},
                                        {"responses", {{"default", {{"description", "JSON"}}}}}};
    }
    nlohmann::json doc = {{"openapi", "3.1.0"},
                          {"info", {{"title", "Osprey"}, {"version", osprey_version},
                                    {"x-prefect-api-version", prefect_api_version}}},
                          {"paths", paths}};
    respond(response::json(200, doc.dump()));
  });
}

void register_api(router& routes, const api_context& ctx) {
  router inner;
  register_admin_routes(inner, ctx);
  register_flow_routes(inner, ctx);
  register_flow_run_routes(inner, ctx);
  register_flow_run_bulk_routes(inner, ctx);
  register_flow_run_input_routes(inner, ctx);
  register_log_routes(inner, ctx);
  register_filter_routes(inner, ctx);
  register_task_run_routes(inner, ctx);
  register_event_routes(inner, ctx);
  register_notification_routes(inner, ctx);
  register_concurrency_routes(inner, ctx);
  register_concurrency_v1_routes(inner, ctx);
  register_variable_routes(inner, ctx);
  register_artifact_routes(inner, ctx);
  register_saved_search_routes(inner, ctx);
  register_ui_routes(inner, ctx);
  register_ui_run_routes(inner, ctx);
  register_event_count_routes(inner, ctx);
  register_flow_run_graph_routes(inner, ctx);
  register_block_type_routes(inner, ctx);
  register_block_schema_routes(inner, ctx);
  register_block_document_routes(inner, ctx);
  register_work_pool_routes(inner, ctx);
  register_work_queue_routes(inner, ctx);
  register_work_slot_routes(inner, ctx);
  register_deployment_routes(inner, ctx);
  std::shared_ptr<csrf_guard> csrf;
  if (ctx.csrf_protection) csrf = std::make_shared<csrf_guard>(ctx.db, ctx.time, ctx.csrf_token_lifetime);
  register_csrf_token_route(inner, csrf);
  for (const auto& r : inner.routes()) {
    routes.add(r.method, r.path_template, r.summary,
               [h = r.h, secret = ctx.auth_string, csrf](request& req, responder respond) {
                 if (auto refusal = check_auth(req, secret)) return respond(std::move(*refusal));
                 if (auto refusal = check_api_version(req)) return respond(std::move(*refusal));
                 if (auto refusal = check_path_params(req)) return respond(std::move(*refusal));
                 if (auto refusal = refuse_non_json_body(req)) return respond(std::move(*refusal));
                 if (csrf) return csrf->admit(req, std::move(respond), h);
                 h(req, std::move(respond));
               });
  }
  register_openapi_route(routes, ctx.auth_string);
}

}  // namespace osprey::http

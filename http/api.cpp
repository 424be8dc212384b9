#include "http/api.hpp"

#include <nlohmann/json.hpp>

#include "domain/api_key.hpp"
#include "domain/json_text.hpp"
#include "http/access_guard.hpp"
#include "http/live_logs.hpp"
#include "http/openapi/document.hpp"
#include "http/api_support.hpp"
#include "http/csrf.hpp"
#include "http/routes.hpp"
#include "http/worker_channels.hpp"

namespace osprey::http {

// routes_automations.cpp (declared here rather than in routes.hpp, which every route file includes).
void register_automation_routes(router& routes, const api_context& ctx);

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
    return response::detail(
        400, "The request specified API version " + v + " but this server requires version 0.8.0 or higher.");
  return std::nullopt;
}

// A path parameter holding U+0000 (%00) names nothing that can be stored, and libpq would cut it short.
std::optional<response> check_path_params(const request& req) {
  static const std::string message = "Path parameters must not contain the NUL character (%00)";
  for (const auto& [name, value] : req.path_params) {
    if (value.find('\0') == std::string::npos) continue;
    return response::json(
        422, nlohmann::json{{"detail", message},
                            {"exception_message", "Invalid request received."},
                            {"exception_detail", {{{"loc", {"path", name}}, {"msg", message}, {"type", "string_nul"}}}}}
                 .dump());
  }
  return std::nullopt;
}

std::size_t utf8_characters(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// server.max_name_length: names, keys, slugs and tags end up in indexes and in every list the UI shows; a
// megabyte of name is an attack, not a name. A body no longer than the limit cannot hold one, so most bodies
// are not parsed here; what does not parse is left to the handler to explain.
std::optional<response> check_name_lengths(const request& req, std::size_t limit) {
  if (limit == 0 || req.body.size() <= limit) return std::nullopt;
  if (req.method != "POST" && req.method != "PUT" && req.method != "PATCH") return std::nullopt;
  const auto first = req.body.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || req.body[first] != '{') return std::nullopt;
  const auto parsed = parse_json(req.body, req.json_max_depth);
  if (!parsed.ok() || !parsed.value.is_object()) return std::nullopt;
  const auto too_long = [limit](const nlohmann::json& v) {
    return v.is_string() && utf8_characters(v.get_ref<const std::string&>()) > limit;
  };
  const auto refusal = [limit](const std::string& field) {
    return validation_error(field, "String should have at most " + std::to_string(limit) + " characters",
                            "string_too_long");
  };
  for (const char* key : {"name", "key", "slug"}) {
    const auto it = parsed.value.find(key);
    if (it != parsed.value.end() && too_long(*it)) return refusal(key);
  }
  const auto tags = parsed.value.find("tags");
  if (tags != parsed.value.end() && tags->is_array())
    for (const auto& tag : *tags)
      if (too_long(tag)) return refusal("tags");
  return std::nullopt;
}

}  // namespace

void register_openapi_route(router& routes, std::shared_ptr<access_guard> access) {
  routes.add("GET", "/api/openapi.json", "This document", [&routes, access](request& req, responder respond) {
    if (access)
      return access->admit(req, api_scope::read, std::move(respond), [&routes](request&, responder done) {
        done(response::json(200, openapi::describe(routes).dump()));
      });
    respond(response::json(200, openapi::describe(routes).dump()));
  });
}

void register_api(router& routes, const api_context& given) {
  auto ctx = given;
  if (!ctx.log_stream) ctx.log_stream = std::make_shared<live_logs>();
  if (!ctx.background_tasks) ctx.background_tasks = std::make_shared<actors::background_task_queue>();
  if (!ctx.worker_channels) ctx.worker_channels = std::make_shared<worker_channel_hub>();
  ctx.access = std::make_shared<access_guard>(
      ctx.db, ctx.time, access_options{ctx.auth_string, ctx.require_api_key, ctx.health_without_auth});
  router inner;
  register_admin_routes(inner, ctx);
  register_flow_routes(inner, ctx);
  register_flow_run_routes(inner, ctx);
  register_flow_run_bulk_routes(inner, ctx);
  register_flow_run_input_routes(inner, ctx);
  register_log_routes(inner, ctx);
  register_filter_routes(inner, ctx);
  register_task_run_routes(inner, ctx);
  register_task_worker_routes(inner, ctx);
  register_event_routes(inner, ctx);
  register_notification_routes(inner, ctx);
  register_concurrency_routes(inner, ctx);
  register_concurrency_v1_routes(inner, ctx);
  register_variable_routes(inner, ctx);
  register_automation_routes(inner, ctx);
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
    // Websocket upgrades authenticate in their first message (routes_events.cpp), not here.
    auto checked = [h = r.h, csrf, name_limit = ctx.max_name_length](request& req, responder respond) {
      if (auto refusal = check_api_version(req)) return respond(std::move(*refusal));
      if (auto refusal = check_path_params(req)) return respond(std::move(*refusal));
      if (auto refusal = refuse_non_json_body(req)) return respond(std::move(*refusal));
      if (auto refusal = check_name_lengths(req, name_limit)) return respond(std::move(*refusal));
      if (csrf) return csrf->admit(req, std::move(respond), h);
      h(req, std::move(respond));
    };
    routes.add(r.method, r.path_template, r.summary,
               [checked, access = ctx.access, needed = scope_needed(r.method, r.path_template)](request& req,
                                                                                                responder respond) {
                 if (is_websocket_upgrade(req)) return checked(req, std::move(respond));
                 access->admit(req, needed, std::move(respond), checked);
               });
  }
  register_openapi_route(routes, ctx.access);
}

}  // namespace osprey::http

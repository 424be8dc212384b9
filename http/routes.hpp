#pragma once
// Route groups; each file registers one area of the API. Internal to http/.

#include "http/api.hpp"

namespace osprey::http {

void register_admin_routes(router& routes, const api_context& ctx);
void register_flow_routes(router& routes, const api_context& ctx);
void register_flow_run_routes(router& routes, const api_context& ctx);
void register_log_routes(router& routes, const api_context& ctx);
void register_filter_routes(router& routes, const api_context& ctx);
void register_task_run_routes(router& routes, const api_context& ctx);
void register_event_routes(router& routes, const api_context& ctx);
void register_notification_routes(router& routes, const api_context& ctx);
void register_concurrency_routes(router& routes, const api_context& ctx);
void register_concurrency_v1_routes(router& routes, const api_context& ctx);
void register_deployment_routes(router& routes, const api_context& ctx);
/// GET /api/openapi.json, generated from the routes registered so far (call it last).
void register_openapi_route(router& routes);

}  // namespace osprey::http

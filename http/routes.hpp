#pragma once
// Route groups; each file registers one area of the API. Internal to http/.

#include "http/api.hpp"

namespace osprey::http {

void register_admin_routes(router& routes, const api_context& ctx);
void register_flow_routes(router& routes, const api_context& ctx);
void register_flow_run_routes(router& routes, const api_context& ctx);
void register_flow_run_bulk_routes(router& routes, const api_context& ctx);  // bulk_delete, bulk_set_state
void register_flow_run_input_routes(router& routes, const api_context& ctx);
void register_log_routes(router& routes, const api_context& ctx);
void register_filter_routes(router& routes, const api_context& ctx);
void register_task_run_routes(router& routes, const api_context& ctx);
void register_task_worker_routes(router& routes, const api_context& ctx);
void register_event_routes(router& routes, const api_context& ctx);
void register_notification_routes(router& routes, const api_context& ctx);
void register_concurrency_routes(router& routes, const api_context& ctx);
void register_concurrency_v1_routes(router& routes, const api_context& ctx);
void register_variable_routes(router& routes, const api_context& ctx);
void register_artifact_routes(router& routes, const api_context& ctx);
void register_saved_search_routes(router& routes, const api_context& ctx);
void register_ui_routes(router& routes, const api_context& ctx);
/// The UI's aggregates: /api/flow_runs/history, /api/task_runs/history, /api/ui/flow_runs/*, /api/ui/flows/*,
/// /api/ui/task_runs/dashboard/counts and /count (routes_ui_runs).
void register_ui_run_routes(router& routes, const api_context& ctx);
/// POST /api/events/count-by/{countable} (routes_event_counts).
void register_event_count_routes(router& routes, const api_context& ctx);
/// GET /api/flow_runs/{id}/graph-v2 (routes_flow_run_graph).
void register_flow_run_graph_routes(router& routes, const api_context& ctx);
void register_block_type_routes(router& routes, const api_context& ctx);
void register_block_schema_routes(router& routes, const api_context& ctx);  // and /api/block_capabilities/
void register_block_document_routes(router& routes, const api_context& ctx);
/// /api/work_pools (pools, polls), its workers and their channel, its queues (routes_work_pools, routes_workers,
/// routes_worker_channel, routes_work_queues) and the legacy /api/work_queues.
void register_work_pool_routes(router& routes, const api_context& ctx);
void register_work_pool_worker_routes(router& routes, const api_context& ctx);
/// WS /api/work_pools/{name}/workers/connect (routes_worker_channel).
void register_worker_channel_routes(router& routes, const api_context& ctx);
void register_work_queue_routes(router& routes, const api_context& ctx);
void register_work_slot_routes(router& routes, const api_context& ctx);  // pool and queue concurrency_status
void register_legacy_work_queue_routes(router& routes, const api_context& ctx);
void register_deployment_routes(router& routes, const api_context& ctx);
/// GET /api/openapi.json, generated from the routes registered so far (call it last); null `access`: open.
void register_openapi_route(router& routes, std::shared_ptr<access_guard> access = {});

}  // namespace osprey::http

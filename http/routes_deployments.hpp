#pragma once
// The deployment route files' shared parts. Internal to http/.

#include "http/api.hpp"

namespace osprey::http {

/// Asks the scheduler for a pass now (after a deployment or schedule change), when the server runs one.
void wake_scheduler(const api_context& ctx);

/// POST /api/deployments/{id}/create_flow_run, pause_deployment, resume_deployment, get_scheduled_flow_runs.
void register_deployment_run_routes(router& routes, const api_context& ctx);
/// /api/deployments/{id}/schedules[/{schedule_id}].
void register_deployment_schedule_routes(router& routes, const api_context& ctx);

}  // namespace osprey::http

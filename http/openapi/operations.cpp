// The description of every route (operations.hpp): success statuses, bodies and query parameters. One line per
// route, grouped as http/api.cpp registers them.

#include "http/openapi/operations.hpp"

#include <stdexcept>
#include <string>

#include "http/openapi/schema.hpp"

namespace osprey::http::openapi {
namespace {

constexpr operation_doc operations[] = {
    // Admin, health, this document (routes_admin.cpp, api.cpp, csrf.cpp).
    {"GET", "/api/health", "200", "boolean"},
    {"GET", "/api/ready", "200", "object"},
    {"GET", "/api/hello", "200", "string"},
    {"GET", "/api/version", "200", "string"},
    {"GET", "/api/admin/version", "200", "string"},
    {"GET", "/api/admin/settings", "200", "object"},
    {"GET", "/api/admin/services", "200", "Service[]"},
    {"GET", "/api/admin/storage", "200", "ResultStorage"},
    {"PUT", "/api/admin/storage", "200", "ResultStorage", "ResultStorage"},
    {"DELETE", "/api/admin/storage", "204", ""},
    {"GET", "/api/openapi.json", "200", "object"},
    {"GET", "/api/csrf-token", "200", "CsrfToken", "", "client!:string"},
    {"GET", "/ui-settings", "200", "object"},
    // Flows.
    {"POST", "/api/flows/", "201 200", "Flow", "NamedCreate"},
    {"GET", "/api/flows/{id}", "200", "Flow"},
    {"GET", "/api/flows/name/{name}", "200", "Flow"},
    {"PATCH", "/api/flows/{id}", "204", "", "Update"},
    {"DELETE", "/api/flows/{id}", "204", ""},
    {"POST", "/api/flows/filter", "200", "Flow[]", "FilterBody"},
    {"POST", "/api/flows/count", "200", "integer", "FilterBody"},
    {"POST", "/api/flows/paginate", "200", "FlowPaginationResponse", "FilterBody"},
    {"POST", "/api/flows/bulk_delete", "200", "BulkDeleteResponse", "FilterBody"},
    // Flow runs, their states, inputs, graph and logs.
    {"POST", "/api/flow_runs/", "201 200", "FlowRun", "FlowRunCreate"},
    {"GET", "/api/flow_runs/{id}", "200", "FlowRun"},
    {"PATCH", "/api/flow_runs/{id}", "204", "", "Update"},
    {"DELETE", "/api/flow_runs/{id}", "204", ""},
    {"POST", "/api/flow_runs/{id}/set_state", "201 200", "OrchestrationResult", "SetStateBody"},
    {"POST", "/api/flow_runs/{id}/resume", "201 200", "OrchestrationResult", "object"},
    {"PATCH", "/api/flow_runs/{id}/labels", "204", "", "object"},
    {"GET", "/api/flow_runs/{id}/graph-v2", "200", "Graph", "", "since:date-time"},
    {"GET", "/api/flow_runs/{id}/logs/download", "200", "text/csv"},
    {"POST", "/api/flow_runs/filter", "200", "FlowRun[]", "FilterBody"},
    {"POST", "/api/flow_runs/count", "200", "integer", "FilterBody"},
    {"POST", "/api/flow_runs/paginate", "200", "FlowRunPaginationResponse", "FilterBody"},
    {"POST", "/api/flow_runs/history", "200", "HistoryResponse[]", "HistoryBody"},
    {"POST", "/api/flow_runs/lateness", "200", "number?", "FilterBody"},
    {"POST", "/api/flow_runs/bulk_delete", "200", "BulkDeleteResponse", "FilterBody"},
    {"POST", "/api/flow_runs/bulk_set_state", "200", "FlowRunBulkSetStateResponse", "object"},
    {"POST", "/api/flow_runs/{id}/input", "201", "", "object"},
    {"POST", "/api/flow_runs/{id}/input/filter", "200", "FlowRunInput[]", "object"},
    {"GET", "/api/flow_runs/{id}/input/{key}", "200", "text/plain"},
    {"DELETE", "/api/flow_runs/{id}/input/{key}", "204", ""},
    {"GET", "/api/flow_run_states/", "200", "State[]", "", "flow_run_id!:uuid"},
    {"GET", "/api/flow_run_states/{id}", "200", "State"},
    {"POST", "/api/logs/", "201", "", "LogCreate[]"},
    {"POST", "/api/logs/filter", "200", "Log[]", "FilterBody"},
    {"GET", "/api/logs/out", "101", ""},
    // Task runs and task workers.
    {"POST", "/api/task_runs/", "201 200", "TaskRun", "TaskRunCreate"},
    {"GET", "/api/task_runs/{id}", "200", "TaskRun"},
    {"PATCH", "/api/task_runs/{id}", "204", "", "Update"},
    {"DELETE", "/api/task_runs/{id}", "204", ""},
    {"POST", "/api/task_runs/{id}/set_state", "201 200", "OrchestrationResult", "SetStateBody"},
    {"POST", "/api/task_runs/filter", "200", "TaskRun[]", "FilterBody"},
    {"POST", "/api/task_runs/count", "200", "integer", "FilterBody"},
    {"POST", "/api/task_runs/paginate", "200", "TaskRunPaginationResponse", "FilterBody"},
    {"POST", "/api/task_runs/history", "200", "HistoryResponse[]", "HistoryBody"},
    {"GET", "/api/task_run_states/", "200", "State[]", "", "task_run_id!:uuid"},
    {"GET", "/api/task_run_states/{id}", "200", "State"},
    {"GET", "/api/task_runs/subscriptions/scheduled", "101", ""},
    {"POST", "/api/task_workers/filter", "200", "TaskWorker[]", "object"},
    // Events.
    {"POST", "/api/events", "204", "", "Event[]"},
    {"POST", "/api/events/filter", "200", "EventPage", "object"},
    {"GET", "/api/events/filter/next", "200", "EventPage", "", "page-token!:string"},
    {"POST", "/api/events/count-by/{countable}", "200", "EventCount[]", "object"},
    {"GET", "/api/events/in", "101", ""},
    {"GET", "/api/events/out", "101", ""},
    // Notification policies and the outbox (Osprey's own).
    {"POST", "/api/flow_run_notification_policies/", "201", "NotificationPolicy", "object"},
    {"POST", "/api/flow_run_notification_policies/filter", "200", "NotificationPolicy[]", "object"},
    {"GET", "/api/flow_run_notification_policies/{id}", "200", "NotificationPolicy"},
    {"PATCH", "/api/flow_run_notification_policies/{id}", "204", "", "Update"},
    {"DELETE", "/api/flow_run_notification_policies/{id}", "204", ""},
    {"GET", "/api/notifications/outbox", "200", "OutboxEntry[]", "", "status:string limit:integer"},
    {"POST", "/api/notifications/outbox/{id}/retry", "200 202 204", "any"},
    // Concurrency limits, global (v2) and by tag (v1).
    {"POST", "/api/v2/concurrency_limits/", "201", "ConcurrencyLimitV2", "NamedCreate"},
    {"GET", "/api/v2/concurrency_limits/{id_or_name}", "200", "GlobalConcurrencyLimitResponse"},
    {"PATCH", "/api/v2/concurrency_limits/{id_or_name}", "204", "", "Update"},
    {"DELETE", "/api/v2/concurrency_limits/{id_or_name}", "204", ""},
    {"POST", "/api/v2/concurrency_limits/filter", "200", "GlobalConcurrencyLimitResponse[]", "FilterBody"},
    {"POST", "/api/v2/concurrency_limits/increment", "200", "MinimalConcurrencyLimitResponse[]", "object"},
    {"POST", "/api/v2/concurrency_limits/decrement", "200", "MinimalConcurrencyLimitResponse[]", "object"},
    {"POST", "/api/v2/concurrency_limits/increment-with-lease", "200", "ConcurrencyLimitWithLeaseResponse", "object"},
    {"POST", "/api/v2/concurrency_limits/decrement-with-lease", "204", "", "object"},
    {"POST", "/api/v2/concurrency_limits/leases/{lease_id}/renew", "204", "", "object"},
    {"POST", "/api/concurrency_limits/", "201 200", "ConcurrencyLimit", "object"},
    {"GET", "/api/concurrency_limits/{id}", "200", "ConcurrencyLimit"},
    {"DELETE", "/api/concurrency_limits/{id}", "200", ""},
    {"GET", "/api/concurrency_limits/tag/{tag}", "200", "ConcurrencyLimit"},
    {"DELETE", "/api/concurrency_limits/tag/{tag}", "200", ""},
    {"POST", "/api/concurrency_limits/tag/{tag}/reset", "200", "", "object"},
    {"POST", "/api/concurrency_limits/filter", "200", "ConcurrencyLimit[]", "FilterBody"},
    {"POST", "/api/concurrency_limits/increment", "200", "MinimalConcurrencyLimitResponse[]", "object"},
    {"POST", "/api/concurrency_limits/decrement", "200", "MinimalConcurrencyLimitResponse[]", "object"},
    // Variables, automations, artifacts, saved searches.
    {"POST", "/api/variables/", "201", "Variable", "NamedCreate"},
    {"GET", "/api/variables/{id}", "200", "Variable"},
    {"PATCH", "/api/variables/{id}", "204", "", "Update"},
    {"DELETE", "/api/variables/{id}", "204", ""},
    {"GET", "/api/variables/name/{name}", "200", "Variable"},
    {"PATCH", "/api/variables/name/{name}", "204", "", "Update"},
    {"DELETE", "/api/variables/name/{name}", "204", ""},
    {"POST", "/api/variables/filter", "200", "Variable[]", "FilterBody"},
    {"POST", "/api/variables/count", "200", "integer", "FilterBody"},
    {"POST", "/api/automations/", "201", "Automation", "object"},
    {"GET", "/api/automations/{id}", "200", "Automation"},
    {"PUT", "/api/automations/{id}", "204", "", "object"},
    {"PATCH", "/api/automations/{id}", "204", "", "Update"},
    {"DELETE", "/api/automations/{id}", "204", ""},
    {"POST", "/api/automations/filter", "200", "Automation[]", "FilterBody"},
    {"POST", "/api/automations/count", "200", "integer", "FilterBody"},
    {"GET", "/api/automations/related-to/{resource_id}", "200", "Automation[]"},
    {"DELETE", "/api/automations/owned-by/{resource_id}", "202", ""},
    {"POST", "/api/automations/templates/validate", "204", "", "string"},
    {"POST", "/api/templates/validate", "204", "", "string"},
    {"POST", "/api/artifacts/", "201", "Artifact", "object"},
    {"GET", "/api/artifacts/{id}", "200", "Artifact"},
    {"PATCH", "/api/artifacts/{id}", "204", "", "Update"},
    {"DELETE", "/api/artifacts/{id}", "204", ""},
    {"GET", "/api/artifacts/{key}/latest", "200", "Artifact"},
    {"POST", "/api/artifacts/filter", "200", "Artifact[]", "FilterBody"},
    {"POST", "/api/artifacts/count", "200", "integer", "FilterBody"},
    {"POST", "/api/artifacts/latest/filter", "200", "ArtifactCollection[]", "FilterBody"},
    {"POST", "/api/artifacts/latest/count", "200", "integer", "FilterBody"},
    {"PUT", "/api/saved_searches/", "201 200", "SavedSearch", "NamedCreate"},
    {"GET", "/api/saved_searches/{id}", "200", "SavedSearch"},
    {"DELETE", "/api/saved_searches/{id}", "204", ""},
    {"POST", "/api/saved_searches/filter", "200", "SavedSearch[]", "FilterBody"},
    // The UI's reads and aggregates.
    {"GET", "/api/collections/views/{view}", "200", "object"},
    {"GET", "/api/observed-states", "200", "ObservedState[]", "", "query:string order_by:string limit:integer"},
    {"POST", "/api/ui/schemas/validate", "200", "SchemaValuesValidationResponse", "object"},
    {"POST", "/api/ui/flow_runs/history", "200", "SimpleFlowRun[]", "FilterBody"},
    {"POST", "/api/ui/flow_runs/count-task-runs", "200", "CountsById", "object"},
    {"POST", "/api/ui/flows/count-deployments", "200", "CountsById", "object"},
    {"POST", "/api/ui/flows/next-runs", "200", "object", "object"},
    {"POST", "/api/ui/task_runs/count", "200", "CountByState", "FilterBody"},
    {"POST", "/api/ui/task_runs/dashboard/counts", "200", "TaskRunCount[]", "FilterBody"},
    {"GET", "/api/ui/task_runs/{id}", "200", "UITaskRun"},
    // Blocks.
    {"POST", "/api/block_types/", "201", "BlockType", "NamedCreate"},
    {"GET", "/api/block_types/{id}", "200", "BlockType"},
    {"PATCH", "/api/block_types/{id}", "204", "", "Update"},
    {"DELETE", "/api/block_types/{id}", "204", ""},
    {"GET", "/api/block_types/slug/{slug}", "200", "BlockType"},
    {"GET", "/api/block_types/slug/{slug}/block_documents", "200", "BlockDocument[]", "", "include_secrets:boolean"},
    {"GET", "/api/block_types/slug/{slug}/block_documents/name/{block_document_name}", "200", "BlockDocument", "",
     "include_secrets:boolean"},
    {"POST", "/api/block_types/filter", "200", "BlockType[]", "FilterBody"},
    {"POST", "/api/block_types/install_system_block_types", "200", ""},
    {"POST", "/api/block_schemas/", "201 200", "BlockSchema", "object"},
    {"GET", "/api/block_schemas/{id}", "200", "BlockSchema"},
    {"DELETE", "/api/block_schemas/{id}", "204", ""},
    {"GET", "/api/block_schemas/checksum/{checksum}", "200", "BlockSchema", "", "version:string"},
    {"POST", "/api/block_schemas/filter", "200", "BlockSchema[]", "FilterBody"},
    {"GET", "/api/block_capabilities/", "200", "string[]"},
    {"POST", "/api/block_documents/", "201", "BlockDocument", "object"},
    {"GET", "/api/block_documents/{id}", "200", "BlockDocument", "", "include_secrets:boolean"},
    {"PATCH", "/api/block_documents/{id}", "204", "", "Update"},
    {"DELETE", "/api/block_documents/{id}", "204", ""},
    {"POST", "/api/block_documents/filter", "200", "BlockDocument[]", "FilterBody"},
    {"POST", "/api/block_documents/count", "200", "integer", "FilterBody"},
    // Work pools, their queues and workers; the legacy work queues.
    {"POST", "/api/work_pools/", "201", "WorkPool", "NamedCreate"},
    {"GET", "/api/work_pools/{name}", "200", "WorkPool"},
    {"PATCH", "/api/work_pools/{name}", "204", "", "Update"},
    {"DELETE", "/api/work_pools/{name}", "204", ""},
    {"POST", "/api/work_pools/filter", "200", "WorkPool[]", "FilterBody"},
    {"POST", "/api/work_pools/count", "200", "integer", "FilterBody"},
    {"POST", "/api/work_pools/{name}/get_scheduled_flow_runs", "200", "WorkerFlowRunResponse[]", "object"},
    {"POST", "/api/work_pools/{name}/concurrency_status", "200", "WorkPoolConcurrencyStatus", "FilterBody"},
    {"POST", "/api/work_pools/{name}/queues", "201", "WorkQueue", "NamedCreate"},
    {"POST", "/api/work_pools/{name}/queues/filter", "200", "WorkQueue[]", "FilterBody"},
    {"GET", "/api/work_pools/{name}/queues/{queue}", "200", "WorkQueue"},
    {"PATCH", "/api/work_pools/{name}/queues/{queue}", "204", "", "Update"},
    {"DELETE", "/api/work_pools/{name}/queues/{queue}", "204", ""},
    {"POST", "/api/work_pools/{name}/workers/heartbeat", "204", "", "NamedCreate"},
    {"POST", "/api/work_pools/{name}/workers/filter", "200", "Worker[]", "FilterBody"},
    {"DELETE", "/api/work_pools/{name}/workers/{worker_name}", "204", ""},
    {"GET", "/api/work_pools/{name}/workers/connect", "101", ""},
    {"POST", "/api/work_queues/", "201", "WorkQueue", "NamedCreate"},
    {"GET", "/api/work_queues/{id}", "200", "WorkQueue"},
    {"PATCH", "/api/work_queues/{id}", "204", "", "Update"},
    {"DELETE", "/api/work_queues/{id}", "204", ""},
    {"GET", "/api/work_queues/name/{name}", "200", "WorkQueue"},
    {"POST", "/api/work_queues/filter", "200", "WorkQueue[]", "FilterBody"},
    {"GET", "/api/work_queues/{id}/status", "200", "WorkQueueStatusDetail"},
    {"POST", "/api/work_queues/{id}/get_runs", "200", "FlowRun[]", "object"},
    {"POST", "/api/work_queues/{id}/concurrency_status", "200", "WorkQueueConcurrencyStatus", "FilterBody"},
    // Deployments and their schedules and runs.
    {"POST", "/api/deployments/", "201 200", "DeploymentResponse", "DeploymentCreate"},
    {"GET", "/api/deployments/{id}", "200", "DeploymentResponse"},
    {"PATCH", "/api/deployments/{id}", "204", "", "Update"},
    {"DELETE", "/api/deployments/{id}", "204", ""},
    {"GET", "/api/deployments/name/{flow_name}/{deployment_name}", "200", "DeploymentResponse"},
    {"POST", "/api/deployments/filter", "200", "DeploymentResponse[]", "FilterBody"},
    {"POST", "/api/deployments/count", "200", "integer", "FilterBody"},
    {"POST", "/api/deployments/paginate", "200", "DeploymentPaginationResponse", "FilterBody"},
    {"POST", "/api/deployments/bulk_delete", "200", "BulkDeleteResponse", "FilterBody"},
    {"POST", "/api/deployments/get_scheduled_flow_runs", "200", "FlowRun[]", "object"},
    {"POST", "/api/deployments/{id}/create_flow_run", "201", "FlowRun", "object"},
    {"POST", "/api/deployments/{id}/create_flow_run/bulk", "201 200", "FlowRunBulkCreateResponse", "object[]"},
    {"POST", "/api/deployments/{id}/pause_deployment", "200 204", ""},
    {"POST", "/api/deployments/{id}/resume_deployment", "200 204", ""},
    {"POST", "/api/deployments/{id}/schedule", "200 201 204", "", "object"},
    {"GET", "/api/deployments/{id}/schedules", "200", "DeploymentSchedule[]"},
    {"POST", "/api/deployments/{id}/schedules", "201", "DeploymentSchedule[]", "object[]"},
    {"PATCH", "/api/deployments/{id}/schedules/{schedule_id}", "204", "", "Update"},
    {"DELETE", "/api/deployments/{id}/schedules/{schedule_id}", "204", ""},
};

json primitive_or_component(std::string_view name) {
  for (const char* type : {"integer", "number", "boolean", "string", "object"})
    if (name == type) return of_type(type);
  if (name == "any") return anything();
  if (name == "uuid") return uuid();
  if (name == "date-time") return date_time();
  if (name.empty() || !(name.front() >= 'A' && name.front() <= 'Z'))
    throw std::invalid_argument("not a schema spec: " + std::string(name));
  return ref_to(std::string(name));
}

}  // namespace

json schema_of(std::string_view spec) {
  if (spec.empty()) return nullptr;
  if (spec.find('/') != std::string_view::npos) return text();  // a media type: its body is text
  bool or_null = false;
  if (spec.back() == '?') {
    or_null = true;
    spec.remove_suffix(1);
  }
  json schema = spec.ends_with("[]") ? array_of(primitive_or_component(spec.substr(0, spec.size() - 2)))
                                     : primitive_or_component(spec);
  return or_null ? nullable(std::move(schema)) : schema;
}

const operation_doc* find_operation(std::string_view method, std::string_view path) {
  if (method == "GET" && path.ends_with("/ui-settings")) path = "/ui-settings";
  for (const auto& op : operations)
    if (op.method == method && op.path == path) return &op;
  return nullptr;
}

std::span<const operation_doc> all_operations() { return operations; }

}  // namespace osprey::http::openapi

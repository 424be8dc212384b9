// Component schemas of flows, runs, states, logs and their aggregates (what http/shapes.cpp and the run routes
// answer), with Prefect 3.9.1's field names and types.

#include "http/openapi/schema.hpp"

namespace osprey::http::openapi {
namespace {

json state_type() {
  return one_of_strings(
      {"SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED", "PAUSED", "CANCELLING"});
}

json labels() { return nullable(map_of({{"type", {"string", "integer", "number", "boolean"}}})); }

/// The fields a flow run and a task run share (Prefect's ORM run base).
json run_base() {
  return object_of({{"id", uuid()},
                    {"created", nullable(date_time())},
                    {"updated", nullable(date_time())},
                    {"name", text()},
                    {"state_id", nullable(uuid())},
                    {"state_type", nullable(ref_to("StateType"))},
                    {"state_name", nullable(text())},
                    {"state", nullable(ref_to("State"))},
                    {"tags", array_of(text())},
                    {"labels", labels()},
                    {"run_count", integer()},
                    {"expected_start_time", nullable(date_time())},
                    {"next_scheduled_start_time", nullable(date_time())},
                    {"start_time", nullable(date_time())},
                    {"end_time", nullable(date_time())},
                    {"total_run_time", number()},
                    {"estimated_run_time", number()},
                    {"estimated_start_time_delta", number()},
                    {"empirical_policy", any_object()}},
                   {"id", "name", "state_type", "state", "tags", "run_count"});
}

}  // namespace

void add_run_schemas(json& s) {
  s["StateType"] = state_type();
  s["Flow"] = object_of({{"id", uuid()},
                         {"created", nullable(date_time())},
                         {"updated", nullable(date_time())},
                         {"name", text()},
                         {"tags", array_of(text())},
                         {"labels", labels()}},
                        {"id", "created", "updated", "name", "tags"});
  s["StateDetails"] = object_of({{"flow_run_id", nullable(uuid())},
                                 {"task_run_id", nullable(uuid())},
                                 {"child_flow_run_id", nullable(uuid())},
                                 {"scheduled_time", nullable(date_time())},
                                 {"cache_key", nullable(text())},
                                 {"cache_expiration", nullable(date_time())},
                                 {"deferred", nullable(boolean())},
                                 {"untrackable_result", boolean()},
                                 {"pause_timeout", nullable(date_time())},
                                 {"pause_reschedule", boolean()},
                                 {"pause_key", nullable(text())},
                                 {"run_input_keyset", nullable(map_of(text()))},
                                 {"refresh_cache", nullable(boolean())},
                                 {"retriable", nullable(boolean())},
                                 {"transition_id", nullable(uuid())},
                                 {"task_parameters_id", nullable(uuid())},
                                 {"traceparent", nullable(text())},
                                 {"deployment_concurrency_lease_id", nullable(uuid())}});
  s["State"] = object_of({{"id", uuid()},
                          {"type", ref_to("StateType")},
                          {"name", nullable(text())},
                          {"timestamp", date_time()},
                          {"message", nullable(text())},
                          {"data", anything()},
                          {"state_details", ref_to("StateDetails")}},
                         {"id", "type", "name", "timestamp", "state_details"});
  s["FlowRun"] = extended(run_base(),
                          {{"flow_id", uuid()},
                           {"deployment_id", nullable(uuid())},
                           {"deployment_version", nullable(text())},
                           {"work_queue_name", nullable(text())},
                           {"work_queue_id", nullable(uuid())},
                           {"flow_version", nullable(text())},
                           {"parameters", any_object()},
                           {"idempotency_key", nullable(text())},
                           {"context", any_object()},
                           {"parent_task_run_id", nullable(uuid())},
                           {"auto_scheduled", boolean()},
                           {"infrastructure_document_id", nullable(uuid())},
                           {"infrastructure_pid", nullable(text())},
                           {"created_by", nullable(any_object())},
                           {"job_variables", nullable(any_object())}},
                          {"flow_id", "parameters", "deployment_id"});
  s["TaskRun"] = extended(run_base(),
                          {{"flow_run_id", nullable(uuid())},
                           {"task_key", text()},
                           {"dynamic_key", text()},
                           {"cache_key", nullable(text())},
                           {"cache_expiration", nullable(date_time())},
                           {"task_version", nullable(text())},
                           {"task_inputs", map_of(array_of(any_object()))},
                           {"flow_run_run_count", integer()}},
                          {"task_key", "dynamic_key", "flow_run_id"});
  s["UITaskRun"] = extended(s["TaskRun"], {{"flow_run_name", nullable(text())}});
  s["Log"] = object_of({{"id", uuid()},
                        {"created", nullable(date_time())},
                        {"updated", nullable(date_time())},
                        {"name", text()},
                        {"level", integer()},
                        {"message", text()},
                        {"timestamp", date_time()},
                        {"flow_run_id", nullable(uuid())},
                        {"task_run_id", nullable(uuid())}},
                       {"id", "name", "level", "message", "timestamp"});
  // set_state, resume: the decision and the state now current (the proposed one when accepted).
  s["OrchestrationResult"] = object_of(
      {{"state", nullable(ref_to("State"))},
       {"status", one_of_strings({"ACCEPT", "REJECT", "ABORT", "WAIT"})},
       {"details",
        object_of({{"type", one_of_strings({"accept_details", "reject_details", "abort_details", "wait_details"})},
                   {"reason", nullable(text())},
                   {"delay_seconds", integer()}},
                  {"type"})}},
      {"status", "details"});
  s["FlowRunOrchestrationResult"] = extended(s["OrchestrationResult"], {{"flow_run_id", uuid()}}, {"flow_run_id"});
  s["FlowRunBulkSetStateResponse"] =
      object_of({{"results", array_of(ref_to("FlowRunOrchestrationResult"))}}, {"results"});
  s["BulkDeleteResponse"] = object_of({{"deleted", array_of(uuid())}}, {"deleted"});
  const std::pair<const char*, const char*> pages[] = {{"FlowPaginationResponse", "Flow"},
                                                       {"FlowRunPaginationResponse", "FlowRun"},
                                                       {"TaskRunPaginationResponse", "TaskRun"},
                                                       {"DeploymentPaginationResponse", "DeploymentResponse"}};
  for (const auto& [page, item] : pages)
    s[page] = object_of({{"results", array_of(ref_to(item))},
                         {"count", integer()},
                         {"limit", integer()},
                         {"pages", integer()},
                         {"page", integer()}},
                        {"results", "count", "limit", "pages", "page"});
  s["HistoryResponse"] = object_of({{"interval_start", date_time()},
                                    {"interval_end", date_time()},
                                    {"states", array_of(object_of({{"state_type", ref_to("StateType")},
                                                                   {"state_name", text()},
                                                                   {"count_runs", integer()},
                                                                   {"sum_estimated_run_time", number()},
                                                                   {"sum_estimated_lateness", number()}},
                                                                  {"state_type", "state_name", "count_runs"}))}},
                                   {"interval_start", "interval_end", "states"});
  s["SimpleFlowRun"] = object_of({{"id", uuid()},
                                  {"state_type", ref_to("StateType")},
                                  {"timestamp", date_time()},
                                  {"duration", number()},
                                  {"lateness", number()}},
                                 {"id", "state_type", "timestamp", "duration", "lateness"});
  s["SimpleNextFlowRun"] = object_of({{"id", uuid()},
                                      {"flow_id", uuid()},
                                      {"name", text()},
                                      {"state_name", text()},
                                      {"state_type", ref_to("StateType")},
                                      {"next_scheduled_start_time", date_time()}},
                                     {"id", "flow_id", "name", "next_scheduled_start_time"});
  s["CountByState"] = map_of(integer());
  s["CountsById"] = map_of(integer());
  s["TaskRunCount"] = object_of({{"completed", integer()}, {"failed", integer()}}, {"completed", "failed"});
  s["FlowRunInput"] = object_of({{"id", uuid()},
                                 {"created", nullable(date_time())},
                                 {"updated", nullable(date_time())},
                                 {"flow_run_id", uuid()},
                                 {"key", text()},
                                 {"value", text()},
                                 {"sender", nullable(text())}},
                                {"id", "flow_run_id", "key", "value"});
  s["Graph"] = object_of(
      {{"start_time", nullable(date_time())},
       {"end_time", nullable(date_time())},
       {"root_node_ids", array_of(uuid())},
       {"nodes", array_of({{"type", "array"}, {"prefixItems", {uuid(), any_object()}}})},
       {"artifacts", array_of(any_object())},
       {"states", array_of(object_of(
                      {{"id", uuid()}, {"timestamp", date_time()}, {"type", ref_to("StateType")}, {"name", text()}},
                      {"id", "timestamp", "type", "name"}))}},
      {"start_time", "end_time", "root_node_ids", "nodes", "artifacts", "states"});
  s["ObservedState"] = object_of(
      {{"state_type", text()}, {"state_name", text()}, {"first_seen", date_time()}, {"last_seen", date_time()}},
      {"state_type", "state_name", "first_seen", "last_seen"});
  s["TaskWorker"] = object_of({{"identifier", text()}, {"task_keys", array_of(text())}, {"timestamp", date_time()}},
                              {"identifier", "task_keys", "timestamp"});
}

}  // namespace osprey::http::openapi

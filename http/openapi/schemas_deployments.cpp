// Component schemas of deployments, their schedules, work pools, queues and workers (http/deployment_fields.cpp,
// http/work_pool_fields.cpp), with Prefect 3.9.1's field names and types.

#include "http/openapi/schema.hpp"

namespace osprey::http::openapi {
namespace {

json stamped(std::initializer_list<std::pair<const char*, json>> more, std::vector<std::string> required) {
  json base =
      object_of({{"id", uuid()}, {"created", nullable(date_time())}, {"updated", nullable(date_time())}}, {"id"});
  return extended(std::move(base), more, std::move(required));
}

json ready_status() { return nullable(one_of_strings({"READY", "NOT_READY", "PAUSED"})); }

}  // namespace

void add_deployment_schemas(json& s) {
  s["DeploymentSchedule"] = stamped({{"deployment_id", nullable(uuid())},
                                     {"schedule", object_of({{"interval", number()},
                                                             {"anchor_date", date_time()},
                                                             {"cron", text()},
                                                             {"day_or", boolean()},
                                                             {"rrule", text()},
                                                             {"timezone", nullable(text())}})},
                                     {"active", boolean()},
                                     {"max_scheduled_runs", nullable(integer())},
                                     {"parameters", any_object()},
                                     {"slug", nullable(text())}},
                                    {"schedule", "active"});
  s["DeploymentResponse"] = stamped({{"name", text()},
                                     {"version", nullable(text())},
                                     {"description", nullable(text())},
                                     {"flow_id", uuid()},
                                     {"paused", boolean()},
                                     {"schedules", array_of(ref_to("DeploymentSchedule"))},
                                     {"concurrency_limit", nullable(integer())},
                                     {"global_concurrency_limit", nullable(ref_to("GlobalConcurrencyLimitResponse"))},
                                     {"concurrency_options", nullable(any_object())},
                                     {"job_variables", any_object()},
                                     {"parameters", any_object()},
                                     {"tags", array_of(text())},
                                     {"labels", nullable(any_object())},
                                     {"work_queue_name", nullable(text())},
                                     {"work_queue_id", nullable(uuid())},
                                     {"last_polled", nullable(date_time())},
                                     {"parameter_openapi_schema", nullable(any_object())},
                                     {"path", nullable(text())},
                                     {"pull_steps", nullable(array_of(any_object()))},
                                     {"entrypoint", nullable(text())},
                                     {"storage_document_id", nullable(uuid())},
                                     {"infrastructure_document_id", nullable(uuid())},
                                     {"created_by", nullable(any_object())},
                                     {"updated_by", nullable(any_object())},
                                     {"work_pool_name", nullable(text())},
                                     {"status", ready_status()},
                                     {"enforce_parameter_schema", boolean()}},
                                    {"name", "flow_id", "paused", "schedules", "parameters", "tags"});
  s["WorkPool"] = stamped({{"name", text()},
                           {"description", nullable(text())},
                           {"type", text()},
                           {"base_job_template", any_object()},
                           {"is_paused", boolean()},
                           {"concurrency_limit", nullable(integer())},
                           {"status", ready_status()},
                           {"default_queue_id", nullable(uuid())},
                           {"storage_configuration", any_object()},
                           {"active_slots", nullable(integer())}},
                          {"name", "type", "base_job_template", "is_paused"});
  s["WorkQueue"] = stamped({{"name", text()},
                            {"description", nullable(text())},
                            {"is_paused", boolean()},
                            {"concurrency_limit", nullable(integer())},
                            {"priority", integer()},
                            {"work_pool_id", nullable(uuid())},
                            {"filter", nullable(any_object())},
                            {"last_polled", nullable(date_time())},
                            {"work_pool_name", nullable(text())},
                            {"status", ready_status()},
                            {"active_slots", nullable(integer())}},
                           {"name", "is_paused", "priority"});
  s["WorkQueueStatusDetail"] = object_of({{"healthy", boolean()},
                                          {"late_runs_count", integer()},
                                          {"last_polled", nullable(date_time())},
                                          {"health_check_policy", any_object()}},
                                         {"healthy", "health_check_policy"});
  s["Worker"] = stamped({{"name", text()},
                         {"work_pool_id", uuid()},
                         {"last_heartbeat_time", nullable(date_time())},
                         {"heartbeat_interval_seconds", nullable(integer())},
                         {"status", one_of_strings({"ONLINE", "OFFLINE"})}},
                        {"name", "work_pool_id", "status"});
  s["WorkerFlowRunResponse"] =
      object_of({{"work_pool_id", uuid()}, {"work_queue_id", uuid()}, {"flow_run", ref_to("FlowRun")}},
                {"work_pool_id", "work_queue_id", "flow_run"});
  const json slots_page = object_of({{"active_slots", integer()},
                                     {"concurrency_limit", nullable(integer())},
                                     {"count", integer()},
                                     {"limit", integer()},
                                     {"pages", integer()},
                                     {"page", integer()}},
                                    {"active_slots", "count", "limit", "pages", "page"});
  s["WorkPoolConcurrencyStatus"] = extended(slots_page, {{"queues", array_of(any_object())}}, {"queues"});
  s["WorkQueueConcurrencyStatus"] = extended(slots_page, {{"flow_runs", array_of(any_object())}}, {"flow_runs"});
  s["FlowRunBulkCreateResponse"] = object_of({{"results", array_of(any_object())}}, {"results"});
}

}  // namespace osprey::http::openapi

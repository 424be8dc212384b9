// Component schemas of variables, artifacts, concurrency limits, saved searches, automations, events, the
// notification policies and outbox (Osprey's own), the admin answers, the error shape and the request bodies.
// Request bodies are documented at their top level (main properties, other keys allowed): each handler checks
// the exact shape and answers 422 with Prefect's detail.

#include "http/openapi/schema.hpp"

namespace osprey::http::openapi {
namespace {

json stamped(std::initializer_list<std::pair<const char*, json>> more, std::vector<std::string> required) {
  json base =
      object_of({{"id", uuid()}, {"created", nullable(date_time())}, {"updated", nullable(date_time())}}, {"id"});
  return extended(std::move(base), more, std::move(required));
}

void add_request_bodies(json& s) {
  // The filter, count and paginate bodies: one filter object per kind (flows, flow_runs, task_runs, ...) beside
  // the paging keys.
  s["FilterBody"] = object_of({{"offset", integer()},
                               {"limit", nullable(integer())},
                               {"page", integer()},
                               {"sort", nullable(text())},
                               {"flows", nullable(any_object())},
                               {"flow_runs", nullable(any_object())},
                               {"task_runs", nullable(any_object())},
                               {"deployments", nullable(any_object())},
                               {"work_pools", nullable(any_object())},
                               {"work_queues", nullable(any_object())}});
  s["HistoryBody"] =
      extended(s["FilterBody"],
               {{"history_start", date_time()}, {"history_end", date_time()}, {"history_interval_seconds", number()}});
  s["StateCreate"] = object_of({{"type", ref_to("StateType")},
                                {"name", nullable(text())},
                                {"message", nullable(text())},
                                {"data", anything()},
                                {"state_details", any_object()}},
                               {"type"});
  s["SetStateBody"] = object_of({{"state", ref_to("StateCreate")}, {"force", boolean()}}, {"state"});
  s["NamedCreate"] = object_of({{"name", text()}}, {"name"});
  s["FlowRunCreate"] = object_of({{"flow_id", uuid()},
                                  {"name", nullable(text())},
                                  {"state", nullable(ref_to("StateCreate"))},
                                  {"parameters", any_object()},
                                  {"tags", array_of(text())},
                                  {"idempotency_key", nullable(text())}},
                                 {"flow_id"});
  s["TaskRunCreate"] = object_of({{"task_key", text()},
                                  {"dynamic_key", text()},
                                  {"flow_run_id", nullable(uuid())},
                                  {"name", nullable(text())},
                                  {"state", nullable(ref_to("StateCreate"))}},
                                 {"task_key", "dynamic_key"});
  s["LogCreate"] = object_of({{"name", text()},
                              {"level", integer()},
                              {"message", text()},
                              {"timestamp", date_time()},
                              {"flow_run_id", nullable(uuid())},
                              {"task_run_id", nullable(uuid())}},
                             {"name", "level", "message", "timestamp"});
  s["DeploymentCreate"] = object_of({{"name", text()},
                                     {"flow_id", uuid()},
                                     {"schedules", array_of(any_object())},
                                     {"parameters", any_object()},
                                     {"work_pool_name", nullable(text())},
                                     {"work_queue_name", nullable(text())}},
                                    {"name", "flow_id"});
  s["Event"] = object_of({{"occurred", date_time()},
                          {"event", text()},
                          {"resource", map_of(text())},
                          {"related", array_of(map_of(text()))},
                          {"payload", any_object()},
                          {"id", uuid()},
                          {"follows", nullable(uuid())}},
                         {"occurred", "event", "resource", "id"});
  // Updates (PATCH, PUT): the fields to change, each checked by its handler.
  s["Update"] = any_object();
}

}  // namespace

void add_other_schemas(json& s) {
  add_request_bodies(s);
  s["Error"] =
      object_of({{"detail", anything()}, {"exception_message", text()}, {"exception_detail", array_of(any_object())}},
                {"detail"});
  s["Variable"] =
      stamped({{"name", text()}, {"value", anything()}, {"tags", array_of(text())}}, {"name", "value", "tags"});
  const json artifact_fields = object_of({{"key", nullable(text())},
                                          {"type", nullable(text())},
                                          {"description", nullable(text())},
                                          {"data", anything()},
                                          {"metadata_", nullable(map_of(text()))},
                                          {"flow_run_id", nullable(uuid())},
                                          {"task_run_id", nullable(uuid())}});
  s["Artifact"] = stamped({}, {});
  s["Artifact"]["properties"].update(artifact_fields["properties"]);
  s["ArtifactCollection"] = s["Artifact"];
  s["ArtifactCollection"]["properties"]["key"] = text();
  s["ArtifactCollection"]["properties"]["latest_id"] = uuid();
  s["ArtifactCollection"]["required"] = {"id", "key", "latest_id"};
  s["ConcurrencyLimit"] =
      stamped({{"tag", text()}, {"concurrency_limit", integer()}, {"active_slots", array_of(uuid())}},
              {"tag", "concurrency_limit", "active_slots"});
  s["GlobalConcurrencyLimitResponse"] = stamped({{"active", boolean()},
                                                 {"name", text()},
                                                 {"limit", integer()},
                                                 {"active_slots", integer()},
                                                 {"slot_decay_per_second", number()}},
                                                {"active", "name", "limit", "active_slots"});
  s["ConcurrencyLimitV2"] = extended(s["GlobalConcurrencyLimitResponse"],
                                     {{"denied_slots", integer()}, {"avg_slot_occupancy_seconds", number()}});
  s["MinimalConcurrencyLimitResponse"] =
      object_of({{"id", uuid()}, {"name", text()}, {"limit", integer()}}, {"id", "name", "limit"});
  s["ConcurrencyLimitWithLeaseResponse"] = object_of(
      {{"lease_id", uuid()}, {"limits", array_of(ref_to("MinimalConcurrencyLimitResponse"))}}, {"lease_id", "limits"});
  s["SavedSearch"] = stamped({{"name", text()}, {"filters", array_of(any_object())}}, {"name", "filters"});
  s["Automation"] = stamped({{"name", text()},
                             {"description", text()},
                             {"enabled", boolean()},
                             {"tags", array_of(text())},
                             {"trigger", any_object()},
                             {"actions", array_of(any_object())},
                             {"actions_on_trigger", array_of(any_object())},
                             {"actions_on_resolve", array_of(any_object())}},
                            {"name", "enabled", "trigger", "actions"});
  s["ReceivedEvent"] = extended(s["Event"], {{"received", date_time()}}, {"received"});
  s["EventPage"] =
      object_of({{"events", array_of(ref_to("ReceivedEvent"))}, {"total", integer()}, {"next_page", nullable(text())}},
                {"events", "total", "next_page"});
  s["EventCount"] = object_of({{"value", text()},
                               {"label", text()},
                               {"count", integer()},
                               {"start_time", date_time()},
                               {"end_time", date_time()}},
                              {"value", "label", "count", "start_time", "end_time"});
  s["CsrfToken"] =
      stamped({{"token", text()}, {"client", text()}, {"expiration", date_time()}}, {"token", "client", "expiration"});
  s["SchemaValuesValidationResponse"] =
      object_of({{"errors", array_of(anything())}, {"valid", boolean()}}, {"errors", "valid"});
  s["NotificationPolicy"] = object_of({{"id", nullable(uuid())},
                                       {"name", text()},
                                       {"is_active", boolean()},
                                       {"source", text()},
                                       {"state_names", array_of(text())},
                                       {"tags", array_of(text())},
                                       {"channels", array_of(text())},
                                       {"match", any_object()}},
                                      {"id", "name", "is_active"});
  s["OutboxEntry"] = object_of({{"id", uuid()},
                                {"created", date_time()},
                                {"policy_name", text()},
                                {"channel_name", text()},
                                {"flow_run_id", nullable(uuid())},
                                {"status", text()},
                                {"attempts", integer()}},
                               {"id", "status", "attempts"});
  s["Service"] = object_of({{"name", text()},
                            {"purpose", text()},
                            {"enabled", boolean()},
                            {"interval_seconds", number()},
                            {"passes", integer()}},
                           {"name", "enabled"});
  s["ResultStorage"] =
      object_of({{"default_result_storage_block_id", nullable(uuid())}}, {"default_result_storage_block_id"});
}

}  // namespace osprey::http::openapi

// Automations as Prefect 3.9.1 reads them (domain/automation): triggers and actions with their defaults filled
// as Prefect's answer shows them, and each refusal with pydantic's location, message and type.
#include <gtest/gtest.h>

#include "domain/automation.hpp"
#include "domain/automation_lifecycle.hpp"

using namespace osprey;
using nlohmann::json;

namespace {

const std::string some_id = "11111111-1111-1111-1111-111111111111";

/// Trigger ids are drawn in order: 00000000-...-000000000001, ...02, ...
std::function<uuid()> counting_ids() {
  auto n = std::make_shared<int>(0);
  return [n] {
    char text[37];
    std::snprintf(text, sizeof text, "00000000-0000-4000-8000-%012d", ++*n);
    return *uuid::parse(text);
  };
}

json body_with(json trigger, json actions = json::array({{{"type", "do-nothing"}}})) {
  return {{"name", "a"}, {"trigger", std::move(trigger)}, {"actions", std::move(actions)}};
}

json reactive() { return {{"type", "event"}, {"posture", "Reactive"}, {"expect", {"prefect.flow-run.Failed"}}}; }

std::optional<automation_body> read(const json& body, automation_problem& p,
                                    automation_body_kind kind = automation_body_kind::create) {
  return read_automation_body(body, kind, counting_ids(), p);
}

/// The refusal of `body`, as "loc|message|type".
std::string refusal(const json& body, automation_body_kind kind = automation_body_kind::create) {
  automation_problem p;
  if (read(body, p, kind)) return "accepted";
  std::string loc;
  for (const auto& part : p.location) loc += (loc.empty() ? "" : ".") + part;
  return loc + "|" + p.message + "|" + p.type;
}

TEST(AutomationBody, AnEventTriggerGetsPrefectsDefaultsAndAFreshId) {
  automation_problem p;
  auto trigger = reactive();
  trigger["id"] = some_id;
  auto b = read(body_with(trigger), p);
  ASSERT_TRUE(b) << p.describe();
  EXPECT_EQ(b->fields.trigger, (json{{"type", "event"},
                                     {"id", "00000000-0000-4000-8000-000000000001"},
                                     {"match", json::object()},
                                     {"match_related", json::object()},
                                     {"after", json::array()},
                                     {"expect", {"prefect.flow-run.Failed"}},
                                     {"for_each", json::array()},
                                     {"posture", "Reactive"},
                                     {"threshold", 1},
                                     {"within", 0.0}}));
  EXPECT_EQ(b->fields.description, "");
  EXPECT_TRUE(b->fields.enabled);
  EXPECT_FALSE(b->has_description);
}

TEST(AutomationBody, AProactiveTriggerWithoutWithinWaitsTenSeconds) {
  automation_problem p;
  auto b = read(body_with({{"posture", "Proactive"}, {"expect", {"x"}}, {"within", 0}}), p);
  ASSERT_TRUE(b) << p.describe();
  EXPECT_EQ(b->fields.trigger["within"], 10.0);
  EXPECT_EQ(b->fields.trigger["type"], "event");
}

TEST(AutomationBody, WithinReadsSecondsAndIsoDurations) {
  for (const auto& [given, seconds] : std::vector<std::pair<json, double>>{
           {30, 30.0}, {"PT1M30S", 90.0}, {"00:02:00", 120.0}, {"P1D", 86400.0}, {2.5, 2.5}}) {
    automation_problem p;
    auto t = reactive();
    t["within"] = given;
    auto b = read(body_with(t), p);
    ASSERT_TRUE(b) << given << p.describe();
    EXPECT_EQ(b->fields.trigger["within"], seconds) << given;
  }
}

TEST(AutomationBody, SetsDropDuplicatesAndResourceSpecsKeepTheirShape) {
  automation_problem p;
  auto t = reactive();
  t["expect"] = {"a", "b", "a"};
  t["match"] = {{"prefect.resource.id", "prefect.flow-run.*"}};
  t["match_related"] = json::array({{{"prefect.resource.role", {"flow", "deployment"}}}});
  t["for_each"] = {"prefect.resource.id"};
  auto b = read(body_with(t), p);
  ASSERT_TRUE(b) << p.describe();
  EXPECT_EQ(b->fields.trigger["expect"], json({"a", "b"}));
  EXPECT_EQ(b->fields.trigger["match"], t["match"]);
  EXPECT_EQ(b->fields.trigger["match_related"], t["match_related"]);
}

TEST(AutomationBody, CompoundAndSequenceTriggersNestWithIdsParentFirst) {
  automation_problem p;
  json compound = {{"type", "compound"},
                   {"require", "any"},
                   {"within", 60},
                   {"triggers",
                    {{{"posture", "Reactive"}, {"expect", {"a"}}},
                     {{"type", "sequence"}, {"within", nullptr}, {"triggers", {reactive()}}}}}};
  auto b = read(body_with(compound), p);
  ASSERT_TRUE(b) << p.describe();
  const auto& t = b->fields.trigger;
  EXPECT_EQ(t["id"], "00000000-0000-4000-8000-000000000001");
  EXPECT_EQ(t["within"], 60.0);
  EXPECT_EQ(t["require"], "any");
  EXPECT_EQ(t["triggers"][0]["type"], "event");
  EXPECT_EQ(t["triggers"][1]["type"], "sequence");
  EXPECT_TRUE(t["triggers"][1]["within"].is_null());
  EXPECT_FALSE(t["triggers"][1].contains("require"));
  EXPECT_EQ(t["triggers"][1]["triggers"][0]["id"], "00000000-0000-4000-8000-000000000004");
}

TEST(AutomationBody, EveryActionTypeGetsItsDefaults) {
  const json actions = {
      {{"type", "do-nothing"}},
      {{"type", "run-deployment"}, {"deployment_id", some_id}},
      {{"type", "pause-deployment"}, {"source", "inferred"}},
      {{"type", "resume-deployment"}, {"deployment_id", some_id}},
      {{"type", "cancel-flow-run"}},
      {{"type", "delete-flow-run"}},
      {{"type", "change-flow-run-state"}, {"state", "FAILED"}},
      {{"type", "pause-work-queue"}, {"work_queue_id", some_id}},
      {{"type", "resume-work-queue"}, {"source", "inferred"}},
      {{"type", "send-notification"}, {"block_document_id", some_id}, {"body", "{{ flow_run.name }} failed"}},
      {{"type", "call-webhook"}, {"block_document_id", some_id}, {"payload", {{"a", 1}}}},
      {{"type", "pause-automation"}, {"automation_id", some_id}},
      {{"type", "resume-automation"}, {"source", "inferred"}},
      {{"type", "suspend-flow-run"}},
      {{"type", "resume-flow-run"}},
      {{"type", "pause-work-pool"}, {"work_pool_id", some_id}},
      {{"type", "resume-work-pool"}, {"source", "inferred"}},
  };
  automation_problem p;
  auto b = read(body_with(reactive(), actions), p);
  ASSERT_TRUE(b) << p.describe();
  const auto& a = b->fields.actions;
  ASSERT_EQ(a.size(), actions.size());
  EXPECT_EQ(a[0], json({{"type", "do-nothing"}}));
  EXPECT_EQ(a[1], (json{{"type", "run-deployment"},
                        {"source", "selected"},
                        {"deployment_id", some_id},
                        {"parameters", nullptr},
                        {"job_variables", nullptr},
                        {"schedule_after", 0.0}}));
  EXPECT_EQ(a[2], (json{{"type", "pause-deployment"}, {"source", "inferred"}, {"deployment_id", nullptr}}));
  EXPECT_EQ(a[6], (json{{"type", "change-flow-run-state"},
                        {"name", nullptr},
                        {"state", "FAILED"},
                        {"message", nullptr},
                        {"force", false}}));
  EXPECT_EQ(a[9]["subject"], "Prefect automated notification");
  EXPECT_EQ(a[10]["payload"], "{\n  \"a\": 1\n}");
  EXPECT_EQ(a[16], (json{{"type", "resume-work-pool"}, {"source", "inferred"}, {"work_pool_id", nullptr}}));
}

TEST(AutomationBody, RefusalsNameTheFieldAsPydanticDoes) {
  const std::string event = "trigger.EventTrigger";
  const std::string run = "actions.0.function-after[selected_deployment_requires_id(), RunDeployment]";
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"trigger", reactive()}, {"actions", json::array()}}, "name|Field required|missing"},
      {body_with(reactive(), nullptr), "actions|Input should be a valid list|list_type"},
      {body_with({{"type", "event"}}), event + ".posture|Field required|missing"},
      {body_with({{"posture", "Sideways"}}),
       event + ".posture|Input should be Posture.Reactive or Posture.Proactive|literal_error"},
      {body_with({{"posture", "Proactive"}, {"within", 5}}),
       event + "|Value error, `within` for Proactive triggers must be greater than or equal to 10 seconds|value_error"},
      {body_with({{"posture", "Reactive"}, {"within", -1}}),
       event + ".within|Input should be greater than or equal to 0 seconds|greater_than_equal"},
      {body_with({{"posture", "Reactive"}, {"within", nullptr}}),
       event + "|Value error, `within` should be a valid timedelta|value_error"},
      {body_with({{"posture", "Reactive"}, {"threshold", 1.5}}),
       event + ".threshold|Input should be a valid integer, got a number with a fractional part|int_from_float"},
      {body_with({{"type", "compound"}, {"require", 3}, {"within", 5}, {"triggers", {reactive()}}}),
       "trigger.function-after[validate_require(), function-after[validate_require(), CompoundTrigger]]|Value error, "
       "require must be less than or equal to the number of triggers|value_error"},
      {body_with({{"type", "compound"}, {"require", 0}, {"within", 5}, {"triggers", {reactive()}}}),
       "trigger.function-after[validate_require(), function-after[validate_require(), CompoundTrigger]]|Value error, "
       "require must be at least 1|value_error"},
      {body_with({{"type", "sequence"}, {"triggers", json::array()}}),
       "trigger.SequenceTrigger.within|Field required|missing"},
      {body_with(reactive(), {{{"type", "run-deployment"}}}),
       run + "|Value error, deployment_id is required|value_error"},
      {body_with(reactive(), {{{"type", "run-deployment"}, {"source", "inferred"}, {"deployment_id", some_id}}}),
       run + "|Value error, deployment_id is not allowed|value_error"},
      {body_with(reactive(), {{{"type", "pause-work-pool"}}}),
       "actions.0.function-after[selected_work_pool_requires_id(), PauseWorkPool]|Value error, work_pool_id is "
       "required|value_error"},
      {body_with(reactive(), {{{"type", "nope"}}}),
       "actions.0.DoNothing.type|Input should be 'do-nothing'|literal_error"},
      {body_with(reactive(), {{{"type", "change-flow-run-state"}, {"state", "DONE"}}}),
       "actions.0.ChangeFlowRunState.state|Input should be 'SCHEDULED', 'PENDING', 'RUNNING', 'COMPLETED', 'FAILED', "
       "'CANCELLED', 'CRASHED', 'PAUSED' or 'CANCELLING'|enum"},
      {body_with(reactive(), {{{"type", "send-notification"}, {"block_document_id", some_id}}}),
       "actions.0.SendNotification.body|Field required|missing"},
      {body_with(reactive(), {{{"type", "send-notification"}, {"block_document_id", "x"}, {"body", "b"}}}),
       "actions.0.SendNotification.block_document_id|Input should be a valid UUID, unable to parse string as a "
       "UUID|uuid_parsing"},
      {[] {
         auto b = body_with(reactive());
         b["color"] = "red";
         return b;
       }(),
       "color|Extra inputs are not permitted|extra_forbidden"},
  };
  for (const auto& [body, expected] : cases) EXPECT_EQ(refusal(body), expected) << body.dump();
}

TEST(AutomationBody, OwnerResourceIsForCreateOnly) {
  auto b = body_with(reactive());
  b["owner_resource"] = "prefect.deployment." + some_id;
  automation_problem p;
  auto created = read(b, p);
  ASSERT_TRUE(created) << p.describe();
  EXPECT_EQ(created->owner_resource, "prefect.deployment." + some_id);
  EXPECT_EQ(refusal(b, automation_body_kind::update), "owner_resource|Extra inputs are not permitted|extra_forbidden");
}

TEST(AutomationBody, TemplatesThatDoNotParseAreRefused) {
  auto r = refusal(body_with(
      reactive(), {{{"type", "send-notification"}, {"block_document_id", some_id}, {"body", "{{ flow_run.name "}}}));
  EXPECT_EQ(r.rfind("actions.0.SendNotification.body|Value error, 'body' is not a valid template: ", 0), 0u) << r;
}

TEST(RunDeploymentLoops, InferredDeploymentsOnFlowRunStatesAreRefused) {
  json t = {{"posture", "Reactive"}, {"expect", {"prefect.flow-run.Running"}}};
  auto r = refusal(body_with(t, {{{"type", "run-deployment"}, {"source", "inferred"}}}));
  EXPECT_EQ(r.rfind("|Value error, Running an inferred deployment from a flow run state change event", 0), 0u) << r;
}

TEST(RunDeploymentLoops, SelectedDeploymentsNeedANarrowingMatch) {
  json t = {{"posture", "Reactive"}, {"expect", {"prefect.flow-run.*"}}};
  json run = {{{"type", "run-deployment"}, {"deployment_id", some_id}}};
  EXPECT_NE(refusal(body_with(t, run)), "accepted");
  t["match_related"] = {{"prefect.resource.id", "prefect.flow.abc"}};
  EXPECT_EQ(refusal(body_with(t, run)), "accepted");
  t.erase("match_related");
  auto disabled = body_with(t, run);
  disabled["enabled"] = false;
  EXPECT_EQ(refusal(disabled), "accepted");
  EXPECT_EQ(refusal(body_with({{"posture", "Reactive"}, {"expect", {"prefect.flow-run.Failed"}}}, run)), "accepted");
}

TEST(RelatedDeployments, SelectedRunDeploymentActionsOnceEach) {
  automation a;
  a.actions = {{{"type", "run-deployment"}, {"source", "selected"}, {"deployment_id", some_id}},
               {{"type", "run-deployment"}, {"source", "selected"}, {"deployment_id", some_id}},
               {{"type", "pause-deployment"}, {"source", "selected"}, {"deployment_id", some_id}},
               {{"type", "run-deployment"}, {"source", "inferred"}, {"deployment_id", nullptr}}};
  EXPECT_EQ(automation_related_deployments(a), std::vector<std::string>{"prefect.deployment." + some_id});
}

TEST(EnabledBody, OnlyEnabledDefaultingToTrue) {
  automation_problem p;
  EXPECT_EQ(read_automation_enabled_body(json::object(), p), true);
  EXPECT_EQ(read_automation_enabled_body({{"enabled", false}}, p), false);
  EXPECT_FALSE(read_automation_enabled_body({{"name", "x"}}, p));
  EXPECT_EQ(p.type, "extra_forbidden");
}

TEST(AutomationLifecycleEvent, CarriesTheAutomationAsPayload) {
  automation a;
  a.id = automation_id{*uuid::parse(some_id)};
  a.name = "on-failure";
  auto e = automation_lifecycle_event(lifecycle_action::created, a, timestamp{});
  EXPECT_EQ(e.name, "prefect.automation.created");
  EXPECT_EQ(e.resource["prefect.resource.id"], "prefect.automation." + some_id);
  EXPECT_EQ(e.payload["name"], "on-failure");
  EXPECT_EQ(e.payload["actions"], json::array());
}

}  // namespace

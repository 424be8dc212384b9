// What automation actions act on and with: selected and inferred targets with Prefect's reasons, the states
// the flow-run actions propose, run-deployment's key, first state and rendered parameters.
#include <gtest/gtest.h>

#include "domain/automation_targets.hpp"

using namespace osprey;
using namespace osprey::automation_targets;
using nlohmann::json;

namespace {

const std::string run_id = "6f1b2c3d-0000-4000-8000-000000000001";
const std::string deployment = "6f1b2c3d-0000-4000-8000-000000000002";
const std::string pool = "6f1b2c3d-0000-4000-8000-000000000003";

json payload(json action, json event = nullptr, json labels = json::object()) {
  return {{"automation", {{"id", "6f1b2c3d-0000-4000-8000-0000000000aa"}, {"name", "on fire"}}},
          {"action", std::move(action)},
          {"action_index", 2},
          {"triggering_event", std::move(event)},
          {"triggering_labels", std::move(labels)}};
}

json event_with(json resource, json related = json::array()) {
  return {{"id", "6f1b2c3d-0000-4000-8000-0000000000ee"},
          {"event", "thing.happened"},
          {"resource", resource},
          {"related", related},
          {"payload", {{"n", 41}, {"who", "ada"}}}};
}

TEST(AutomationTargets, ASelectedTargetIsTheActionsOwnId) {
  auto id = target_id(payload({{"type", "pause-deployment"}, {"source", "selected"}, {"deployment_id", deployment}}),
                      target_kind::deployment);
  ASSERT_TRUE(id);
  EXPECT_EQ(id->to_string(), deployment);
}

TEST(AutomationTargets, AnInferredTargetIsTheEventsFirstResourceOfItsKindResourceBeforeRelated) {
  const auto event = event_with({{"prefect.resource.id", "prefect.flow-run." + run_id}},
                                json::array({{{"prefect.resource.id", "prefect.work-pool." + pool}},
                                             {{"prefect.resource.id", "prefect.deployment." + deployment}}}));
  const auto action = json{{"type", "pause-work-pool"}, {"source", "inferred"}};
  auto found = target_id(payload(action, event), target_kind::work_pool);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->to_string(), pool);
  auto none =
      target_id(payload({{"type", "pause-work-queue"}, {"source", "inferred"}}, event), target_kind::work_queue);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), errc::failed_precondition);
  EXPECT_EQ(none.error().message(), "No work queue could be inferred");
  auto no_event = target_id(payload(action), target_kind::work_pool);
  EXPECT_EQ(no_event.error().message(), "No event to infer the work pool");
}

TEST(AutomationTargets, AFirstResourceOfTheKindWithoutAUuidInfersNothing) {
  const auto event = event_with({{"prefect.resource.id", "prefect.deployment.not-a-uuid"}},
                                json::array({{{"prefect.resource.id", "prefect.deployment." + deployment}}}));
  EXPECT_FALSE(target_id(payload({{"source", "inferred"}}, event), target_kind::deployment));
}

TEST(AutomationTargets, TheFlowRunComesFromTheTriggeringLabelsThenTheEvent) {
  const auto other = "6f1b2c3d-0000-4000-8000-000000000009";
  const auto event = event_with({{"prefect.resource.id", "thing.1"}},
                                json::array({{{"prefect.resource.id", std::string("prefect.flow-run.") + other}}}));
  EXPECT_EQ(flow_run_target(payload({}, event, {{"prefect.resource.id", "prefect.flow-run." + run_id}}))->to_string(),
            run_id);
  EXPECT_EQ(flow_run_target(payload({}, event))->to_string(), other);
  auto none = flow_run_target(payload({}, event_with({{"prefect.resource.id", "thing.1"}})));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(), "No flow run could be inferred");
}

TEST(AutomationTargets, FlowRunActionsProposePrefectsStates) {
  const auto now = *parse_iso8601("2026-12-07T10:00:00Z");
  auto cancel = flow_run_proposal(payload({{"type", "cancel-flow-run"}}), now);
  EXPECT_EQ(cancel.proposed.type, state_type::cancelling);
  EXPECT_EQ(cancel.proposed.message, "Cancelled by Automation 6f1b2c3d-0000-4000-8000-0000000000aa");
  EXPECT_FALSE(cancel.force);

  auto suspend = flow_run_proposal(payload({{"type", "suspend-flow-run"}}), now);
  EXPECT_EQ(suspend.proposed.type, state_type::paused);
  EXPECT_EQ(suspend.proposed.name, "Suspended");
  EXPECT_EQ(suspend.proposed.details["pause_timeout"], "2026-12-07T11:00:00.000000Z");
  EXPECT_EQ(suspend.proposed.details["pause_reschedule"], true);

  auto change = flow_run_proposal(payload({{"type", "change-flow-run-state"},
                                           {"state", "FAILED"},
                                           {"name", nullptr},
                                           {"message", nullptr},
                                           {"force", true}}),
                                  now);
  EXPECT_EQ(change.proposed.type, state_type::failed);
  EXPECT_EQ(change.proposed.name, "Failed");
  EXPECT_EQ(change.proposed.message, "State changed by Automation 6f1b2c3d-0000-4000-8000-0000000000aa");
  EXPECT_TRUE(change.force);
  auto named = flow_run_proposal(
      payload({{"type", "change-flow-run-state"}, {"state", "CANCELLED"}, {"name", "Stopped"}, {"message", "why"}}),
      now);
  EXPECT_EQ(named.proposed.name, "Stopped");
  EXPECT_EQ(named.proposed.message, "why");
}

TEST(AutomationTargets, RunDeploymentHasAKeyPerJobAndStartsAfterItsDelay) {
  const auto job = *uuid::parse("6f1b2c3d-0000-4000-8000-0000000000bb");
  EXPECT_EQ(
      idempotency_key(payload({}), job),
      "automation 6f1b2c3d-0000-4000-8000-0000000000aa, action 2, invocation 6f1b2c3d-0000-4000-8000-0000000000bb");
  const auto now = *parse_iso8601("2026-12-07T10:00:00Z");
  auto later = scheduled_run_state({{"schedule_after", 90.5}}, now);
  EXPECT_EQ(later.type, state_type::scheduled);
  EXPECT_EQ(parse_iso8601(later.details["scheduled_time"].get<std::string>()), now + std::chrono::milliseconds(90500));
  EXPECT_EQ(scheduled_run_state(json::object(), now).details["scheduled_time"], "2026-12-07T10:00:00.000000Z");
}

TEST(AutomationTargets, RunParametersRenderV1TemplatesKeepingALoneValuesType) {
  const auto context = template_context(payload({}, event_with({{"prefect.resource.id", "thing.1"}})));
  const variable_lookup variables = [](const std::string& name) -> std::optional<json> {
    if (name == "region") return json("eu-west");
    return std::nullopt;
  };
  const json parameters = {
      {"n", "{{ event.payload.n }}"},
      {"greeting", "hello {{ event.payload.who }}"},
      {"plain", "no template"},
      {"nested", {{"list", {"{{ event.payload.n }}", 3}}}},
      {"region", {{"__prefect_kind", "workspace_variable"}, {"variable_name", "region"}}},
      {"kept", {{"__prefect_kind", "json"}, {"value", "[1, 2]"}}},
  };
  auto rendered = render_run_parameters(parameters, context, variables);
  ASSERT_TRUE(rendered) << rendered.error().message();
  EXPECT_EQ(*rendered, json({{"n", 41},
                             {"greeting", "hello ada"},
                             {"plain", "no template"},
                             {"nested", {{"list", {41, 3}}}},
                             {"region", "eu-west"},
                             {"kept", {1, 2}}}));
  EXPECT_EQ(*render_run_parameters(nullptr, context, variables), json::object());
}

TEST(AutomationTargets, RunParametersThatCannotRenderFailWithTheReason) {
  const auto context = template_context(payload({}));
  auto missing = render_run_parameters({{"r", {{"__prefect_kind", "workspace_variable"}, {"variable_name", "nope"}}}},
                                       context, {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), errc::failed_precondition);
  EXPECT_NE(missing.error().message().find("Variable 'nope' not found in workspace."), std::string::npos);
  auto unsupported = render_run_parameters({{"x", "{% if a %}b{% endif %}"}}, context, {});
  ASSERT_FALSE(unsupported);
  EXPECT_NE(unsupported.error().message().find("Invalid jinja"), std::string::npos);
}

}  // namespace

// Task-run state events as the recorder reads them: from JSON (POST /api/events, tests) and from a parsed event
// (WS /api/events/in), which must agree.
#include <gtest/gtest.h>

#include "domain/event.hpp"
#include "domain/task_run_event.hpp"

using namespace osprey;
using nlohmann::json;

namespace {

const char* task_run_resource = "prefect.task-run.0194f0c6-3f49-7d3a-9a57-0b2d4c6f1e21";
const char* flow_run_resource = "prefect.flow-run.0194f0c6-3f49-7d3a-9a57-0b2d4c6f1e22";

json engine_event() {
  return {{"id", "0194f0c6-3f49-7d3a-9a57-0b2d4c6f1e23"},
          {"occurred", "2026-03-01T12:00:00.250000+00:00"},
          {"event", "prefect.task-run.Running"},
          {"resource",
           {{"prefect.resource.id", task_run_resource},
            {"prefect.resource.name", "load-1"},
            {"prefect.orchestration", "client"}}},
          {"related",
           {{{"prefect.resource.id", flow_run_resource}, {"prefect.resource.role", "flow-run"}},
            {{"prefect.resource.id", "prefect.tag.nightly"}, {"prefect.resource.role", "tag"}}}},
          {"payload",
           {{"validated_state",
             {{"type", "RUNNING"}, {"name", "Running"}, {"message", "go"}, {"state_details", {{"x", 1}}}}},
            {"task_run",
             {{"name", "load-1"},
              {"task_key", "load"},
              {"dynamic_key", "1"},
              {"start_time", "2026-03-01T12:00:00+00:00"},
              {"tags", {"a"}},
              {"run_count", 1}}}}}};
}

/// Both ways of reading `j`: from the JSON, and from the event parsed from it.
std::pair<result<task_run_event>, result<task_run_event>> both(const json& j) {
  auto e = parse_event(j);
  EXPECT_TRUE(e) << (e ? "" : e.error().message());
  return {task_run_event_from_json(j), task_run_event_from_event(*e)};
}

void expect_same(const result<task_run_event>& a, const result<task_run_event>& b) {
  ASSERT_EQ(static_cast<bool>(a), static_cast<bool>(b));
  if (!a) {
    EXPECT_EQ(a.error().message(), b.error().message());
    return;
  }
  EXPECT_EQ(a->task_run_id, b->task_run_id);
  EXPECT_EQ(a->flow_run_id, b->flow_run_id);
  EXPECT_EQ(a->state.id, b->state.id);
  EXPECT_EQ(a->state.at, b->state.at);
  EXPECT_EQ(a->state.type, b->state.type);
  EXPECT_EQ(a->state.name, b->state.name);
  EXPECT_EQ(a->state.message, b->state.message);
  EXPECT_EQ(a->state.details, b->state.details);
  EXPECT_EQ(a->state.data, b->state.data);
  EXPECT_EQ(a->columns, b->columns);
}

}  // namespace

TEST(TaskRunEvent, AnEngineEventReadsTheSameBothWays) {
  const auto [from_json, from_event] = both(engine_event());
  ASSERT_TRUE(from_json) << from_json.error().message();
  expect_same(from_json, from_event);
  EXPECT_EQ(from_event->flow_run_id->to_string(), std::string(flow_run_resource).substr(17));
  EXPECT_EQ(from_event->state.details["x"], 1);
  EXPECT_EQ(from_event->state.details["task_run_id"], std::string(task_run_resource).substr(17));
  EXPECT_EQ(from_event->columns["start_time"], "2026-03-01T12:00:00.000000Z");
}

TEST(TaskRunEvent, MalformedEventsAreRefusedWithTheSameMessage) {
  auto no_state = engine_event();
  no_state["payload"].erase("validated_state");
  auto bad_type = engine_event();
  bad_type["payload"]["validated_state"]["type"] = "SLEEPING";
  auto no_key = engine_event();
  no_key["payload"]["task_run"].erase("task_key");
  auto bad_column = engine_event();
  bad_column["payload"]["task_run"]["run_count"] = "one";
  auto not_a_task_run = engine_event();
  not_a_task_run["resource"]["prefect.resource.id"] = "prefect.task-run.nope";
  for (const auto& j : {no_state, bad_type, no_key, bad_column, not_a_task_run}) {
    const auto [from_json, from_event] = both(j);
    EXPECT_FALSE(from_event);
    expect_same(from_json, from_event);
  }
}

TEST(TaskRunEvent, OnlyClientTaskRunEventsAreRecordable) {
  auto server = engine_event();
  server["resource"]["prefect.orchestration"] = "server";
  auto flow = engine_event();
  flow["event"] = "prefect.flow-run.Running";
  for (const auto& j : {engine_event(), server, flow})
    EXPECT_EQ(is_recordable_task_run_event(j), is_recordable_task_run_event(*parse_event(j))) << j.dump();
  EXPECT_TRUE(is_recordable_task_run_event(*parse_event(engine_event())));
  EXPECT_FALSE(is_recordable_task_run_event(*parse_event(server)));
  EXPECT_FALSE(is_recordable_task_run_event(*parse_event(flow)));
}

TEST(TaskRunEvent, WithoutAFlowRunTheStateSaysSo) {
  auto j = engine_event();
  j["related"] = json::array();
  const auto [from_json, from_event] = both(j);
  expect_same(from_json, from_event);
  ASSERT_TRUE(from_event);
  EXPECT_FALSE(from_event->flow_run_id);
  EXPECT_TRUE(from_event->state.details["flow_run_id"].is_null());
}

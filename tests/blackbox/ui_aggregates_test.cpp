// The aggregates the UI's dashboard, runs and flows pages read, on the built daemon over real HTTP, on SQLite
// and PostgreSQL: run histories, the scatter plot, per-id counts, each flow's next run, the dashboard's task-run
// buckets and state counts, and events counted by name, resource and time. Bad bodies are 422, never 5xx.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "domain/time.hpp"
#include "tests/support/daemon_test.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;

/// One instant per test run, so that windows built from it have exact lengths.
const timestamp test_now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());

std::string iso(std::chrono::seconds from_now) { return format_iso8601(test_now + from_now); }

json with(json body, const std::string& key, json value) {
  body[key] = std::move(value);
  return body;
}

class UiAggregates : public daemon_test {
 protected:
  json post(const std::string& path, const json& body, long expected = 200) {
    auto reply = http_request("POST", daemon_->base_url() + "/api" + path, body.dump());
    EXPECT_EQ(reply.status, expected) << path << " " << body << " → " << reply.body;
    return json::parse(reply.body, nullptr, false);
  }
  std::string flow(const std::string& name) { return post("/flows/", {{"name", name}}, 201)["id"]; }
  std::string run(const std::string& flow_id, const json& state) {
    return post("/flow_runs/", {{"flow_id", flow_id}, {"state", state}}, 201)["id"];
  }
  std::string task(const std::string& run_id, const std::string& key, const json& state) {
    return post("/task_runs/", {{"flow_run_id", run_id}, {"task_key", key}, {"dynamic_key", "0"}, {"state", state}},
                201)["id"];
  }
};

TEST_P(UiAggregates, HistoriesCountRunsPerIntervalAndState) {
  const auto etl = flow("etl");
  run(etl, {{"type", "COMPLETED"}});
  run(etl, {{"type", "COMPLETED"}});
  run(etl, {{"type", "FAILED"}, {"name", "Failed"}});
  const json window = {{"history_start", iso(std::chrono::hours(-1))},
                       {"history_end", iso(std::chrono::hours(1))},
                       {"history_interval_seconds", 600}};
  auto history = post("/flow_runs/history", window);
  ASSERT_EQ(history.size(), 12u);
  std::map<std::string, std::int64_t> by_state;
  for (const auto& interval : history)
    for (const auto& s : interval["states"]) by_state[s["state_name"]] += s["count_runs"].get<std::int64_t>();
  EXPECT_EQ(by_state, (std::map<std::string, std::int64_t>{{"Completed", 2}, {"Failed", 1}}));
  EXPECT_TRUE(history[0]["states"].empty());
  EXPECT_TRUE(history[0].contains("interval_start") && history[0].contains("interval_end"));

  auto only_failed =
      post("/flow_runs/history", with(window, "flow_runs", {{"state", {{"type", {{"any_", {"FAILED"}}}}}}}));
  std::int64_t failed = 0;
  for (const auto& interval : only_failed)
    for (const auto& s : interval["states"]) failed += s["count_runs"].get<std::int64_t>();
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(post("/task_runs/history", window).size(), 12u);
  EXPECT_EQ(post("/flow_runs/history", with(window, "history_interval_seconds", 0.5), 422)["detail"],
            "History interval must not be less than 1 second.");
  EXPECT_EQ(
      post("/flow_runs/history", {{"history_start", iso(std::chrono::hours(-1))}}, 422)["exception_detail"][0]["loc"],
      json({"body", "history_end"}));
}

TEST_P(UiAggregates, TheScatterPlotHasOnePointPerRun) {
  const auto etl = flow("etl");
  const auto id = run(etl, {{"type", "COMPLETED"}});
  auto points = post("/ui/flow_runs/history", {{"sort", "EXPECTED_START_TIME_DESC"}, {"limit", 1000}});
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0]["id"], id);
  EXPECT_EQ(points[0]["state_type"], "COMPLETED");
  EXPECT_TRUE(points[0]["timestamp"].is_string());
  EXPECT_TRUE(points[0]["duration"].is_number());
  EXPECT_TRUE(points[0]["lateness"].is_number());
  post("/ui/flow_runs/history", {{"limit", 1001}}, 422);
}

TEST_P(UiAggregates, PerIdCountsAndNextRuns) {
  const auto etl = flow("etl");
  const auto idle = flow("idle");
  const auto parent = run(etl, {{"type", "RUNNING"}});
  task(parent, "a", {{"type", "COMPLETED"}});
  task(parent, "b", {{"type", "FAILED"}});
  post("/deployments/", {{"flow_id", etl}, {"name", "nightly"}}, 201);
  const auto later =
      run(etl, {{"type", "SCHEDULED"}, {"state_details", {{"scheduled_time", iso(std::chrono::hours(2))}}}});
  run(etl, {{"type", "SCHEDULED"}, {"state_details", {{"scheduled_time", iso(std::chrono::hours(5))}}}});

  EXPECT_EQ(post("/ui/flow_runs/count-task-runs", {{"flow_run_ids", {parent, later}}}),
            json({{parent, 2}, {later, 0}}));
  EXPECT_EQ(post("/ui/flows/count-deployments", {{"flow_ids", {etl, idle}}}), json({{etl, 1}, {idle, 0}}));
  auto next = post("/ui/flows/next-runs", {{"flow_ids", {etl, idle}}});
  EXPECT_EQ(next[idle], nullptr);
  EXPECT_EQ(next[etl]["id"], later);
  EXPECT_EQ(next[etl]["state_type"], "SCHEDULED");
  EXPECT_EQ(next[etl]["flow_id"], etl);
  EXPECT_TRUE(next[etl]["next_scheduled_start_time"].is_string());
  post("/ui/flows/next-runs", json::object(), 422);
  post("/ui/flows/count-deployments", {{"flow_ids", {"not-a-uuid"}}}, 422);
  post("/ui/flows/count-deployments", {{"flow_ids", json(std::vector<std::string>(201, etl))}}, 422);
}

TEST_P(UiAggregates, TheDashboardCountsFinishedTaskRunsAndStates) {
  const auto parent = run(flow("etl"), {{"type", "RUNNING"}});
  task(parent, "a", {{"type", "COMPLETED"}});
  task(parent, "b", {{"type", "FAILED"}});
  task(parent, "c", {{"type", "RUNNING"}});
  auto counts = post("/ui/task_runs/count", json::object());
  EXPECT_EQ(counts, json({{"COMPLETED", 1},
                          {"PENDING", 0},
                          {"RUNNING", 1},
                          {"FAILED", 1},
                          {"CANCELLED", 0},
                          {"CRASHED", 0},
                          {"PAUSED", 0},
                          {"CANCELLING", 0},
                          {"SCHEDULED", 0}}));
  const auto raw = http_request("POST", daemon_->base_url() + "/api/ui/task_runs/count", "{}").body;
  EXPECT_EQ(raw.find("COMPLETED"), 2u);  // Prefect's field order

  auto buckets = post("/ui/task_runs/dashboard/counts",
                      {{"task_runs", {{"start_time", {{"after_", iso(std::chrono::hours(-1))}}}}}});
  ASSERT_EQ(buckets.size(), 20u);
  std::int64_t completed = 0, failed = 0;
  for (const auto& b : buckets) {
    completed += b["completed"].get<std::int64_t>();
    failed += b["failed"].get<std::int64_t>();
  }
  // Task runs created straight into a terminal state have no start time, so none fall in a bucket (as in Prefect).
  EXPECT_LE(completed, 1);
  EXPECT_LE(failed, 1);
  EXPECT_EQ(post("/ui/task_runs/dashboard/counts", {{"task_runs", json::object()}}, 422)["detail"],
            "task_runs.start_time.after_ is required");
  post("/ui/task_runs/dashboard/counts", json::object(), 422);
}

TEST_P(UiAggregates, EventsAreCountedByNameResourceAndTime) {
  const auto at = iso(std::chrono::seconds(-30));
  json events = json::array();
  for (int i = 0; i < 3; ++i)
    events.push_back({{"id", "0b7c3a1e-0000-4000-8000-00000000000" + std::to_string(i)},
                      {"occurred", at},
                      {"event", i < 2 ? "prefect.flow-run.Completed" : "prefect.flow-run.Failed"},
                      {"resource",
                       {{"prefect.resource.id", "prefect.flow-run.r" + std::to_string(i % 2)},
                        {"prefect.resource.name", "run-" + std::to_string(i % 2)}}}});
  auto stored = http_request("POST", daemon_->base_url() + "/api/events", events.dump());
  ASSERT_LT(stored.status, 300) << stored.body;
  const json filter = {{"occurred", {{"since", iso(std::chrono::hours(-1))}, {"until", iso(std::chrono::hours(1))}}}};

  auto by_event = post("/events/count-by/event", {{"filter", filter}});
  ASSERT_EQ(by_event.size(), 2u);
  EXPECT_EQ(by_event[0]["value"], "prefect.flow-run.Completed");
  EXPECT_EQ(by_event[0]["count"], 2);
  EXPECT_EQ(by_event[1]["label"], "prefect.flow-run.Failed");

  auto by_resource = post("/events/count-by/resource", {{"filter", filter}});
  ASSERT_EQ(by_resource.size(), 2u);
  EXPECT_EQ(by_resource[0]["label"], "run-0");
  EXPECT_EQ(by_resource[0]["value"], "prefect.flow-run.r0");
  EXPECT_EQ(by_resource[0]["count"], 2);

  auto by_time = post("/events/count-by/time", {{"filter", filter}, {"time_unit", "minute"}, {"time_interval", 10}});
  ASSERT_GE(by_time.size(), 6u);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < by_time.size(); ++i) {
    EXPECT_EQ(by_time[i]["value"], std::to_string(i));
    total += by_time[i]["count"].get<std::int64_t>();
  }
  EXPECT_EQ(total, 3);
  EXPECT_TRUE(by_time[0]["label"].get<std::string>().ends_with("+00:00"));
  post("/events/count-by/time", {{"filter", filter}, {"time_unit", "second"}, {"time_interval", 1}},
       422);  // 7200 spans
  post("/events/count-by/nothing", {{"filter", filter}}, 422);
  post("/events/count-by/event", json::object(), 422);
}

INSTANTIATE_TEST_SUITE_P(D, UiAggregates, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

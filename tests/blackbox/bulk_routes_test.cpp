// Deleting flows (one, or by filter) and the bulk routes over flow runs and deployments, against the built
// daemon on SQLite and PostgreSQL: what goes with a deleted flow, that a run deleted while its actor is warm
// stays deleted, per-run results of bulk_set_state and create_flow_run/bulk, and Prefect's refusals.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <string>

#include "tests/support/daemon_test.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;

class BulkRoutes : public daemon_test {
 protected:
  std::string create(const std::string& path, const json& body) {
    auto r = api("POST", path, body);
    EXPECT_TRUE(r.status == 200 || r.status == 201) << path << " " << r.body;
    return json::parse(r.body)["id"].get<std::string>();
  }
  std::string flow(const std::string& name) { return create("/flows/", {{"name", name}}); }
  std::string run(const std::string& flow_id, const std::string& name = "") {
    json body = {{"flow_id", flow_id}};
    if (!name.empty()) body["name"] = name;
    return create("/flow_runs/", body);
  }
  long set_state(const std::string& run_id, const std::string& type, bool force = false) {
    return api("POST", "/flow_runs/" + run_id + "/set_state", {{"state", {{"type", type}}}, {"force", force}}).status;
  }
  std::string state_of(const std::string& run_id) {
    return json::parse(api("GET", "/flow_runs/" + run_id).body)["state"]["type"].get<std::string>();
  }
  static std::set<std::string> ids(const json& list) {
    std::set<std::string> out;
    for (const auto& id : list) out.insert(id.get<std::string>());
    return out;
  }
};

TEST_P(BulkRoutes, DeletingAFlowTakesItsRunsLogsAndDeploymentsAndAWarmRunStaysGone) {
  const auto f = flow("doomed");
  const auto kept = flow("kept");
  const auto warm = run(f), cold = run(f), other = run(kept);
  ASSERT_EQ(set_state(warm, "RUNNING"), 201);  // its actor now holds a copy of the run
  ASSERT_EQ(api("POST", "/logs/",
                json::array({{{"name", "x"},
                              {"level", 20},
                              {"message", "hello"},
                              {"timestamp", "2026-12-06T00:00:00Z"},
                              {"flow_run_id", warm}}}))
                .status,
            201);
  const auto dep = create("/deployments/", {{"name", "nightly"}, {"flow_id", f}});

  EXPECT_EQ(api("DELETE", "/flows/" + f).status, 204);
  EXPECT_EQ(api("GET", "/flows/" + f).status, 404);
  EXPECT_EQ(api("GET", "/flow_runs/" + warm).status, 404);
  EXPECT_EQ(api("GET", "/flow_runs/" + cold).status, 404);
  EXPECT_EQ(api("GET", "/deployments/" + dep).status, 404);
  EXPECT_EQ(set_state(warm, "COMPLETED"), 404) << "the warm actor must not write for a deleted run";
  auto logs = json::parse(api("POST", "/logs/filter", {{"logs", {{"flow_run_id", {{"any_", {warm}}}}}}}).body);
  EXPECT_TRUE(logs.empty()) << logs.dump();
  EXPECT_EQ(api("GET", "/flow_runs/" + other).status, 200) << "another flow's run is untouched";

  auto again = api("DELETE", "/flows/" + f);
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(json::parse(again.body)["detail"], "Flow not found");
  EXPECT_EQ(api("DELETE", "/flows/not-a-uuid").status, 422);
}

TEST_P(BulkRoutes, BulkDeleteOfFlowsTakesThoseTheFilterNamesUpToTheLimit) {
  const auto a = flow("bulk-a"), b = flow("bulk-b"), c = flow("bulk-c");
  run(a);
  auto r = api("POST", "/flows/bulk_delete", {{"flows", {{"name", {{"any_", {"bulk-a", "bulk-b"}}}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ids(json::parse(r.body)["deleted"]), (std::set<std::string>{a, b}));
  EXPECT_EQ(api("GET", "/flows/" + c).status, 200);

  auto limited = api("POST", "/flows/bulk_delete", {{"limit", 1}});
  ASSERT_EQ(limited.status, 200) << limited.body;
  EXPECT_EQ(json::parse(limited.body)["deleted"].size(), 1u);
  for (const auto& bad : {json{{"limit", 0}}, json{{"limit", 51}}, json{{"limit", "x"}},
                          json{{"flows", {{"name", {{"any_", "not-a-list"}}}}}}})
    EXPECT_EQ(api("POST", "/flows/bulk_delete", bad).status, 422) << bad.dump();
  auto none = api("POST", "/flows/bulk_delete", {{"flows", {{"name", {{"any_", {"nothing-like-this"}}}}}}});
  EXPECT_EQ(json::parse(none.body)["deleted"], json::array());
}

TEST_P(BulkRoutes, BulkDeleteOfFlowRunsGoesThroughTheirActors) {
  const auto f = flow("runs");
  const auto r1 = run(f), r2 = run(f), r3 = run(f);
  ASSERT_EQ(set_state(r1, "RUNNING"), 201);
  auto r = api("POST", "/flow_runs/bulk_delete", {{"flow_runs", {{"id", {{"any_", {r1, r2}}}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ids(json::parse(r.body)["deleted"]), (std::set<std::string>{r1, r2}));
  EXPECT_EQ(api("GET", "/flow_runs/" + r1).status, 404);
  EXPECT_EQ(set_state(r1, "COMPLETED"), 404);
  EXPECT_EQ(api("GET", "/flow_runs/" + r3).status, 200);
  EXPECT_EQ(api("POST", "/flow_runs/bulk_delete", {{"limit", 100}}).status, 422);
}

TEST_P(BulkRoutes, BulkSetStateAnswersEachRunAsItsOwnTransition) {
  const auto f = flow("states");
  const auto pending = run(f), running = run(f), done = run(f);
  ASSERT_EQ(set_state(running, "RUNNING"), 201);
  ASSERT_EQ(set_state(done, "RUNNING"), 201);
  ASSERT_EQ(set_state(done, "COMPLETED"), 201);

  auto r = api("POST", "/flow_runs/bulk_set_state",
               {{"flow_runs", {{"id", {{"any_", {pending, running, done}}}}}}, {"state", {{"type", "CANCELLING"}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<std::string, json> by_run;
  const auto answered = json::parse(r.body);
  for (const auto& result : answered["results"]) by_run[result["flow_run_id"].get<std::string>()] = result;
  ASSERT_EQ(by_run.size(), 3u);
  EXPECT_EQ(by_run[pending]["status"], "ACCEPT");
  EXPECT_EQ(by_run[running]["status"], "ACCEPT");
  EXPECT_EQ(by_run[done]["status"], "ABORT") << "a finished run cannot be cancelled: " << by_run[done].dump();
  EXPECT_EQ(state_of(pending), "CANCELLING");
  EXPECT_EQ(state_of(running), "CANCELLING");
  EXPECT_EQ(state_of(done), "COMPLETED");

  EXPECT_EQ(api("POST", "/flow_runs/bulk_set_state", {{"flow_runs", {{"id", {{"any_", {done}}}}}}}).status, 422);
  EXPECT_EQ(api("POST", "/flow_runs/bulk_set_state", {{"state", {{"type", "NOPE"}}}}).status, 422);
  EXPECT_EQ(state_of(done), "COMPLETED");
}

TEST_P(BulkRoutes, DeploymentsBulkDeleteAndBulkRunCreation) {
  const auto f = flow("deployed");
  const auto keep = create("/deployments/", {{"name", "keep"}, {"flow_id", f}, {"parameters", {{"x", 1}}}});
  const auto d1 = create("/deployments/", {{"name", "drop-1"}, {"flow_id", f}});
  const auto d2 = create("/deployments/", {{"name", "drop-2"}, {"flow_id", f}});
  auto r = api("POST", "/deployments/bulk_delete", {{"deployments", {{"name", {{"like_", "drop-"}}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ids(json::parse(r.body)["deleted"]), (std::set<std::string>{d1, d2}));
  EXPECT_EQ(api("GET", "/deployments/" + keep).status, 200);

  auto made = api("POST", "/deployments/" + keep + "/create_flow_run/bulk",
                  json::array({{{"parameters", {{"y", 2}}}}, {{"work_queue_name", "no-such-queue"}}, json::object()}));
  ASSERT_EQ(made.status, 200) << made.body;
  auto results = json::parse(made.body)["results"];
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0]["status"], "CREATED");
  EXPECT_EQ(results[1]["status"], "FAILED");
  EXPECT_FALSE(results[1]["error"].get<std::string>().empty());
  EXPECT_EQ(results[2]["status"], "CREATED");
  auto first = json::parse(api("GET", "/flow_runs/" + results[0]["flow_run_id"].get<std::string>()).body);
  EXPECT_EQ(first["parameters"], (json{{"x", 1}, {"y", 2}}));
  EXPECT_EQ(first["deployment_id"], keep);
  EXPECT_EQ(first["state"]["type"], "SCHEDULED");

  EXPECT_EQ(api("POST", "/deployments/" + keep + "/create_flow_run/bulk", json::array()).body, R"({"results":[]})");
  EXPECT_EQ(api("POST", "/deployments/" + keep + "/create_flow_run/bulk", json::array({{{"bogus", 1}}})).status, 422);
  json too_many = json::array();
  for (int i = 0; i < 101; ++i) too_many.push_back(json::object());
  EXPECT_EQ(api("POST", "/deployments/" + keep + "/create_flow_run/bulk", too_many).status, 400);
  EXPECT_EQ(api("POST", "/deployments/00000000-0000-4000-8000-000000000000/create_flow_run/bulk", json::array()).status,
            404);
}

TEST_P(BulkRoutes, ScheduleBackfillsAWindowOnceAndOnlyOnce) {
  const auto f = flow("backfilled");
  const json hourly = {{"schedule", {{"interval", 3600}, {"anchor_date", "2026-01-01T00:00:00Z"}}}};
  const auto dep = create("/deployments/", {{"name", "hourly"}, {"flow_id", f}, {"schedules", {hourly}}});
  const json window = {
      {"start_time", "2026-01-01T00:00:00Z"}, {"end_time", "2026-01-01T05:00:00Z"}, {"min_time", 18000}};
  const json past = {{"deployments", {{"id", {{"any_", {dep}}}}}},
                     {"flow_runs", {{"expected_start_time", {{"before_", "2026-02-01T00:00:00Z"}}}}}};
  auto r = api("POST", "/deployments/" + dep + "/schedule", window);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "null");
  EXPECT_EQ(api("POST", "/flow_runs/count", past).body, "6");
  auto runs = json::parse(api("POST", "/flow_runs/filter", past).body);
  for (const auto& run : runs) {
    EXPECT_EQ(run["state"]["type"], "SCHEDULED");
    EXPECT_TRUE(run["auto_scheduled"].get<bool>());
  }
  ASSERT_EQ(api("POST", "/deployments/" + dep + "/schedule", window).status, 200);
  EXPECT_EQ(api("POST", "/flow_runs/count", past).body, "6") << "a date already scheduled is not scheduled twice";

  EXPECT_EQ(api("POST", "/deployments/" + dep + "/schedule", {{"start_time", "yesterday"}}).status, 422);
  EXPECT_EQ(api("POST", "/deployments/" + dep + "/schedule", {{"max_runs", -1}}).status, 422);
  EXPECT_EQ(api("POST", "/deployments/00000000-0000-4000-8000-000000000000/schedule", window).status, 200);
}

INSTANTIATE_TEST_SUITE_P(D, BulkRoutes, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

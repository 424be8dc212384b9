// /api/deployments of the built daemon over real HTTP, on SQLite and PostgreSQL: upsert on flow + name,
// schedule replacement, the scheduler creating runs (once per date, none for a paused deployment),
// create_flow_run with defaults and the parameter schema, and bad input (Prefect-shaped 4xx, nothing written).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "tests/support/daemon_test.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;
using namespace std::chrono_literals;

class DeploymentRoutes : public daemon_test {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    ASSERT_NO_FATAL_FAILURE(start());
    auto flow = api("POST", "/flows/", {{"name", "etl"}});
    ASSERT_EQ(flow.status, 201) << flow.body;
    flow_id_ = json::parse(flow.body)["id"];
  }

  json create(json body) {
    body["flow_id"] = flow_id_;
    auto r = api("POST", "/deployments/", body);
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r.body;
    return json::parse(r.body);
  }
  std::int64_t count(const std::string& sql) { return db_.connect()->query(sql).at(0).integer(0); }
  std::int64_t runs() { return count("SELECT COUNT(*) FROM flow_run"); }
  std::string detail(const http_reply& r) { return json::parse(r.body)["detail"].dump(); }

  const json hourly = {{"schedule", {{"interval", 3600}, {"anchor_date", "2026-01-01T00:00:00Z"}}}};
  const json schema = json::parse(R"({"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]})");
  std::string flow_id_;
};

TEST_P(DeploymentRoutes, UpsertKeepsTheIdAndReplacesUnnamedSchedules) {
  auto first = create({{"name", "nightly"}, {"schedules", {hourly}}, {"tags", {"a"}}});
  auto again =
      api("POST", "/deployments/", {{"name", "nightly"}, {"flow_id", flow_id_}, {"schedules", {hourly, hourly}}});
  ASSERT_EQ(again.status, 200) << again.body;
  auto second = json::parse(again.body);
  EXPECT_EQ(second["id"], first["id"]);
  EXPECT_EQ(second["tags"], json({"a"}));
  EXPECT_EQ(second["schedules"].size(), 2u);
  EXPECT_EQ(count("SELECT COUNT(*) FROM deployment_schedule"), 2);
  auto by_name = api("GET", "/deployments/name/etl/nightly");
  ASSERT_EQ(by_name.status, 200);
  EXPECT_EQ(json::parse(by_name.body)["id"], first["id"]);
  EXPECT_EQ(api("GET", "/deployments/name/etl/other").status, 404);
  EXPECT_EQ(json::parse(api("POST", "/deployments/count", json::object()).body), 1);
  auto page = json::parse(api("POST", "/deployments/paginate", {{"limit", 1}}).body);
  EXPECT_EQ(page["count"], 1);
}

TEST_P(DeploymentRoutes, SluggedSchedulesArePatchedAndAnUnsluggedOneIsRefused) {
  auto slugged = hourly;
  slugged["slug"] = "hourly";
  auto d = create({{"name", "slugs"}, {"schedules", {slugged}}});
  const std::string id = d["id"];
  const auto schedule_id = d["schedules"][0]["id"];
  auto patched = slugged;
  patched["active"] = false;
  ASSERT_EQ(api("PATCH", "/deployments/" + id, {{"schedules", {patched}}}).status, 204);
  auto after = json::parse(api("GET", "/deployments/" + id).body);
  EXPECT_EQ(after["schedules"][0]["id"], schedule_id);
  EXPECT_EQ(after["schedules"][0]["active"], false);
  auto refused = api("PATCH", "/deployments/" + id, {{"schedules", {hourly}}});
  EXPECT_EQ(refused.status, 422);
  EXPECT_NE(detail(refused).find("provide a slug"), std::string::npos);
  EXPECT_EQ(json::parse(api("GET", "/deployments/" + id + "/schedules").body).size(), 1u);
}

TEST_P(DeploymentRoutes, TheSchedulerCreatesEachDateOnceAndNoneForAPausedDeployment) {
  auto d = create({{"name", "scheduled"}, {"schedules", {hourly}}});
  const std::string id = d["id"];
  const std::string where = "SELECT COUNT(*) FROM flow_run WHERE auto_scheduled = true AND state_type = 'SCHEDULED'";
  ASSERT_TRUE(wait_until([&] { return count(where) == 3; }, 20s)) << count(where);  // min_runs past an hour
  // An update drops the future runs; the pass it asks for makes them again, still one per date.
  ASSERT_EQ(api("PATCH", "/deployments/" + id, {{"description", "again"}}).status, 204);
  ASSERT_TRUE(wait_until([&] { return count(where) == 3; }, 20s));
  ASSERT_EQ(api("POST", "/deployments/" + id + "/pause_deployment").status, 200);
  EXPECT_EQ(count(where), 0);
  ASSERT_EQ(api("POST", "/deployments/" + id + "/schedules", json::array({hourly})).status, 201);
  EXPECT_EQ(count(where), 0);
  ASSERT_EQ(api("POST", "/deployments/" + id + "/resume_deployment").status, 200);
  ASSERT_TRUE(wait_until([&] { return count(where) == 6; }, 20s)) << count(where);
  auto polled = api("POST", "/deployments/get_scheduled_flow_runs",
                    {{"deployment_ids", {id}}, {"scheduled_before", "2100-01-01T00:00:00Z"}, {"limit", 4}});
  ASSERT_EQ(polled.status, 200) << polled.body;
  EXPECT_EQ(json::parse(polled.body).size(), 4u);
  EXPECT_TRUE(wait_until([&] { return json::parse(api("GET", "/deployments/" + id).body)["status"] == "READY"; }, 10s));
}

TEST_P(DeploymentRoutes, AnRRuleScheduleIsStoredAsGivenAndScheduled) {
  const json weekdays = {
      {"schedule",
       {{"rrule", "DTSTART:20260101T090000\nRRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR"}, {"timezone", "Europe/Oslo"}}}};
  auto d = create({{"name", "weekdays"}, {"schedules", {weekdays}}});
  const std::string id = d["id"];
  auto stored = json::parse(api("GET", "/deployments/" + id + "/schedules").body);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0]["schedule"], weekdays["schedule"]);
  const std::string where =
      "SELECT COUNT(*) FROM flow_run WHERE auto_scheduled = true AND deployment_id = '" + id + "'";
  ASSERT_TRUE(wait_until([&] { return count(where) == 3; }, 20s)) << count(where);  // min_runs, days apart
  auto runs = json::parse(api("POST", "/flow_runs/filter", {{"deployments", {{"id", {{"any_", {id}}}}}}}).body);
  for (const auto& r : runs) {
    const std::string when = r["next_scheduled_start_time"];
    EXPECT_TRUE(when.find("T08:00:00") != std::string::npos || when.find("T07:00:00") != std::string::npos)
        << when << ": 09:00 in Oslo";
    EXPECT_EQ(r["created_by"]["display_value"], "RRuleSchedule");
  }
}

TEST_P(DeploymentRoutes, CreateFlowRunMergesDefaultsAndChecksTheSchema) {
  auto d = create({{"name", "manual"},
                   {"parameters", {{"x", 1}, {"y", "a"}}},
                   {"parameter_openapi_schema", schema},
                   {"tags", {"dep"}}});
  const std::string id = d["id"];
  auto r = api("POST", "/deployments/" + id + "/create_flow_run",
               {{"parameters", {{"y", "b"}}}, {"tags", {"run"}}, {"idempotency_key", "k1"}});
  ASSERT_EQ(r.status, 201) << r.body;
  auto run = json::parse(r.body);
  EXPECT_EQ(run["parameters"], json({{"x", 1}, {"y", "b"}}));
  EXPECT_EQ(run["state"]["type"], "SCHEDULED");
  EXPECT_EQ(run["deployment_id"], id);
  EXPECT_EQ(run["tags"], json({"dep", "run"}));
  auto same = api("POST", "/deployments/" + id + "/create_flow_run", {{"idempotency_key", "k1"}});
  EXPECT_EQ(same.status, 200);
  EXPECT_EQ(json::parse(same.body)["id"], run["id"]);
  const auto before = runs();
  auto wrong = api("POST", "/deployments/" + id + "/create_flow_run", {{"parameters", {{"x", "one"}}}});
  EXPECT_EQ(wrong.status, 409);
  EXPECT_NE(detail(wrong).find("'one' is not of type 'integer'"), std::string::npos) << wrong.body;
  EXPECT_EQ(runs(), before);
}

TEST_P(DeploymentRoutes, BadInputIsRefusedAndNothingIsWritten) {
  auto refuse = [&](const json& body, int expected, const std::string& words) {
    auto b = body;
    b["flow_id"] = flow_id_;
    auto r = api("POST", "/deployments/", b);
    EXPECT_EQ(r.status, expected) << b.dump() << " -> " << r.body;
    EXPECT_NE(r.body.find(words), std::string::npos) << r.body;
  };
  refuse({{"name", "x"}, {"schedules", {{{"schedule", {{"cron", "61 * * * *"}}}}}}}, 422, "Invalid cron string");
  refuse({{"name", "x"}, {"schedules", {{{"schedule", {{"cron", "0 9 * * *"}, {"timezone", "Mars/Base"}}}}}}}, 422,
         "Invalid timezone");
  refuse({{"name", "x"}, {"schedules", {{{"schedule", {{"rrule", "FREQ=SOMETIMES"}}}}}}}, 422, "Invalid RRule string");
  refuse({{"name", "x"}, {"schedules", {{{"schedule", {{"interval", -1}}}}}}}, 422, "positive");
  refuse({{"name", "x"}, {"work_pool_name", "nowhere"}}, 404, "Work pool \\\"nowhere\\\" not found.");
  auto dup = hourly;
  dup["slug"] = "s";
  refuse({{"name", "x"}, {"schedules", {dup, dup}}}, 409, "unique");
  refuse({{"name", "x"}, {"parameters", {{"x", "one"}}}, {"parameter_openapi_schema", schema}}, 422, "not of type");
  refuse({{"name", "x"}, {"nonsense", 1}}, 422, "extra_forbidden");
  EXPECT_EQ(count("SELECT COUNT(*) FROM deployment"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM deployment_schedule"), 0);
  auto unknown = api("POST", "/deployments/", {{"name", "x"}, {"flow_id", "5f6c2a4e-0000-4000-8000-0000000000cc"}});
  EXPECT_EQ(unknown.status, 404);
  const std::string missing = "/deployments/5f6c2a4e-0000-4000-8000-0000000000cc";
  EXPECT_EQ(api("GET", missing).status, 404);
  EXPECT_EQ(api("PATCH", missing, {{"paused", true}}).status, 404);
  EXPECT_EQ(api("DELETE", missing).status, 404);
  EXPECT_EQ(api("POST", missing + "/create_flow_run", json::object()).status, 404);
  EXPECT_EQ(api("POST", missing + "/pause_deployment").status, 404);
  EXPECT_EQ(api("GET", missing + "/schedules").status, 404);
  EXPECT_EQ(api("GET", "/deployments/not-a-uuid").status, 422);
  EXPECT_EQ(api("POST", "/deployments/filter", {{"sort", "SIDEWAYS"}}).status, 422);
  EXPECT_EQ(runs(), 0);
}

TEST_P(DeploymentRoutes, AConcurrencyLimitIsTheDeploymentsOwnGlobalLimit) {
  auto d = create(
      {{"name", "limited"}, {"concurrency_limit", 2}, {"concurrency_options", {{"collision_strategy", "CANCEL_NEW"}}}});
  const std::string id = d["id"];
  const auto& limit = d["global_concurrency_limit"];
  ASSERT_TRUE(limit.is_object()) << d.dump();
  EXPECT_EQ(limit["name"], "deployment:" + id);
  EXPECT_EQ(limit["limit"], 2);
  EXPECT_EQ(limit["active_slots"], 0);
  EXPECT_EQ(d["concurrency_options"], json({{"collision_strategy", "CANCEL_NEW"}, {"grace_period_seconds", nullptr}}));
  EXPECT_EQ(api("GET", "/v2/concurrency_limits/deployment:" + id).status, 200);

  ASSERT_EQ(api("PATCH", "/deployments/" + id, {{"concurrency_limit", 5}}).status, 204);
  auto after = json::parse(api("GET", "/deployments/" + id).body);
  EXPECT_EQ(after["global_concurrency_limit"]["id"], limit["id"]) << "the same limit, updated";
  EXPECT_EQ(after["global_concurrency_limit"]["limit"], 5);
  ASSERT_EQ(api("PATCH", "/deployments/" + id, {{"description", "no limit change"}}).status, 204);
  EXPECT_EQ(json::parse(api("GET", "/deployments/" + id).body)["global_concurrency_limit"]["limit"], 5);

  ASSERT_EQ(api("PATCH", "/deployments/" + id, {{"concurrency_limit", nullptr}}).status, 204);
  EXPECT_TRUE(json::parse(api("GET", "/deployments/" + id).body)["global_concurrency_limit"].is_null());
  EXPECT_EQ(api("GET", "/v2/concurrency_limits/deployment:" + id).status, 404);

  ASSERT_EQ(api("PATCH", "/deployments/" + id, {{"concurrency_limit", 1}}).status, 204);
  EXPECT_EQ(count("SELECT COUNT(*) FROM concurrency_limit_v2"), 1);
  ASSERT_EQ(api("DELETE", "/deployments/" + id).status, 204);
  EXPECT_EQ(count("SELECT COUNT(*) FROM concurrency_limit_v2"), 0) << "the deployment's limit goes with it";
  auto bad = api("POST", "/deployments/",
                 {{"name", "bad"},
                  {"flow_id", flow_id_},
                  {"concurrency_options", {{"collision_strategy", "ENQUEUE"}, {"grace_period_seconds", 5}}}});
  EXPECT_EQ(bad.status, 422) << bad.body;
}

INSTANTIATE_TEST_SUITE_P(D, DeploymentRoutes, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

// /api/work_pools, its queues and workers, and the legacy /api/work_queues of the built daemon over real HTTP, on
// SQLite and PostgreSQL: pools with their default queue, reserved names, queue priorities, the poll workers make
// (priority, queue and pool limits, pause, time window), heartbeats and the foreman taking a silent worker's pool
// back to NOT_READY, and bad input (unknown names, duplicates: Prefect-shaped 4xx, nothing written).
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

class WorkPoolRoutes : public daemon_test {
 protected:
  std::map<std::string, std::string> environment() const override {
    return {{"OSPREY_SERVICES_FOREMAN_INTERVAL_SECONDS", "1"}};
  }

  json ok(const std::string& method, const std::string& path, const json& body = nullptr) {
    auto r = api(method, path, body);
    EXPECT_LT(r.status, 300) << method << " " << path << ": " << r.body;
    return r.body.empty() ? json() : json::parse(r.body);
  }
  std::string detail(const http_reply& r) { return json::parse(r.body)["detail"].dump(); }
  std::int64_t rows(const std::string& table) {
    return db_.connect()->query("SELECT COUNT(*) FROM " + table).at(0).integer(0);
  }
  /// A flow run in `queue` of `pool`, Scheduled at `when`.
  std::string scheduled_run(const std::string& pool, const std::string& queue, const std::string& when) {
    if (flow_.empty()) flow_ = ok("POST", "/flows/", {{"name", "f"}})["id"];
    json body = {
        {"flow_id", flow_},
        {"work_pool_name", pool},
        {"work_queue_name", queue},
        {"state", {{"type", "SCHEDULED"}, {"name", "Scheduled"}, {"state_details", {{"scheduled_time", when}}}}}};
    return ok("POST", "/flow_runs/", body)["id"];
  }
  std::vector<std::string> polled(const std::string& pool, const json& body = json::object()) {
    std::vector<std::string> ids;
    for (const auto& r : ok("POST", "/work_pools/" + pool + "/get_scheduled_flow_runs", body))
      ids.push_back(r["flow_run"]["id"]);
    return ids;
  }
  std::string flow_;
};

TEST_P(WorkPoolRoutes, APoolComesWithItsDefaultQueueAndReadsBack) {
  auto created = api("POST", "/work_pools/", {{"name", "P"}, {"type", "process"}, {"concurrency_limit", 2}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto pool = json::parse(created.body);
  EXPECT_EQ(pool["status"], "NOT_READY");
  EXPECT_EQ(pool["active_slots"], 0);
  auto queues = ok("POST", "/work_pools/P/queues/filter", json::object());
  ASSERT_EQ(queues.size(), 1u);
  EXPECT_EQ(queues[0]["name"], "default");
  EXPECT_EQ(queues[0]["id"], pool["default_queue_id"]);
  EXPECT_EQ(queues[0]["work_pool_name"], "P");
  EXPECT_EQ(ok("GET", "/work_pools/P")["id"], pool["id"]);
  ok("POST", "/work_pools/", {{"name", "Q"}, {"type", "docker"}});
  EXPECT_EQ(ok("POST", "/work_pools/filter", {{"work_pools", {{"type", {{"any_", {"docker"}}}}}}}).size(), 1u);
  EXPECT_EQ(ok("POST", "/work_pools/count", json::object()), 2);
  EXPECT_EQ(ok("POST", "/work_pools/filter", {{"limit", 1}, {"offset", 1}})[0]["name"], "Q");
  EXPECT_EQ(api("PATCH", "/work_pools/P", {{"description", "mine"}, {"concurrency_limit", nullptr}}).status, 204);
  auto patched = ok("GET", "/work_pools/P");
  EXPECT_EQ(patched["description"], "mine");
  EXPECT_TRUE(patched["concurrency_limit"].is_null());
  EXPECT_EQ(api("DELETE", "/work_pools/P").status, 204);
  EXPECT_EQ(api("GET", "/work_pools/P").status, 404);
  EXPECT_EQ(rows("work_queue"), 1);  // Q's default queue only
}

TEST_P(WorkPoolRoutes, BadInputIsRefusedAsPrefectDoesAndWritesNothing) {
  ok("POST", "/work_pools/", {{"name", "P"}});
  const auto pools = rows("work_pool"), queues = rows("work_queue");
  auto dup = api("POST", "/work_pools/", {{"name", "P"}});
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(detail(dup), "\"A work pool with this name already exists.\"");
  auto reserved = api("POST", "/work_pools/", {{"name", "Prefect-Managed"}});
  EXPECT_EQ(reserved.status, 403);
  EXPECT_EQ(api("DELETE", "/work_pools/prefect-x").status, 403);
  EXPECT_EQ(api("PATCH", "/work_pools/prefect-x", {{"description", "x"}}).status, 403);
  EXPECT_EQ(api("PATCH", "/work_pools/prefect-x", {{"is_paused", true}}).status, 404);  // allowed, but none
  EXPECT_EQ(api("POST", "/work_pools/", {{"name", "a/b"}}).status, 422);
  EXPECT_EQ(api("POST", "/work_pools/", {{"name", "  "}}).status, 422);
  EXPECT_EQ(api("POST", "/work_pools/", {{"name", "x"}, {"concurrency_limit", -1}}).status, 422);
  EXPECT_EQ(api("POST", "/work_pools/", {{"name", "x"}, {"bogus", 1}}).status, 422);
  EXPECT_EQ(api("POST", "/work_pools/",
                {{"name", "x"},
                 {"base_job_template",
                  {{"job_configuration", {{"a", "{{ b }}"}}}, {"variables", {{"properties", json::object()}}}}}})
                .status,
            422);
  EXPECT_EQ(api("POST", "/work_pools/filter", {{"limit", 201}}).status, 422);
  EXPECT_EQ(api("POST", "/work_pools/filter", {{"work_pools", {{"nope", 1}}}}).status, 422);
  auto unknown = api("GET", "/work_pools/nope");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(detail(unknown), "\"Work pool \\\"nope\\\" not found.\"");
  EXPECT_EQ(api("POST", "/work_pools/nope/queues", {{"name", "q"}}).status, 404);
  EXPECT_EQ(api("GET", "/work_pools/P/queues/nope").status, 404);
  EXPECT_EQ(api("POST", "/work_pools/nope/get_scheduled_flow_runs", json::object()).status, 404);
  EXPECT_EQ(api("POST", "/work_pools/P/get_scheduled_flow_runs", {{"work_queue_names", {"nope"}}}).status, 404);
  EXPECT_EQ(api("POST", "/work_pools/nope/workers/heartbeat", {{"name", "w"}}).status, 404);
  EXPECT_EQ(api("POST", "/work_pools/P/workers/heartbeat", json::object()).status, 422);
  EXPECT_EQ(api("DELETE", "/work_pools/P/workers/nobody").status, 404);
  auto dup_queue = api("POST", "/work_pools/P/queues", {{"name", "default"}});
  EXPECT_EQ(dup_queue.status, 409);
  EXPECT_EQ(api("POST", "/work_pools/P/queues", {{"name", "q"}, {"priority", 0}}).status, 422);
  EXPECT_EQ(api("DELETE", "/work_pools/P/queues/default").status, 409);
  EXPECT_EQ(api("GET", "/work_queues/not-a-uuid").status, 404);
  EXPECT_EQ(api("GET", "/work_queues/5f6c2a4e-0000-4000-8000-000000000001").status, 404);
  EXPECT_EQ(api("GET", "/work_queues/5f6c2a4e-0000-4000-8000-000000000001/status").status, 404);
  if (flow_.empty()) flow_ = ok("POST", "/flows/", {{"name", "f"}})["id"];
  EXPECT_EQ(api("POST", "/flow_runs/", {{"flow_id", flow_}, {"work_pool_name", "nope"}}).status, 404);
  EXPECT_EQ(
      api("POST", "/flow_runs/", {{"flow_id", flow_}, {"work_pool_name", "P"}, {"work_queue_name", "nope"}}).status,
      404);
  EXPECT_EQ(rows("work_pool"), pools);
  EXPECT_EQ(rows("work_queue"), queues);
  EXPECT_EQ(rows("flow_run"), 0);
  EXPECT_EQ(rows("worker"), 0);
}

TEST_P(WorkPoolRoutes, QueuePrioritiesShiftAsPrefectShiftsThem) {
  ok("POST", "/work_pools/", {{"name", "P"}});
  ok("POST", "/work_pools/P/queues", {{"name", "b"}});                   // takes 2
  ok("POST", "/work_pools/P/queues", {{"name", "a"}, {"priority", 1}});  // default and b move down
  auto names = [&] {
    std::vector<std::pair<std::string, int>> out;
    for (const auto& q : ok("POST", "/work_pools/P/queues/filter", json::object()))
      out.emplace_back(q["name"], q["priority"]);
    return out;
  };
  EXPECT_EQ(names(), (std::vector<std::pair<std::string, int>>{{"a", 1}, {"default", 2}, {"b", 3}}));
  EXPECT_EQ(api("PATCH", "/work_pools/P/queues/b", {{"priority", 1}}).status, 204);
  EXPECT_EQ(names(), (std::vector<std::pair<std::string, int>>{{"b", 1}, {"a", 2}, {"default", 3}}));
  EXPECT_EQ(api("DELETE", "/work_pools/P/queues/a").status, 204);
  EXPECT_EQ(api("PATCH", "/work_pools/P/queues/b", {{"name", "default"}}).status, 409);
  EXPECT_EQ(names(), (std::vector<std::pair<std::string, int>>{{"b", 1}, {"default", 3}}));
}

TEST_P(WorkPoolRoutes, APollHonoursPriorityLimitsPauseAndTheTimeWindow) {
  ok("POST", "/work_pools/", {{"name", "P"}, {"type", "process"}});
  ok("POST", "/work_pools/P/queues", {{"name", "urgent"}, {"priority", 1}, {"concurrency_limit", 1}});
  const auto late = scheduled_run("P", "default", "2026-01-01T00:00:00Z");
  const auto u1 = scheduled_run("P", "urgent", "2026-01-01T00:05:00Z");
  const auto u2 = scheduled_run("P", "urgent", "2026-01-01T00:06:00Z");
  // urgent first (priority), but only one of its runs (its limit); then default.
  EXPECT_EQ(polled("P"), (std::vector<std::string>{u1, late}));
  EXPECT_EQ(polled("P", {{"limit", 1}}), std::vector<std::string>{u1});
  EXPECT_EQ(polled("P", {{"work_queue_names", {"default"}}}), std::vector<std::string>{late});
  EXPECT_EQ(polled("P", {{"scheduled_after", "2026-01-01T00:01:00Z"}}), std::vector<std::string>{u1});
  EXPECT_EQ(polled("P", {{"scheduled_before", "2026-01-01T00:01:00Z"}}), std::vector<std::string>{late});
  // A Running run holds urgent's one slot.
  ok("POST", "/flow_runs/" + u1 + "/set_state",
     {{"state", {{"type", "RUNNING"}, {"name", "Running"}}}, {"force", true}});
  EXPECT_EQ(polled("P"), std::vector<std::string>{late});
  ok("PATCH", "/work_pools/P", {{"concurrency_limit", 1}});  // the pool's one slot is taken too
  EXPECT_EQ(polled("P"), std::vector<std::string>{});
  ok("PATCH", "/work_pools/P", {{"concurrency_limit", nullptr}});
  ok("PATCH", "/work_pools/P/queues/default", {{"is_paused", true}});
  EXPECT_EQ(ok("GET", "/work_pools/P/queues/default")["status"], "PAUSED");
  EXPECT_EQ(polled("P"), std::vector<std::string>{});
  ok("PATCH", "/work_pools/P/queues/default", {{"is_paused", false}});
  EXPECT_EQ(ok("GET", "/work_pools/P/queues/default")["status"], "READY");  // polled within the minute
  ok("PATCH", "/work_pools/P", {{"is_paused", true}});
  EXPECT_EQ(ok("GET", "/work_pools/P")["status"], "PAUSED");
  EXPECT_EQ(polled("P"), std::vector<std::string>{});
  // Runs read back with their queue and pool; the legacy queue route finds the same run.
  auto run = ok("GET", "/flow_runs/" + late);
  EXPECT_EQ(run["work_queue_name"], "default");
  EXPECT_EQ(run["work_pool_name"], "P");
  const std::string queue_id = run["work_queue_id"];
  auto legacy = ok("POST", "/work_queues/" + queue_id + "/get_runs", json::object());
  ASSERT_EQ(legacy.size(), 1u);
  EXPECT_EQ(legacy[0]["id"], late);
  EXPECT_EQ(ok("GET", "/work_queues/" + queue_id + "/status")["healthy"], true);  // polled, no Late run
}

TEST_P(WorkPoolRoutes, AHeartbeatMakesThePoolReadyAndTheForemanTakesItBack) {
  ok("POST", "/work_pools/", {{"name", "P"}, {"type", "process"}});
  EXPECT_EQ(api("POST", "/work_pools/P/workers/heartbeat",
                {{"name", "w1"}, {"heartbeat_interval_seconds", 1}, {"return_id", true}})
                .status,
            204);
  EXPECT_EQ(ok("GET", "/work_pools/P")["status"], "READY");
  auto workers = ok("POST", "/work_pools/P/workers/filter", {{"workers", {{"status", {{"any_", {"ONLINE"}}}}}}});
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(workers[0]["heartbeat_interval_seconds"], 1);
  // Silent for more than 3 × 1 s: the foreman (every second here) takes the worker OFFLINE, the pool NOT_READY.
  ASSERT_TRUE(wait_until([&] { return ok("GET", "/work_pools/P")["status"] == "NOT_READY"; }, 30s));
  EXPECT_EQ(ok("POST", "/work_pools/P/workers/filter", json::object())[0]["status"], "OFFLINE");
  ok("POST", "/work_pools/P/workers/heartbeat", {{"name", "w1"}});
  EXPECT_EQ(ok("GET", "/work_pools/P")["status"], "READY");
  EXPECT_EQ(api("DELETE", "/work_pools/P/workers/w1").status, 204);
  EXPECT_EQ(ok("POST", "/work_pools/P/workers/filter", json::object()).size(), 0u);
}

TEST_P(WorkPoolRoutes, LegacyQueuesLiveInTheDefaultAgentPool) {
  auto created = api("POST", "/work_queues/", {{"name", "old"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = json::parse(created.body)["id"];
  EXPECT_EQ(json::parse(created.body)["work_pool_name"], "default-agent-pool");
  EXPECT_EQ(ok("GET", "/work_pools/default-agent-pool")["status"], nullptr);
  EXPECT_EQ(ok("GET", "/work_queues/name/old")["id"], id);
  EXPECT_EQ(ok("GET", "/work_queues/" + id)["name"], "old");
  EXPECT_EQ(api("POST", "/work_queues/", {{"name", "old"}}).status, 409);
  EXPECT_EQ(api("PATCH", "/work_queues/" + id, {{"concurrency_limit", 3}}).status, 204);
  EXPECT_EQ(ok("GET", "/work_queues/" + id)["active_slots"], 0);
  EXPECT_EQ(ok("POST", "/work_queues/filter", {{"work_queues", {{"name", {{"startswith_", {"ol"}}}}}}}).size(), 1u);
  auto status = ok("GET", "/work_queues/" + id + "/status");
  EXPECT_EQ(status["healthy"], false);  // never polled
  ok("POST", "/work_queues/" + id + "/get_runs", json::object());
  EXPECT_EQ(ok("GET", "/work_queues/" + id + "/status")["healthy"], true);
  EXPECT_EQ(api("DELETE", "/work_queues/" + id).status, 204);
  EXPECT_EQ(api("DELETE", "/work_queues/" + id).status, 404);
}

INSTANTIATE_TEST_SUITE_P(D, WorkPoolRoutes, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

// Smaller routes of the built daemon, on SQLite and PostgreSQL: states by id, task-run rename and delete, the
// logs CSV download, observed states, the server default result storage, and who holds work pool and queue
// slots, and the background services' status.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "tests/support/daemon_test.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;

class RunDetailRoutes : public daemon_test {
 protected:
  json ok(const std::string& method, const std::string& path, const json& body = nullptr) {
    auto r = api(method, path, body);
    EXPECT_TRUE(r.status >= 200 && r.status < 300) << method << " " << path << " " << r.status << " " << r.body;
    return r.body.empty() ? json() : json::parse(r.body, nullptr, false);
  }
  std::string flow_run(const std::string& name = "") {
    const auto flow = ok("POST", "/flows/", {{"name", "details"}})["id"].get<std::string>();
    json body = {{"flow_id", flow}};
    if (!name.empty()) body["name"] = name;
    return ok("POST", "/flow_runs/", body)["id"];
  }
  std::string task_run(const std::string& run) {
    return ok("POST", "/task_runs/", {{"flow_run_id", run}, {"task_key", "t"}, {"dynamic_key", "0"}})["id"];
  }
  std::string block_document(const std::string& slug, const std::string& name, const json& data) {
    const auto type = ok("GET", "/block_types/slug/" + slug)["id"].get<std::string>();
    const auto schema =
        ok("POST", "/block_schemas/filter", {{"block_schemas", {{"block_type_id", {{"any_", {type}}}}}}});
    return ok("POST", "/block_documents/",
              {{"name", name}, {"block_type_id", type}, {"block_schema_id", schema[0]["id"]}, {"data", data}})["id"];
  }
};

TEST_P(RunDetailRoutes, StatesAreReadByTheirOwnId) {
  const auto run = flow_run();
  const auto written = ok("POST", "/flow_runs/" + run + "/set_state", {{"state", {{"type", "RUNNING"}}}})["state"];
  auto state = ok("GET", "/flow_run_states/" + written["id"].get<std::string>());
  EXPECT_EQ(state["type"], "RUNNING");
  EXPECT_EQ(state["id"], written["id"]);
  EXPECT_EQ(api("GET", "/flow_run_states/00000000-0000-4000-8000-000000000000").status, 404);

  const auto task = task_run(run);
  const auto history = ok("GET", "/task_run_states/?task_run_id=" + task);
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(ok("GET", "/task_run_states/" + history[0]["id"].get<std::string>())["id"], history[0]["id"]);
  EXPECT_EQ(api("GET", "/task_run_states/00000000-0000-4000-8000-000000000000").status, 404);
}

TEST_P(RunDetailRoutes, TaskRunsAreRenamedAndDeletedWithTheirLogs) {
  const auto run = flow_run();
  const auto task = task_run(run);
  EXPECT_EQ(api("PATCH", "/task_runs/" + task, {{"name", "renamed"}}).status, 204);
  EXPECT_EQ(ok("GET", "/task_runs/" + task)["name"], "renamed");
  EXPECT_EQ(api("PATCH", "/task_runs/" + task, {{"tags", {"x"}}}).status, 422);
  EXPECT_EQ(ok("GET", "/task_runs/" + task)["name"], "renamed");
  EXPECT_EQ(api("PATCH", "/task_runs/00000000-0000-4000-8000-000000000000", {{"name", "x"}}).status, 404);

  ok("POST", "/logs/",
     json::array({{{"name", "t"},
                   {"level", 20},
                   {"message", "from the task"},
                   {"timestamp", "2026-12-06T00:00:00Z"},
                   {"flow_run_id", run},
                   {"task_run_id", task}}}));
  EXPECT_EQ(api("DELETE", "/task_runs/" + task).status, 204);
  EXPECT_EQ(api("GET", "/task_runs/" + task).status, 404);
  EXPECT_EQ(api("DELETE", "/task_runs/" + task).status, 404);
  EXPECT_TRUE(ok("POST", "/logs/filter", {{"logs", {{"task_run_id", {{"any_", {task}}}}}}}).empty());
  EXPECT_EQ(api("GET", "/flow_runs/" + run).status, 200);
}

TEST_P(RunDetailRoutes, LogsDownloadAsCsvOldestFirst) {
  const auto run = flow_run("csv run");
  ok("POST", "/logs/",
     json::array({{{"name", "a"},
                   {"level", 40},
                   {"message", "second, \"quoted\""},
                   {"timestamp", "2026-12-06T00:00:02.5Z"},
                   {"flow_run_id", run}},
                  {{"name", "a"},
                   {"level", 20},
                   {"message", "first"},
                   {"timestamp", "2026-12-06T00:00:01Z"},
                   {"flow_run_id", run}}}));
  auto r = api("GET", "/flow_runs/" + run + "/logs/download");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "text/csv; charset=utf-8");
  EXPECT_NE(r.headers["content-disposition"].find("filename*=UTF-8''csv%20run-logs.csv"), std::string::npos)
      << r.headers["content-disposition"];
  EXPECT_EQ(r.body,
            "timestamp,level,flow_run_id,task_run_id,message\r\n"
            "2026-12-06 00:00:01+00:00,20," +
                run +
                ",,first\r\n"
                "2026-12-06 00:00:02.500000+00:00,40," +
                run + ",,\"second, \"\"quoted\"\"\"\r\n");
  EXPECT_EQ(api("GET", "/flow_runs/00000000-0000-4000-8000-000000000000/logs/download").status, 404);
}

TEST_P(RunDetailRoutes, ObservedStatesListTheNamesRunsHaveEntered) {
  const auto run = flow_run();
  ok("POST", "/flow_runs/" + run + "/set_state", {{"state", {{"type", "RUNNING"}}}});
  ok("POST", "/flow_runs/" + run + "/set_state", {{"state", {{"type", "COMPLETED"}, {"name", "All Good"}}}});
  auto all = ok("GET", "/observed-states");
  std::set<std::string> names;
  for (const auto& s : all) names.insert(s["state_type"].get<std::string>() + "/" + s["state_name"].get<std::string>());
  EXPECT_TRUE(names.count("RUNNING/Running")) << all.dump();
  EXPECT_TRUE(names.count("COMPLETED/All Good")) << all.dump();
  auto prefixed = ok("GET", "/observed-states?query=all%20g&order_by=NAME_ASC");
  ASSERT_EQ(prefixed.size(), 1u) << prefixed.dump();
  EXPECT_EQ(prefixed[0]["state_name"], "All Good");
  EXPECT_TRUE(ok("GET", "/observed-states?query=%25").empty()) << "a LIKE wildcard is taken literally";
  EXPECT_EQ(ok("GET", "/observed-states?limit=1").size(), 1u);
  EXPECT_EQ(api("GET", "/observed-states?limit=0").status, 422);
  EXPECT_EQ(api("GET", "/observed-states?order_by=SIDEWAYS").status, 422);
  EXPECT_EQ(api("GET", "/observed-states?query=" + std::string(101, 'x')).status, 422);
}

TEST_P(RunDetailRoutes, TheDefaultResultStorageMustWritePathsAndGoesWithItsBlock) {
  const json unset = {{"default_result_storage_block_id", nullptr}};
  EXPECT_EQ(ok("GET", "/admin/storage"), unset);
  const auto secret = block_document("secret", "not-storage", {{"value", "x"}});
  auto refused = api("PUT", "/admin/storage", {{"default_result_storage_block_id", secret}});
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(json::parse(refused.body)["detail"], "Block document " + secret + " cannot be used for result storage.");
  EXPECT_EQ(api("PUT", "/admin/storage", {{"default_result_storage_block_id", "00000000-0000-4000-8000-000000000000"}})
                .status,
            404);
  EXPECT_EQ(api("PUT", "/admin/storage", json::object()).status, 422);
  EXPECT_EQ(ok("GET", "/admin/storage"), unset);

  const auto local = block_document("local-file-system", "results", {{"basepath", "/tmp/osprey-results"}});
  EXPECT_EQ(
      ok("PUT", "/admin/storage", {{"default_result_storage_block_id", local}})["default_result_storage_block_id"],
      local);
  start();  // kept across restarts
  EXPECT_EQ(ok("GET", "/admin/storage")["default_result_storage_block_id"], local);
  EXPECT_EQ(api("DELETE", "/admin/storage").status, 204);
  EXPECT_EQ(ok("GET", "/admin/storage"), unset);

  ok("PUT", "/admin/storage", {{"default_result_storage_block_id", local}});
  EXPECT_EQ(api("DELETE", "/block_documents/" + local).status, 204);
  EXPECT_EQ(ok("GET", "/admin/storage"), unset) << "deleting the block clears the default";
}

TEST_P(RunDetailRoutes, SlotHoldersOfPoolsAndQueues) {
  ok("POST", "/work_pools/", {{"name", "slots"}, {"type", "process"}, {"concurrency_limit", 3}});
  const auto flow = ok("POST", "/flows/", {{"name", "slotted"}})["id"].get<std::string>();
  const auto running =
      ok("POST", "/flow_runs/", {{"flow_id", flow}, {"work_pool_name", "slots"}})["id"].get<std::string>();
  ok("POST", "/flow_runs/" + running + "/set_state", {{"state", {{"type", "RUNNING"}}}});
  ok("POST", "/flow_runs/", {{"flow_id", flow}, {"work_pool_name", "slots"}, {"state", {{"type", "SCHEDULED"}}}});

  auto pool = ok("POST", "/work_pools/slots/concurrency_status", json::object());
  EXPECT_EQ(pool["active_slots"], 1) << pool.dump();
  EXPECT_EQ(pool["concurrency_limit"], 3);
  EXPECT_EQ(pool["count"], 1);
  EXPECT_EQ(pool["pages"], 1);
  ASSERT_EQ(pool["queues"].size(), 1u);
  const auto& queue = pool["queues"][0];
  EXPECT_EQ(queue["queue_name"], "default");
  EXPECT_EQ(queue["active_slots"], 1);
  ASSERT_EQ(queue["flow_runs"].size(), 1u);
  EXPECT_EQ(queue["flow_runs"][0]["id"], running);
  EXPECT_EQ(queue["flow_runs"][0]["state_type"], "RUNNING");
  EXPECT_TRUE(queue["flow_runs"][0]["time_in_current_state"].is_number());
  EXPECT_TRUE(
      ok("POST", "/work_pools/slots/concurrency_status", {{"flow_run_limit", 0}})["queues"][0]["flow_runs"].empty());

  auto by_queue = ok("POST", "/work_queues/" + queue["queue_id"].get<std::string>() + "/concurrency_status");
  EXPECT_EQ(by_queue["active_slots"], 1);
  EXPECT_EQ(by_queue["flow_runs"][0]["id"], running);

  EXPECT_EQ(api("POST", "/work_pools/nope/concurrency_status").status, 404);
  EXPECT_EQ(api("POST", "/work_queues/00000000-0000-4000-8000-000000000000/concurrency_status").status, 404);
  EXPECT_EQ(api("POST", "/work_pools/slots/concurrency_status", {{"page", 0}}).status, 422);
  EXPECT_EQ(api("POST", "/work_pools/slots/concurrency_status", {{"flow_run_limit", 201}}).status, 422);
  EXPECT_EQ(api("POST", "/work_pools/slots/concurrency_status", {{"limit", 201}}).status, 422);
}

TEST_P(RunDetailRoutes, TheServicesReportTheirPasses) {
  start({{"OSPREY_SERVICES_FOREMAN_ENABLED", "false"}});
  json services;
  auto row = [&](const std::string& name) {
    for (const auto& s : services)
      if (s["name"] == name) return s;
    return json();
  };
  ASSERT_TRUE(wait_until(
      [&] {
        services = ok("GET", "/admin/services");
        return row("scheduler").value("passes", 0) >= 1 && row("late_runs").value("passes", 0) >= 1;
      },
      std::chrono::seconds(20)))
      << services.dump();
  EXPECT_EQ(services.size(), 7u);
  EXPECT_EQ(row("db_vacuum")["enabled"], true);
  EXPECT_EQ(row("db_vacuum")["interval_seconds"], 3600);
  EXPECT_EQ(row("scheduler")["enabled"], true);
  EXPECT_EQ(row("scheduler")["responding"], true);
  EXPECT_EQ(row("scheduler")["interval_seconds"], 60);
  EXPECT_TRUE(row("scheduler")["last_pass_finished"].is_string());
  EXPECT_TRUE(row("scheduler")["last_pass_seconds"].is_number());
  EXPECT_EQ(row("foreman")["enabled"], false);
  EXPECT_TRUE(row("foreman")["responding"].is_null());
  EXPECT_EQ(row("foreman")["passes"], 0);
}

INSTANTIATE_TEST_SUITE_P(D, RunDetailRoutes, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

// kill -9 between trigger and action, on SQLite and PostgreSQL: an automation whose run-deployment action fires
// for every failed flow run; twenty runs fail and the daemon is SIGKILLed at once, with firings still being
// evaluated and actions still running. After the restart every failure has started exactly one run of the
// deployment: none lost (events stored but not evaluated are read back), none twice (the action's idempotency
// key finds the run an interrupted attempt created).

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <string>

#include "tests/support/daemon_test.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;
using namespace std::chrono_literals;

class AutomationCrashTest : public daemon_test {
 protected:
  void SetUp() override { OSPREY_SKIP_IF_UNAVAILABLE(db_); }  // the test starts the daemon, and again after the kill

  json call(const std::string& method, const std::string& path, const json& body = nullptr) {
    auto r = http_request(method, daemon_->base_url() + path, body.is_null() ? "" : body.dump());
    EXPECT_LT(r.status, 300) << method << " " << path << ": " << r.status << " " << r.body;
    return json::parse(r.body.empty() ? "null" : r.body, nullptr, false);
  }

  /// The deployment's runs, by the idempotency key the automation gave each.
  std::map<std::string, int> runs_by_key(const std::string& deployment) {
    std::map<std::string, int> keys;
    const auto runs =
        call("POST", "/api/flow_runs/filter", {{"deployments", {{"id", {{"any_", {deployment}}}}}}, {"limit", 200}});
    for (const auto& r : runs) ++keys[r.value("idempotency_key", "")];
    return keys;
  }
};

TEST_P(AutomationCrashTest, EveryFailureStartsExactlyOneRunAcrossKillNine) {
  start();
  const std::string target_flow = call("POST", "/api/flows/", {{"name", "reports"}})["id"];
  const std::string deployment =
      call("POST", "/api/deployments/", {{"name", "nightly"}, {"flow_id", target_flow}})["id"];
  const std::string failing_flow = call("POST", "/api/flows/", {{"name", "etl"}})["id"];
  call("POST", "/api/automations/",
       {{"name", "rerun reports"},
        {"trigger",
         {{"type", "event"},
          {"match", {{"prefect.resource.id", "prefect.flow-run.*"}}},
          {"match_related", {{"prefect.resource.role", "flow"}, {"prefect.resource.name", "etl"}}},
          {"expect", {"prefect.flow-run.Failed"}},
          {"for_each", {"prefect.resource.id"}},
          {"posture", "Reactive"},
          {"threshold", 1},
          {"within", 0}}},
        {"actions", {{{"type", "run-deployment"}, {"source", "selected"}, {"deployment_id", deployment}}}}});

  std::set<std::string> failed;
  for (int i = 0; i < 20; ++i) {
    const std::string run =
        call("POST", "/api/flow_runs/", {{"flow_id", failing_flow}, {"name", "r" + std::to_string(i)}})["id"];
    call("POST", "/api/flow_runs/" + run + "/set_state", {{"state", {{"type", "RUNNING"}}}});
    const auto done = call("POST", "/api/flow_runs/" + run + "/set_state", {{"state", {{"type", "FAILED"}}}});
    ASSERT_EQ(done.value("status", ""), "ACCEPT") << done;
    failed.insert(run);
  }
  daemon_->send_signal(SIGKILL);  // firings and actions of the last failures are still under way
  daemon_->wait_exit(10s);
  const auto before = daemon_->output();
  daemon_.reset();

  start();
  ASSERT_TRUE(wait_until([&] { return runs_by_key(deployment).size() >= failed.size(); }, 60s))
      << runs_by_key(deployment).size() << " runs\n"
      << before << "\n--- after the restart ---\n"
      << daemon_->output();
  // Every action the restart found pending has ended: nothing is left to create a second run.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto jobs = call("GET", "/api/notifications/outbox?limit=10000&status=pending");
        return jobs.is_array() && jobs.empty();
      },
      60s));
  const auto keys = runs_by_key(deployment);
  EXPECT_EQ(keys.size(), failed.size()) << daemon_->output();
  if (std::getenv("OSPREY_TEST_SHOW_OUTPUT"))
    std::cout << before << "\n--- after the restart ---\n" << daemon_->output();
  for (const auto& [key, count] : keys) {
    EXPECT_EQ(count, 1) << key;
    EXPECT_EQ(key.rfind("automation ", 0), 0u) << key;
  }
}

INSTANTIATE_TEST_SUITE_P(D, AutomationCrashTest, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

// kill -9 under load, on SQLite and PostgreSQL: writers create flow runs, move them to Running and send their
// logs; the daemon is SIGKILLed mid-stream and started again on the same database. Everything it acknowledged
// (2xx) must be there: a transition is answered only once it is durable.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/scratch.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;
using namespace std::chrono_literals;

struct acknowledged {
  std::mutex mutex;
  std::set<std::string> created;  ///< flow run ids answered 201
  std::set<std::string> running;  ///< flow run ids whose Running was accepted
  std::set<std::string> logs;     ///< messages of log batches answered 201
};

class CrashDurabilityTest : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override { OSPREY_SKIP_IF_UNAVAILABLE(db_); }

  std::unique_ptr<daemon> start() {
    auto d = std::make_unique<daemon>(
        std::map<std::string, std::string>{{"OSPREY_HOME", home_.path().string()}, {"OSPREY_DATABASE_URL", db_.url()}});
    EXPECT_TRUE(d->started()) << d->output();
    return d;
  }

  /// One writer: run after run until `stop`; records only what the server acknowledged.
  static void write(const std::string& base, const std::string& flow_id, int writer, const std::atomic<bool>& stop,
                    acknowledged& acked) {
    for (int i = 0; !stop; ++i) {
      const auto name = "w" + std::to_string(writer) + "-" + std::to_string(i);
      const auto created =
          http_request("POST", base + "/api/flow_runs/",
                       json{{"flow_id", flow_id}, {"name", name}, {"state", {{"type", "PENDING"}}}}.dump());
      if (created.status != 201) continue;
      const auto id = json::parse(created.body)["id"].get<std::string>();
      {
        std::lock_guard lock(acked.mutex);
        acked.created.insert(id);
      }
      const auto moved = http_request("POST", base + "/api/flow_runs/" + id + "/set_state",
                                      json{{"state", {{"type", "RUNNING"}}}}.dump());
      if (moved.status == 201 && json::parse(moved.body).value("status", "") == "ACCEPT") {
        std::lock_guard lock(acked.mutex);
        acked.running.insert(id);
      }
      json logs = json::array();
      for (int n = 0; n < 5; ++n)
        logs.push_back({{"name", "crash"},
                        {"level", 20},
                        {"message", name + "/" + std::to_string(n)},
                        {"timestamp", "2026-01-01T00:00:00Z"},
                        {"flow_run_id", id},
                        {"task_run_id", nullptr}});
      if (http_request("POST", base + "/api/logs/", logs.dump()).status == 201) {
        std::lock_guard lock(acked.mutex);
        for (const auto& l : logs) acked.logs.insert(l["message"].get<std::string>());
      }
    }
  }

  scratch_database db_{GetParam()};
  scratch_dir home_;
};

TEST_P(CrashDurabilityTest, EverythingAcknowledgedSurvivesKillNine) {
  auto first = start();
  ASSERT_TRUE(first->started());
  const auto flow = http_request("POST", first->base_url() + "/api/flows/", R"({"name":"crash"})");
  ASSERT_EQ(flow.status, 201) << flow.body;
  const auto flow_id = json::parse(flow.body)["id"].get<std::string>();

  acknowledged acked;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) writers.emplace_back([&, w] { write(first->base_url(), flow_id, w, stop, acked); });
  const bool busy = wait_until(
      [&] {
        std::lock_guard lock(acked.mutex);
        return acked.logs.size() >= 5000;
      },
      60s);
  first->send_signal(SIGKILL);
  stop = true;
  for (auto& t : writers) t.join();
  ASSERT_TRUE(busy) << "the writers never got going";
  first->wait_exit(10s);

  auto conn = db_.connect();
  std::set<std::string> runs, running, messages;
  for (const auto& row : conn->query("SELECT id, state_type FROM flow_run")) {
    runs.insert(row.id(0).to_string());
    if (row.text(1) == "RUNNING") running.insert(row.id(0).to_string());
  }
  for (const auto& row : conn->query("SELECT message FROM log")) messages.insert(row.text(0));
  std::size_t lost_runs = 0, lost_states = 0, lost_logs = 0;
  for (const auto& id : acked.created) lost_runs += !runs.contains(id);
  for (const auto& id : acked.running) lost_states += !running.contains(id);
  for (const auto& m : acked.logs) lost_logs += !messages.contains(m);
  EXPECT_EQ(lost_runs, 0u) << "of " << acked.created.size() << " acknowledged runs";
  EXPECT_EQ(lost_states, 0u) << "of " << acked.running.size() << " acknowledged Running states";
  EXPECT_EQ(lost_logs, 0u) << "of " << acked.logs.size() << " acknowledged logs";

  // And the server comes back on that database and serves what it stored.
  auto second = start();
  ASSERT_TRUE(second->started());
  const auto some = *acked.running.begin();
  const auto read = http_request("GET", second->base_url() + "/api/flow_runs/" + some);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(json::parse(read.body)["state"]["type"], "RUNNING");
}

INSTANTIATE_TEST_SUITE_P(D, CrashDurabilityTest, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

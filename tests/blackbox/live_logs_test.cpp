// WS /api/logs/out of the built daemon, on SQLite and PostgreSQL: after Prefect's auth handshake and a LogFilter,
// a subscriber gets the logs POST /api/logs commits that its filter matches, in order, and nothing from before
// it subscribed; bad filters get a close code and leave the server healthy.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/daemon_test.hpp"
#include "tests/support/ws_client.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;
using namespace std::chrono_literals;

class LiveLogsTest : public daemon_test {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    ASSERT_NO_FATAL_FAILURE(start());
    const auto flow = post("/api/flows/", {{"name", "logged-" + new_uuid4().to_string()}});
    ASSERT_EQ(flow.status, 201) << flow.body;
    for (auto* run : {&run_, &other_run_}) {
      const auto r = post("/api/flow_runs/", {{"flow_id", json::parse(flow.body)["id"]}});
      ASSERT_EQ(r.status, 201) << r.body;
      *run = json::parse(r.body)["id"];
    }
  }

  http_reply post(const std::string& path, const json& body) {
    return http_request("POST", daemon_->base_url() + path, body.dump());
  }

  json log(const std::string& message, const std::string& run, int level = 20, json task_run = nullptr) const {
    return {{"name", "blackbox"}, {"level", level},
            {"message", message}, {"timestamp", format_iso8601(system_clock::instance().now())},
            {"flow_run_id", run}, {"task_run_id", std::move(task_run)}};
  }

  /// The subscription has no answer, and a read that times out ends the connection: another thread posts
  /// numbered probe logs for run_ until one arrives here, and then every probe posted after the first one
  /// seen is read too, so the stream is idle and every later log will be seen.
  bool synchronised(ws_client& ws) {
    std::atomic<bool> seen{false};
    std::atomic<int> posted{0};
    std::thread prober([&] {
      while (!seen) {
        post("/api/logs/", json::array({log("probe " + std::to_string(posted.load()), run_)}));
        ++posted;
        std::this_thread::sleep_for(20ms);  // pacing the load, not waiting for anything
      }
    });
    const auto first = next_message(ws);
    seen = true;
    prober.join();
    if (!first.starts_with("probe ")) return false;
    for (auto at = std::stoi(first.substr(6)); at + 1 < posted;)
      if (const auto m = next_message(ws); m.starts_with("probe "))
        at = std::stoi(m.substr(6));
      else
        return false;
    return true;
  }

  /// The message of the next streamed log ("" on timeout or close).
  static std::string next_message(ws_client& ws, std::chrono::milliseconds deadline = 10s) {
    const auto text = ws.read(deadline);
    if (!text) return "";
    const auto j = json::parse(*text, nullptr, false);
    EXPECT_EQ(j["type"], "log") << *text;
    return j["log"].value("message", "");
  }

  bool healthy() { return http_request("GET", daemon_->base_url() + "/api/health").status == 200; }
  std::string run_, other_run_;
};

TEST_P(LiveLogsTest, ASubscriberGetsTheCommittedLogsItsFilterMatchesInOrder) {
  ASSERT_EQ(post("/api/logs/", json::array({log("before the subscription", run_)})).status, 201);
  auto out = websocket("/api/logs/out");
  const json filter = {
      {"flow_run_id", {{"any_", {run_}}}}, {"level", {{"ge_", 20}}}, {"task_run_id", {{"is_null_", true}}}};
  ASSERT_TRUE(out->send(json{{"type", "filter"}, {"filter", filter}}.dump()));
  ASSERT_TRUE(synchronised(*out));
  const auto task_run = new_uuid4().to_string();
  ASSERT_EQ(post("/api/logs/", json::array({log("first", run_), log("other run", other_run_), log("debug", run_, 10),
                                            log("from a task", run_, 20, task_run), log("second", run_, 40)}))
                .status,
            201);
  ASSERT_EQ(post("/api/logs/", json::array({log("third", run_)})).status, 201);
  EXPECT_EQ(next_message(*out), "first");
  EXPECT_EQ(next_message(*out), "second");
  EXPECT_EQ(next_message(*out), "third");  // nothing the filter excludes came in between
}

TEST_P(LiveLogsTest, StreamedLogsHavePrefectsLogShape) {
  auto out = websocket("/api/logs/out");
  ASSERT_TRUE(out->send(R"({"type":"filter","filter":{}})"));
  ASSERT_TRUE(synchronised(*out));
  ASSERT_EQ(post("/api/logs/", json::array({log("shaped", run_, 30)})).status, 201);
  const auto text = out->read(10s);
  ASSERT_TRUE(text.has_value());
  const json streamed = json::parse(*text)["log"];
  EXPECT_EQ(streamed["message"], "shaped");
  for (const char* key :
       {"id", "created", "updated", "name", "level", "message", "timestamp", "flow_run_id", "task_run_id"})
    EXPECT_TRUE(streamed.contains(key)) << key << " missing from " << streamed;
  EXPECT_EQ(streamed["level"], 30);
  EXPECT_EQ(streamed["flow_run_id"], run_);
  EXPECT_EQ(streamed["task_run_id"], nullptr);
  // The same log as stored.
  const auto stored = post("/api/logs/filter", {{"logs", {{"flow_run_id", {{"any_", {run_}}}}}}});
  ASSERT_EQ(stored.status, 200) << stored.body;
  bool found = false;
  for (const auto& l : json::parse(stored.body)) found = found || l == streamed;
  EXPECT_TRUE(found) << streamed;
}

TEST_P(LiveLogsTest, BadFiltersGetACloseCodeAndTheServerStaysHealthy) {
  {
    ws_client ws;  // no auth message
    ASSERT_TRUE(ws.connect(static_cast<std::uint16_t>(daemon_->port()), "/api/logs/out"));
    ASSERT_TRUE(ws.send(R"({"type":"filter","filter":{}})"));
    const auto closed = ws.wait_closed();
    EXPECT_EQ(closed.code, 1008);
    EXPECT_EQ(closed.reason, "Expected 'auth' message");
  }
  {
    auto out = websocket("/api/logs/out");
    ASSERT_TRUE(out->send(R"({"type":"subscribe"})"));
    const auto closed = out->wait_closed();
    EXPECT_EQ(closed.code, 1002);
    EXPECT_EQ(closed.reason, "Expected 'filter' message");
  }
  {
    auto out = websocket("/api/logs/out");
    ASSERT_TRUE(out->send(R"({"type":"filter","filter":{"level":{"ge_":"loud"}}})"));
    const auto closed = out->wait_closed();
    EXPECT_EQ(closed.code, 1002);
    EXPECT_TRUE(closed.reason.starts_with("Invalid filter: filter.level.ge_")) << closed.reason;
  }
  EXPECT_TRUE(healthy());
  EXPECT_EQ(post("/api/logs/", json::array({log("still stored", run_)})).status, 201);
}

INSTANTIATE_TEST_SUITE_P(D, LiveLogsTest, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

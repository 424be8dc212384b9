// End to end: storm control on the built daemon with real receivers on loopback. A channel's rate limit
// (token bucket) spaces its messages; a policy's group_wait folds a burst into one message; a multi-part
// delivery (Twilio, one request per recipient) that partly fails is retried without re-sending the parts
// already delivered. On SQLite and PostgreSQL.

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "persistence/migrator.hpp"
#include "tests/support/http_receiver.hpp"
#include "tests/support/scratch.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;
using namespace std::chrono_literals;
using seconds_d = std::chrono::duration<double>;

class NotificationStorm : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override { OSPREY_SKIP_IF_UNAVAILABLE(db_); }

  void start(const std::string& channels_yaml, const std::string& policies_yaml) {
    const auto path = (home_.path() / "config.yaml").string();
    std::ofstream(path) << "notifications:\n"
                           "  ui_url: http://127.0.0.1:4200\n"
                           "  retry: {initial: 200ms, max: 1s}\n"
                           "  channels:\n" +
                               channels_yaml + "  policies:\n" + policies_yaml;
    std::map<std::string, std::string> env{{"OSPREY_HOME", home_.path().string()}, {"OSPREY_DATABASE_URL", db_.url()}};
    daemon_ = std::make_unique<daemon>(env, std::vector<std::string>{"--config", path});
    ASSERT_TRUE(daemon_->started()) << daemon_->output();
  }

  json call(const std::string& method, const std::string& path, const json& body = nullptr) {
    auto r = http_request(method, daemon_->base_url() + path, body.is_null() ? "" : body.dump());
    EXPECT_LT(r.status, 300) << method << " " << path << ": " << r.status << " " << r.body;
    return json::parse(r.body.empty() ? "null" : r.body, nullptr, false);
  }

  /// A running flow run named `name`; returns its id.
  std::string running_run(const std::string& name) {
    if (flow_id_.empty()) flow_id_ = call("POST", "/api/flows/", {{"name", "etl"}})["id"];
    const std::string id = call("POST", "/api/flow_runs/", {{"flow_id", flow_id_}, {"name", name}})["id"];
    set_state(id, "RUNNING");
    return id;
  }

  void set_state(const std::string& run, const std::string& type) {
    auto r = call("POST", "/api/flow_runs/" + run + "/set_state", {{"state", {{"type", type}}}});
    EXPECT_EQ(r["status"], "ACCEPT") << r;
  }

  json outbox() { return call("GET", "/api/notifications/outbox?limit=10000"); }

  /// Waits until the outbox holds `expected` jobs and none is pending.
  bool outbox_settled(std::size_t expected) {
    return wait_until(
        [&] {
          auto all = outbox();
          return all.size() == expected &&
                 std::none_of(all.begin(), all.end(), [](const json& j) { return j["status"] == "pending"; });
        },
        30s);
  }

  scratch_database db_{GetParam()};
  scratch_dir home_;
  http_receiver slack_, twilio_;
  std::unique_ptr<daemon> daemon_;
  std::string flow_id_;
};

TEST_P(NotificationStorm, ARateLimitedChannelSpacesItsMessages) {
  start(
      "    - name: slow-slack\n"
      "      type: slack\n"
      "      allow_private_network: true\n"
      "      url: \"" +
          slack_.base_url() +
          "/services/T0/B0/SLOW\"\n"
          "      rate_limit: {per_second: 2, burst: 1}\n",
      "    - name: failures\n"
      "      match: {state_names: [Failed]}\n"
      "      channels: [slow-slack]\n");
  std::vector<std::string> runs;
  for (int i = 0; i < 6; ++i) runs.push_back(running_run("run-" + std::to_string(i)));
  for (const auto& run : runs) set_state(run, "FAILED");

  ASSERT_TRUE(slack_.wait_for(6, 30s)) << daemon_->output();
  ASSERT_TRUE(outbox_settled(6)) << outbox().dump(1);
  for (const auto& job : outbox()) {
    EXPECT_EQ(job["status"], "delivered") << job;
    EXPECT_EQ(job["attempts"], 1) << job;  // waiting for a token is not a failed attempt
  }
  const auto requests = slack_.requests();
  ASSERT_EQ(requests.size(), 6u);  // one message per run: no grouping without group_wait
  // Burst 1 at 2/s: the first goes at once, each next one 0.5 s later, so 5 intervals take 2.5 s.
  const auto span = seconds_d(requests.back().received - requests.front().received).count();
  EXPECT_GE(span, 2.0) << "6 messages within " << span << " s";
  for (std::size_t i = 1; i < requests.size(); ++i) {
    const auto gap = seconds_d(requests[i].received - requests[i - 1].received).count();
    EXPECT_GE(gap, 0.35) << "message " << i << " came " << gap << " s after the one before";
  }
  // Every run got its own message.
  std::string all_text;
  for (const auto& r : requests) all_text += json::parse(r.body)["text"].get<std::string>() + "\n";
  for (int i = 0; i < 6; ++i) EXPECT_NE(all_text.find("run-" + std::to_string(i)), std::string::npos) << all_text;
}

TEST_P(NotificationStorm, GroupWaitFoldsABurstIntoOneMessage) {
  start("    - {name: slack-ops, type: slack, allow_private_network: true, url: \"" + slack_.base_url() +
            "/services/T0/B0/OPS\"}\n",
        "    - name: burst\n"
        "      match: {state_names: [Failed]}\n"
        "      channels: [slack-ops]\n"
        "      group_wait: 2s\n");
  std::vector<std::string> runs;
  for (int i = 0; i < 5; ++i) runs.push_back(running_run("burst-" + std::to_string(i)));
  const auto first_failure = std::chrono::steady_clock::now();
  for (const auto& run : runs) set_state(run, "FAILED");
  const auto burst_took = seconds_d(std::chrono::steady_clock::now() - first_failure).count();
  ASSERT_LT(burst_took, 1.5) << "the burst itself took longer than the group_wait allows to test";

  ASSERT_TRUE(slack_.wait_for(1, 30s)) << daemon_->output();
  ASSERT_TRUE(outbox_settled(5)) << outbox().dump(1);
  for (const auto& job : outbox()) {
    EXPECT_EQ(job["status"], "delivered") << job;
    EXPECT_EQ(job["policy_name"], "burst") << job;
  }
  // All five are delivered, so whatever was going to be sent was sent: exactly one message.
  const auto requests = slack_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_GE(seconds_d(requests[0].received - first_failure).count(), 1.8) << "sent before group_wait ended";
  const auto text = json::parse(requests[0].body)["text"].get<std::string>();
  EXPECT_NE(text.find("5 notifications"), std::string::npos) << text;
  for (int i = 0; i < 5; ++i) {
    EXPECT_NE(text.find("burst-" + std::to_string(i)), std::string::npos) << text;
    EXPECT_NE(text.find(runs[static_cast<std::size_t>(i)]), std::string::npos) << "run id missing: " << text;
  }
}

TEST_P(NotificationStorm, ATwilioRetryDoesNotResendPartsAlreadyDelivered) {
  const std::string one = "+15551230001", two = "+15551230002";
  twilio_.set_default({201, {}, R"({"sid":"SM1","status":"queued"})"});
  // The first request to arrive (one of the two recipients) fails with a retryable 500; everything else is 201.
  twilio_.script({500, {}, R"({"code":20500,"message":"Internal Server Error"})"});
  start(
      "    - {name: sms, type: twilio, allow_private_network: true, account_sid: AC0000000000000000000000000000007, "
      "auth_token: TOKEN0008, "
      "from: \"+15005550006\", to: [\"" +
          one + "\", \"" + two + "\"], api_url: \"" + twilio_.base_url() + "\"}\n",
      "    - name: pages\n"
      "      match: {state_names: [Failed]}\n"
      "      channels: [sms]\n");
  const auto run = running_run("texted");
  set_state(run, "FAILED");

  ASSERT_TRUE(twilio_.wait_for(3, 30s)) << daemon_->output();
  ASSERT_TRUE(outbox_settled(1)) << outbox().dump(1);
  const auto job = outbox().at(0);
  EXPECT_EQ(job["status"], "delivered") << job;
  EXPECT_EQ(job["attempts"], 2) << job;

  const auto requests = twilio_.requests();
  ASSERT_EQ(requests.size(), 3u);  // two recipients, one of them twice
  auto recipient = [](const recorded_request& r) {
    for (const auto* number : {"%2B15551230001", "%2B15551230002"})
      if (r.body.find(std::string("To=") + number) != std::string::npos) return std::string(number);
    return std::string("?");
  };
  const auto failed = recipient(requests[0]);  // the request that got the 500
  ASSERT_NE(failed, "?") << requests[0].body;
  std::map<std::string, int> sent;
  for (const auto& r : requests) ++sent[recipient(r)];
  const auto other = failed == "%2B15551230001" ? "%2B15551230002" : "%2B15551230001";
  EXPECT_EQ(sent[failed], 2) << "the failed part is sent again";
  EXPECT_EQ(sent[other], 1) << "the delivered part is not sent again";
  EXPECT_EQ(recipient(requests[2]), failed);
  EXPECT_EQ(requests[0].body, requests[2].body);  // the same SMS, again
}

// An upgrade must not strand or repeat work: a job the previous version left pending after delivering one of
// its two parts (parts_done in the payload, as it wrote them) sends only the other part after the upgrade.
TEST_P(NotificationStorm, AJobLeftPendingByThePreviousVersionSendsOnlyItsUndeliveredParts) {
  const std::string one = "+15551230001", two = "+15551230002";
  twilio_.set_default({201, {}, R"({"sid":"SM1","status":"queued"})"});
  {
    auto conn = db_.connect();
    persistence::migrator m(*conn);
    ASSERT_TRUE(m.reset());
    const auto now = format_iso8601(system_clock::instance().now());
    conn->execute(
        "INSERT INTO notification_outbox (id, created, updated, policy_name, channel_name, state_id, state_name, "
        "dedup_key, kind, payload, status, attempts, next_attempt_at, last_error) VALUES ($1, $2, $2, 'pages', "
        "'sms', $3, 'Failed', 'osprey/pages/x', 'trigger', $4, 'pending', 1, $2, 'HTTP 500')",
        {persistence::id(new_uuid4()), persistence::text(now), persistence::id(new_uuid4()),
         persistence::text(R"({"title":"Flow run etl/left entered state Failed","message":"left behind",)"
                           R"("values":{},"group_wait_ms":0,"parts_done":[0]})")});
  }
  start(
      "    - {name: sms, type: twilio, allow_private_network: true, account_sid: AC0000000000000000000000000000007, "
      "auth_token: TOKEN0008, "
      "from: \"+15005550006\", to: [\"" +
          one + "\", \"" + two + "\"], api_url: \"" + twilio_.base_url() + "\"}\n",
      "    - name: pages\n"
      "      match: {state_names: [Failed]}\n"
      "      channels: [sms]\n");
  ASSERT_TRUE(outbox_settled(1)) << outbox().dump(1) << daemon_->output();
  const auto job = outbox().at(0);
  EXPECT_EQ(job["status"], "delivered") << job;
  EXPECT_EQ(job["attempts"], 2) << job;
  const auto requests = twilio_.requests();
  ASSERT_EQ(requests.size(), 1u);  // part 0 (the first recipient) was delivered before the upgrade
  EXPECT_NE(requests[0].body.find("To=%2B15551230002"), std::string::npos) << requests[0].body;
}

INSTANTIATE_TEST_SUITE_P(D, NotificationStorm, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

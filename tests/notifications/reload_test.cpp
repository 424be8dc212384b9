// End to end: SIGHUP reloads the notification settings of a running daemon. A valid file replaces channels and
// policies at once; an invalid one is refused with every error (file:line) and the running settings stay; a
// pending job whose channel a reload removed goes to the dead letters naming that channel. On SQLite and
// PostgreSQL.

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/http_receiver.hpp"
#include "tests/support/scratch.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;
using namespace std::chrono_literals;

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

class NotificationReload : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override { OSPREY_SKIP_IF_UNAVAILABLE(db_); }

  static std::string slack_channel(const std::string& name, const http_receiver& r) {
    return "    - {name: " + name + ", type: slack, allow_private_network: true, url: \"" + r.base_url() +
           "/services/" + name + "\"}\n";
  }

  /// Writes the config file: `channels_yaml` and `policies_yaml` are the list items.
  void write_config(const std::string& channels_yaml, const std::string& policies_yaml) {
    std::ofstream(config_file()) << "notifications:\n"
                                    "  retry: {initial: 200ms, max: 1s}\n"
                                    "  channels:\n" +
                                        channels_yaml + "  policies:\n" + policies_yaml;
  }

  [[nodiscard]] std::string config_file() const { return (home_.path() / "config.yaml").string(); }

  /// The 1-based line of the config file holding `needle` (0 when none).
  [[nodiscard]] int line_of(const std::string& needle) const {
    std::ifstream in(config_file());
    std::string line;
    for (int n = 1; std::getline(in, line); ++n)
      if (line.find(needle) != std::string::npos) return n;
    return 0;
  }

  static std::string policy_to(const std::string& channel) {
    return "    - name: failures\n"
           "      match: {state_names: [Failed]}\n"
           "      channels: [" +
           channel + "]\n";
  }

  void start() {
    std::map<std::string, std::string> env{{"OSPREY_HOME", home_.path().string()}, {"OSPREY_DATABASE_URL", db_.url()}};
    daemon_ = std::make_unique<daemon>(env, std::vector<std::string>{"--config", config_file()});
    ASSERT_TRUE(daemon_->started()) << daemon_->output();
  }

  /// SIGHUP, then waits until the daemon printed `marker` once more than before.
  bool reload_and_wait_for(const std::string& marker) {
    const auto before = occurrences(daemon_->output(), marker);
    daemon_->send_signal(SIGHUP);
    return wait_until([&] { return occurrences(daemon_->output(), marker) > before; }, 20s);
  }

  json call(const std::string& method, const std::string& path, const json& body = nullptr) {
    auto r = http_request(method, daemon_->base_url() + path, body.is_null() ? "" : body.dump());
    EXPECT_LT(r.status, 300) << method << " " << path << ": " << r.status << " " << r.body;
    return json::parse(r.body.empty() ? "null" : r.body, nullptr, false);
  }

  std::string failing_run() {
    if (flow_id_.empty()) flow_id_ = call("POST", "/api/flows/", {{"name", "etl"}})["id"];
    auto run = call("POST", "/api/flow_runs/", {{"flow_id", flow_id_}, {"name", "odd-bee"}});
    const std::string id = run["id"];
    for (const char* type : {"RUNNING", "FAILED"}) {
      auto r = call("POST", "/api/flow_runs/" + id + "/set_state", {{"state", {{"type", type}}}});
      EXPECT_EQ(r["status"], "ACCEPT") << r;
    }
    return id;
  }

  json jobs_of(const std::string& run) {
    json out = json::array();
    for (const auto& j : call("GET", "/api/notifications/outbox?limit=10000"))
      if (j["flow_run_id"] == run) out.push_back(j);
    return out;
  }

  /// Waits until every job of `run` left pending; returns them.
  json settled_jobs_of(const std::string& run, std::size_t expected) {
    json jobs;
    EXPECT_TRUE(wait_until(
        [&] {
          jobs = jobs_of(run);
          return jobs.size() == expected &&
                 std::none_of(jobs.begin(), jobs.end(), [](const json& j) { return j["status"] == "pending"; });
        },
        20s))
        << jobs.dump(1);
    return jobs;
  }

  scratch_database db_{GetParam()};
  scratch_dir home_;
  http_receiver a_, b_, c_;
  std::unique_ptr<daemon> daemon_;
  std::string flow_id_;
};

TEST_P(NotificationReload, SighupSwitchesChannelsAndRefusesAnInvalidFile) {
  const auto channels = slack_channel("chan-a", a_) + slack_channel("chan-b", b_);
  write_config(channels, policy_to("chan-a"));
  start();

  const auto first = failing_run();
  ASSERT_TRUE(a_.wait_for(1, 20s)) << daemon_->output();
  EXPECT_EQ(settled_jobs_of(first, 1)[0]["channel_name"], "chan-a");

  // The policy now sends to B.
  write_config(channels, policy_to("chan-b"));
  ASSERT_TRUE(reload_and_wait_for("Reloaded")) << daemon_->output();
  const auto second = failing_run();
  ASSERT_TRUE(b_.wait_for(1, 20s)) << daemon_->output();
  auto jobs = settled_jobs_of(second, 1);
  EXPECT_EQ(jobs[0]["channel_name"], "chan-b");
  EXPECT_EQ(jobs[0]["status"], "delivered");
  EXPECT_EQ(a_.count(), 1u);
  EXPECT_EQ(b_.requests().at(0).target, "/services/chan-b");
  EXPECT_NE(json::parse(b_.requests().at(0).body)["text"].get<std::string>().find("odd-bee"), std::string::npos);

  // An invalid file (a policy naming a channel that does not exist): refused, every error listed with
  // file:line, and the running settings stay.
  write_config(channels, policy_to("chan-b") +
                             "    - name: broken\n"
                             "      match: {state_names: [Failed]}\n"
                             "      channels: [no-such-channel]\n");
  const int bad_line = line_of("no-such-channel");
  ASSERT_GT(bad_line, 0);
  ASSERT_TRUE(reload_and_wait_for("reload refused")) << daemon_->output();
  const auto out = daemon_->output();
  const auto refused = out.substr(out.rfind("Received SIGHUP"));
  EXPECT_NE(refused.find("config.yaml:" + std::to_string(bad_line) + ":"), std::string::npos) << refused;
  EXPECT_NE(refused.find("no-such-channel"), std::string::npos) << refused;
  EXPECT_EQ(refused.find("Reloaded"), std::string::npos) << refused;

  const auto third = failing_run();
  ASSERT_TRUE(b_.wait_for(2, 20s)) << daemon_->output();
  jobs = settled_jobs_of(third, 1);
  EXPECT_EQ(jobs[0]["channel_name"], "chan-b");
  EXPECT_EQ(jobs[0]["policy_name"], "failures");
  EXPECT_EQ(a_.count(), 1u);
  EXPECT_EQ(b_.count(), 2u);

  // A valid file again is taken.
  write_config(channels, policy_to("chan-a"));
  ASSERT_TRUE(reload_and_wait_for("Reloaded")) << daemon_->output();
  const auto fourth = failing_run();
  ASSERT_TRUE(a_.wait_for(2, 20s)) << daemon_->output();
  EXPECT_EQ(settled_jobs_of(fourth, 1)[0]["channel_name"], "chan-a");
  EXPECT_EQ(b_.count(), 2u);

  // The file policies the API lists follow the reloads.
  auto listed = call("POST", "/api/flow_run_notification_policies/filter", json::object());
  ASSERT_EQ(listed.size(), 1u) << listed.dump(1);
  EXPECT_EQ(listed[0]["name"], "failures");
  EXPECT_EQ(listed[0]["channels"], json({"chan-a"}));
}

TEST_P(NotificationReload, APendingJobWhoseChannelWasRemovedGoesDeadNamingIt) {
  // C answers 503 with Retry-After: 3600, so its job waits an hour for the next attempt.
  c_.set_default({503, {{"Retry-After", "3600"}}, "busy"});
  write_config(slack_channel("chan-b", b_) + slack_channel("chan-c", c_), policy_to("chan-c"));
  start();
  const auto run = failing_run();
  ASSERT_TRUE(c_.wait_for(1, 20s)) << daemon_->output();
  json job;
  ASSERT_TRUE(wait_until(
      [&] {
        auto jobs = jobs_of(run);
        if (jobs.size() != 1) return false;
        job = jobs[0];
        return job["status"] == "pending" && job["attempts"] == 1;
      },
      20s))
      << jobs_of(run).dump(1);
  EXPECT_NE(job["last_error"].get<std::string>().find("503"), std::string::npos) << job;

  // The reload removes chan-c (and the policy now names chan-b).
  write_config(slack_channel("chan-b", b_), policy_to("chan-b"));
  ASSERT_TRUE(reload_and_wait_for("Reloaded")) << daemon_->output();

  // Retried now rather than in an hour: dead, naming the channel; nothing more reached C.
  const std::string id = job["id"];
  auto r = http_request("POST", daemon_->base_url() + "/api/notifications/outbox/" + id + "/retry");
  ASSERT_EQ(r.status, 204) << r.body;
  ASSERT_TRUE(wait_until(
      [&] {
        auto jobs = jobs_of(run);
        return jobs.size() == 1 && jobs[0]["status"] == "dead";
      },
      20s))
      << jobs_of(run).dump(1);
  job = jobs_of(run)[0];
  const auto reason = job["last_error"].get<std::string>();
  EXPECT_NE(reason.find("chan-c"), std::string::npos) << reason;
  EXPECT_NE(reason.find("not configured"), std::string::npos) << reason;
  EXPECT_EQ(c_.count(), 1u);
  EXPECT_EQ(b_.count(), 0u);  // the job keeps its channel; it is not moved to another
}

TEST_P(NotificationReload, ADeliveryInFlightWhenItsChannelIsRemovedIsRecordedAsItsAnswerSays) {
  // C takes 3 s to answer 200: the reload that removes chan-c lands while the request is in flight.
  c_.set_default({200, {}, "ok", 3000ms});
  write_config(slack_channel("chan-b", b_) + slack_channel("chan-c", c_), policy_to("chan-c"));
  start();
  const auto run = failing_run();
  ASSERT_TRUE(c_.wait_for(1, 20s)) << daemon_->output();
  write_config(slack_channel("chan-b", b_), policy_to("chan-b"));
  ASSERT_TRUE(reload_and_wait_for("Reloaded")) << daemon_->output();
  ASSERT_EQ(jobs_of(run).at(0)["status"], "pending") << "the answer came before the reload; the test proves nothing";

  const auto jobs = settled_jobs_of(run, 1);
  // Slack answered 200 "ok": the message was delivered, whatever the settings say now. Recording it as dead
  // would invite a manual retry, and a duplicate message.
  EXPECT_EQ(jobs[0]["status"], "delivered") << jobs[0];
  EXPECT_EQ(c_.count(), 1u);
}

INSTANTIATE_TEST_SUITE_P(D, NotificationReload, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

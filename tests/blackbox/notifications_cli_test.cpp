// `osprey notifications check|test|outbox`, run as the real binary: what each command prints, that no
// secret ever reaches the output, the exit codes, and what `outbox retry` changes in the database.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "domain/uuid.hpp"
#include "persistence/notification_store.hpp"
#include "tests/support/http_receiver.hpp"
#include "tests/support/scratch.hpp"

namespace osprey::testing {
namespace {

// EXPECT_TRUE(mentions(out, "x")) / EXPECT_FALSE(...): failures show the whole output.
::testing::AssertionResult mentions(const std::string& out, const std::string& part) {
  if (out.find(part) != std::string::npos)
    return ::testing::AssertionSuccess() << "output mentions '" << part << "':\n" << out;
  return ::testing::AssertionFailure() << "output does not mention '" << part << "':\n" << out;
}

/// The first output line containing `part` ("" when none).
std::string line_with(const std::string& out, const std::string& part) {
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (line.find(part) != std::string::npos) return line;
  return "";
}

const char* const six_channels_yaml = R"(notifications:
  channels:
    - {name: slack-ops, type: slack, url: "${SLACK_WEBHOOK_URL}"}
    - {name: teams-ops, type: teams, url: "${TEAMS_WORKFLOW_URL}"}
    - {name: pager, type: pagerduty, routing_key: "${PD_ROUTING_KEY}"}
    - {name: genie, type: opsgenie, api_key: "${OPSGENIE_KEY}", region: us}
    - {name: sms, type: twilio, account_sid: "${TWILIO_SID}", auth_token: "${TWILIO_TOKEN}",
       from: "+15005550006", to: ["+15551234567"]}
    - {name: mail, type: smtp, host: smtp.example.com, port: 587, tls: starttls,
       username: alerts, password: "${SMTP_PASSWORD}", from: "osprey@example.com", to: ["oncall@example.com"]}
  policies:
    - name: prod-failures
      match: {state_names: [Failed, Crashed], tags_any: [prod]}
      channels: [slack-ops, pager, mail]
      message_template: "Flow run {flow_name}/{flow_run_name} entered state {flow_run_state_name}"
)";

/// The values of the variables above; none may appear in any output (the account SID is not a secret, but
/// nothing needs to show it either).
const std::map<std::string, std::string> six_secrets = {
    {"SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0SLACK/B0SLACK/SlackSecretToken42"},
    {"TEAMS_WORKFLOW_URL",
     "https://prod-42.westus.logic.azure.com:443/workflows/f00dcafe/triggers/manual/paths/invoke?api-version=2016-06-01"
     "&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=TeamsSignatureSecret42"},
    {"PD_ROUTING_KEY", "R0utingKeySecret4242424242424242"},
    {"OPSGENIE_KEY", "0psgenieKeySecret-4242-4242-424242424242"},
    {"TWILIO_SID", "AC00000000000000000000000000000042"},
    {"TWILIO_TOKEN", "TwilioAuthTokenSecret42"},
    {"SMTP_PASSWORD", "SmtpPasswordSecret42"},
};

/// Pieces of the secrets above that must not appear either (a webhook's path and query are its secret).
const std::vector<std::string> secret_fragments = {"SlackSecretToken42",
                                                   "T0SLACK/B0SLACK",
                                                   "/services/",
                                                   "f00dcafe",
                                                   "TeamsSignatureSecret42",
                                                   "sig=",
                                                   "R0utingKeySecret",
                                                   "0psgenieKeySecret",
                                                   "TwilioAuthTokenSecret42",
                                                   "SmtpPasswordSecret42"};

::testing::AssertionResult leaks_nothing(const std::string& out) {
  for (const auto& [var, secret] : six_secrets)
    if (out.find(secret) != std::string::npos)
      return ::testing::AssertionFailure() << "output contains $" << var << ":\n" << out;
  for (const auto& part : secret_fragments)
    if (out.find(part) != std::string::npos)
      return ::testing::AssertionFailure() << "output contains '" << part << "':\n" << out;
  return ::testing::AssertionSuccess();
}

class NotificationsCli : public ::testing::Test {
 protected:
  std::string write_file(const std::string& name, const std::string& text) {
    const auto path = home_.path() / name;
    std::ofstream(path) << text;
    return path.string();
  }
  std::map<std::string, std::string> env(std::map<std::string, std::string> more = {}) const {
    more["OSPREY_HOME"] = home_.path().string();
    return more;
  }
  /// A config with one Slack channel posting to `url`.
  std::string slack_config(const std::string& url) {
    return write_file(
        "osprey.yaml",
        "notifications:\n  channels:\n    - {name: slack-ops, type: slack, allow_private_network: true, url: \"" + url +
            "\"}\n");
  }
  /// Checks the summary of the six channels and the policy (whatever way the secrets came in).
  static void expect_six_channel_summary(const command_result& r) {
    ASSERT_EQ(r.exit_code, 0) << described(r);
    const std::vector<std::pair<std::string, std::string>> channels = {
        {"slack-ops", "hooks.slack.com"},  {"teams-ops", "prod-42.westus.logic.azure.com"},
        {"pager", "events.pagerduty.com"}, {"genie", "api.opsgenie.com"},
        {"sms", "api.twilio.com"},         {"mail", "smtp.example.com:587 starttls"}};
    for (const auto& [name, target] : channels) {
      const auto line = line_with(r.out, "  " + name + " ");
      EXPECT_NE(line, "") << name << " missing:\n" << r.out;
      EXPECT_NE(line.find(target), std::string::npos) << "'" << line << "' should show " << target;
    }
    EXPECT_TRUE(mentions(line_with(r.out, "  sms "), "1 recipient"));
    EXPECT_TRUE(mentions(line_with(r.out, "  mail "), "1 recipient"));
    EXPECT_TRUE(mentions(r.out, "prod-failures"));
    EXPECT_TRUE(mentions(r.out, "state_names [Failed, Crashed]; tags_any [prod]"));
    EXPECT_TRUE(mentions(r.out, "channels:   slack-ops, pager, mail"));
    EXPECT_TRUE(mentions(r.out, "resolve_on: Completed"));
    EXPECT_TRUE(mentions(r.out, "group_wait: off"));
    for (const auto* unused : {"teams-ops", "genie", "sms"})
      EXPECT_TRUE(mentions(r.out, std::string("warning: channel '") + unused + "' is not used by any policy"));
    EXPECT_FALSE(mentions(r.out, "warning: channel 'pager'"));
    EXPECT_TRUE(mentions(r.out, "OK: 6 channel(s), 1 policy(ies)"));
    EXPECT_TRUE(leaks_nothing(r.out));
  }

  scratch_dir home_;
};

TEST_F(NotificationsCli, CheckSummarisesChannelsAndPoliciesFromEnvironmentSecrets) {
  const auto file = write_file("osprey.yaml", six_channels_yaml);
  auto r = run_osprey({"notifications", "check", "--config", file}, env(six_secrets));
  expect_six_channel_summary(r);
}

TEST_F(NotificationsCli, CheckSummarisesChannelsWhoseSecretsComeFromFiles) {
  std::string yaml = six_channels_yaml;
  const auto from_file = [&](const std::string& field, const std::string& var) {
    const auto written = write_file(var + ".secret", six_secrets.at(var) + "\n");
    const auto inline_form = field + ": \"${" + var + "}\"";
    const auto pos = yaml.find(inline_form);
    ASSERT_NE(pos, std::string::npos) << inline_form;
    yaml.replace(pos, inline_form.size(), field + "_file: \"" + written + "\"");
  };
  from_file("url", "SLACK_WEBHOOK_URL");
  from_file("url", "TEAMS_WORKFLOW_URL");
  from_file("routing_key", "PD_ROUTING_KEY");
  from_file("api_key", "OPSGENIE_KEY");
  from_file("auth_token", "TWILIO_TOKEN");
  from_file("password", "SMTP_PASSWORD");
  const auto file = write_file("osprey.yaml", yaml);
  auto r =
      run_osprey({"notifications", "check", "--config", file}, env({{"TWILIO_SID", six_secrets.at("TWILIO_SID")}}));
  expect_six_channel_summary(r);
}

TEST_F(NotificationsCli, CheckListsEveryErrorWithItsLineAndExits2) {
  const auto file = write_file("osprey.yaml", R"(notifications:
  channels:
    - {name: slack-ops, type: slack, url: "https://hooks.slack.com/services/T0/B0/SlackSecretToken42"}
    - {name: pager, type: pagerduty}
  policies:
    - name: prod-failures
      channels: [slack-ops, nowhere]
      message_template: "{flow_nam} failed"
)");
  auto r = run_osprey({"notifications", "check", "--config", file}, env());
  EXPECT_EQ(r.exit_code, 2) << described(r);
  const std::regex error_line("^  " + file + ":[0-9]+: .*");
  for (const auto* what : {"routing_key", "nowhere", "flow_nam"}) {
    const auto line = line_with(r.out, what);
    EXPECT_TRUE(std::regex_match(line, error_line)) << "no error line with file:line for " << what << ":\n" << r.out;
  }
  EXPECT_TRUE(mentions(line_with(r.out, "routing_key"), file + ":4:"));
  EXPECT_TRUE(mentions(line_with(r.out, "nowhere"), file + ":7:"));
  EXPECT_TRUE(mentions(line_with(r.out, "flow_nam"), file + ":8:"));
  EXPECT_FALSE(mentions(r.out, "OK:"));
  EXPECT_TRUE(leaks_nothing(r.out));
}

TEST_F(NotificationsCli, TestPostsToTheChannelAndShowsTheAnswer) {
  http_receiver receiver;
  const auto file = slack_config(receiver.base_url() + "/services/T000/B000/SECRETSECRET");
  auto r = run_osprey({"notifications", "test", "slack-ops", "--config", file}, env());
  EXPECT_EQ(r.exit_code, 0) << described(r);

  ASSERT_EQ(receiver.count(), 1U) << described(r);
  const auto request = receiver.requests().front();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/services/T000/B000/SECRETSECRET");
  const auto body = nlohmann::json::parse(request.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << request.body;
  EXPECT_TRUE(mentions(body.dump(),
                       "This is a test notification from Osprey. If you can read it, channel "
                       "'slack-ops' works."));

  EXPECT_TRUE(mentions(r.out, "answer:  HTTP 200: ok"));
  EXPECT_TRUE(mentions(r.out, "verdict: delivered"));
  EXPECT_TRUE(mentions(r.out, "127.0.0.1:" + std::to_string(receiver.port())));
  EXPECT_FALSE(mentions(r.out, "SECRETSECRET"));
  EXPECT_FALSE(mentions(r.out, "/services/"));
}

TEST_F(NotificationsCli, TestAgainstARefusingServiceSaysDeadAndExits1) {
  http_receiver receiver;
  receiver.script(scripted_response{404, {{"Content-Type", "text/plain"}}, "no_service"});
  const auto file = slack_config(receiver.base_url() + "/services/T000/B000/SECRETSECRET");
  auto r = run_osprey({"notifications", "test", "slack-ops", "--config", file}, env());
  EXPECT_EQ(r.exit_code, 1) << described(r);
  EXPECT_EQ(receiver.count(), 1U);
  EXPECT_TRUE(mentions(r.out, "answer:  HTTP 404: no_service"));
  EXPECT_TRUE(mentions(r.out, "verdict: dead"));
  EXPECT_TRUE(mentions(r.out, "NOT delivered"));
  EXPECT_FALSE(mentions(r.out, "SECRETSECRET"));
  EXPECT_FALSE(mentions(r.out, "/services/"));
}

TEST_F(NotificationsCli, TestOfAnUnknownChannelListsTheConfiguredOnesAndExits2) {
  http_receiver receiver;
  const auto file = slack_config(receiver.base_url() + "/services/T000/B000/SECRETSECRET");
  auto r = run_osprey({"notifications", "test", "slak-ops", "--config", file}, env());
  EXPECT_EQ(r.exit_code, 2) << described(r);
  EXPECT_TRUE(mentions(r.out, "'slak-ops'"));
  EXPECT_TRUE(mentions(r.out, "configured channels: slack-ops"));
  EXPECT_EQ(receiver.count(), 0U);
}

// ---- outbox ------------------------------------------------------------------------------------------------

class NotificationsOutboxCli : public ::testing::TestWithParam<persistence::dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    // The pager channel's key shows up in a stored error below: the listing must hide it.
    config_ = home_.path() / "osprey.yaml";
    std::ofstream(config_) << "notifications:\n  channels:\n"
                              "    - {name: pager, type: pagerduty, routing_key: R0utingKeySecret4242}\n";
  }

  command_result osprey(std::vector<std::string> args) {
    args.insert(args.end(), {"--config", config_.string()});
    return run_osprey(args, {{"OSPREY_DATABASE_URL", db_.url()}, {"OSPREY_HOME", home_.path().string()}});
  }

  void migrate() {
    auto r = osprey({"server", "database", "upgrade", "-y"});
    ASSERT_EQ(r.exit_code, 0) << described(r);
  }

  /// Inserts a job for `policy -> pager` with state `state_name`; returns its id.
  uuid insert_job(const std::string& policy, const std::string& state_name, std::chrono::seconds age) {
    persistence::outbox_job job;
    job.id = new_uuid4();
    job.created = system_clock::instance().now() - age;
    job.policy_name = policy;
    job.channel_name = "pager";
    job.flow_run = flow_run_id{new_uuid4()};
    job.state = state_id{new_uuid4()};
    job.state_name = state_name;
    job.dedup_key = policy + "/" + job.flow_run->to_string();
    job.next_attempt_at = job.created;
    auto conn = db_.connect();
    EXPECT_EQ(persistence::insert_outbox_jobs(*conn, {job}).size(), 1U);
    return job.id;
  }

  std::optional<persistence::outbox_job> find(const uuid& job) {
    auto conn = db_.connect();
    return persistence::find_outbox_job(*conn, job);
  }

  scratch_database db_{GetParam()};
  scratch_dir home_;
  std::filesystem::path config_;
};

TEST_P(NotificationsOutboxCli, ListsDeadJobsWithTheirReasonAndRetryRequeuesThem) {
  ASSERT_NO_FATAL_FAILURE(migrate());
  const auto dead = insert_job("prod-failures", "Failed", std::chrono::seconds(60));
  const auto pending = insert_job("prod-crashes", "Crashed", std::chrono::seconds(30));
  const auto delivered = insert_job("prod-late", "Late", std::chrono::seconds(10));
  {
    auto conn = db_.connect();
    const auto now = system_clock::instance().now();
    persistence::mark_dead(*conn, dead, 7, "HTTP 400 Invalid routing key R0utingKeySecret4242 (check the integration)",
                           now);
    persistence::mark_delivered(*conn, delivered, 1, now);
  }

  auto only_dead = osprey({"notifications", "outbox", "--dead"});
  ASSERT_EQ(only_dead.exit_code, 0) << described(only_dead);
  EXPECT_TRUE(mentions(only_dead.out, "1 pending, 1 delivered, 1 dead"));
  const auto row = line_with(only_dead.out, dead.to_string());
  EXPECT_TRUE(mentions(row, "dead"));
  EXPECT_TRUE(mentions(row, "prod-failures -> pager"));
  EXPECT_TRUE(mentions(row, "Failed"));
  EXPECT_TRUE(mentions(row, "HTTP 400 Invalid routing key <secret> (check the integration)"));
  EXPECT_FALSE(mentions(only_dead.out, "R0utingKeySecret"));
  EXPECT_FALSE(mentions(only_dead.out, pending.to_string()));
  EXPECT_FALSE(mentions(only_dead.out, delivered.to_string()));

  auto by_default = osprey({"notifications", "outbox"});
  ASSERT_EQ(by_default.exit_code, 0) << described(by_default);
  EXPECT_TRUE(mentions(by_default.out, dead.to_string()));
  EXPECT_TRUE(mentions(by_default.out, pending.to_string()));
  EXPECT_FALSE(mentions(by_default.out, delivered.to_string()));
  EXPECT_LT(by_default.out.find(pending.to_string()), by_default.out.find(dead.to_string())) << "newest first";
  EXPECT_TRUE(mentions(osprey({"notifications", "outbox", "--all"}).out, delivered.to_string()));

  auto retried = osprey({"notifications", "outbox", "retry", dead.to_string()});
  ASSERT_EQ(retried.exit_code, 0) << described(retried);
  EXPECT_TRUE(mentions(retried.out, "re-queued " + dead.to_string() +
                                        "; a running server sends it within a few seconds (or at its next start)"));
  const auto after = find(dead);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, persistence::outbox_status::pending);
  EXPECT_EQ(after->attempts, 0);
  EXPECT_TRUE(mentions(osprey({"notifications", "outbox", "--dead"}).out, "No dead jobs"));
}

TEST_P(NotificationsOutboxCli, RetryOfAnUnknownOrDeliveredJobExits1) {
  ASSERT_NO_FATAL_FAILURE(migrate());
  const auto delivered = insert_job("prod-failures", "Failed", std::chrono::seconds(5));
  persistence::mark_delivered(*db_.connect(), delivered, 1, system_clock::instance().now());

  const auto unknown = new_uuid4().to_string();
  auto r = osprey({"notifications", "outbox", "retry", unknown});
  EXPECT_EQ(r.exit_code, 1) << described(r);
  EXPECT_TRUE(mentions(r.out, "no outbox job " + unknown));

  auto again = osprey({"notifications", "outbox", "retry", delivered.to_string()});
  EXPECT_EQ(again.exit_code, 1) << described(again);
  EXPECT_TRUE(mentions(again.out, "already delivered"));
  EXPECT_EQ(find(delivered)->status, persistence::outbox_status::delivered);

  auto malformed = osprey({"notifications", "outbox", "retry", "not-a-uuid"});
  EXPECT_EQ(malformed.exit_code, 2) << described(malformed);
}

TEST_P(NotificationsOutboxCli, OnADatabaseNotAtHeadSaysToUpgradeAndExits1) {
  auto r = osprey({"notifications", "outbox"});
  EXPECT_EQ(r.exit_code, 1) << described(r);
  EXPECT_TRUE(mentions(r.out, "osprey server database upgrade"));
}

INSTANTIATE_TEST_SUITE_P(Notifications, NotificationsOutboxCli, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<persistence::dialect>>);

}  // namespace
}  // namespace osprey::testing

// End to end: the built daemon with a `notifications:` config whose six channels point at real receivers on
// loopback (HTTP receivers answering like Slack, Teams, PagerDuty, Opsgenie and Twilio, and an SMTP server).
// Flow runs are driven through the REST API; the receivers check what arrives. On SQLite and PostgreSQL.

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <set>

#include "tests/support/http_receiver.hpp"
#include "tests/support/scratch.hpp"
#include "tests/support/smtp_receiver.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;
using namespace std::chrono_literals;

constexpr const char* slack_secret = "SLACKSECRETPATH0001";
constexpr const char* teams_secret = "TEAMSSIG0002";
constexpr const char* pd_key = "PDROUTINGKEY0000000000000000003";
constexpr const char* genie_key = "GENIEKEY0004";
constexpr const char* twilio_token = "TWILIOTOKEN0005";
constexpr const char* smtp_password = "SMTPPASSWORD0006";

class NotificationDelivery : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override { OSPREY_SKIP_IF_UNAVAILABLE(db_); }

  std::string config(const std::string& policies_yaml, const std::string& retry = "{initial: 200ms, max: 1s}") {
    std::string yaml =
        "notifications:\n"
        "  ui_url: http://127.0.0.1:4200\n"
        "  retry: " +
        retry +
        "\n"
        "  channels:\n"
        "    - {name: slack-ops, type: slack, allow_private_network: true, url: \"" +
        slack_.base_url() + "/services/T0/B0/" + slack_secret +
        "\"}\n"
        "    - {name: teams-ops, type: teams, allow_private_network: true, url: \"" +
        teams_.base_url() + "/workflows/1/triggers/manual/paths/invoke?sig=" + teams_secret +
        "\"}\n"
        "    - {name: pager, type: pagerduty, allow_private_network: true, routing_key: \"" +
        pd_key + "\", api_url: \"" + pagerduty_.base_url() +
        "\"}\n"
        "    - {name: genie, type: opsgenie, allow_private_network: true, api_key: \"" +
        genie_key + "\", region: us, api_url: \"" + opsgenie_.base_url() +
        "\"}\n"
        "    - {name: sms, type: twilio, allow_private_network: true, account_sid: AC0000000000000000000000000000007, "
        "auth_token: \"" +
        twilio_token + "\", from: \"+15005550006\", to: [\"+15551234567\"], api_url: \"" + twilio_.base_url() +
        "\"}\n"
        "    - {name: mail, type: smtp, allow_private_network: true, host: 127.0.0.1, port: " +
        std::to_string(smtp_.port()) + ", tls: none, username: alerts, password: \"" + smtp_password +
        "\", from: \"osprey@example.com\", to: [\"oncall@example.com\"]}\n"
        // 2130706433 is 127.0.0.1 spelled as one number: no literal the config can judge, so only the
        // transport's check of the resolved address stands between this channel and the Slack receiver.
        "    - {name: inside, type: slack, url: \"https://2130706433:" +
        std::to_string(slack_.port()) +
        "/services/T0/B0/INSIDE\"}\n"
        "  policies:\n" +
        policies_yaml;
    const auto path = home_.path() / "config.yaml";
    std::ofstream(path) << yaml;
    return path.string();
  }

  static std::string all_channels_policy() {
    return "    - name: prod-failures\n"
           "      match: {state_names: [Failed, Crashed], tags_any: [prod]}\n"
           "      channels: [slack-ops, teams-ops, pager, genie, sms, mail]\n";
  }

  daemon& start(const std::string& config_file) {
    std::map<std::string, std::string> env{{"OSPREY_HOME", home_.path().string()}, {"OSPREY_DATABASE_URL", db_.url()}};
    daemon_ = std::make_unique<daemon>(env, std::vector<std::string>{"--config", config_file});
    EXPECT_TRUE(daemon_->started()) << daemon_->output();
    return *daemon_;
  }

  json call(const std::string& method, const std::string& path, const json& body = nullptr) {
    auto r = http_request(method, daemon_->base_url() + path, body.is_null() ? "" : body.dump());
    EXPECT_LT(r.status, 300) << method << " " << path << ": " << r.status << " " << r.body;
    return json::parse(r.body.empty() ? "null" : r.body, nullptr, false);
  }

  /// A flow run with `tags`, driven Running -> `final_state`; returns its id.
  std::string failing_run(const std::vector<std::string>& tags, const std::string& final_state = "FAILED") {
    if (flow_id_.empty()) flow_id_ = call("POST", "/api/flows/", {{"name", "etl"}})["id"];
    auto run = call("POST", "/api/flow_runs/", {{"flow_id", flow_id_}, {"name", "odd-bee"}, {"tags", tags}});
    const std::string id = run["id"];
    set_state(id, "RUNNING");
    set_state(id, final_state);
    return id;
  }

  void set_state(const std::string& run, const std::string& type, bool force = false) {
    auto r = call("POST", "/api/flow_runs/" + run + "/set_state", {{"state", {{"type", type}}}, {"force", force}});
    EXPECT_EQ(r["status"], "ACCEPT") << r;
  }

  json outbox(const std::string& status = "") {
    return call("GET", "/api/notifications/outbox?limit=10000" + (status.empty() ? "" : "&status=" + status));
  }

  bool outbox_settled(std::size_t expected) {
    auto all = outbox();
    if (all.size() != expected) return false;
    return std::none_of(all.begin(), all.end(), [](const json& j) { return j["status"] == "pending"; });
  }

  void expect_no_secret_in(const std::string& text) {
    for (const char* s : {slack_secret, teams_secret, pd_key, genie_key, twilio_token, smtp_password})
      EXPECT_EQ(text.find(s), std::string::npos) << "secret " << s << " leaked into: " << text.substr(0, 2000);
  }

  scratch_database db_{GetParam()};
  scratch_dir home_;
  http_receiver slack_, teams_, pagerduty_, opsgenie_, twilio_;
  smtp_receiver smtp_;
  std::unique_ptr<daemon> daemon_;
  std::string flow_id_;
};

TEST_P(NotificationDelivery, AFailedProdRunAlertsEveryChannelAndOthersAlertNone) {
  pagerduty_.set_default({202, {}, R"({"status":"success","message":"Event processed"})"});
  opsgenie_.set_default({202, {}, R"({"result":"Request will be processed","took":0.1,"requestId":"r1"})"});
  twilio_.set_default({201, {}, R"({"sid":"SM1","status":"queued"})"});
  teams_.set_default({202, {}, ""});
  start(config(all_channels_policy()));

  failing_run({"dev"});                // no prod tag: no alert
  failing_run({"prod"}, "COMPLETED");  // wrong state: no alert
  const auto failed = failing_run({"prod", "etl"});

  for (auto* r : {&slack_, &teams_, &pagerduty_, &opsgenie_, &twilio_}) ASSERT_TRUE(r->wait_for(1, 20s));
  ASSERT_TRUE(smtp_.wait_for(1, 20s));
  ASSERT_TRUE(wait_until([&] { return outbox_settled(6); }, 20s)) << outbox().dump(1);

  for (const auto& job : outbox()) {
    EXPECT_EQ(job["status"], "delivered") << job;
    EXPECT_EQ(job["flow_run_id"], failed);
    EXPECT_EQ(job["attempts"], 1);
  }
  for (auto* r : {&slack_, &teams_, &pagerduty_, &opsgenie_, &twilio_}) EXPECT_EQ(r->count(), 1u);
  EXPECT_EQ(smtp_.count(), 1u);

  const auto slack = slack_.requests().at(0);
  EXPECT_EQ(slack.method, "POST");
  EXPECT_EQ(slack.target, std::string("/services/T0/B0/") + slack_secret);
  EXPECT_NE(json::parse(slack.body)["text"].get<std::string>().find("etl/odd-bee"), std::string::npos) << slack.body;

  const auto pd = pagerduty_.requests().at(0);
  EXPECT_EQ(pd.target, "/v2/enqueue");
  const auto pd_body = json::parse(pd.body);
  EXPECT_EQ(pd_body["routing_key"], pd_key);
  EXPECT_EQ(pd_body["event_action"], "trigger");
  EXPECT_EQ(pd_body["dedup_key"], "osprey/prod-failures/" + failed);
  EXPECT_EQ(pd_body["payload"]["severity"], "error");

  const auto og = opsgenie_.requests().at(0);
  EXPECT_EQ(og.target, "/v2/alerts");
  EXPECT_EQ(og.headers.at("authorization"), std::string("GenieKey ") + genie_key);
  EXPECT_EQ(json::parse(og.body)["alias"], "osprey/prod-failures/" + failed);

  const auto sms = twilio_.requests().at(0);
  EXPECT_EQ(sms.target, "/2010-04-01/Accounts/AC0000000000000000000000000000007/Messages.json");
  EXPECT_NE(sms.body.find("To=%2B15551234567"), std::string::npos) << sms.body;

  const auto teams = teams_.requests().at(0);
  EXPECT_EQ(json::parse(teams.body)["type"], "message") << teams.body;

  const auto mail = smtp_.mails().at(0);
  EXPECT_EQ(mail.mail_from, "osprey@example.com");
  ASSERT_EQ(mail.rcpt_to.size(), 1u);
  EXPECT_EQ(mail.rcpt_to[0], "oncall@example.com");
  EXPECT_EQ(mail.auth_password, smtp_password);
  EXPECT_NE(mail.data.find(failed), std::string::npos);

  expect_no_secret_in(daemon_->output());
  expect_no_secret_in(outbox().dump());
}

TEST_P(NotificationDelivery, RecoveryResolvesPagerDutyAndClosesOpsgenie) {
  pagerduty_.set_default({202, {}, R"({"status":"success"})"});
  opsgenie_.set_default({202, {}, R"({"result":"Request will be processed"})"});
  start(
      config("    - name: pages\n"
             "      match: {state_types: [FAILED]}\n"
             "      channels: [pager, genie, slack-ops]\n"));
  const auto run = failing_run({});
  ASSERT_TRUE(pagerduty_.wait_for(1, 20s));
  ASSERT_TRUE(opsgenie_.wait_for(1, 20s));
  set_state(run, "COMPLETED", true);  // a forced recovery, as after a manual fix
  ASSERT_TRUE(pagerduty_.wait_for(2, 20s));
  ASSERT_TRUE(opsgenie_.wait_for(2, 20s));
  ASSERT_TRUE(wait_until([&] { return outbox_settled(5); }, 20s)) << outbox().dump(1);

  const auto resolve = json::parse(pagerduty_.requests().at(1).body);
  EXPECT_EQ(resolve["event_action"], "resolve");
  EXPECT_EQ(resolve["dedup_key"], "osprey/pages/" + run);
  EXPECT_EQ(resolve["routing_key"], pd_key);
  const auto close = opsgenie_.requests().at(1);
  EXPECT_EQ(close.target.rfind("/v2/alerts/", 0), 0u) << close.target;
  EXPECT_NE(close.target.find("/close?identifierType=alias"), std::string::npos) << close.target;
  // Slack cannot resolve and the policy does not ask for recovery messages: one message only.
  EXPECT_EQ(slack_.count(), 1u);
}

/// The value of `field` in a form-encoded body, percent-decoded.
std::string form_field(const std::string& body, const std::string& field) {
  auto at = body.find(field + "=");
  if (at == std::string::npos) return {};
  at += field.size() + 1;
  const auto end = body.find('&', at);
  const auto raw = body.substr(at, end == std::string::npos ? std::string::npos : end - at);
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%' && i + 2 < raw.size()) {
      out += static_cast<char>(std::stoi(raw.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += raw[i] == '+' ? ' ' : raw[i];
    }
  }
  return out;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// Regression: recovery messages to Slack, Teams, SMTP and Twilio were titled "Recovered: Resolved: ...".
TEST_P(NotificationDelivery, RecoveryMessagesToChatMailAndSmsAreTitledRecoveredOnce) {
  teams_.set_default({202, {}, ""});
  twilio_.set_default({201, {}, R"({"sid":"SM1","status":"queued"})"});
  start(
      config("    - name: recoveries\n"
             "      match: {state_types: [FAILED]}\n"
             "      send_resolved: true\n"
             "      channels: [slack-ops, teams-ops, sms, mail]\n"));
  const auto run = failing_run({});
  for (auto* r : {&slack_, &teams_, &twilio_}) ASSERT_TRUE(r->wait_for(1, 20s));
  ASSERT_TRUE(smtp_.wait_for(1, 20s));
  set_state(run, "COMPLETED", true);
  for (auto* r : {&slack_, &teams_, &twilio_}) ASSERT_TRUE(r->wait_for(2, 20s));
  ASSERT_TRUE(smtp_.wait_for(2, 20s));
  ASSERT_TRUE(wait_until([&] { return outbox_settled(8); }, 20s)) << outbox().dump(1);

  const std::string failed = "Flow run etl/odd-bee entered state Failed";
  const std::string recovered = "Recovered: Flow run etl/odd-bee entered state Completed";
  const std::string url = "http://127.0.0.1:4200/flow-runs/flow-run/" + run;
  const auto slack = slack_.requests();
  EXPECT_EQ(first_line(json::parse(slack.at(0).body)["text"]), failed);
  EXPECT_EQ(first_line(json::parse(slack.at(1).body)["text"]), recovered);
  const auto teams = teams_.requests();
  const auto card_title = [](const std::string& body) {
    return json::parse(body)["attachments"][0]["content"]["body"][0]["text"].get<std::string>();
  };
  EXPECT_EQ(card_title(teams.at(0).body), failed);
  EXPECT_EQ(card_title(teams.at(1).body), recovered);
  const auto sms = twilio_.requests();
  EXPECT_EQ(form_field(sms.at(0).body, "Body"), failed + " " + url);
  EXPECT_EQ(form_field(sms.at(1).body, "Body"), recovered + " " + url);
  const auto mails = smtp_.mails();
  EXPECT_NE(mails.at(0).data.find("\r\nSubject: " + failed + "\r\n"), std::string::npos) << mails.at(0).data;
  EXPECT_NE(mails.at(1).data.find("\r\nSubject: " + recovered + "\r\n"), std::string::npos) << mails.at(1).data;
}

TEST_P(NotificationDelivery, RetriesHonourRetryAfterAndPermanentFailuresGoToDeadLetters) {
  pagerduty_.script({429, {{"Retry-After", "1"}}, R"({"status":"throttled"})"});
  pagerduty_.script({500, {}, "upstream error"});
  pagerduty_.set_default({202, {}, R"({"status":"success"})"});
  slack_.set_default({404, {}, "no_service"});
  start(
      config("    - name: p\n"
             "      match: {state_names: [Failed]}\n"
             "      channels: [pager, slack-ops]\n"));
  failing_run({});
  ASSERT_TRUE(pagerduty_.wait_for(3, 30s));
  ASSERT_TRUE(wait_until([&] { return outbox_settled(2); }, 30s)) << outbox().dump(1);

  const auto requests = pagerduty_.requests();
  // Retry-After: 1 is honoured: the second attempt comes at least a second after the first.
  EXPECT_GE(requests[1].received - requests[0].received, 1s);
  EXPECT_EQ(requests[0].body, requests[2].body);  // the same event, the same dedup key
  for (const auto& job : outbox()) {
    if (job["channel_name"] == "pager") {
      EXPECT_EQ(job["status"], "delivered");
      EXPECT_EQ(job["attempts"], 3);
    } else {
      EXPECT_EQ(job["status"], "dead");
      EXPECT_EQ(job["attempts"], 1);
      EXPECT_NE(job["last_error"].get<std::string>().find("404"), std::string::npos) << job;
    }
  }
  EXPECT_EQ(slack_.count(), 1u);  // a 404 is permanent: never retried
  EXPECT_EQ(outbox("dead").size(), 1u);
  expect_no_secret_in(daemon_->output());
  expect_no_secret_in(outbox().dump());
}

TEST_P(NotificationDelivery, AChannelWhoseHostResolvesToAPrivateAddressIsRefusedAndDeadLettered) {
  start(
      config("    - name: p\n"
             "      match: {state_names: [Failed]}\n"
             "      channels: [inside, slack-ops]\n"));
  failing_run({});
  ASSERT_TRUE(wait_until([&] { return outbox_settled(2); }, 30s)) << outbox().dump(1);

  for (const auto& job : outbox()) {
    if (job["channel_name"] == "inside") {
      EXPECT_EQ(job["status"], "dead") << job;
      EXPECT_EQ(job["attempts"], 1) << job;  // refusing again cannot help: no retries
      const auto error = job["last_error"].get<std::string>();
      EXPECT_NE(error.find("127.0.0.1"), std::string::npos) << job;
      EXPECT_NE(error.find("allow_private_network"), std::string::npos) << job;
    } else {
      EXPECT_EQ(job["status"], "delivered") << job;
    }
  }
  ASSERT_EQ(slack_.count(), 1u);  // only slack-ops's request reached the receiver
  EXPECT_EQ(slack_.requests().at(0).target.find("INSIDE"), std::string::npos);
}

TEST_P(NotificationDelivery, ASendgridChannelSendsOneMailPerRecipient) {
  http_receiver sendgrid;
  sendgrid.set_default({202, {}, "", 0ms});
  const auto path = home_.path() / "sendgrid.yaml";
  std::ofstream(path) << "notifications:\n"
                         "  channels:\n"
                         "    - {name: mail, type: sendgrid, allow_private_network: true, api_key: SG.SENDGRIDKEY9,\n"
                         "       from: osprey@example.com, to: [oncall@example.com, lead@example.com], api_url: \""
                      << sendgrid.base_url()
                      << "\"}\n"
                         "  policies:\n"
                         "    - {name: mail-failures, match: {state_names: [Failed]}, channels: [mail]}\n";
  start(path.string());
  failing_run({});
  ASSERT_TRUE(sendgrid.wait_for(2, 20s));
  std::set<std::string> to;
  for (const auto& r : sendgrid.requests()) {
    EXPECT_EQ(r.target, "/v3/mail/send");
    EXPECT_EQ(r.headers.at("authorization"), "Bearer SG.SENDGRIDKEY9");
    const auto body = json::parse(r.body);
    EXPECT_EQ(body["from"]["email"], "osprey@example.com");
    EXPECT_EQ(body["subject"], "Flow run etl/odd-bee entered state Failed");
    to.insert(body["personalizations"][0]["to"][0]["email"].get<std::string>());
  }
  EXPECT_EQ(to, (std::set<std::string>{"oncall@example.com", "lead@example.com"}));
  ASSERT_TRUE(wait_until([&] { return outbox_settled(1); }, 20s)) << outbox().dump(1);
}

TEST_P(NotificationDelivery, JobsPendingWhenTheServerIsKilledAreDeliveredAfterRestart) {
  // Every answer takes 3 s, so deliveries are in flight when the daemon is killed.
  pagerduty_.set_default({202, {}, R"({"status":"success"})", 3000ms});
  const auto cfg = config(
      "    - name: crash\n"
      "      match: {state_names: [Failed]}\n"
      "      channels: [pager]\n");
  start(cfg);
  std::set<std::string> expected;
  for (int i = 0; i < 20; ++i) expected.insert("osprey/crash/" + failing_run({}));
  ASSERT_TRUE(pagerduty_.wait_for(1, 20s));  // at least one request is in flight
  daemon_->send_signal(SIGKILL);
  daemon_->wait_exit(10s);
  daemon_.reset();

  pagerduty_.set_default({202, {}, R"({"status":"success"})"});
  start(cfg);
  ASSERT_TRUE(wait_until([&] { return outbox_settled(20); }, 60s)) << outbox().dump(1);
  for (const auto& job : outbox()) EXPECT_EQ(job["status"], "delivered") << job;
  std::set<std::string> received;
  for (const auto& r : pagerduty_.requests()) received.insert(json::parse(r.body)["dedup_key"].get<std::string>());
  EXPECT_EQ(received, expected);  // none lost; repeats carry the same dedup key, so PagerDuty folds them
}

INSTANTIATE_TEST_SUITE_P(D, NotificationDelivery, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

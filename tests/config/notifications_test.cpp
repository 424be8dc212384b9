// The `notifications:` section: channels, policies, `file:`, secrets, and errors that never leak a secret.

#include "tests/config/fixture.hpp"

#include <sstream>

namespace osprey::config::test {
namespace {

using namespace std::chrono_literals;

/// The example from the operator docs; every secret comes from the environment.
const std::string example = R"(notifications:
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
      message_template: "Flow run {flow_name}/{flow_run_name} entered state {flow_run_state_name}"  # optional
)";

/// Recognisable values for every secret variable of `example`.
const std::map<std::string, std::string> example_secrets = {
    {"SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/SLACKSECRET1"},
    {"TEAMS_WORKFLOW_URL", "https://prod.logic.azure.com/workflows/TEAMSSECRET2"},
    {"PD_ROUTING_KEY", "PDSECRET3"},
    {"OPSGENIE_KEY", "GENIESECRET4"},
    {"TWILIO_SID", "AC0123456789"},
    {"TWILIO_TOKEN", "TWILIOSECRET5"},
    {"SMTP_PASSWORD", "SMTPSECRET6"},
};

class notifications_test : public config_test {
 protected:
  void SetUp() override {
    config_test::SetUp();
    for (const auto& [name, value] : example_secrets) request.environment[name] = value;
  }

  /// Loads `yaml` (the body under `notifications:`, indented by the caller) expecting errors.
  std::vector<std::string> errors_of(const std::string& yaml) {
    path = use_file(yaml);
    return load_errors();
  }

  std::string path;
};

TEST_F(notifications_test, the_documented_example_loads) {
  use_file(example);
  const auto n = load_ok().values.notifications;
  ASSERT_EQ(n.channels.size(), 6u);
  EXPECT_TRUE(n.enabled);
  EXPECT_EQ(n.file, *request.config_file);

  const auto& slack = *n.find_channel("slack-ops");
  EXPECT_EQ(slack.type, channel_type::slack);
  EXPECT_EQ(slack.url, "https://hooks.slack.com/services/SLACKSECRET1");
  EXPECT_EQ(slack.where, *request.config_file + ":3");
  EXPECT_EQ(slack.limit.per_second, 1);
  EXPECT_EQ(slack.limit.burst, 3u);
  EXPECT_EQ(slack.timeout, 10s);

  EXPECT_EQ(n.find_channel("teams-ops")->payload, "envelope");
  EXPECT_EQ(n.find_channel("pager")->routing_key, "PDSECRET3");
  EXPECT_EQ(n.find_channel("pager")->limit.burst, 10u);
  EXPECT_EQ(n.find_channel("genie")->api_key, "GENIESECRET4");
  EXPECT_EQ(n.find_channel("genie")->region, "us");

  const auto& sms = *n.find_channel("sms");
  EXPECT_EQ(sms.account_sid, "AC0123456789");
  EXPECT_EQ(sms.auth_token, "TWILIOSECRET5");
  EXPECT_EQ(sms.from, "+15005550006");
  EXPECT_EQ(sms.to, std::vector<std::string>{"+15551234567"});

  const auto& mail = *n.find_channel("mail");
  EXPECT_EQ(mail.host, "smtp.example.com");
  EXPECT_EQ(mail.port, 587);
  EXPECT_EQ(mail.tls, smtp_tls::starttls);
  EXPECT_EQ(mail.username, "alerts");
  EXPECT_EQ(mail.password, "SMTPSECRET6");
  EXPECT_EQ(mail.to, std::vector<std::string>{"oncall@example.com"});
  EXPECT_EQ(mail.secrets(), std::vector<std::string>{"SMTPSECRET6"});

  ASSERT_EQ(n.policies.size(), 1u);
  const auto& p = n.policies[0];
  EXPECT_EQ(p.name, "prod-failures");
  EXPECT_EQ(p.source, "file");
  EXPECT_TRUE(p.is_active);
  EXPECT_EQ(p.match.state_names, (std::vector<std::string>{"Failed", "Crashed"}));
  EXPECT_EQ(p.match.tags_any, std::vector<std::string>{"prod"});
  EXPECT_EQ(p.channels, (std::vector<std::string>{"slack-ops", "pager", "mail"}));
  EXPECT_EQ(p.message_template, "Flow run {flow_name}/{flow_run_name} entered state {flow_run_state_name}");
  EXPECT_EQ(p.resolve_on, std::vector<std::string>{"Completed"});
  EXPECT_EQ(p.scope, dedup_scope::flow_run);
  EXPECT_EQ(n.find_channel("nope"), nullptr);
}

TEST_F(notifications_test, no_section_means_defaults) {
  const auto n = load_ok().values.notifications;
  EXPECT_TRUE(n.enabled);
  EXPECT_TRUE(n.channels.empty());
  EXPECT_EQ(n.retry.initial, 1s);
  EXPECT_EQ(n.file, "");
}

TEST_F(notifications_test, every_optional_key) {
  use_file(R"(notifications:
  enabled: false
  ui_url: https://prefect.example.com/
  retry: {initial: 250ms, max: 5m, max_age: 1d}
  channels:
    - name: pd
      type: pagerduty
      routing_key: k
      region: EU
      api_url: http://127.0.0.1:9000
      allow_private_network: yes
      severity: {Crashed: critical, default: Warning}
      rate_limit: {per_minute: 30, burst: 2}
      timeout: 3
    - name: og
      type: opsgenie
      api_key: k
      priority: {Failed: p2}
      responders: [{type: team, name: data}]
      tags: [prefect, etl]
    - {name: t, type: teams, url: "https://x.example/hook", payload: raw_card}
    - {name: m, type: smtp, host: localhost, allow_private_network: true, tls: none, from: a@b, to: [c@d], ca_file: /etc/ca.pem}
    - {name: m2, type: smtp, host: mail.example.com, tls: implicit, from: a@b, to: [c@d]}
  policies:
    - name: all
      enabled: no
      match: {state_types: [failed, Crashed], tags_none: [quiet], flows: ["etl-*"], deployments: ["*/prod"]}
      channels: [pd, og]
      resolve_on: []
      dedup_scope: deployment
      send_resolved: true
      group_wait: 30s
)");
  const auto n = load_ok().values.notifications;
  EXPECT_FALSE(n.enabled);
  EXPECT_EQ(n.ui_url, "https://prefect.example.com/");
  EXPECT_EQ(n.retry.initial, 250ms);
  EXPECT_EQ(n.retry.max, 5min);
  EXPECT_EQ(n.retry.max_age, 24h);
  const auto& pd = *n.find_channel("pd");
  EXPECT_EQ(pd.region, "eu");
  EXPECT_EQ(pd.api_url, "http://127.0.0.1:9000");
  EXPECT_TRUE(pd.allow_private_network);
  EXPECT_FALSE(n.find_channel("og")->allow_private_network);
  using per_state = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(pd.severity, (per_state{{"Crashed", "critical"}, {"default", "warning"}}));
  EXPECT_DOUBLE_EQ(pd.limit.per_second, 0.5);
  EXPECT_EQ(pd.limit.burst, 2u);
  EXPECT_EQ(pd.timeout, 3s);
  const auto& og = *n.find_channel("og");
  EXPECT_EQ(og.priority, (per_state{{"Failed", "P2"}}));
  ASSERT_EQ(og.responders.size(), 1u);
  EXPECT_EQ(og.responders[0].type, "team");
  EXPECT_EQ(og.responders[0].name, "data");
  EXPECT_EQ(og.tags, (std::vector<std::string>{"prefect", "etl"}));
  EXPECT_EQ(n.find_channel("t")->payload, "raw_card");
  EXPECT_EQ(n.find_channel("m")->tls, smtp_tls::none);
  EXPECT_EQ(n.find_channel("m")->port, 25);
  EXPECT_EQ(n.find_channel("m")->ca_file, "/etc/ca.pem");
  EXPECT_EQ(n.find_channel("m2")->port, 465);
  const auto& p = n.policies.at(0);
  EXPECT_FALSE(p.is_active);
  EXPECT_EQ(p.match.state_types, (std::vector<std::string>{"FAILED", "CRASHED"}));
  EXPECT_EQ(p.match.tags_none, std::vector<std::string>{"quiet"});
  EXPECT_TRUE(p.resolve_on.empty());
  EXPECT_EQ(p.scope, dedup_scope::deployment);
  EXPECT_TRUE(p.send_resolved);
  EXPECT_EQ(p.group_wait, 30s);
  EXPECT_FALSE(p.message_template.has_value());
}

TEST_F(notifications_test, section_from_another_file_with_or_without_the_wrapper) {
  for (const std::string prefix : {"notifications:\n", ""}) {
    const std::string indent = prefix.empty() ? "" : "  ";
    write("conf.d/notify.yaml", prefix + indent + "channels:\n" + indent +
                                    "  - {name: s, type: slack, url: https://h.example/x}\n" + indent + "policies:\n" +
                                    indent + "  - {name: p, channels: [s]}\n");
    use_file("notifications:\n  file: conf.d/notify.yaml\n");
    const auto n = load_ok().values.notifications;
    ASSERT_EQ(n.channels.size(), 1u) << prefix;
    EXPECT_EQ(n.policies.at(0).channels, std::vector<std::string>{"s"});
    EXPECT_EQ(n.file, (dir / "conf.d/notify.yaml").string());
    EXPECT_EQ(n.channels[0].where, (dir / "conf.d/notify.yaml").string() + ":" + (prefix.empty() ? "2" : "3"));
  }
}

TEST_F(notifications_test, errors_in_another_file_name_that_file_and_line) {
  const auto other = write("notify.yaml", "channels:\n  - {name: s, type: slak}\n");
  const auto errors = errors_of("notifications:\n  file: notify.yaml\n");
  EXPECT_TRUE(has_error(errors, other + ":2: notifications.channels[0].type: unknown channel type 'slak'"));
}

TEST_F(notifications_test, file_problems) {
  EXPECT_TRUE(has_error(errors_of("notifications:\n  file: absent.yaml\n"),
                        ":2: notifications.file: cannot read notifications file '" + (dir / "absent.yaml").string()));
  EXPECT_TRUE(has_error(errors_of("notifications:\n  file: x.yaml\n  enabled: true\n"),
                        ":3: notifications.enabled: with file:, the whole section comes from that file"));
  const auto nested = write("n.yaml", "file: other.yaml\n");
  EXPECT_TRUE(has_error(errors_of("notifications:\n  file: n.yaml\n"),
                        nested + ":1: notifications.file: file: may only appear in the main config file"));
  const auto broken = write("b.yaml", "channels: [\n");
  EXPECT_TRUE(has_error(errors_of("notifications:\n  file: b.yaml\n"), broken + ":2: invalid YAML"));
}

TEST_F(notifications_test, secrets_from_files) {
  write("secrets/pd", "PDFROMFILE\n");
  write("secrets/hook", "https://hooks.example/FROMFILE\r\n");
  use_file(R"(notifications:
  channels:
    - {name: pd, type: pagerduty, routing_key_file: secrets/pd}
    - {name: s, type: slack, url_file: )" +
           (dir / "secrets/hook").string() + R"(}
)");
  const auto n = load_ok().values.notifications;
  EXPECT_EQ(n.find_channel("pd")->routing_key, "PDFROMFILE");
  EXPECT_EQ(n.find_channel("s")->url, "https://hooks.example/FROMFILE");
}

TEST_F(notifications_test, secret_file_errors) {
  const auto errors = errors_of(R"(notifications:
  channels:
    - {name: pd, type: pagerduty, routing_key_file: /nonexistent/pd-key}
    - {name: og, type: opsgenie, api_key: x, api_key_file: /nonexistent/og}
    - {name: s, type: slack, url: "${UNSET_HOOK}"}
)");
  EXPECT_TRUE(has_error(errors,
                        ":3: notifications.channels[0].routing_key_file: cannot read secret file "
                        "'/nonexistent/pd-key'"));
  EXPECT_TRUE(has_error(errors, ":4: notifications.channels[1].api_key_file: give either api_key or api_key_file"));
  EXPECT_TRUE(has_error(errors, ":5: notifications.channels[2].url: environment variable UNSET_HOOK is not set"));
}

/// A broken snippet and part of the error it must produce (with file:line and key).
struct bad_case {
  const char* yaml;
  const char* error;
};

TEST_F(notifications_test, section_mistakes) {
  const bad_case cases[] = {
      {"  chanels: []\n",
       ":2: notifications.chanels: unknown key for the notifications section (expected one of "
       "automations, blocks_allow_private_network, channels, enabled, file, policies, retry, ui_url)"},
      {"  channels: {a: 1}\n", ":2: notifications.channels: expected a list of channels"},
      {"  enabled: perhaps\n", ":2: notifications.enabled: expected a boolean"},
      {"  ui_url: prefect.example.com\n", ":2: notifications.ui_url: expected the Prefect UI's address"},
      {"  retry: {initial: 5x}\n", ":2: notifications.retry.initial: expected a duration like 250ms, 30s"},
      {"  retry: {initial: 10s, max: 1s}\n", ":2: notifications.retry.max: max must be at least initial"},
      {"  channels:\n"
       "    - {name: a, type: slack, url: https://h.example}\n"
       "    - {name: a, type: slack, url: https://h.example}\n",
       ":4: notifications.channels[1].name: duplicate channel name 'a' (first defined at "},
      {"  policies:\n    - {name: p, channels: [x]}\n    - {name: p, channels: [x]}\n",
       ":4: notifications.policies[1].name: duplicate policy name 'p'"},
      {"  policies: {name: p}\n", ":2: notifications.policies: expected a list of policies"},
  };
  for (const auto& c : cases) {
    EXPECT_TRUE(has_error(errors_of(std::string("notifications:\n") + c.yaml), path + c.error)) << c.yaml;
  }
}

// Each case is the one item of `channels:`, on line 3; errors name notifications.channels[0]...
TEST_F(notifications_test, channel_mistakes) {
  const bad_case cases[] = {
      {"{name: a, type: slack, url: https://h.example, routing_key: k}",
       ".routing_key: unknown key for a slack channel (expected one of allow_private_network, name, rate_limit, "
       "timeout, type, url, url_file)"},
      {"{name: a, type: fax}",
       ".type: unknown channel type 'fax' (expected one of slack, teams, pagerduty, opsgenie, twilio, smtp, sendgrid)"},
      {"{type: slack, url: https://h.example}", ".name: a channel needs a name"},
      {"{name: a}", ".type: a channel needs type"},
      {"{name: a, type: slack}", ".url: a slack channel needs url (the Slack incoming-webhook URL, or url_file"},
      {"{name: a, type: teams}", ".url: a teams channel needs url"},
      {"{name: a, type: pagerduty}", ".routing_key: a pagerduty channel needs routing_key"},
      {"{name: a, type: opsgenie}", ".api_key: an opsgenie channel needs api_key"},
      {"{name: a, type: twilio, auth_token: t, from: '+15005550006', to: ['+15551234567']}",
       ".account_sid: a twilio channel needs account_sid"},
      {"{name: a, type: twilio, account_sid: AC1, from: '+15005550006', to: ['+15551234567']}",
       ".auth_token: a twilio channel needs auth_token"},
      {"{name: a, type: twilio, account_sid: AC1, auth_token: t, to: ['+15551234567']}",
       ".from: a twilio channel needs from"},
      {"{name: a, type: twilio, account_sid: AC1, auth_token: t, from: '+15005550006', to: []}",
       ".to: a twilio channel needs to"},
      {"{name: a, type: twilio, account_sid: AC1, auth_token: t, from: '+15005550006', to: [5551234]}",
       ".to[0]: expected an E.164 phone number like +15551234567, got '5551234'"},
      {"{name: a, type: smtp, from: a@b, to: [c@d]}", ".host: an smtp channel needs host"},
      {"{name: a, type: smtp, host: h, to: [c@d]}", ".from: an smtp channel needs from"},
      {"{name: a, type: smtp, host: h, from: a@b}", ".to: an smtp channel needs to"},
      {"{name: a, type: smtp, host: mail.example.com, tls: none, from: a@b, to: [c@d]}",
       ".tls: tls: none sends mail and password in clear text; it is allowed only when host is 127.0.0.1, ::1 or "
       "localhost"},
      {"{name: a, type: smtp, host: h, port: 0, from: a@b, to: [c@d]}",
       ".port: expected an integer between 1 and 65535, got '0'"},
      {"{name: a, type: slack, url: ftp://h.example}", ".url: expected an https:// URL"},
      {"{name: a, type: slack, url: http://hooks.example}",
       ".url: plain http:// is allowed only for loopback hosts (127.0.0.1, [::1], localhost)"},
      {"{name: a, type: pagerduty, routing_key: k, api_url: http://pd.example}",
       ".api_url: plain http:// is allowed only for loopback hosts"},
      {"{name: a, type: slack, url: http://127.0.0.1:9/hook}",
       ".url: the host is a loopback address; Osprey sends notifications only to public addresses unless the "
       "channel sets allow_private_network: true"},
      {"{name: a, type: teams, url: 'https://[fd00::1]/hook'}", ".url: the host is a unique-local address"},
      {"{name: a, type: pagerduty, routing_key: k, api_url: 'https://169.254.169.254/'}",
       ".api_url: the host is a link-local address"},
      {"{name: a, type: smtp, host: 192.168.1.5, from: a@b, to: [c@d]}", ".host: the host is a private address"},
      {"{name: a, type: smtp, host: localhost, tls: none, from: a@b, to: [c@d]}", ".host: the host is a loopback"},
      {"{name: a, type: slack, url: https://h.example, allow_private_network: maybe}",
       ".allow_private_network: expected a boolean"},
      {"{name: a, type: opsgenie, api_key: k, region: asia}", ".region: expected one of us, eu, got 'asia'"},
      {"{name: a, type: pagerduty, routing_key: k, severity: {Failed: urgent}}",
       ".severity.Failed: expected one of critical, error, warning, info, got 'urgent'"},
      {"{name: a, type: opsgenie, api_key: k, priority: {Failed: P9}}",
       ".priority.Failed: expected one of P1, P2, P3, P4, P5, got 'P9'"},
      {"{name: a, type: opsgenie, api_key: k, responders: [{type: team}]}", ".responders[0]: a responder needs type"},
      {"{name: a, type: slack, url: https://h.example, rate_limit: {per_second: 0}}",
       ".rate_limit.per_second: expected a number greater than 0, got '0'"},
      {"{name: a, type: slack, url: https://h.example, rate_limit: {per_minute: -1}}",
       ".rate_limit.per_minute: expected a number greater than 0"},
      {"{name: a, type: slack, url: https://h.example, rate_limit: {burst: 0}}",
       ".rate_limit.burst: expected an integer between 1 and"},
      {"{name: a, type: teams, url: https://h.example, payload: card}", ".payload: expected one of envelope, raw_card"},
  };
  for (const auto& c : cases) {
    const auto errors = errors_of(std::string("notifications:\n  channels:\n    - ") + c.yaml + "\n");
    EXPECT_TRUE(has_error(errors, path + ":3: notifications.channels[0]" + c.error)) << c.yaml;
  }
}

// Each case is the one item of `policies:`, on line 3; errors name notifications.policies[0]...
TEST_F(notifications_test, policy_mistakes) {
  const bad_case cases[] = {
      {"{name: p, channels: [ghost]}", ".channels[0]: no channel named 'ghost' (no channels are defined)"},
      {"{name: p}", ".channels: a policy needs at least one channel"},
      {"{name: p, channels: []}", ".channels: a policy needs at least one channel"},
      {"{channels: [x]}", ".name: a policy needs a name"},
      {"{name: p, chanels: [x]}", ".chanels: unknown key for a policy"},
      {"{name: p, channels: [x], match: {states: [Failed]}}",
       ".match.states: unknown key for match (expected one of deployments, flows, state_names, state_types, "
       "tags_any, tags_none)"},
      {"{name: p, channels: [x], match: {state_types: [FAILED, Broken]}}",
       ".match.state_types[1]: unknown state type 'BROKEN' (expected one of SCHEDULED, PENDING, RUNNING, COMPLETED, "
       "FAILED, CANCELLED, CRASHED, PAUSED, CANCELLING)"},
      {"{name: p, channels: [x], message_template: '{flow} failed'}",
       ".message_template: unknown placeholder '{flow}' (allowed: deployment_id,"},
      {"{name: p, channels: [x], dedup_scope: flow}", ".dedup_scope: expected one of flow_run, deployment"},
      {"{name: p, channels: [x], group_wait: soon}", ".group_wait: expected a duration"},
  };
  for (const auto& c : cases) {
    const auto errors = errors_of(std::string("notifications:\n  policies:\n    - ") + c.yaml + "\n");
    EXPECT_TRUE(has_error(errors, path + ":3: notifications.policies[0]" + c.error)) << c.yaml;
  }
}

TEST_F(notifications_test, all_errors_are_collected_at_once) {
  const auto errors = errors_of(R"(notifications:
  channels:
    - {name: a, type: slack}
    - {name: b, type: pagerduty, region: mars}
  policies:
    - {name: p, channels: [a, c]}
server:
  port: nope
)");
  EXPECT_TRUE(has_error(errors, ":3: notifications.channels[0].url"));
  EXPECT_TRUE(has_error(errors, ":4: notifications.channels[1].routing_key"));
  EXPECT_TRUE(has_error(errors, ":4: notifications.channels[1].region"));
  EXPECT_TRUE(has_error(errors, ":6: notifications.policies[0].channels[1]: no channel named 'c' (defined: a, b)"));
  EXPECT_TRUE(has_error(errors, ":8: server.port"));
  EXPECT_EQ(errors.size(), 5u);
}

TEST_F(notifications_test, secrets_never_appear_in_errors) {
  // Every secret field holds a recognisable value, and every channel has some other mistake.
  request.environment["SLACK_WEBHOOK_URL"] = "http://hooks.example/SLACKSECRET1";  // plain http: an error
  request.environment["TEAMS_WORKFLOW_URL"] = "ftp://teams.example/TEAMSSECRET2";  // not http(s)
  write("pd-key", "PDSECRET3\n");
  const auto errors = errors_of(R"(notifications:
  channels:
    - {name: slack-ops, type: slack, url: "${SLACK_WEBHOOK_URL}", colour: red}
    - {name: teams-ops, type: teams, url: "${TEAMS_WORKFLOW_URL}", payload: x}
    - {name: pager, type: pagerduty, routing_key_file: pd-key, region: mars}
    - {name: pager2, type: pagerduty, routing_key: PDSECRET3, routing_key_file: pd-key}
    - {name: genie, type: opsgenie, api_key: "${OPSGENIE_KEY}", region: mars}
    - {name: genie2, type: opsgenie, api_key: "GENIE${UNSET}SECRET4${bad name}"}
    - {name: sms, type: twilio, account_sid: "${TWILIO_SID}", auth_token: "${TWILIO_TOKEN}", from: x, to: []}
    - {name: mail, type: smtp, host: smtp.example.com, tls: none, password: "${SMTP_PASSWORD}", from: a@b, to: [c@d]}
    - {name: mail2, type: smtp, password: [SMTPSECRET6], from: a@b, to: [c@d]}
)");
  EXPECT_GE(errors.size(), 10u);
  for (const auto& error : errors) {
    for (const auto& secret :
         {"SLACKSECRET1", "TEAMSSECRET2", "PDSECRET3", "GENIESECRET4", "TWILIOSECRET5", "SMTPSECRET6"}) {
      EXPECT_FALSE(contains(error, secret)) << error;
    }
  }
}

TEST_F(notifications_test, view_lists_channels_and_policies_without_secrets) {
  use_file(example);
  const auto loaded = load_ok();
  const auto view = render_view(loaded);
  for (const auto& [name, value] : example_secrets) {
    if (name == "TWILIO_SID") continue;  // an account id, not a secret
    EXPECT_FALSE(contains(view, value)) << name;
  }
  for (const auto& channel : loaded.values.notifications.channels) {
    for (const auto& secret : channel.secrets()) EXPECT_FALSE(contains(view, secret));
  }
  EXPECT_TRUE(contains(view, "notifications.channels.slack-ops"));
  EXPECT_TRUE(contains(view, "= slack url=<secret>"));
  EXPECT_TRUE(contains(view, "= pagerduty region=us routing_key=<secret>"));
  EXPECT_TRUE(contains(view, "smtp host=smtp.example.com port=587 tls=starttls username=alerts password=<secret>"));
  EXPECT_TRUE(contains(view, "auth_token=<secret> from=+15005550006 to=[+15551234567]"));
  EXPECT_TRUE(contains(view, "notifications.policies.prod-failures"));
  EXPECT_TRUE(contains(view, "match state_names=[Failed, Crashed] tags_any=[prod]; channels [slack-ops, pager, mail]"));
  EXPECT_TRUE(contains(view, "# " + *request.config_file + ":3"));
}

TEST(notification_settings, redact_secrets_replaces_every_secret) {
  notification_settings n;
  n.channels.resize(2);
  n.channels[0].url = "https://hooks.example/T0/B0/XYZ";
  n.channels[1].routing_key = "XYZ";
  EXPECT_EQ(redact_secrets(n, "posting to https://hooks.example/T0/B0/XYZ failed; key XYZ, XYZ"),
            "posting to <secret> failed; key <secret>, <secret>");
  EXPECT_EQ(redact_secrets(n, "nothing here"), "nothing here");
}

TEST(notification_settings, channel_type_names) {
  EXPECT_STREQ(to_string(channel_type::pagerduty), "pagerduty");
  EXPECT_STREQ(to_string(channel_type::smtp), "smtp");
}

}  // namespace
}  // namespace osprey::config::test

namespace osprey::config::test {
namespace {

TEST_F(notifications_test, automations_are_read_as_the_api_reads_them_with_ids_from_their_names) {
  use_file(R"(notifications:
  automations:
    - name: rerun-reports
      description: run the reports again when the nightly load fails
      trigger:
        type: event
        match: {prefect.resource.id: "prefect.flow-run.*"}
        expect: [prefect.flow-run.Failed]
        for_each: [prefect.resource.id]
        posture: Reactive
        threshold: 1
        within: 0
      actions:
        - {type: run-deployment, source: selected, deployment_id: "6f1b2c3d-0000-4000-8000-000000000002",
           parameters: {attempt: "2", n: 2}}
)");
  const auto n = load_ok().values.notifications;
  ASSERT_EQ(n.automations.size(), 1u);
  const auto& a = n.automations[0];
  EXPECT_EQ(a.name, "rerun-reports");
  EXPECT_TRUE(declared_in_config_file(a));
  EXPECT_EQ(a.trigger["expect"], nlohmann::json::array({"prefect.flow-run.Failed"}));
  EXPECT_EQ(a.trigger["threshold"], 1);
  EXPECT_EQ(a.actions[0]["parameters"], nlohmann::json({{"attempt", "2"}, {"n", 2}}));  // quoted stays a string
  // Loaded again (a restart): the same ids, so the stored automation and its trigger state are found again.
  const auto again = load_ok().values.notifications.automations.at(0);
  EXPECT_EQ(again.id, a.id);
  EXPECT_EQ(again.trigger["id"], a.trigger["id"]);
}

TEST_F(notifications_test, a_refused_automation_names_its_field_and_line) {
  const auto errors = errors_of(R"(notifications:
  automations:
    - name: broken
      trigger: {type: event, posture: Sideways}
      actions: []
    - name: twice
      trigger: {type: event, posture: Reactive}
      actions: []
    - name: twice
      trigger: {type: event, posture: Reactive}
      actions: []
)");
  EXPECT_TRUE(has_error(errors,
                        ":3: notifications.automations[0].trigger.EventTrigger.posture: Input should be "
                        "Posture.Reactive or Posture.Proactive"));
  EXPECT_TRUE(has_error(errors, ":9: notifications.automations[2].name: duplicate automation name 'twice'"));
}

}  // namespace
}  // namespace osprey::config::test

namespace osprey::config::test {
namespace {

TEST_F(notifications_test, a_sendgrid_channel_needs_a_key_a_sender_and_recipients) {
  use_file(R"(notifications:
  channels:
    - {name: mail, type: sendgrid, api_key: "${SG_KEY}", from: osprey@example.com, to: [oncall@example.com]}
)");
  request.environment["SG_KEY"] = "SG.KEYSECRET7";
  const auto n = load_ok().values.notifications;
  const auto& mail = *n.find_channel("mail");
  EXPECT_EQ(mail.type, channel_type::sendgrid);
  EXPECT_EQ(mail.api_key, "SG.KEYSECRET7");
  EXPECT_EQ(mail.secrets(), std::vector<std::string>{"SG.KEYSECRET7"});
  const auto errors = errors_of(R"(notifications:
  channels:
    - {name: mail, type: sendgrid, from: nobody, to: [x]}
)");
  EXPECT_TRUE(has_error(errors, ".api_key: a sendgrid channel needs api_key"));
  EXPECT_TRUE(has_error(errors, ".from: expected the verified sender's e-mail address, got 'nobody'"));
  EXPECT_TRUE(has_error(errors, ".to[0]: expected an e-mail address, got 'x'"));
}

}  // namespace
}  // namespace osprey::config::test

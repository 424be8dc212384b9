#pragma once
// The fixed inputs of the notifier tests: one channel per backend with fake secrets, and notifications
// for a Failed run (trigger), its Completed recovery (resolve), a test, and a Crashed run. Everything is
// constant, so the requests built from them are byte-for-byte stable.

#include <string>
#include <vector>

#include "domain/time.hpp"
#include "notifiers/notifier.hpp"

namespace osprey::notifiers::fixtures {

// Fake secrets: distinctive, so a leak test can look for them (and for pieces of them).
inline const std::string slack_url = "https://hooks.slack.com/services/T0000SLACK/B0000SLACK/SLACKSECRET0000000000001";
inline const std::string teams_url =
    "https://prod-00.westeurope.logic.azure.com:443/workflows/0123456789abcdef0123456789abcdef/triggers/manual/"
    "paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=TEAMSSIGNATURE000000000001";
inline const std::string routing_key = "R0UTINGKEY0000000000000000000001";
inline const std::string genie_key = "0PSGEN1E-KEY0-0000-0000-000000000001";
inline const std::string account_sid = "AC00000000000000000000000000000001";
inline const std::string auth_token = "AUTHT0KEN0000000000000000000001";
inline const std::string smtp_password = "SMTP-PASSW0RD-0000000001";

inline const std::string run_id = "3f1c2a7e-9b4d-4e2a-8c61-5d0e7f9a1b23";
inline const std::string run_url = "https://prefect.example.com/flow-runs/flow-run/" + run_id;
inline const std::string dedup_key = "osprey/prod-failures/" + run_id;

inline config::channel_settings slack_channel() {
  config::channel_settings c;
  c.name = "slack-data";
  c.type = config::channel_type::slack;
  c.url = slack_url;
  return c;
}

inline config::channel_settings teams_channel() {
  config::channel_settings c;
  c.name = "teams-ops";
  c.type = config::channel_type::teams;
  c.url = teams_url;
  return c;
}

inline config::channel_settings pagerduty_channel() {
  config::channel_settings c;
  c.name = "pd-data";
  c.type = config::channel_type::pagerduty;
  c.routing_key = routing_key;
  return c;
}

inline config::channel_settings opsgenie_channel() {
  config::channel_settings c;
  c.name = "og-data";
  c.type = config::channel_type::opsgenie;
  c.api_key = genie_key;
  c.responders = {{"team", "data-platform"}, {"user", "oncall@example.com"}};
  c.tags = {"prefect", "prod"};
  return c;
}

inline config::channel_settings twilio_channel() {
  config::channel_settings c;
  c.name = "sms-oncall";
  c.type = config::channel_type::twilio;
  c.account_sid = account_sid;
  c.auth_token = auth_token;
  c.from = "+15005550006";
  c.to = {"+15551234567"};
  return c;
}

inline config::channel_settings sendgrid_channel() {
  config::channel_settings c;
  c.name = "mail-sendgrid";
  c.type = config::channel_type::sendgrid;
  c.api_key = "SG.SENDGRIDSECRET0008";
  c.from = "osprey@example.com";
  c.to = {"oncall@example.com", "lead@example.com"};
  return c;
}

inline config::channel_settings smtp_channel() {
  config::channel_settings c;
  c.name = "mail-data";
  c.type = config::channel_type::smtp;
  c.host = "smtp.example.com";
  c.username = "alerts@example.com";
  c.password = smtp_password;
  c.from = "Prefect Alerts <alerts@example.com>";
  c.to = {"data-team@example.com", "Oncall <oncall@example.com>"};
  return c;
}

inline std::vector<config::channel_settings> all_channels() {
  return {slack_channel(), teams_channel(), pagerduty_channel(), opsgenie_channel(), twilio_channel(), smtp_channel()};
}

/// Template values as domain/notification.cpp renders them, for a run in `state` (name) of `type`.
inline nlohmann::json values_for(const std::string& state, const std::string& type, const std::string& state_message) {
  return {{"flow_run_notification_policy_id", "5c0ffee0-0000-4000-8000-000000000001"},
          {"flow_id", "8a2b9c4d-1e3f-4a5b-9c6d-7e8f9a0b1c2d"},
          {"flow_name", "etl"},
          {"flow_run_id", run_id},
          {"flow_run_name", "odd-bee"},
          {"flow_run_url", run_url},
          {"flow_run_parameters", "{'day': '2026-03-14'}"},
          {"flow_run_state_name", state},
          {"flow_run_state_type", type},
          {"flow_run_state_timestamp", "2026-03-14 09:26:53.589793+00:00"},
          {"flow_run_state_message", state_message},
          {"flow_run_tags", "prod, nightly"},
          {"deployment_id", "d3b10000-0000-4000-8000-000000000001"},
          {"deployment_name", "nightly"},
          {"policy_name", "prod-failures"}};
}

/// Prefect 2's default template rendered for `values`.
inline std::string message_for(const nlohmann::json& v) {
  auto s = [&v](const char* key) { return v.at(key).get<std::string>(); };
  return "Flow run " + s("flow_name") + "/" + s("flow_run_name") + " entered state `" + s("flow_run_state_name") +
         "` at " + s("flow_run_state_timestamp") + ".\n\nFlow ID: " + s("flow_id") +
         "\nFlow run ID: " + s("flow_run_id") + "\nFlow run URL: " + s("flow_run_url") +
         "\nState message: " + s("flow_run_state_message");
}

inline timestamp at(const char* iso) { return *parse_iso8601(iso); }

inline notification failed() {
  notification n;
  n.id = "0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  n.kind = delivery_kind::trigger;
  n.policy_name = "prod-failures";
  n.dedup_key = dedup_key;
  n.title = "Flow run etl/odd-bee entered state Failed";
  n.values = values_for("Failed", "FAILED", "Flow run encountered an exception: ValueError('row <42> & \"7\" bad')");
  n.message = message_for(n.values);
  n.created = at("2026-03-14T09:26:54.123456Z");
  return n;
}

inline notification crashed() {
  notification n = failed();
  n.id = "0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c";
  n.title = "Flow run etl/odd-bee entered state Crashed";
  n.values = values_for("Crashed", "CRASHED", "Execution was cancelled by the runtime environment.");
  n.message = message_for(n.values);
  return n;
}

inline notification completed_resolve() {
  notification n;
  n.id = "0195a1c0-0a0b-7c0d-8e0f-101112131415";
  n.kind = delivery_kind::resolve;
  n.policy_name = "prod-failures";
  n.dedup_key = dedup_key;
  n.title = "Flow run etl/odd-bee entered state Completed";
  n.values = values_for("Completed", "COMPLETED", "");
  n.message = message_for(n.values);
  n.created = at("2026-03-14T10:02:11.000001Z");
  return n;
}

inline notification test_kind() {
  notification n = failed();
  n.id = "0195a1d0-1111-7222-8333-444455556666";
  n.kind = delivery_kind::test;
  n.policy_name = "";
  n.dedup_key = "";
  n.created = at("2026-03-14T11:00:00Z");
  return n;
}

}  // namespace osprey::notifiers::fixtures

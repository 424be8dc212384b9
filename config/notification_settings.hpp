#pragma once
// The `notifications:` section of the config file as plain structs: channels (where and how to send) and
// policies (when and what). config/notifications.cpp parses and validates it; everything else receives
// these values. Secret fields hold the resolved secret (from `${VAR}` or `<field>_file`) and must never be
// printed: use redacted() / the `secret` markers below.
//
// YAML (every key below; unknown keys are errors listing the allowed ones, all with file:line):
//   notifications:
//     file: other.yaml             # optional: read channels/policies from this file instead (relative to
//                                  # the main config file); then no other key may appear here
//     enabled: true                # false: policies are still checked, nothing is enqueued or sent
//     ui_url: https://prefect.example.com   # base of {flow_run_url}
//     retry: {initial: 1s, max: 5m, max_age: 24h}
//     channels: [...]              # channel_settings
//     policies: [...]              # osprey::notification_policy (domain/notification.hpp), keys:
//       name, enabled, match {state_names, state_types, tags_any, tags_none, flows, deployments}, channels,
//       message_template, resolve_on, dedup_scope (flow_run | deployment), send_resolved, group_wait
//     automations: [...]           # Prefect automations as the API takes them: name, description, enabled,
//                                  # tags, trigger, actions, actions_on_trigger, actions_on_resolve
// `file:` is relative to the main config file; that file holds `notifications:` or the section's keys directly.
// Durations: "250ms", "30s", "5m", "4h", "1d", or a bare number of seconds.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/automation.hpp"
#include "domain/notification.hpp"

namespace osprey::config {

enum class channel_type { slack, teams, pagerduty, opsgenie, twilio, smtp, sendgrid };
/// "slack", "teams", ... (the YAML spelling).
const char* to_string(channel_type t) noexcept;

/// How an SMTP channel protects the connection.
enum class smtp_tls { starttls, implicit, none };

/// A token bucket: `per_second` sustained, up to `burst` at once.
struct rate_limit {
  double per_second = 1;
  unsigned burst = 1;
};

/// One channel. Which fields apply depends on `type`; the parser rejects fields of other types.
///   slack:     url (secret, the incoming-webhook URL)
///   teams:     url (secret, the Workflows webhook URL); payload: envelope (default) | raw_card
///   pagerduty: routing_key (secret); region us|eu; api_url; severity per state name
///   opsgenie:  api_key (secret); region us|eu; api_url; priority per state name; responders; tags
///   twilio:    account_sid, auth_token (secret), from, to[]; api_url
///   smtp:      host, port, tls, username, password (secret), from, to[], ca_file
///   sendgrid:  api_key (secret), from, to[]; api_url (SendGrid's Mail Send API: one mail per recipient)
/// `api_url` (pagerduty, opsgenie, twilio, sendgrid) replaces the service's scheme, host and port; the path stays.
/// Every type also takes `rate_limit: {per_second | per_minute: N, burst: N}` and `timeout: 10s`.
/// Secrets may be given as `<field>_file: PATH` (file content, one trailing newline removed; a relative PATH
/// starts at the config file's directory) instead, never both.
/// url / api_url must be https://; plain http:// only for loopback hosts (tests, local relays).
struct channel_settings {
  std::string name;
  channel_type type = channel_type::slack;
  std::string where;  ///< "file.yaml:12", for messages

  std::string url;                   ///< slack, teams (secret)
  std::string payload = "envelope";  ///< teams: envelope | raw_card
  std::string api_url;               ///< pagerduty, opsgenie, twilio: "" = the service's host for `region`
  std::string region = "us";         ///< pagerduty, opsgenie: us | eu

  std::string routing_key;  ///< pagerduty (secret)
  /// pagerduty: state name -> critical|error|warning|info; "default" key for the rest (default: Crashed
  /// critical, Failed error, TimedOut error, everything else warning).
  std::vector<std::pair<std::string, std::string>> severity;

  std::string api_key;  ///< opsgenie (secret)
  /// opsgenie: state name -> P1..P5; "default" key for the rest (default: Crashed P1, Failed P2, else P3).
  std::vector<std::pair<std::string, std::string>> priority;
  struct responder {
    std::string type;  ///< team | user | escalation | schedule
    std::string name;
  };
  std::vector<responder> responders;  ///< opsgenie
  std::vector<std::string> tags;      ///< opsgenie alert tags

  std::string account_sid;      ///< twilio
  std::string auth_token;       ///< twilio (secret)
  std::string from;             ///< twilio: E.164 sender; smtp: From address ("Name <a@b>" allowed)
  std::vector<std::string> to;  ///< twilio: E.164 numbers; smtp: addresses. At least one.

  std::string host;                   ///< smtp
  std::uint16_t port = 0;             ///< smtp: 0 = 587 for starttls, 465 for implicit, 25 for none
  smtp_tls tls = smtp_tls::starttls;  ///< none only when host is loopback (127.0.0.1, ::1, localhost)
  std::string username;               ///< smtp ("" = no AUTH)
  std::string password;               ///< smtp (secret)
  std::string ca_file;                ///< smtp: extra CA bundle for the server certificate

  /// Per-channel storm control. Defaults by type: slack 1/s burst 3, teams 4/s burst 4, pagerduty 2/s
  /// burst 10 (≈120/min), opsgenie 10/s burst 10, twilio 1/s burst 5, smtp 5/s burst 10.
  rate_limit limit;
  std::chrono::milliseconds timeout{10000};  ///< one request, connect included
  /// Whether this channel may reach loopback, link-local and private addresses (domain/network_address.hpp).
  /// Off by default: the transport refuses such addresses, checked on the address it connects to, so a
  /// webhook host whose DNS later points inside the network is refused too. On for receivers on this
  /// machine or the LAN (a relay, a self-hosted chat), and in tests.
  bool allow_private_network = false;

  /// The values of this channel's secret fields (non-empty ones), for redaction and leak tests.
  [[nodiscard]] std::vector<std::string> secrets() const;
};

/// Retry schedule for failed deliveries: exponential from `initial` up to `max` between attempts, with equal
/// jitter (half of each wait fixed, half random: actors/notification_dispatcher.cpp); a job still failing
/// `max_age` after it was enqueued goes to the dead letters.
struct retry_settings {
  std::chrono::milliseconds initial{1000};
  std::chrono::milliseconds max{300000};
  std::chrono::milliseconds max_age{24 * 3600 * 1000};
};

struct notification_settings {
  bool enabled = true;
  std::string ui_url;  ///< base of {flow_run_url}; "" = Prefect 2's placeholder base
  /// Whether automations' notification blocks may send to loopback, link-local and private addresses (as a
  /// channel's allow_private_network; off by default).
  bool blocks_allow_private_network = false;
  retry_settings retry;
  std::vector<channel_settings> channels;
  std::vector<notification_policy> policies;  ///< source "file", validated: channels exist, templates ok
  /// Prefect automations declared here (domain read_config_file_automation: read as the API reads them, ids
  /// made from their names, tagged config_file_tag); the server stores them at start and on SIGHUP.
  std::vector<automation> automations;
  std::string file;  ///< the file these came from ("" when none), for messages

  [[nodiscard]] const channel_settings* find_channel(std::string_view name) const;
};

/// Replaces every secret of every channel in `text` with "<secret>".
std::string redact_secrets(const notification_settings& settings, std::string text);

}  // namespace osprey::config

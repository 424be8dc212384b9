// `osprey notifications check|test|outbox`: validate the channels and policies of the config file, send one
// test notification through a channel, and inspect (or re-queue) the delivery outbox.
//
// Secrets: everything these commands print goes through config::redact_secrets (plus the JSON-escaped
// spellings a service may echo) right before it is written, so no channel secret reaches the terminal even
// when a receiver quotes it back. Targets are shown as hosts only: a Slack or Teams webhook's path and query
// are the secret.
#include <algorithm>
#include <iostream>
#include <sstream>

#include "cli/commands.hpp"
#include "domain/notification.hpp"
#include "domain/uuid.hpp"
#include "notifiers/notifier.hpp"
#include "notifiers/transport.hpp"
#include "persistence/migrator.hpp"
#include "persistence/notification_store.hpp"

namespace osprey::cli {
namespace {

constexpr std::size_t answer_chars = 500;  // of a test reply's body or error
constexpr std::size_t error_chars = 100;   // of an outbox job's last error

void replace_all(std::string& text, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + with.size()))
    text.replace(pos, what.size(), with);
}

/// `text` without any channel secret: config's redaction, then the JSON spelling with escaped slashes
/// (what a service echoing a webhook URL writes).
std::string scrub(const config::notification_settings& settings, std::string text) {
  text = config::redact_secrets(settings, std::move(text));
  for (const auto& channel : settings.channels) {
    for (const auto& secret : channel.secrets()) {
      std::string escaped = secret;
      replace_all(escaped, "/", "\\/");
      if (escaped != secret) replace_all(text, escaped, "<secret>");
    }
  }
  return text;
}

/// At most `max_chars` code points of UTF-8 `text` on one line (line breaks become spaces); "…" when cut.
std::string one_line(std::string_view text, std::size_t max_chars) {
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool starts_code_point = (c & 0xC0) != 0x80;
    if (starts_code_point && ++chars > max_chars) {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      return out + "…";
    }
    out += (c == '\r' || c == '\n' || c == '\t') ? ' ' : text[i];
  }
  return out;
}

/// "host[:port]" of a URL: no scheme, user info, path, query or fragment (those may hold a secret).
std::string url_host(std::string_view url) {
  if (auto scheme = url.find("://"); scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  if (auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  return std::string(url);
}

std::uint16_t smtp_port(const config::channel_settings& c) {
  if (c.port != 0) return c.port;
  switch (c.tls) {
    case config::smtp_tls::starttls: return 587;
    case config::smtp_tls::implicit: return 465;
    case config::smtp_tls::none: return 25;
  }
  return 587;  // not reached: the switch covers every enumerator
}

const char* to_string(config::smtp_tls t) {
  switch (t) {
    case config::smtp_tls::starttls: return "starttls";
    case config::smtp_tls::implicit: return "implicit tls";
    case config::smtp_tls::none: return "no tls";
  }
  return "starttls";  // not reached: the switch covers every enumerator
}

std::string plural(std::size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

/// Where a channel sends, without anything secret: a host (and port), plus recipients where there are some.
std::string describe_target(const config::channel_settings& c) {
  using config::channel_type;
  const auto api_host = [&c](const char* us, const char* eu) {
    if (!c.api_url.empty()) return url_host(c.api_url);
    return std::string(c.region == "eu" ? eu : us) + " (region " + c.region + ")";
  };
  switch (c.type) {
    case channel_type::slack:
    case channel_type::teams: return url_host(c.url);
    case channel_type::pagerduty: return api_host("events.pagerduty.com", "events.eu.pagerduty.com");
    case channel_type::opsgenie: return api_host("api.opsgenie.com", "api.eu.opsgenie.com");
    case channel_type::twilio:
      return (c.api_url.empty() ? std::string("api.twilio.com") : url_host(c.api_url)) + ", " +
             plural(c.to.size(), "recipient", "recipients");
    case channel_type::smtp:
      return c.host + ":" + std::to_string(smtp_port(c)) + " " + to_string(c.tls) +
             (c.username.empty() ? "" : ", login") + ", " + plural(c.to.size(), "recipient", "recipients");
    case channel_type::sendgrid:
      return (c.api_url.empty() ? std::string("api.sendgrid.com") : url_host(c.api_url)) + ", " +
             plural(c.to.size(), "recipient", "recipients");
  }
  return "";  // not reached: the switch covers every enumerator
}

std::string join(const std::vector<std::string>& items, const char* separator = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

std::string format_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  const auto s = ms / 1000;
  if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

std::string describe_match(const state_match& m) {
  std::vector<std::string> parts;
  const auto add = [&parts](const char* name, const std::vector<std::string>& values) {
    if (!values.empty()) parts.push_back(std::string(name) + " [" + join(values) + "]");
  };
  add("state_names", m.state_names);
  add("state_types", m.state_types);
  add("tags_any", m.tags_any);
  add("tags_none", m.tags_none);
  add("flows", m.flows);
  add("deployments", m.deployments);
  return parts.empty() ? "every state change" : join(parts, "; ");
}

/// Code points in UTF-8 `text`: column widths count these, so names with non-ASCII letters still line up.
std::size_t width_of(std::string_view text) {
  std::size_t chars = 0;
  for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
  return chars;
}

std::string padded(std::string text, std::size_t width) {
  if (const auto w = width_of(text); w < width) text.append(width - w, ' ');
  return text;
}

// ---- check ---------------------------------------------------------------------------------------------

std::string check_report(const config::loaded_settings& loaded) {
  const auto& n = loaded.values.notifications;
  std::ostringstream out;
  for (const auto& w : loaded.warnings) out << "warning: " << w << "\n";
  out << "Configuration: " << (loaded.config_file ? *loaded.config_file : std::string("none (defaults only)"));
  if (!n.file.empty() && n.file != loaded.config_file) out << "; notifications from " << n.file;
  out << "\n";
  if (!n.enabled) out << "warning: notifications.enabled is false: policies are checked, nothing is sent\n";

  out << "Channels (" << n.channels.size() << "):\n";
  std::size_t name_width = 4;
  for (const auto& c : n.channels) name_width = std::max(name_width, width_of(c.name));
  for (const auto& c : n.channels)
    out << "  " << padded(c.name, name_width) << "  " << padded(config::to_string(c.type), 9) << "  "
        << describe_target(c) << "\n";

  out << "Policies (" << n.policies.size() << "):\n";
  for (const auto& p : n.policies) {
    out << "  " << p.name << (p.is_active ? "" : " (inactive)") << "\n"
        << "    match:      " << describe_match(p.match) << "\n"
        << "    channels:   " << join(p.channels) << "\n"
        << "    resolve_on: " << (p.resolve_on.empty() ? std::string("never") : join(p.resolve_on))
        << (p.scope == dedup_scope::deployment ? " (per deployment)" : "")
        << (p.send_resolved ? ", recovered messages sent" : "") << "\n"
        << "    group_wait: " << (p.group_wait.count() == 0 ? std::string("off") : format_duration(p.group_wait))
        << "\n";
  }

  if (!n.automations.empty()) {
    out << "Automations (" << n.automations.size() << "):\n";
    for (const auto& a : n.automations) {
      std::vector<std::string> actions;
      for (const auto& action : a.actions) actions.push_back(action.value("type", ""));
      out << "  " << a.name << (a.enabled ? "" : " (disabled)") << "\n"
          << "    trigger:    " << a.trigger.value("type", "") << "\n"
          << "    actions:    " << (actions.empty() ? std::string("none") : join(actions)) << "\n";
    }
  }

  for (const auto& c : n.channels) {
    const bool used = std::any_of(n.policies.begin(), n.policies.end(), [&c](const notification_policy& p) {
      return std::find(p.channels.begin(), p.channels.end(), c.name) != p.channels.end();
    });
    if (!used)
      out << "warning: channel '" << c.name
          << "' is not used by any policy of the file (policies created over the API may still use it)\n";
  }
  out << "OK: " << n.channels.size() << " channel(s), " << n.policies.size() << " policy(ies)";
  if (!n.automations.empty()) out << ", " << n.automations.size() << " automation(s)";
  out << "\n";
  return scrub(n, out.str());
}

// ---- test ----------------------------------------------------------------------------------------------

notifiers::notification test_notification(const config::notification_settings& settings,
                                          const std::string& channel_name) {
  const auto now = system_clock::instance().now();
  notification_facts facts;
  facts.run = flow_run_id{new_uuid4()};
  facts.run_name = "test-run";
  facts.flow = flow_id{new_uuid4()};
  facts.flow_name = "osprey-test";
  facts.state.id = state_id{new_uuid7(now)};
  facts.state.type = state_type::failed;
  facts.state.name = "Failed";
  facts.state.at = now;
  facts.state.message = "This is a test notification from Osprey.";

  notifiers::notification n;
  n.id = new_uuid4().to_string();
  n.kind = notifiers::delivery_kind::test;
  n.policy_name = "osprey-test";
  n.dedup_key = "osprey-test/" + n.id;
  n.title = "Osprey test notification";
  n.message = "This is a test notification from Osprey. If you can read it, channel '" + channel_name + "' works.";
  n.values = template_values(facts, n.policy_name, settings.ui_url);
  n.created = now;
  return n;
}

std::string describe_request(const notifiers::request& r) {
  if (const auto* http = std::get_if<notifiers::http_request>(&r))
    return "HTTP " + http->method + " to " + url_host(http->url);
  const auto& smtp = std::get<notifiers::smtp_request>(r);
  return "SMTP to " + url_host(smtp.url) + " (" + to_string(smtp.tls) + "), " +
         plural(smtp.recipients.size(), "recipient", "recipients");
}

std::string describe_reply(const notifiers::request& r, const notifiers::reply& rep) {
  const bool smtp = std::holds_alternative<notifiers::smtp_request>(r);
  if (rep.status == 0) return "no answer: " + one_line(rep.error, answer_chars);
  std::string text = (smtp ? "SMTP " : "HTTP ") + std::to_string(rep.status);
  const auto& detail = rep.transport_error != 0 ? rep.error : rep.body;
  if (!detail.empty()) text += ": " + one_line(detail, answer_chars);
  return text;
}

/// The verdict with its reason, unless `answer` already says it (a transport error is both).
std::string describe_verdict(const notifiers::classification& c, const std::string& answer) {
  const std::string reason =
      c.reason.empty() || answer.find(c.reason) != std::string::npos ? "" : " (" + c.reason + ")";
  switch (c.outcome) {
    case notifiers::verdict::delivered: return "delivered";
    case notifiers::verdict::retry: {
      std::string text = "would retry" + reason;
      if (c.retry_after) text += ", after " + std::to_string(c.retry_after->count()) + "s";
      return text + ": a server would try again later";
    }
    case notifiers::verdict::dead: return "dead" + reason + ": the service refused it; a server would not retry";
  }
  return "";  // not reached: the switch covers every enumerator
}

/// What a delivered reply does and does not prove, per service.
std::string delivery_note(const config::channel_settings& c, const notifiers::notification& n) {
  using config::channel_type;
  switch (c.type) {
    case channel_type::teams:
      return "Note: Teams answers 202 as soon as the workflow run is queued; whether the card was posted shows "
             "in the flow's run history (Power Automate / Workflows app).\n";
    case channel_type::opsgenie:
      return "Note: Opsgenie processes alerts asynchronously (202 means accepted); the test alert (priority P5, "
             "alias osprey-test-" +
             n.id + ") shows in its alert list. Close it there.\n";
    case channel_type::twilio:
      return "Note: Twilio sends messages asynchronously (201 means queued); the delivery status shows in its "
             "message log.\n";
    case channel_type::pagerduty:
      return "Note: this opened a PagerDuty alert (severity info, dedup key osprey-test-" + n.id +
             "); resolve it there.\n";
    case channel_type::sendgrid:
      return "Note: SendGrid queues mail (202 means accepted); its Activity Feed shows the delivery.\n";
    case channel_type::slack:
    case channel_type::smtp: return "";
  }
  return "";  // not reached: the switch covers every enumerator
}

/// Sends the test through `channel`, writing what happened to `out`; true when every request was delivered.
bool send_test(const config::notification_settings& settings, const config::channel_settings& channel,
               std::ostream& out) {
  const auto n = test_notification(settings, channel.name);
  const auto notifier = notifiers::make_notifier(channel);
  const auto requests = notifier->requests(n);
  out << "Sending a test notification to channel '" << channel.name << "' (" << config::to_string(channel.type) << ", "
      << describe_target(channel) << "), timeout " << format_duration(channel.timeout) << "\n";
  if (requests.empty()) {
    out << "Nothing to send: this channel builds no request for a test notification.\n";
    return true;
  }
  bool all_delivered = true;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto rep = notifiers::send_blocking(requests[i], channel.timeout);
    const auto verdict = notifier->classify(rep);
    // Scrubbed before it is cut, so a secret cannot survive as a half.
    auto rep_shown = rep;
    rep_shown.body = scrub(settings, rep.body);
    rep_shown.error = scrub(settings, rep.error);
    const auto answer = describe_reply(requests[i], rep_shown);
    out << "Request " << (i + 1) << " of " << requests.size() << ": " << describe_request(requests[i]) << "\n"
        << "  answer:  " << answer << "\n"
        << "  verdict: " << describe_verdict(verdict, answer) << "\n";
    if (verdict.outcome != notifiers::verdict::delivered) all_delivered = false;
  }
  if (all_delivered) out << delivery_note(channel, n);
  out << (all_delivered ? "Delivered" : "NOT delivered") << ": test notification " << n.id << " to channel '"
      << channel.name << "'.\n";
  return all_delivered;
}

// ---- outbox --------------------------------------------------------------------------------------------

struct outbox_flags {
  bool dead = false;
  bool pending = false;
  bool all = false;
  std::int64_t limit = 50;
  std::string retry_id;
};

/// Opens the configured database and checks its schema is at head; reports and throws the exit code otherwise.
configured_database open_outbox_database(const common_options& opts) {
  auto db = open_configured_database(opts);
  const auto* target = &db.target;
  auto st = persistence::migrator(*db.conn).status();
  if (!st) {
    std::cerr << "osprey: " << st.error().message() << "\n";
    throw CLI::RuntimeError(exit_failure);
  }
  if (st->unknown_current) {
    std::cerr << "osprey: the database at " << target->display << " is at revision " << *st->current
              << ", unknown to this Osprey (is the database newer?)\n";
    throw CLI::RuntimeError(exit_failure);
  }
  if (!st->pending.empty()) {
    std::cerr << "osprey: the database at " << target->display << " is not at the current schema ("
              << (st->current ? "revision " + *st->current : std::string("empty")) << ", " << st->pending.size()
              << " revision(s) pending); run `osprey server database upgrade` first\n";
    throw CLI::RuntimeError(exit_failure);
  }
  return db;
}

void fail_on(const status& s) {
  if (s) return;
  std::cerr << "osprey: " << s.message() << "\n";
  throw CLI::RuntimeError(exit_failure);
}

std::string when_text(const persistence::outbox_job& j) {
  using persistence::outbox_status;
  if (j.status == outbox_status::delivered)
    return j.delivered_at ? "delivered " + format_iso8601(*j.delivered_at) : "delivered";
  if (j.status == outbox_status::pending) return "next " + format_iso8601(j.next_attempt_at);
  return "-";
}

std::string outbox_report(const config::notification_settings& settings, const persistence::outbox_counts& counts,
                          const std::vector<persistence::outbox_job>& jobs, const std::string& which) {
  std::ostringstream out;
  out << "Outbox: " << counts.pending << " pending, " << counts.delivered << " delivered, " << counts.dead << " dead\n";
  if (jobs.empty()) {
    out << "No " << which << " jobs.\n";
    return scrub(settings, out.str());
  }
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"ID", "STATUS", "ATTEMPTS", "POLICY -> CHANNEL", "KIND", "STATE", "FLOW RUN",
                  "NEXT ATTEMPT / DELIVERED", "LAST ERROR"});
  for (const auto& j : jobs) {
    rows.push_back({j.id.to_string(), persistence::to_string(j.status), std::to_string(j.attempts),
                    j.policy_name + " -> " + j.channel_name, to_string(j.kind),
                    j.state_name.empty() ? "-" : j.state_name, j.flow_run ? j.flow_run->to_string() : "-", when_text(j),
                    j.last_error ? one_line(scrub(settings, *j.last_error), error_chars) : std::string("-")});
  }
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], width_of(row[i]));
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i)
      line += i + 1 == row.size() ? row[i] : padded(row[i], widths[i]) + "  ";
    out << line << "\n";
  }
  return scrub(settings, out.str());
}

void show_outbox(const common_options& opts, const outbox_flags& flags) {
  using persistence::outbox_status;
  auto db = open_outbox_database(opts);
  persistence::outbox_counts counts;
  std::vector<persistence::outbox_job> jobs;
  const auto limit = std::max<std::int64_t>(flags.limit, 1);
  fail_on(persistence::in_transaction(*db.conn, persistence::transaction_kind::read, "reading the notification outbox",
                                      [&](persistence::sql_connection& c) {
                                        counts = persistence::count_outbox(c);
                                        if (flags.all) {
                                          jobs = persistence::list_outbox(c, std::nullopt, limit);
                                        } else if (flags.dead || flags.pending) {
                                          jobs = persistence::list_outbox(
                                              c, flags.dead ? outbox_status::dead : outbox_status::pending, limit);
                                        } else {
                                          jobs = persistence::list_outbox(c, outbox_status::pending, limit);
                                          auto dead = persistence::list_outbox(c, outbox_status::dead, limit);
                                          jobs.insert(jobs.end(), dead.begin(), dead.end());
                                          std::stable_sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) {
                                            return a.created != b.created ? a.created > b.created : a.id < b.id;
                                          });
                                          if (jobs.size() > static_cast<std::size_t>(limit))
                                            jobs.resize(static_cast<std::size_t>(limit));
                                        }
                                      }));
  const std::string which = flags.all ? "outbox" : flags.dead ? "dead" : flags.pending ? "pending" : "pending or dead";
  std::cout << outbox_report(db.loaded.values.notifications, counts, jobs, which);
}

void retry_job(const common_options& opts, const std::string& id_text) {
  const auto job_id = uuid::parse(id_text);
  if (!job_id) {
    std::cerr << "osprey: '" << id_text
              << "' is not an outbox job id (a UUID, as `osprey notifications outbox` "
                 "lists them)\n";
    throw CLI::RuntimeError(exit_usage);
  }
  auto db = open_outbox_database(opts);
  std::optional<persistence::outbox_job> found;
  bool requeued = false;
  fail_on(persistence::in_write_transaction(
      *db.conn, "re-queueing outbox job " + job_id->to_string(), [&](persistence::sql_connection& c) {
        found = persistence::find_outbox_job(c, *job_id);
        if (found && found->status != persistence::outbox_status::delivered)
          requeued = persistence::requeue_job(c, *job_id, system_clock::instance().now());
      }));
  if (!found) {
    std::cerr << "osprey: no outbox job " << job_id->to_string() << "\n";
    throw CLI::RuntimeError(exit_failure);
  }
  if (found->status == persistence::outbox_status::delivered) {
    std::cerr << "osprey: outbox job " << job_id->to_string() << " was already delivered"
              << (found->delivered_at ? " (" + format_iso8601(*found->delivered_at) + ")" : std::string())
              << "; there is nothing to retry\n";
    throw CLI::RuntimeError(exit_failure);
  }
  if (!requeued) {  // found and not delivered in the same transaction: the update cannot miss it
    std::cerr << "osprey: outbox job " << job_id->to_string() << " could not be re-queued\n";
    throw CLI::RuntimeError(exit_failure);
  }
  std::cout << "re-queued " << job_id->to_string()
            << "; a running server sends it within a few seconds (or at its next start)\n";
}

}  // namespace

void register_notifications_commands(CLI::App& app, common_options& opts) {
  auto* cmd = app.add_subcommand("notifications",
                                 "Check notification channels and policies, send a test, "
                                 "inspect the delivery outbox");
  cmd->require_subcommand(1);

  auto* check =
      cmd->add_subcommand("check",
                          "Validate the notifications section of the config and summarise its channels and policies "
                          "(sends nothing; secrets are never printed)");
  add_config_option(*check, opts);
  check->callback([&opts] {
    auto loaded = load_settings_or_report(opts);
    if (!loaded) throw CLI::RuntimeError(exit_usage);
    std::cout << check_report(*loaded);
  });

  auto channel_name = std::make_shared<std::string>();
  auto* test = cmd->add_subcommand("test", "Send one test notification through CHANNEL and show the service's answer");
  test->add_option("CHANNEL", *channel_name, "Name of a channel in the notifications section")->required();
  add_config_option(*test, opts);
  test->callback([&opts, channel_name] {
    auto loaded = load_settings_or_report(opts);
    if (!loaded) throw CLI::RuntimeError(exit_usage);
    const auto& settings = loaded->values.notifications;
    const auto* channel = settings.find_channel(*channel_name);
    if (channel == nullptr) {
      std::vector<std::string> names;
      for (const auto& c : settings.channels) names.push_back(c.name);
      std::cerr << scrub(settings, "osprey: no channel '" + *channel_name + "' in the configuration; " +
                                       (names.empty() ? std::string("no channels are configured")
                                                      : "configured channels: " + join(names)) +
                                       "\n");
      throw CLI::RuntimeError(exit_usage);
    }
    std::ostringstream out;
    const bool delivered = send_test(settings, *channel, out);
    std::cout << scrub(settings, out.str()) << std::flush;
    if (!delivered) throw CLI::RuntimeError(exit_failure);
  });

  auto flags = std::make_shared<outbox_flags>();
  auto* outbox = cmd->add_subcommand(
      "outbox", "List the notification outbox (pending and dead jobs by default, newest first) with counts");
  auto* dead = outbox->add_flag("--dead", flags->dead, "Only dead jobs (delivery gave up)");
  auto* pending = outbox->add_flag("--pending", flags->pending, "Only pending jobs (waiting or being retried)");
  auto* all = outbox->add_flag("--all", flags->all, "Every job, delivered ones included");
  dead->excludes(pending, all);
  pending->excludes(all);
  outbox->add_option("--limit", flags->limit, "Show at most N jobs")
      ->default_val(50)
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  add_config_option(*outbox, opts);
  auto* retry = outbox->add_subcommand("retry", "Re-queue a dead (or pending) job: due now, attempts reset");
  retry->add_option("ID", flags->retry_id, "The job's id, as `osprey notifications outbox` lists it")->required();
  add_config_option(*retry, opts);
  retry->callback([&opts, flags] { retry_job(opts, flags->retry_id); });
  outbox->callback([&opts, flags, retry] {
    if (retry->parsed()) return;  // CLI11 runs the parent's callback too
    show_outbox(opts, *flags);
  });
}

}  // namespace osprey::cli

// One item of `notifications.channels`: its type decides which keys are allowed and required.

#include <algorithm>
#include <cctype>
#include <utility>

#include "config/notifications_internal.hpp"
#include "domain/network_address.hpp"

namespace osprey::config::detail {
namespace {

struct type_info {
  channel_type type;
  std::vector<std::string> keys;  ///< besides common_keys
  rate_limit limit;               ///< the default, sized to the service's documented limits
};

const std::vector<std::string>& common_keys() {
  static const std::vector<std::string> keys = {"name", "type", "rate_limit", "timeout", "allow_private_network"};
  return keys;
}

const std::vector<type_info>& types() {
  static const std::vector<type_info> all = {
      {channel_type::slack, {"url", "url_file"}, {1, 3}},
      {channel_type::teams, {"url", "url_file", "payload"}, {4, 4}},
      {channel_type::pagerduty, {"routing_key", "routing_key_file", "region", "api_url", "severity"}, {2, 10}},
      {channel_type::opsgenie,
       {"api_key", "api_key_file", "region", "api_url", "priority", "responders", "tags"},
       {10, 10}},
      {channel_type::twilio, {"account_sid", "auth_token", "auth_token_file", "from", "to", "api_url"}, {1, 5}},
      {channel_type::smtp,
       {"host", "port", "tls", "username", "password", "password_file", "from", "to", "ca_file"},
       {5, 10}},
      {channel_type::sendgrid, {"api_key", "api_key_file", "from", "to", "api_url"}, {5, 10}},
  };
  return all;
}

std::vector<std::string> type_names() {
  std::vector<std::string> out;
  for (const auto& t : types()) out.emplace_back(to_string(t.type));
  return out;
}

/// "a slack channel", "an opsgenie channel".
std::string a_channel(channel_type type) {
  const bool vowel_sound = type == channel_type::opsgenie || type == channel_type::smtp;
  return std::string(vowel_sound ? "an " : "a ") + to_string(type) + " channel";
}

/// "+" and 2 to 15 digits (E.164).
bool is_e164(std::string_view number) {
  return number.size() >= 3 && number.size() <= 16 && number.front() == '+' &&
         std::all_of(number.begin() + 1, number.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

class channel_parser {
 public:
  channel_parser(yaml_reader& reader, const mapping& m, channel_settings& out) : r_(reader), m_(m), c_(out) {}

  void read(const type_info& info) {
    c_.limit = info.limit;
    rate_limits();
    if (const auto* e = m_.find("timeout")) {
      if (const auto d = r_.duration(*e); d && d->count() == 0) {
        r_.fail(e->key, e->where, "expected a duration greater than 0, e.g. 10s");
      } else if (d) {
        c_.timeout = *d;
      }
    }
    if (const auto* e = m_.find("allow_private_network")) {
      if (const auto b = r_.boolean(*e)) c_.allow_private_network = *b;
    }
    switch (info.type) {
      case channel_type::slack: webhook("the Slack incoming-webhook URL"); break;
      case channel_type::teams:
        webhook("the Teams Workflows webhook URL");
        if (const auto* e = m_.find("payload")) assign(c_.payload, r_.one_of(*e, {"envelope", "raw_card"}));
        break;
      case channel_type::pagerduty: pagerduty(); break;
      case channel_type::opsgenie: opsgenie(); break;
      case channel_type::twilio: twilio(); break;
      case channel_type::smtp: smtp(); break;
      case channel_type::sendgrid: sendgrid(); break;
    }
    if (!c_.allow_private_network) {
      public_target("url", url_host(c_.url));
      public_target("api_url", url_host(c_.api_url));
      public_target("host", c_.host);
    }
  }

 private:
  static void assign(std::string& to, std::optional<std::string> value) {
    if (value) to = std::move(*value);
  }

  void require(const std::string& field, bool present, std::string_view hint) {
    if (present) return;
    const auto* e = m_.find(field);  // `field:` with an empty value: point at it
    r_.fail(m_.key + "." + field, e ? e->where : m_.where,
            a_channel(c_.type) + " needs " + field + " (" + std::string(hint) + ")");
  }

  /// A required secret, from `field` or `field_file`.
  void required_secret(const std::string& field, std::string& to, std::string_view what) {
    const auto value = r_.secret(m_, field);
    if (!value) return;  // reported
    to = *value;
    require(field, !to.empty(), std::string(what) + ", or " + field + "_file: PATH");
  }

  void url_checked(const std::string& field, const std::string& value) {
    const auto* e = m_.find(field);
    if (const auto problem = url_problem(value); !problem.empty()) {
      r_.fail(m_.key + "." + field, e ? e->where : m_.where, problem);
    }
  }

  /// A host the config names outright (an IP literal, localhost) must be public unless the channel allows
  /// private networks; names are judged by the transport on the addresses they resolve to.
  void public_target(const std::string& field, std::string_view host) {
    if (host.empty()) return;
    const auto range = non_public_host(host);
    if (!range) return;
    const auto* e = m_.find(field);
    r_.fail(m_.key + "." + field, e ? e->where : m_.where,
            "the host is a " + std::string(*range) +
                " address; Osprey sends notifications only to public addresses unless the channel sets "
                "allow_private_network: true (for a receiver on this machine or your network)");
  }

  void webhook(std::string_view what) {
    required_secret("url", c_.url, what);
    if (!c_.url.empty()) url_checked("url", c_.url);
  }

  void api_url() {
    if (const auto* e = m_.find("api_url")) {
      assign(c_.api_url, r_.text(*e));
      if (!c_.api_url.empty()) url_checked("api_url", c_.api_url);
    }
  }

  void region() {
    if (const auto* e = m_.find("region")) assign(c_.region, r_.one_of(*e, {"us", "eu"}));
  }

  /// `severity:` / `priority:`: state name (or "default") -> one of `allowed`.
  void per_state(const char* field, const std::vector<std::string>& allowed,
                 std::vector<std::pair<std::string, std::string>>& to) {
    const auto* e = m_.find(field);
    if (!e) return;
    const auto states = r_.open(e->value, e->key, e->where);
    if (!states) return;
    for (const auto& state : states->entries) {
      if (auto value = r_.one_of(state, allowed)) to.emplace_back(state.name, std::move(*value));
    }
  }

  void pagerduty() {
    required_secret("routing_key", c_.routing_key, "the Events API v2 integration key");
    api_url();
    region();
    per_state("severity", {"critical", "error", "warning", "info"}, c_.severity);
  }

  void opsgenie() {
    required_secret("api_key", c_.api_key, "an Opsgenie API integration key");
    api_url();
    region();
    per_state("priority", {"P1", "P2", "P3", "P4", "P5"}, c_.priority);
    if (const auto* e = m_.find("tags")) {
      if (auto tags = r_.list(*e)) c_.tags = std::move(*tags);
    }
    const auto* e = m_.find("responders");
    if (!e) return;
    if (!e->value.IsSequence()) {
      r_.fail(e->key, e->where, "expected a list like [{type: team, name: ops}]");
      return;
    }
    for (std::size_t i = 0; i < e->value.size(); ++i) {
      const YAML::Node item = e->value[i];
      const auto key = e->key + "[" + std::to_string(i) + "]";
      const auto responder = r_.open(item, key, r_.at(item));
      if (!responder) continue;
      r_.reject_unknown(*responder, {"type", "name"}, "a responder");
      channel_settings::responder out;
      if (const auto* t = responder->find("type")) {
        assign(out.type, r_.one_of(*t, {"team", "user", "escalation", "schedule"}));
      }
      if (const auto* n = responder->find("name")) assign(out.name, r_.text(*n));
      if (out.type.empty() || out.name.empty()) {
        r_.fail(key, responder->where, "a responder needs type (team, user, escalation, schedule) and name");
      } else {
        c_.responders.push_back(std::move(out));
      }
    }
  }

  /// `to:` — a non-empty list, each item checked by `valid`.
  template <class Valid>
  void recipients(std::string_view hint, Valid valid, std::string_view invalid) {
    const auto* e = m_.find("to");
    auto to = e ? r_.list(*e) : std::optional(std::vector<std::string>{});
    if (!to) return;  // reported
    c_.to = std::move(*to);
    require("to", !c_.to.empty(), hint);
    for (std::size_t i = 0; i < c_.to.size(); ++i) {
      if (!valid(c_.to[i])) {
        r_.fail(e->key + "[" + std::to_string(i) + "]", r_.at(e->value[i]),
                std::string(invalid) + ", got '" + c_.to[i] + "'");
      }
    }
  }

  void twilio() {
    if (const auto* e = m_.find("account_sid")) assign(c_.account_sid, r_.text(*e));
    require("account_sid", !c_.account_sid.empty(), "the Twilio account SID, AC...");
    required_secret("auth_token", c_.auth_token, "the Twilio auth token");
    if (const auto* e = m_.find("from")) {
      assign(c_.from, r_.text(*e));
      if (!c_.from.empty() && !is_e164(c_.from)) {
        r_.fail(e->key, e->where, "expected an E.164 phone number like +15005550006, got '" + c_.from + "'");
      }
    }
    require("from", !c_.from.empty(), "the sending number, e.g. \"+15005550006\"");
    recipients("a list of numbers, e.g. [\"+15551234567\"]", is_e164,
               "expected an E.164 phone number like +15551234567");
    api_url();
  }

  void sendgrid() {
    required_secret("api_key", c_.api_key, "the SendGrid API key, SG...");
    const auto is_address = [](const std::string& a) { return a.find('@') != std::string::npos; };
    if (const auto* e = m_.find("from")) {
      assign(c_.from, r_.text(*e));
      if (!c_.from.empty() && !is_address(c_.from))
        r_.fail(e->key, e->where, "expected the verified sender's e-mail address, got '" + c_.from + "'");
    }
    require("from", !c_.from.empty(), "the verified sender's address, e.g. osprey@example.com");
    recipients("a list of addresses, e.g. [oncall@example.com]", is_address, "expected an e-mail address");
    api_url();
  }

  void smtp() {
    if (const auto* e = m_.find("host")) assign(c_.host, r_.text(*e));
    require("host", !c_.host.empty(), "the SMTP server's name, e.g. smtp.example.com");
    const auto* tls = m_.find("tls");
    if (tls) {
      if (const auto mode = r_.one_of(*tls, {"starttls", "implicit", "none"})) {
        c_.tls = *mode == "starttls" ? smtp_tls::starttls : *mode == "implicit" ? smtp_tls::implicit : smtp_tls::none;
      }
    }
    if (tls && c_.tls == smtp_tls::none && !c_.host.empty() && !is_loopback_host(c_.host)) {
      r_.fail(tls->key, tls->where,
              "tls: none sends mail and password in clear text; it is allowed only when host is 127.0.0.1, ::1 or "
              "localhost (use starttls or implicit)");
    }
    if (const auto* e = m_.find("port")) {
      if (const auto port = r_.integer(*e, 1, 65535)) c_.port = static_cast<std::uint16_t>(*port);
    }
    if (c_.port == 0) c_.port = c_.tls == smtp_tls::implicit ? 465 : c_.tls == smtp_tls::none ? 25 : 587;
    if (const auto* e = m_.find("username")) assign(c_.username, r_.text(*e));
    assign(c_.password, r_.secret(m_, "password"));
    if (const auto* e = m_.find("ca_file")) assign(c_.ca_file, r_.text(*e));
    if (const auto* e = m_.find("from")) assign(c_.from, r_.text(*e));
    require("from", !c_.from.empty(), "the sender address, e.g. \"Osprey <osprey@example.com>\"");
    recipients(
        "a list of addresses, e.g. [oncall@example.com]",
        [](const std::string& to) { return to.find('@') != std::string::npos; }, "expected an e-mail address");
  }

  void rate_limits() {
    const auto* e = m_.find("rate_limit");
    if (!e) return;
    const auto limit = r_.open(e->value, e->key, e->where);
    if (!limit) return;
    r_.reject_unknown(*limit, {"per_second", "per_minute", "burst"}, "rate_limit");
    const auto* per_second = limit->find("per_second");
    const auto* per_minute = limit->find("per_minute");
    if (per_second && per_minute) {
      r_.fail(per_minute->key, per_minute->where, "give either per_second or per_minute, not both");
    } else if (per_second) {
      if (const auto n = r_.positive_number(*per_second)) c_.limit.per_second = *n;
    } else if (per_minute) {
      if (const auto n = r_.positive_number(*per_minute)) c_.limit.per_second = *n / 60;
    }
    if (const auto* burst = limit->find("burst")) {
      if (const auto n = r_.integer(*burst, 1, 1000000)) c_.limit.burst = static_cast<unsigned>(*n);
    }
  }

  yaml_reader& r_;
  const mapping& m_;
  channel_settings& c_;
};

}  // namespace

bool parse_channel(yaml_reader& reader, const YAML::Node& node, const std::string& key, channel_settings& out) {
  const auto errors_before = reader.error_count();
  const auto m = reader.open(node, key, reader.at(node));
  if (!m) return false;
  out.where = m->where;
  if (const auto* e = m->find("name")) {
    if (auto name = reader.text(*e)) out.name = std::move(*name);
  }
  if (out.name.empty()) reader.fail(key + ".name", m->where, "a channel needs a name (policies refer to it)");

  const type_info* info = nullptr;
  const auto* type = m->find("type");
  if (!type) {
    reader.fail(key + ".type", m->where, "a channel needs type: one of " + join(type_names()));
  } else if (const auto name = reader.text(*type)) {
    const auto names = type_names();
    const auto it = std::find(names.begin(), names.end(), *name);
    if (it == names.end()) {
      reader.fail(type->key, type->where, "unknown channel type '" + *name + "' (expected one of " + join(names) + ")");
    } else {
      info = &types()[static_cast<std::size_t>(it - names.begin())];
    }
  }
  if (info) {
    out.type = info->type;
    auto allowed = common_keys();
    allowed.insert(allowed.end(), info->keys.begin(), info->keys.end());
    reader.reject_unknown(*m, allowed, a_channel(info->type));
    channel_parser(reader, *m, out).read(*info);
  }
  return reader.error_count() == errors_before;
}

}  // namespace osprey::config::detail

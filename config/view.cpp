// `osprey config view` and secret redaction.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <string_view>
#include <utility>
#include <vector>

#include "config/loader.hpp"
#include "config/schema.hpp"

namespace osprey::config {
namespace {

std::string describe(const source& from) {
  switch (from.from) {
    case source::kind::default_value: return from.detail.empty() ? "default" : "default (" + from.detail + ")";
    case source::kind::file: return from.detail;
    case source::kind::environment: return "env " + from.detail;
    case source::kind::flag: return "flag " + from.detail;
  }
  return "";
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         });
}

/// Replaces the values of `password=` parameters in a query string ("?a=1&password=x#f").
std::string redact_query(std::string query) {
  std::size_t i = 0;
  while (i < query.size()) {
    const bool at_parameter = query[i] == '?' || query[i] == '&';
    constexpr std::string_view name = "password=";
    if (at_parameter && starts_with_ignoring_case(std::string_view(query).substr(i + 1), name)) {
      const auto value_start = i + 1 + name.size();
      const auto value_end = std::min(query.find_first_of("&#", value_start), query.size());
      query.replace(value_start, value_end - value_start, "***");
      i = value_start + 3;
    } else {
      ++i;
    }
  }
  return query;
}

struct view_line {
  std::string key;
  std::string value;
  std::string from;
};

std::string show_duration(std::chrono::milliseconds d) {
  constexpr std::pair<std::int64_t, const char*> units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
  for (const auto& [ms, suffix] : units) {
    if (d.count() != 0 && d.count() % ms == 0) return std::to_string(d.count() / ms) + suffix;
  }
  return std::to_string(d.count()) + "ms";
}

std::string show_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return "[" + out + "]";
}

/// "type key=value ..." with the channel's target but none of its secrets (shown as <secret>).
std::string show_channel(const channel_settings& c) {
  std::string out = to_string(c.type);
  const auto add = [&out](const std::string& name, const std::string& value) {
    if (!value.empty()) out += " " + name + "=" + value;
  };
  const auto secret = [&add](const std::string& name, const std::string& value) {
    add(name, value.empty() ? "" : "<secret>");
  };
  const auto per_state = [&add](const std::string& name, const std::vector<std::pair<std::string, std::string>>& map) {
    std::vector<std::string> items;
    for (const auto& [state, value] : map) items.push_back(state + ": " + value);
    if (!items.empty()) add(name, show_list(items));
  };
  switch (c.type) {
    case channel_type::slack: secret("url", c.url); break;
    case channel_type::teams:
      secret("url", c.url);
      add("payload", c.payload);
      break;
    case channel_type::pagerduty:
    case channel_type::opsgenie:
      add(c.api_url.empty() ? "region" : "api_url", c.api_url.empty() ? c.region : redact_url(c.api_url));
      secret("routing_key", c.routing_key);
      secret("api_key", c.api_key);
      per_state("severity", c.severity);
      per_state("priority", c.priority);
      if (!c.responders.empty()) {
        std::vector<std::string> responders;
        for (const auto& r : c.responders) responders.push_back(r.type + ":" + r.name);
        add("responders", show_list(responders));
      }
      if (!c.tags.empty()) add("tags", show_list(c.tags));
      break;
    case channel_type::twilio:
      add("api_url", redact_url(c.api_url));
      secret("auth_token", c.auth_token);
      add("from", c.from);
      add("to", show_list(c.to));
      break;
    case channel_type::smtp:
      add("host", c.host);
      add("port", std::to_string(c.port));
      add("tls", c.tls == smtp_tls::starttls ? "starttls" : c.tls == smtp_tls::implicit ? "implicit" : "none");
      add("username", c.username);
      secret("password", c.password);
      add("ca_file", c.ca_file);
      add("from", c.from);
      add("to", show_list(c.to));
      break;
    case channel_type::sendgrid:
      add("api_url", redact_url(c.api_url));
      secret("api_key", c.api_key);
      add("from", c.from);
      add("to", show_list(c.to));
      break;
  }
  char rate[32];
  std::snprintf(rate, sizeof rate, "%g/s", c.limit.per_second);
  add("rate_limit", std::string(rate) + " burst " + std::to_string(c.limit.burst));
  add("timeout", show_duration(c.timeout));
  if (c.allow_private_network) add("allow_private_network", "true");  // shown only when it widens the default
  return out;
}

std::string show_policy(const notification_policy& p) {
  const std::pair<const char*, const std::vector<std::string>*> criteria[] = {{"state_names", &p.match.state_names},
                                                                              {"state_types", &p.match.state_types},
                                                                              {"tags_any", &p.match.tags_any},
                                                                              {"tags_none", &p.match.tags_none},
                                                                              {"flows", &p.match.flows},
                                                                              {"deployments", &p.match.deployments}};
  std::string match;
  for (const auto& [name, values] : criteria) {
    if (!values->empty()) match += std::string(match.empty() ? "" : " ") + name + "=" + show_list(*values);
  }
  std::string out = "match " + (match.empty() ? std::string("everything") : match);
  out += "; channels " + show_list(p.channels);
  if (!p.is_active) out += "; disabled";
  return out;
}

/// The notifications section: one line per setting, channel and policy; secrets never shown.
std::vector<view_line> notification_lines(const notification_settings& n) {
  const std::string from = n.file.empty() ? "default" : n.file;
  std::vector<view_line> out;
  out.push_back({"notifications.enabled", n.enabled ? "true" : "false", from});
  out.push_back(
      {"notifications.ui_url", n.ui_url.empty() ? "(none: links use http://ephemeral-prefect/api)" : n.ui_url, from});
  out.push_back({"notifications.retry",
                 "initial " + show_duration(n.retry.initial) + ", max " + show_duration(n.retry.max) + ", max_age " +
                     show_duration(n.retry.max_age),
                 from});
  for (const auto& c : n.channels) {
    out.push_back({"notifications.channels." + c.name, show_channel(c), c.where.empty() ? from : c.where});
  }
  for (const auto& p : n.policies) out.push_back({"notifications.policies." + p.name, show_policy(p), from});
  // Belt and braces: a secret pasted into a non-secret field (a `from`, a tag) is still hidden.
  for (auto& line : out) line.value = redact_secrets(n, std::move(line.value));
  return out;
}

}  // namespace

std::string redact_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  const auto authority = scheme_end + 3;
  const auto query = std::min(url.find_first_of("?#", authority), url.size());
  std::string head = url.substr(0, query);
  // The last '@' before the query ends the user info, so a password holding an unescaped '@' is still hidden.
  const auto at = head.rfind('@');
  if (at != std::string::npos && at > authority) {
    const auto colon = head.find(':', authority);
    if (colon != std::string::npos && colon < at) head = head.substr(0, colon + 1) + "***" + head.substr(at);
  }
  return head + redact_query(url.substr(query));
}

std::string render_view(const loaded_settings& loaded) {
  const auto& values = loaded.values;
  std::vector<view_line> header;
  header.push_back({"home", values.home.string(), describe(loaded.home_source)});
  if (loaded.config_file) {
    header.push_back({"config file", *loaded.config_file, describe(loaded.config_file_source)});
  } else {
    header.push_back({"config file", "(none)", "no --config, OSPREY_CONFIG or $OSPREY_HOME/config.yaml"});
  }

  std::vector<view_line> body;
  for (const auto& f : detail::fields()) {
    const auto found = loaded.sources.find(f.key);
    const source from = found == loaded.sources.end() ? source{} : found->second;
    if (f.key == "database.url") {
      // Show the URL the server will really use, with the default applied and the password hidden.
      const auto from_text = values.database.url.empty() ? "default ($OSPREY_HOME/osprey.db)" : describe(from);
      body.push_back({f.key, redact_url(values.effective_database_url()), from_text});
    } else {
      body.push_back({f.key, f.show(values), describe(from)});
    }
  }

  auto notifications = notification_lines(values.notifications);

  // One column layout for all blocks; a very long key (a policy name) or value (a URL) only pushes its own line.
  constexpr std::size_t max_key_column = 40;
  constexpr std::size_t max_value_column = 40;
  std::size_t key_width = 0;
  std::size_t value_width = 0;
  for (const auto* block : {&header, &body, &notifications}) {
    for (const auto& line : *block) {
      if (line.key.size() <= max_key_column) key_width = std::max(key_width, line.key.size());
      if (line.value.size() <= max_value_column) value_width = std::max(value_width, line.value.size());
    }
  }
  std::string out;
  for (const auto* block : {&header, &body, &notifications}) {
    if (block != &header) out += '\n';
    for (const auto& line : *block) {
      std::string text = line.key;
      if (line.key.size() < key_width) text += std::string(key_width - line.key.size(), ' ');
      text += " = " + line.value;
      if (line.value.size() < value_width) text += std::string(value_width - line.value.size(), ' ');
      out += text + "  # " + line.from + '\n';
    }
  }
  return out;
}

}  // namespace osprey::config

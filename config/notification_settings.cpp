#include "config/notification_settings.hpp"

#include <algorithm>

namespace osprey::config {

const char* to_string(channel_type t) noexcept {
  switch (t) {
    case channel_type::slack: return "slack";
    case channel_type::teams: return "teams";
    case channel_type::pagerduty: return "pagerduty";
    case channel_type::opsgenie: return "opsgenie";
    case channel_type::twilio: return "twilio";
    case channel_type::sendgrid: return "sendgrid";
    case channel_type::smtp: return "smtp";
  }
  return "slack";
}

std::vector<std::string> channel_settings::secrets() const {
  std::vector<std::string> out;
  for (const auto* secret : {&url, &routing_key, &api_key, &auth_token, &password}) {
    if (!secret->empty()) out.push_back(*secret);
  }
  return out;
}

const channel_settings* notification_settings::find_channel(std::string_view name) const {
  const auto it = std::find_if(channels.begin(), channels.end(), [&](const auto& c) { return c.name == name; });
  return it == channels.end() ? nullptr : &*it;
}

std::string redact_secrets(const notification_settings& settings, std::string text) {
  std::vector<std::string> secrets;
  for (const auto& channel : settings.channels) {
    for (auto& secret : channel.secrets()) secrets.push_back(std::move(secret));
  }
  // Longest first, so a secret containing another is replaced whole.
  std::sort(secrets.begin(), secrets.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& secret : secrets) {
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 8)) {
      text.replace(at, secret.size(), "<secret>");
    }
  }
  return text;
}

}  // namespace osprey::config

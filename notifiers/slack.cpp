// Slack incoming webhook: POST the webhook URL with {"text": ...}. The channel is fixed by the webhook,
// messages cannot be edited, so a resolve is a second "Recovered: ..." message. Success is 200 with the
// text body "ok"; 429 carries Retry-After; 400/403/404/410 are permanent (the HTTP baseline).

#include <algorithm>

#include "notifiers/backends.hpp"

namespace osprey::notifiers {
namespace {

/// Slack keeps ~4000 characters of `text` readable (it cuts at 40 000).
constexpr std::size_t max_text_chars = 4000;

/// Slack's mrkdwn treats `<...>` as links and mentions; & < > must be escaped in message text.
std::string escape_mrkdwn(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

class slack final : public channel_notifier {
 public:
  using channel_notifier::channel_notifier;

  [[nodiscard]] std::vector<request> build(const notification& n) const override {
    std::string text = headline(n);
    if (!n.message.empty()) text += "\n" + n.message;
    http_request r;
    r.url = channel_.url;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = dump_compact({{"text", escape_mrkdwn(truncate_chars(text, max_text_chars))}});
    return {std::move(r)};
  }

  /// Slack answers "ok"; an error it reports with a 2xx comes as a bare token ("no_text",
  /// "invalid_payload") and is permanent. Other 2xx bodies (Slack-compatible receivers such as
  /// Mattermost or Rocket.Chat answer differently) count as delivered.
  [[nodiscard]] classification classify(const reply& r) const override {
    auto c = notifier::classify(r);
    if (c.outcome == verdict::delivered && is_error_token(r.body)) c.outcome = verdict::dead;
    return c;
  }

 private:
  static bool is_error_token(std::string_view body) {
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' ')) body.remove_suffix(1);
    if (body.empty() || body == "ok") return false;
    return std::all_of(body.begin(), body.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
  }
};

}  // namespace

std::unique_ptr<notifier> make_slack(const config::channel_settings& channel) {
  return std::make_unique<slack>(channel);
}

}  // namespace osprey::notifiers

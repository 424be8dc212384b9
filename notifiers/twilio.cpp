// Twilio Programmable Messaging: one form-encoded POST to .../Accounts/<sid>/Messages.json per recipient,
// HTTP Basic auth with the account SID and auth token. SMS is billed per segment, so the text is the
// headline and the run's URL, never the long template. 201 delivered; 429, 5xx and transport errors
// retry; 400 (21xxx: bad number, unsubscribed) and 401 are permanent.

#include "notifiers/backends.hpp"

namespace osprey::notifiers {
namespace {

/// Two concatenated GSM-7 segments are 306 characters; 320 keeps every message to two or three.
constexpr std::size_t max_sms_chars = 320;
/// Below this many characters left for the headline, the URL gets cut too.
constexpr std::size_t min_headline_chars = 40;

std::size_t char_count(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

/// "<headline> <url>" in at most max_sms_chars; the headline is shortened first so the link survives.
std::string sms_text(const notification& n) {
  auto line = headline(n);
  auto url = value_text(n.values, "flow_run_url");
  if (url.empty()) return truncate_chars(line, max_sms_chars);
  auto url_chars = char_count(url);
  if (url_chars + 1 + min_headline_chars <= max_sms_chars)
    return truncate_chars(line, max_sms_chars - 1 - url_chars) + " " + url;
  return truncate_chars(line + " " + url, max_sms_chars);
}

class twilio final : public channel_notifier {
 public:
  using channel_notifier::channel_notifier;

  [[nodiscard]] std::vector<request> build(const notification& n) const override {
    const auto base =
        channel_.api_url.empty() ? std::string("https://api.twilio.com") : trim_base_url(channel_.api_url);
    const auto text = percent_encode(sms_text(n));
    std::vector<request> out;
    for (const auto& to : channel_.to) {
      http_request r;
      r.url = base + "/2010-04-01/Accounts/" + percent_encode(channel_.account_sid) + "/Messages.json";
      r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
      r.body = "To=" + percent_encode(to) + "&From=" + percent_encode(channel_.from) + "&Body=" + text;
      r.basic_auth = std::make_pair(channel_.account_sid, channel_.auth_token);
      out.emplace_back(std::move(r));
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<notifier> make_twilio(const config::channel_settings& channel) {
  return std::make_unique<twilio>(channel);
}

}  // namespace osprey::notifiers

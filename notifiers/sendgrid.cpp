// SendGrid Mail Send API v3 (what Prefect's sendgrid-email block sends through Apprise): one POST
// /v3/mail/send per recipient, "Authorization: Bearer <api key>", a personalization for that recipient, the
// sender, the headline as subject and the message as plain text. A resolve is a second "Recovered: ..." mail.
// 200 and 202 are accepted; 429 and 5xx retry; other 4xx (bad key, unverified sender) are permanent.

#include "notifiers/backends.hpp"

namespace osprey::notifiers {
namespace {

/// SendGrid refuses subjects over 998 characters (RFC 5322's line length).
constexpr std::size_t max_subject_chars = 900;

class sendgrid final : public channel_notifier {
 public:
  using channel_notifier::channel_notifier;

  [[nodiscard]] std::vector<request> build(const notification& n) const override {
    const std::string subject = truncate_chars(headline(n), max_subject_chars);
    std::vector<request> out;
    for (const auto& to : channel_.to) {
      http_request r;
      r.url = base_url() + "/v3/mail/send";
      r.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + channel_.api_key}};
      r.body =
          dump_compact({{"personalizations", {{{"to", {{{"email", to}}}}}}},
                        {"from", {{"email", channel_.from}}},
                        {"subject", subject.empty() ? "<no subject>" : subject},
                        {"content", {{{"type", "text/plain"}, {"value", n.message.empty() ? subject : n.message}}}}});
      out.emplace_back(std::move(r));
    }
    return out;
  }

 private:
  [[nodiscard]] std::string base_url() const {
    return channel_.api_url.empty() ? std::string("https://api.sendgrid.com") : trim_base_url(channel_.api_url);
  }
};

}  // namespace

std::unique_ptr<notifier> make_sendgrid(const config::channel_settings& channel) {
  return std::make_unique<sendgrid>(channel);
}

}  // namespace osprey::notifiers

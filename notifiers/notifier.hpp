#pragma once
// One notifier per backend (Slack, Teams, PagerDuty, Opsgenie, Twilio, SMTP), all behind this interface.
// A notifier is pure: it turns a notification into the exact requests to send (build) and a reply into a
// verdict (classify). Sending is the transport's job (notifiers/transport.hpp), scheduling, retries and
// bookkeeping the dispatcher's (actors/notification_dispatcher.hpp). So each backend is tested by comparing
// its requests with golden files, and the transport once against real receivers on loopback.

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "config/notification_settings.hpp"
#include "domain/notification.hpp"
#include "domain/time.hpp"

namespace osprey::notifiers {

/// The outbox job's kind (domain/notification.hpp; to_string spells it as the outbox does).
using delivery_kind = notification_kind;

/// One outbox job as a notifier sees it. Rendered when it was enqueued, so later config changes do not
/// alter what an accepted state change announces.
struct notification {
  std::string id;  ///< outbox id (a UUID); e-mail uses it for Message-ID
  delivery_kind kind = delivery_kind::trigger;
  std::string policy_name;
  std::string dedup_key;  ///< PagerDuty dedup_key, Opsgenie alias, e-mail thread; stable per policy+scope
  std::string title;      ///< one line: e-mail subject, card title, PagerDuty summary, Opsgenie message
  std::string message;    ///< the rendered template (may span lines)
  /// Every template value (domain/notification.hpp template_values): flow_run_state_name,
  /// flow_run_state_type, flow_run_url, flow_run_id, flow_name, ... for structured fields.
  nlohmann::json values = nlohmann::json::object();
  timestamp created;  ///< when the job was enqueued (PagerDuty payload.timestamp, e-mail Date)
};

struct http_request {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  ///< in sending order, e.g. Content-Type
  std::string body;
  /// HTTP Basic credentials (Twilio); sent as an Authorization header by the transport.
  std::optional<std::pair<std::string, std::string>> basic_auth;
  /// The channel's allow_private_network: may the transport connect to non-public addresses?
  bool allow_private_network = false;
};

struct smtp_request {
  std::string url;  ///< "smtp://host:587" (STARTTLS or none) or "smtps://host:465" (implicit TLS)
  config::smtp_tls tls = config::smtp_tls::starttls;
  std::string username;  ///< "" = no AUTH
  std::string password;
  std::string ca_file;
  std::string mail_from;                ///< bare address for the envelope: "alerts@example.com"
  std::vector<std::string> recipients;  ///< bare addresses
  std::string message;                  ///< the whole RFC 5322 message, CRLF line endings
  bool allow_private_network = false;   ///< as http_request's
};

using request = std::variant<http_request, smtp_request>;

/// What came back for one request.
struct reply {
  int status = 0;                              ///< HTTP status, or the last SMTP reply code; 0 when no answer arrived
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;                            ///< at most 2 KiB
  int transport_error = 0;                     ///< CURLcode; 0 when the exchange completed
  std::string error;  ///< libcurl's message for transport_error (no secrets: URLs are not included)
  /// The transport refused every address the host had: non-public, and the request did not allow private
  /// networks (transport_error is then CURLE_COULDNT_CONNECT and error names the address and range).
  bool address_refused = false;
};

enum class verdict { delivered, retry, dead };
struct classification {
  verdict outcome = verdict::dead;
  std::optional<std::chrono::seconds> retry_after;  ///< from Retry-After (seconds or HTTP date)
  std::string reason;  ///< "HTTP 429 rate_limited", "connection refused"; never contains a secret
};

/// The HTTP baseline: 2xx delivered; transport errors, 408, 429 and 5xx retry (honouring Retry-After);
/// other statuses and refused addresses dead (retrying cannot help: the config or the DNS must change). The reason
/// quotes the status and the first line of the body (≤ 200 characters).
classification classify_http(const reply& r);
/// The delay a Retry-After header value asks for: delta seconds, or an HTTP date (IMF-fixdate,
/// "Sun, 06 Nov 1994 08:49:37 GMT") relative to `now` (0 when already past); capped at one hour.
/// nullopt when the value is neither.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, timestamp now);
/// SMTP: 2xx/3xx delivered; transport errors other than login/TLS failures, and 4xx replies, retry;
/// 5xx, login denied, TLS verification failures and refused addresses dead.
classification classify_smtp(const reply& r);

class notifier {
 public:
  virtual ~notifier() = default;
  /// The channel this notifier sends to.
  [[nodiscard]] virtual const config::channel_settings& channel() const = 0;
  /// The requests delivering `n`, in order; usually one, Twilio one per recipient. Empty means there is
  /// nothing to send for this kind (e.g. a resolve on a channel that cannot resolve): the job is delivered.
  [[nodiscard]] virtual std::vector<request> build(const notification& n) const = 0;
  /// build(n) with the channel's network rule (allow_private_network) on every request: what is sent.
  [[nodiscard]] std::vector<request> requests(const notification& n) const;
  /// Whether `r` delivered a request of build(); defaults to classify_http / classify_smtp (by channel
  /// type). Every implementation redacts the channel's secrets from the reply before classifying, so the
  /// reason never quotes one even when the receiver echoes URLs or keys.
  [[nodiscard]] virtual classification classify(const reply& r) const;
  /// True for backends with server-side dedup and resolve (PagerDuty, Opsgenie).
  [[nodiscard]] virtual bool resolves() const { return false; }
};

/// The notifier for `channel` (a copy is kept). Never fails: settings were validated by config/.
std::unique_ptr<notifier> make_notifier(const config::channel_settings& channel);

}  // namespace osprey::notifiers

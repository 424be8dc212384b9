#pragma once
// Internal to notifiers/: the seven backends' factories (make_notifier picks one) and the few text helpers
// they share. Everything here is pure: the output depends only on its arguments, so requests are
// byte-for-byte reproducible (golden tests).

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "notifiers/notifier.hpp"

namespace osprey::notifiers {

std::unique_ptr<notifier> make_slack(const config::channel_settings& channel);
std::unique_ptr<notifier> make_teams(const config::channel_settings& channel);
std::unique_ptr<notifier> make_pagerduty(const config::channel_settings& channel);
std::unique_ptr<notifier> make_opsgenie(const config::channel_settings& channel);
std::unique_ptr<notifier> make_twilio(const config::channel_settings& channel);
std::unique_ptr<notifier> make_smtp(const config::channel_settings& channel);
std::unique_ptr<notifier> make_sendgrid(const config::channel_settings& channel);

/// The part every backend shares: it owns a copy of its channel.
class channel_notifier : public notifier {
 public:
  explicit channel_notifier(config::channel_settings channel) : channel_(std::move(channel)) {}
  [[nodiscard]] const config::channel_settings& channel() const final { return channel_; }

 protected:
  config::channel_settings channel_;
};

/// `r` with every secret of `channel` (and its JSON-escaped and percent-encoded spellings) replaced by
/// "<secret>" in the body and the error text. Redacting before anything is truncated means a secret cut in
/// half by truncation cannot leak its first half.
reply redact_reply(reply r, const config::channel_settings& channel);
/// Replaces every secret of `channel` in `text` (same spellings as redact_reply) with "<secret>".
std::string redact(std::string text, const config::channel_settings& channel);

/// The one-line headline of a notification: the title, prefixed "Recovered: " for resolve and
/// "Test notification: " for test.
std::string headline(const notification& n);

/// `values[key]` as text: strings as they are, other non-null JSON dumped, missing or null "".
std::string value_text(const nlohmann::json& values, std::string_view key);

/// The template values worth showing as structured fields (flow, run, deployment, state, URL), as a
/// string -> string object; missing and empty values are left out, each value cut to `max_chars`.
nlohmann::json key_values(const nlohmann::json& values, std::size_t max_chars);

/// At most `max_chars` code points of UTF-8 `text`; when cut, the last one kept is "…".
std::string truncate_chars(std::string_view text, std::size_t max_chars);
/// At most `max_bytes` bytes of UTF-8 `text`, cut on a code-point boundary; when cut, ends with "…".
std::string truncate_bytes(std::string_view text, std::size_t max_bytes);

/// `key` if it has at most `max_bytes` bytes; otherwise a prefix and "-" plus the 16 hex digits of
/// hash_hex(key), so distinct long keys stay distinct and the same key always maps to the same value.
std::string fit_key(std::string_view key, std::size_t max_bytes);
/// FNV-1a 64 of `text` as 16 lower-case hex digits: a stable, non-cryptographic id (e-mail thread ids).
std::string hash_hex(std::string_view text);

/// RFC 3986 percent-encoding: unreserved characters (A-Z a-z 0-9 - . _ ~) kept, every other byte %XX
/// (upper-case hex; a space is %20). Used for URL path segments and form bodies alike.
std::string percent_encode(std::string_view text);

/// `base` without trailing slashes.
std::string trim_base_url(std::string_view base);

/// Compact JSON as sent: UTF-8 kept as is, invalid UTF-8 replaced by U+FFFD rather than throwing.
std::string dump_compact(const nlohmann::json& body);

}  // namespace osprey::notifiers

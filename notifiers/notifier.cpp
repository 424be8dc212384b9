// The shared half of the notifiers: reply classification (HTTP, SMTP), secret redaction, the text helpers
// every backend uses (backends.hpp) and the factory. The backends themselves are one file each.

#include "notifiers/notifier.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "notifiers/backends.hpp"

namespace osprey::notifiers {
namespace {

constexpr std::chrono::seconds max_retry_after{3600};
constexpr std::size_t reason_chars = 200;

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

/// The first line of `body` (CR or LF ends it), at most reason_chars code points.
std::string first_line(std::string_view body) {
  auto end = body.find_first_of("\r\n");
  return truncate_chars(body.substr(0, end), reason_chars);
}

std::string curl_error_text(const reply& r) {
  return r.error.empty() ? "transport error " + std::to_string(r.transport_error) : r.error;
}

void replace_all(std::string& text, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + with.size()))
    text.replace(pos, what.size(), with);
}

/// Every spelling a receiver may echo a secret in, longest first (so a secret containing another is
/// replaced whole): as is, JSON with escaped slashes, percent-encoded.
std::vector<std::string> secret_spellings(const config::channel_settings& channel) {
  std::vector<std::string> out;
  for (const auto& s : channel.secrets()) {
    if (s.empty()) continue;
    out.push_back(s);
    std::string escaped = s;
    replace_all(escaped, "/", "\\/");
    if (escaped != s) out.push_back(std::move(escaped));
    if (auto encoded = percent_encode(s); encoded != s) out.push_back(std::move(encoded));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  return out;
}

std::string redact_with(std::string text, const std::vector<std::string>& spellings) {
  for (const auto& s : spellings) replace_all(text, s, "<secret>");
  return text;
}

}  // namespace

// ---- redaction ---------------------------------------------------------------------------------------

std::string redact(std::string text, const config::channel_settings& channel) {
  return redact_with(std::move(text), secret_spellings(channel));
}

reply redact_reply(reply r, const config::channel_settings& channel) {
  const auto spellings = secret_spellings(channel);
  r.body = redact_with(std::move(r.body), spellings);
  r.error = redact_with(std::move(r.error), spellings);
  // The transport keeps at most 2 KiB of the body, which may cut a secret: a tail that is the start of
  // one (8 bytes or more) goes too.
  for (const auto& s : spellings) {
    for (std::size_t n = std::min(s.size() - 1, r.body.size()); n >= 8 && n < s.size(); --n) {
      if (r.body.compare(r.body.size() - n, n, s, 0, n) == 0) {
        r.body.replace(r.body.size() - n, n, "<secret>");
        break;
      }
    }
  }
  return r;
}

// ---- text helpers --------------------------------------------------------------------------------------

std::string headline(const notification& n) {
  switch (n.kind) {
    case delivery_kind::resolve: return "Recovered: " + n.title;
    case delivery_kind::test: return "Test notification: " + n.title;
    case delivery_kind::trigger:
    case delivery_kind::action: break;
  }
  return n.title;
}

std::string value_text(const nlohmann::json& values, std::string_view key) {
  if (!values.is_object()) return {};
  auto it = values.find(key);
  if (it == values.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  return dump_compact(*it);
}

nlohmann::json key_values(const nlohmann::json& values, std::size_t max_chars) {
  static constexpr std::string_view keys[] = {"flow_name",
                                              "flow_run_name",
                                              "flow_run_id",
                                              "flow_run_url",
                                              "deployment_name",
                                              "flow_run_state_name",
                                              "flow_run_state_type",
                                              "flow_run_state_timestamp",
                                              "flow_run_state_message",
                                              "flow_run_tags",
                                              "policy_name"};
  auto out = nlohmann::json::object();
  for (auto key : keys) {
    if (auto text = value_text(values, key); !text.empty()) out[std::string(key)] = truncate_chars(text, max_chars);
  }
  return out;
}

std::string truncate_chars(std::string_view text, std::size_t max_chars) {
  if (max_chars == 0) return {};
  std::size_t chars = 0, cut = text.size();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_continuation(text[i])) continue;
    if (chars == max_chars - 1) cut = i;  // where "…" would go
    if (++chars > max_chars) return std::string(text.substr(0, cut)) + "…";
  }
  return std::string(text);
}

std::string truncate_bytes(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  if (max_bytes < 3) return {};
  std::size_t cut = max_bytes - 3;  // room for "…" (3 bytes)
  while (cut > 0 && is_continuation(text[cut])) --cut;
  return std::string(text.substr(0, cut)) + "…";
}

std::string hash_hex(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string fit_key(std::string_view key, std::size_t max_bytes) {
  if (key.size() <= max_bytes) return std::string(key);
  std::size_t cut = max_bytes > 17 ? max_bytes - 17 : 0;
  while (cut > 0 && is_continuation(key[cut])) --cut;
  return std::string(key.substr(0, cut)) + "-" + hash_hex(key);
}

std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

std::string trim_base_url(std::string_view base) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  return std::string(base);
}

std::string dump_compact(const nlohmann::json& body) {
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// ---- classification ------------------------------------------------------------------------------------

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, timestamp now) {
  using namespace std::chrono;
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    long long s = 0;
    for (char c : value) s = std::min<long long>(s * 10 + (c - '0'), max_retry_after.count());
    return seconds(s);
  }
  // IMF-fixdate, the only HTTP-date form senders may generate (RFC 9110 §5.6.7).
  static constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::string text(value);
  char weekday[4] = {}, month_name[4] = {};
  int d = 0, y = 0, h = 0, mi = 0, s = 0, used = 0;
  if (std::sscanf(text.c_str(), "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", weekday, &d, month_name, &y, &h,
                  &mi, &s, &used) != 7 ||
      static_cast<std::size_t>(used) != text.size())
    return std::nullopt;
  auto m = std::find(std::begin(months), std::end(months), std::string_view(month_name));
  if (m == std::end(months) || h > 23 || mi > 59 || s > 60) return std::nullopt;
  year_month_day ymd{year(y), month(static_cast<unsigned>(m - std::begin(months) + 1)), day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  auto at = sys_days(ymd) + hours(h) + minutes(mi) + seconds(s);
  auto wait = ceil<seconds>(at - now);
  return std::clamp(wait, seconds(0), max_retry_after);
}

classification classify_http(const reply& r) {
  classification c;
  if (r.transport_error != 0) {
    c.outcome = r.address_refused ? verdict::dead : verdict::retry;
    c.reason = curl_error_text(r);
    return c;
  }
  c.reason = "HTTP " + std::to_string(r.status);
  if (auto line = first_line(r.body); !line.empty()) c.reason += ": " + line;
  if (r.status >= 200 && r.status <= 299) {
    c.outcome = verdict::delivered;
  } else if (r.status == 0 || r.status == 408 || r.status == 429 || (r.status >= 500 && r.status <= 599)) {
    c.outcome = verdict::retry;  // status 0 without a transport error: no answer, so try again
    if (auto it = r.headers.find("retry-after"); it != r.headers.end())
      c.retry_after = parse_retry_after(it->second, system_clock::instance().now());
  } else {
    c.outcome = verdict::dead;
  }
  return c;
}

classification classify_smtp(const reply& r) {
  classification c;
  std::string text = first_line(r.body);
  if (text.empty() && r.transport_error != 0) text = first_line(curl_error_text(r));
  c.reason = r.status > 0 ? "SMTP " + std::to_string(r.status) + (text.empty() ? "" : ": " + text) : text;
  if (c.reason.empty()) c.reason = "no SMTP reply";
  // A rejecting reply decides, even when libcurl also reports the failed command as a transport error.
  if (r.status >= 500 || r.address_refused) {
    c.outcome = verdict::dead;
  } else if (r.status >= 400) {
    c.outcome = verdict::retry;
  } else if (r.transport_error != 0) {
    switch (r.transport_error) {
      case CURLE_LOGIN_DENIED:
      case CURLE_PEER_FAILED_VERIFICATION:  // also CURLE_SSL_CACERT, its old name
      case CURLE_USE_SSL_FAILED:
      case CURLE_SSL_CACERT_BADFILE:
        c.outcome = verdict::dead;  // fixing needs a person: credentials, certificates, TLS settings
        break;
      default: c.outcome = verdict::retry;
    }
  } else if (r.status >= 200) {
    c.outcome = verdict::delivered;
  } else {
    c.outcome = verdict::retry;  // no (or a 1xx) final reply without a transport error: try again
  }
  return c;
}

classification notifier::classify(const reply& r) const {
  const auto& ch = channel();
  reply clean = redact_reply(r, ch);
  auto c = ch.type == config::channel_type::smtp ? classify_smtp(clean) : classify_http(clean);
  c.reason = redact(std::move(c.reason), ch);
  return c;
}

std::vector<request> notifier::requests(const notification& n) const {
  auto out = build(n);
  for (auto& r : out) {
    std::visit([this](auto& req) { req.allow_private_network = channel().allow_private_network; }, r);
  }
  return out;
}

std::unique_ptr<notifier> make_notifier(const config::channel_settings& channel) {
  switch (channel.type) {
    case config::channel_type::slack: return make_slack(channel);
    case config::channel_type::teams: return make_teams(channel);
    case config::channel_type::pagerduty: return make_pagerduty(channel);
    case config::channel_type::opsgenie: return make_opsgenie(channel);
    case config::channel_type::twilio: return make_twilio(channel);
    case config::channel_type::smtp: return make_smtp(channel);
    case config::channel_type::sendgrid: return make_sendgrid(channel);
  }
  std::abort();  // not reached: the switch covers every channel_type, and config/ produces no others
}

}  // namespace osprey::notifiers

#include "http/websocket.hpp"

#include <cctype>
#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>

namespace osprey::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

/// Whether the comma-separated header value lists `token` (case-insensitive).
bool lists_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct origin_parts {
  std::string scheme;  ///< "http" or "https"
  std::string host;    ///< lower case, IPv6 without brackets
  std::uint16_t port = 0;
  bool operator==(const origin_parts&) const = default;
};

/// "scheme://host[:port]" (RFC 6454 serialisation; a trailing '/' tolerated), or nullopt.
std::optional<origin_parts> parse_origin(std::string_view text) {
  text = trim(text);
  if (text.ends_with('/')) text.remove_suffix(1);
  const auto separator = text.find("://");
  if (separator == std::string_view::npos) return std::nullopt;
  origin_parts out;
  out.scheme = lower(text.substr(0, separator));
  if (out.scheme != "http" && out.scheme != "https") return std::nullopt;
  std::string_view rest = text.substr(separator + 3);
  if (rest.find_first_of("/?#@ \t") != std::string_view::npos) return std::nullopt;
  std::optional<std::string_view> port_text;
  if (rest.starts_with('[')) {  // an IPv6 literal
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = lower(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port_text = rest.substr(1);
    }
  } else {
    const auto colon = rest.find(':');
    out.host = lower(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
  }
  if (out.host.empty()) return std::nullopt;
  if (!port_text) {
    out.port = out.scheme == "https" ? 443 : 80;
    return out;
  }
  unsigned port = 0;
  const auto* end = port_text->data() + port_text->size();
  const auto [ptr, ec] = std::from_chars(port_text->data(), end, port);
  if (port_text->empty() || ec != std::errc() || ptr != end || port == 0 || port > 65535) return std::nullopt;
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

}  // namespace

bool is_valid_origin(std::string_view text) { return parse_origin(text).has_value(); }

bool origin_allowed(std::string_view origin, const origin_policy& policy) {
  if (origin.empty()) return true;
  const auto parts = parse_origin(origin);
  if (!parts) return false;
  for (const auto& entry : policy.allowed)
    if (parse_origin(entry) == parts) return true;
  if (parts->scheme != "http" || parts->port != policy.port) return false;
  std::string_view listen = policy.listen_host;
  if (listen.size() >= 2 && listen.front() == '[' && listen.back() == ']') listen = listen.substr(1, listen.size() - 2);
  const std::string& host = parts->host;
  return host == lower(listen) || host == "localhost" || host == "127.0.0.1" || host == "::1";
}

bool is_websocket_upgrade(const request& req) {
  return req.method == "GET" && lists_token(req.header("upgrade"), "websocket") &&
         lists_token(req.header("connection"), "upgrade");
}

std::string select_subprotocol(const std::string& offered, const std::vector<std::string>& supported) {
  for (const auto& candidate : supported)
    if (lists_token(offered, candidate)) return candidate;
  return {};
}

}  // namespace osprey::http

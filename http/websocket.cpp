#include "http/websocket.hpp"

#include <cctype>
#include <string_view>

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

}  // namespace

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

// `osprey config view` and secret redaction.

#include <algorithm>
#include <cctype>
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
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
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

  // One column layout for both blocks; a very long value (a URL) only pushes its own comment.
  constexpr std::size_t max_value_column = 40;
  std::size_t key_width = 0;
  std::size_t value_width = 0;
  for (const auto* block : {&header, &body}) {
    for (const auto& line : *block) {
      key_width = std::max(key_width, line.key.size());
      if (line.value.size() <= max_value_column) value_width = std::max(value_width, line.value.size());
    }
  }
  std::string out;
  for (const auto* block : {&header, &body}) {
    if (block == &body) out += '\n';
    for (const auto& line : *block) {
      std::string text = line.key + std::string(key_width - line.key.size(), ' ') + " = " + line.value;
      if (line.value.size() < value_width) text += std::string(value_width - line.value.size(), ' ');
      out += text + "  # " + line.from + '\n';
    }
  }
  return out;
}

}  // namespace osprey::config

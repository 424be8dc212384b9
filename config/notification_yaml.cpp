// Typed reads for the `notifications:` parser: every failure becomes an error with key, file:line and a fix.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>
#include <utility>

#include "config/notifications_internal.hpp"
#include "config/schema.hpp"

namespace osprey::config::detail {

namespace fs = std::filesystem;

const entry* mapping::find(std::string_view name) const {
  for (const auto& e : entries) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

bool is_loopback_host(std::string_view host) {
  const auto h = lower(host);
  return h == "127.0.0.1" || h == "::1" || h == "[::1]" || h == "localhost";
}

std::string_view url_host(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const auto authority = scheme_end + 3;
  auto host = url.substr(authority, std::min(url.find_first_of("/?#", authority), url.size()) - authority);
  if (const auto at = host.rfind('@'); at != std::string_view::npos) host.remove_prefix(at + 1);
  if (host.starts_with('[')) {
    host = host.substr(0, std::min(host.find(']'), host.size() - 1) + 1);
  } else {
    host = host.substr(0, std::min(host.find(':'), host.size()));
  }
  return host;
}

std::string url_problem(std::string_view url) {
  const bool https = url.starts_with("https://");
  if (!https && !url.starts_with("http://")) return "expected an https:// URL";
  const auto host = url_host(url);
  if (host.empty()) return "the URL has no host";
  if (!https && !is_loopback_host(host)) {
    return "plain http:// is allowed only for loopback hosts (127.0.0.1, [::1], localhost); use https://";
  }
  return "";
}

yaml_reader::yaml_reader(std::string file, const environment_map& environment, std::vector<config_error>& errors)
    : file_(std::move(file)), base_dir_(fs::path(file_).parent_path()), environment_(environment), errors_(errors) {}

std::string yaml_reader::at(const YAML::Node& node) const {
  const auto mark = node.Mark();
  return mark.is_null() ? file_ : file_ + ":" + std::to_string(mark.line + 1);
}

void yaml_reader::fail(const std::string& key, const std::string& where, std::string message) {
  errors_.push_back({key, where, std::move(message)});
}

std::size_t yaml_reader::error_count() const { return errors_.size(); }

std::optional<mapping> yaml_reader::open(const YAML::Node& node, const std::string& key, const std::string& where) {
  mapping out{key, where, {}};
  if (node.IsNull()) return out;
  if (!node.IsMap()) {
    fail(key, where, std::string("expected a mapping (key: value, ...), got ") + node_kind(node));
    return std::nullopt;
  }
  std::map<std::string, std::string> seen;
  for (const auto& item : node) {
    // Copies: yaml-cpp's iterator hands out a temporary pair.
    const YAML::Node key_node = item.first;
    const std::string entry_where = at(key_node);
    if (!key_node.IsScalar()) {
      fail(key, entry_where, std::string("expected a key name, got ") + node_kind(key_node));
      continue;
    }
    const auto& name = key_node.Scalar();
    const std::string dotted = key + "." + name;
    if (const auto [first, inserted] = seen.emplace(name, entry_where); !inserted) {
      fail(dotted, entry_where, "duplicate key (first set at " + first->second + "); keep one");
      continue;
    }
    out.entries.push_back({name, dotted, entry_where, item.second});
  }
  return out;
}

void yaml_reader::reject_unknown(const mapping& m, const std::vector<std::string>& allowed, std::string_view what) {
  for (const auto& e : m.entries) {
    if (std::find(allowed.begin(), allowed.end(), e.name) != allowed.end()) continue;
    auto sorted = allowed;
    std::sort(sorted.begin(), sorted.end());
    fail(e.key, e.where, "unknown key for " + std::string(what) + " (expected one of " + join(sorted) + ")");
  }
}

std::optional<std::string> yaml_reader::text(const entry& e) {
  if (e.value.IsNull()) return std::string();
  if (!e.value.IsScalar()) {
    fail(e.key, e.where, std::string("expected a single value, got ") + node_kind(e.value));
    return std::nullopt;
  }
  auto expanded = expand(e.value.Scalar(), environment_);
  if (!expanded.error.empty()) {
    fail(e.key, e.where, expanded.error);
    return std::nullopt;
  }
  return std::move(expanded.text);
}

std::optional<std::string> yaml_reader::secret_text(const entry& e) {
  if (e.value.IsNull()) return std::string();
  if (!e.value.IsScalar()) {
    fail(e.key, e.where, std::string("expected a single value, got ") + node_kind(e.value));
    return std::nullopt;
  }
  auto expanded = expand(e.value.Scalar(), environment_);
  if (expanded.error.starts_with("invalid variable name")) {
    // The loader quotes the `${...}` text, which here is part of a secret.
    expanded.error = "invalid variable name in '${...}' (write '$${' for a literal '${')";
  }
  if (!expanded.error.empty()) {
    fail(e.key, e.where, expanded.error);
    return std::nullopt;
  }
  return std::move(expanded.text);
}

std::optional<std::vector<std::string>> yaml_reader::list(const entry& e) {
  std::vector<std::string> out;
  if (e.value.IsNull()) return out;
  if (!e.value.IsSequence()) {
    fail(e.key, e.where, std::string("expected a list ([a, b]), got ") + node_kind(e.value));
    return std::nullopt;
  }
  bool ok = true;
  for (std::size_t i = 0; i < e.value.size(); ++i) {
    const YAML::Node item = e.value[i];
    const entry element{e.name, e.key + "[" + std::to_string(i) + "]", at(item), item};
    if (item.IsNull()) {
      fail(element.key, element.where, "empty list item; remove it or give a value");
      ok = false;
    } else if (auto value = text(element)) {
      out.push_back(std::move(*value));
    } else {
      ok = false;
    }
  }
  return ok ? std::optional(std::move(out)) : std::nullopt;
}

std::optional<bool> yaml_reader::boolean(const entry& e) {
  const auto raw = text(e);
  if (!raw) return std::nullopt;
  const auto b = parse_bool(*raw);
  if (!b) fail(e.key, e.where, "expected a boolean (true/false, yes/no, on/off, 1/0), " + got(*raw));
  return b;
}

std::optional<std::chrono::milliseconds> yaml_reader::duration(const entry& e) {
  const auto raw = text(e);
  if (!raw) return std::nullopt;
  struct unit {
    std::string_view suffix;
    std::int64_t ms;
  };
  static constexpr unit units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
  const std::string_view text_view(*raw);
  const auto digits_end = std::min(text_view.find_first_not_of("0123456789"), text_view.size());
  const auto suffix = text_view.substr(digits_end);
  const auto number = parse_uint(text_view.substr(0, digits_end));
  // 12 digits of days still fit in 64-bit milliseconds.
  if (number && digits_end <= 12) {
    for (const auto& u : units) {
      if (suffix == u.suffix || (suffix.empty() && u.suffix == "s")) {
        return std::chrono::milliseconds(static_cast<std::int64_t>(*number) * u.ms);
      }
    }
  }
  fail(e.key, e.where, "expected a duration like 250ms, 30s, 5m, 4h, 1d or a number of seconds, " + got(*raw));
  return std::nullopt;
}

std::optional<double> yaml_reader::positive_number(const entry& e) {
  const auto raw = text(e);
  if (!raw) return std::nullopt;
  double value = 0;
  const auto* end = raw->data() + raw->size();
  const auto [ptr, ec] = std::from_chars(raw->data(), end, value);
  if (ec == std::errc() && ptr == end && value > 0) return value;
  fail(e.key, e.where, "expected a number greater than 0, " + got(*raw));
  return std::nullopt;
}

std::optional<std::uint64_t> yaml_reader::integer(const entry& e, std::uint64_t min, std::uint64_t max) {
  const auto raw = text(e);
  if (!raw) return std::nullopt;
  const auto n = parse_uint(*raw);
  if (n && *n >= min && *n <= max) return n;
  fail(e.key, e.where,
       "expected an integer between " + std::to_string(min) + " and " + std::to_string(max) + ", " + got(*raw));
  return std::nullopt;
}

std::optional<std::string> yaml_reader::one_of(const entry& e, const std::vector<std::string>& choices) {
  const auto raw = text(e);
  if (!raw) return std::nullopt;
  for (const auto& choice : choices) {
    if (lower(choice) == lower(*raw)) return choice;
  }
  fail(e.key, e.where, "expected one of " + join(choices) + ", " + got(*raw));
  return std::nullopt;
}

std::optional<std::string> yaml_reader::secret(const mapping& m, const std::string& field) {
  const auto* literal = m.find(field);
  const auto* from_file = m.find(field + "_file");
  if (literal && from_file) {
    fail(from_file->key, from_file->where, "give either " + field + " or " + field + "_file, not both");
    return std::nullopt;
  }
  if (literal) return secret_text(*literal);
  if (!from_file) return std::string();
  const auto path_text = text(*from_file);
  if (!path_text) return std::nullopt;
  if (path_text->empty()) {
    fail(from_file->key, from_file->where, "expected the path of a file holding the " + field);
    return std::nullopt;
  }
  const auto path = (base_dir_ / *path_text).lexically_normal();  // an absolute path replaces the base
  std::error_code ec;
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  if (in) content << in.rdbuf();
  if (!in || fs::is_directory(path, ec)) {
    fail(from_file->key, from_file->where,
         "cannot read secret file '" + path.string() + "'; check that it exists and is readable");
    return std::nullopt;
  }
  auto value = content.str();
  // Editors and `echo` end files with a newline; the secret is what precedes it.
  if (value.ends_with("\r\n")) {
    value.resize(value.size() - 2);
  } else if (value.ends_with('\n')) {
    value.pop_back();
  }
  return value;
}

nlohmann::json yaml_to_json(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return nullptr;
  if (node.IsSequence()) {
    auto out = nlohmann::json::array();
    for (const auto& item : node) out.push_back(yaml_to_json(item));
    return out;
  }
  if (node.IsMap()) {
    auto out = nlohmann::json::object();
    for (const auto& item : node) out[item.first.as<std::string>()] = yaml_to_json(item.second);
    return out;
  }
  const auto text = node.as<std::string>();
  if (node.Tag() == "!") return text;  // quoted: a string whatever it reads like
  if (text == "null" || text == "Null" || text == "NULL" || text == "~") return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  const auto number = nlohmann::json::parse(text, nullptr, false);
  if (number.is_number()) return number;
  return text;
}

}  // namespace osprey::config::detail

#include "config/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

#include "config/notifications_internal.hpp"
#include "config/schema.hpp"

extern char** environ;  // POSIX; declared by no standard header

namespace osprey::config {
namespace {

namespace fs = std::filesystem;
using environment_map = std::map<std::string, std::string>;

/// Short aliases, checked only when the long name is unset (the more specific name wins).
const std::map<std::string, std::string>& short_aliases() {
  static const std::map<std::string, std::string> aliases = {
      {"server.host", "OSPREY_HOST"},
      {"server.port", "OSPREY_PORT"},
  };
  return aliases;
}

const std::string* lookup(const environment_map& environment, const std::string& name) {
  const auto it = environment.find(name);
  return it == environment.end() ? nullptr : &it->second;
}

bool is_variable_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  for (const char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

// Shared with the notifications parser (notifications_internal.hpp).
namespace detail {

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& word : words) out += (out.empty() ? "" : ", ") + word;
  return out;
}

/// A lone `$` stays as it is; all unset names of the value are reported at once.
expansion expand(std::string_view raw, const environment_map& environment) {
  expansion out;
  std::vector<std::string> unset;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw.substr(i).starts_with("$${")) {
      out.text += "${";
      i += 2;
      continue;
    }
    if (!raw.substr(i).starts_with("${")) {
      out.text += raw[i];
      continue;
    }
    const auto close = raw.find('}', i + 2);
    if (close == std::string_view::npos) {
      out.error = "unterminated '${' (write '$${' for a literal '${')";
      return out;
    }
    const auto name = raw.substr(i + 2, close - i - 2);
    if (!is_variable_name(name)) {
      out.error = "invalid variable name in '${" + std::string(name) + "}'";
      return out;
    }
    if (const auto* value = lookup(environment, std::string(name))) {
      out.text += *value;
    } else {
      unset.emplace_back(name);
    }
    i = close;
  }
  if (unset.size() == 1) out.error = "environment variable " + unset.front() + " is not set";
  if (unset.size() > 1) out.error = "environment variables " + join(unset) + " are not set";
  return out;
}

const char* node_kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Scalar: return "a single value";
    case YAML::NodeType::Undefined: break;
  }
  return "nothing";
}

}  // namespace detail

namespace {

using detail::expand;
using detail::join;
using detail::node_kind;

/// One load() call: the settings being built, where each value came from, and every problem found.
class loader {
 public:
  explicit loader(const load_request& request) : request_(request) {
    for (const auto& f : detail::fields()) result_.sources[f.key] = source{};
  }

  load_outcome run() {
    resolve_home();
    if (const auto file = choose_file()) read_file(*file);
    apply_environment();
    apply_flags();
    check_relations();
    if (!errors_.empty()) return {std::nullopt, std::move(errors_)};
    return {std::move(result_), {}};
  }

 private:
  void fail(std::string key, std::string where, std::string message) {
    errors_.push_back({std::move(key), std::move(where), std::move(message)});
  }

  /// Parses `raw` into the field; records `from` on success, an error at `where` on failure.
  void apply(const detail::field& f, std::string_view raw, source from, std::string where) {
    if (auto problem = f.apply(raw, result_.values)) {
      fail(f.key, std::move(where), std::move(*problem));
    } else {
      result_.sources[f.key] = std::move(from);
    }
  }

  void resolve_home() {
    fs::path home;
    const auto* explicit_home = lookup(request_.environment, "OSPREY_HOME");
    if (explicit_home && !explicit_home->empty()) {
      home = *explicit_home;
      result_.home_source = {source::kind::environment, "OSPREY_HOME"};
    } else if (const auto* user_home = lookup(request_.environment, "HOME"); user_home && !user_home->empty()) {
      home = fs::path(*user_home) / ".osprey";
      result_.home_source = {source::kind::default_value, "$HOME/.osprey"};
    } else {
      fail("", "environment", "neither OSPREY_HOME nor HOME is set; set OSPREY_HOME to Osprey's data directory");
      return;
    }
    std::error_code ec;
    const auto absolute = fs::absolute(home, ec);
    result_.values.home = (ec ? home : absolute).lexically_normal();
  }

  /// The YAML file to read, if any: --config, else $OSPREY_CONFIG, else $OSPREY_HOME/config.yaml if present.
  std::optional<std::string> choose_file() {
    if (request_.config_file) {
      result_.config_file_source = {source::kind::flag, request_.flag_name_prefix + "config"};
      return request_.config_file;
    }
    if (const auto* named = lookup(request_.environment, "OSPREY_CONFIG"); named && !named->empty()) {
      result_.config_file_source = {source::kind::environment, "OSPREY_CONFIG"};
      return *named;
    }
    if (result_.values.home.empty()) return std::nullopt;  // home failed; already reported
    const auto candidate = result_.values.home / "config.yaml";
    std::error_code ec;
    if (!fs::exists(candidate, ec)) return std::nullopt;  // the default file is optional
    result_.config_file_source = {source::kind::default_value, "$OSPREY_HOME/config.yaml"};
    return candidate.string();
  }

  std::string file_named_by() const {
    const auto& from = result_.config_file_source;
    switch (from.from) {
      case source::kind::flag: return " (named by " + from.detail + ")";
      case source::kind::environment: return " (named by environment " + from.detail + ")";
      case source::kind::default_value:
      case source::kind::file: break;
    }
    return "";
  }

  void read_file(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      fail("", path, "config file not found" + file_named_by());
      return;
    }
    if (fs::is_directory(path, ec)) {
      fail("", path, "config file is a directory" + file_named_by());
      return;
    }
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
      fail("", path, "config file cannot be read" + file_named_by());
      return;
    }
    result_.config_file = path;
    file_ = path;
    // yaml-cpp reports everything by throwing; no exception may leave load().
    try {
      const YAML::Node root = YAML::Load(text.str());
      if (root.IsNull()) return;  // an empty file sets nothing
      if (!root.IsMap()) {
        fail("", at(root.Mark()),
             std::string("expected a mapping of settings at the top level, got ") + node_kind(root));
        return;
      }
      walk(root, "");
    } catch (const YAML::Exception& e) {
      fail("", e.mark.is_null() ? path : at(e.mark), "invalid YAML: " + e.msg);
    } catch (const std::exception& e) {
      fail("", path, std::string("cannot parse config file: ") + e.what());
    }
  }

  std::string at(const YAML::Mark& mark) const {
    return mark.is_null() ? file_ : file_ + ":" + std::to_string(mark.line + 1);
  }

  /// Visits a mapping whose dotted path is `prefix` ("" at the top level).
  void walk(const YAML::Node& mapping, const std::string& prefix) {
    for (const auto& entry : mapping) {
      // Copies: yaml-cpp's iterator hands out a temporary pair, so references into it would dangle.
      const YAML::Node key_node = entry.first;
      const YAML::Node value = entry.second;
      // The key's line, not the value's: an empty value's mark points at the following line.
      const std::string where = at(key_node.Mark());
      if (!key_node.IsScalar()) {
        fail(prefix, where, std::string("expected a key name, got ") + node_kind(key_node));
        continue;
      }
      const std::string key = prefix.empty() ? key_node.Scalar() : prefix + "." + key_node.Scalar();
      if (const auto [first, inserted] = seen_.emplace(key, key_node.Mark().line + 1); !inserted) {
        fail(key, where, "duplicate key (first set on line " + std::to_string(first->second) + ")");
        continue;
      }
      if (prefix.empty() && key == "notifications") {
        // Lists of channels and policies do not fit the flat field table; the section has its own parser.
        detail::parse_notifications(value, where, file_, request_.environment, result_.values.notifications, errors_);
        continue;
      }
      if (const auto* f = detail::find_field(key)) {
        leaf(*f, value, where);
      } else if (detail::is_section(key)) {
        if (value.IsMap()) {
          walk(value, key);
        } else if (!value.IsNull()) {
          fail(
              key, where,
              std::string("expected a mapping with keys ") + join(detail::children(key)) + ", got " + node_kind(value));
        }
      } else {
        auto known = detail::children(prefix);
        if (prefix.empty()) known.emplace_back("notifications");
        fail(key, where, "unknown key (expected one of " + join(known) + ")");
      }
    }
  }

  void leaf(const detail::field& f, const YAML::Node& value, const std::string& where) {
    if (f.list && value.IsSequence()) return list_leaf(f, value, where);
    if (!value.IsScalar() && !value.IsNull()) {
      fail(f.key, where, std::string("expected a single value, got ") + node_kind(value));
      return;
    }
    // A null value (`port:` or `port: ~`) reads as empty text; each parser decides whether that is allowed.
    const auto expanded = expand(value.IsNull() ? std::string() : value.Scalar(), request_.environment);
    if (!expanded.error.empty()) {
      fail(f.key, where, expanded.error);
      return;
    }
    apply(f, expanded.text, {source::kind::file, where}, where);
  }

  /// A YAML list for a list setting: its items, each a single value, joined as the comma-separated text.
  void list_leaf(const detail::field& f, const YAML::Node& items, const std::string& where) {
    std::string joined;
    for (const auto& item : items) {
      if (!item.IsScalar()) {
        fail(f.key, where, std::string("expected a list of single values, got an item that is ") + node_kind(item));
        return;
      }
      const auto expanded = expand(item.Scalar(), request_.environment);
      if (!expanded.error.empty()) {
        fail(f.key, where, expanded.error);
        return;
      }
      if (expanded.text.find(',') != std::string::npos) {
        fail(f.key, where, "a list item may not contain ',', got '" + expanded.text + "'");
        return;
      }
      joined += (joined.empty() ? "" : ", ") + expanded.text;
    }
    apply(f, joined, {source::kind::file, where}, where);
  }

  void apply_environment() {
    for (const auto& f : detail::fields()) {
      std::string name = detail::environment_name(f.key);
      const auto* value = lookup(request_.environment, name);
      if (const auto alias = short_aliases().find(f.key); alias != short_aliases().end()) {
        if (const auto* short_value = lookup(request_.environment, alias->second)) {
          if (value) {
            result_.warnings.push_back("environment " + alias->second + " is ignored because " + name + " is also set");
          } else {
            value = short_value;
            name = alias->second;
          }
        }
      }
      if (value) apply(f, *value, {source::kind::environment, name}, "environment " + name);
    }
    warn_about_unknown_variables();
  }

  /// OSPREY_SERVER_PROT is probably a typo; OSPREY_BINARY or OSPREY_TEST_* belong to someone else.
  void warn_about_unknown_variables() {
    std::set<std::string> known = {"OSPREY_HOME", "OSPREY_CONFIG"};
    for (const auto& f : detail::fields()) known.insert(detail::environment_name(f.key));
    for (const auto& [key, alias] : short_aliases()) known.insert(alias);
    for (const auto& [name, value] : request_.environment) {
      if (known.contains(name)) continue;
      for (const auto& section : detail::children("")) {
        if (name.starts_with(detail::environment_name(section) + "_")) {
          result_.warnings.push_back("environment " + name + ": not a setting, ignored");
          break;
        }
      }
    }
  }

  void apply_flags() {
    for (const auto& [key, raw] : request_.flags) {
      const auto named = request_.flag_names.find(key);
      const std::string flag = named != request_.flag_names.end() ? named->second : request_.flag_name_prefix + key;
      if (const auto* f = detail::find_field(key)) {
        apply(*f, raw, {source::kind::flag, flag}, "flag " + flag);
      } else {
        fail(key, "flag " + flag, "unknown setting");
      }
    }
  }

  /// Settings valid alone but not together; reported at the later-set one's source.
  void check_relations() {
    const auto& services = result_.values.services;
    if (services.cluster_dead_after < 3 * services.cluster_heartbeat)
      fail("services.cluster.dead_after_seconds", describe_source("services.cluster.dead_after_seconds"),
           "must be at least 3 × services.cluster.heartbeat_seconds (" +
               std::to_string(services.cluster_heartbeat.count()) +
               " s), or a server that misses one beat "
               "would be taken for dead");
  }

  std::string describe_source(const std::string& key) const {
    const auto& from = result_.sources.at(key);
    switch (from.from) {
      case source::kind::default_value: return "default";
      case source::kind::file: return from.detail;
      case source::kind::environment: return "environment " + from.detail;
      case source::kind::flag: return "flag " + from.detail;
    }
    return from.detail;
  }

  const load_request& request_;
  loaded_settings result_;
  std::vector<config_error> errors_;
  std::string file_;                 ///< the YAML file being read, for "file:line"
  std::map<std::string, int> seen_;  ///< dotted keys already set in the file -> 1-based line
};

}  // namespace

std::string config_error::to_string() const {
  std::string out;
  for (const auto* part : {&where, &key}) {
    if (!part->empty()) out += *part + ": ";
  }
  return out + message;
}

load_outcome load(const load_request& request) { return loader(request).run(); }

std::map<std::string, std::string> environment_from_process() {
  std::map<std::string, std::string> out;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text(*entry);
    const auto equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    out.emplace(text.substr(0, equals), text.substr(equals + 1));
  }
  return out;
}

}  // namespace osprey::config

#pragma once
// Internal to config/: the `notifications:` parser, shared by loader.cpp (which calls it),
// notifications.cpp (the section and its policies), notification_channels.cpp (one channel each) and
// notification_yaml.cpp (typed reads with file:line errors).
//
// Secrets: a reader never echoes a value it was asked to read as a secret, nor the text around a bad
// `${...}` in one; other values are quoted in messages to help fixing them.

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.hpp"
#include "config/notification_settings.hpp"

namespace osprey::config::detail {

using environment_map = std::map<std::string, std::string>;

/// The result of replacing `${VAR}` in one scalar: the text, or what was wrong with it.
struct expansion {
  std::string text;
  std::string error;  ///< empty on success; names unset variables, never their values
};

/// Replaces every `${NAME}` with its value; `$${` writes a literal `${` (loader.cpp).
expansion expand(std::string_view raw, const environment_map& environment);
/// "a mapping", "a list", "a single value", "nothing" (loader.cpp).
const char* node_kind(const YAML::Node& node);
/// The JSON a YAML node stands for: quoted scalars are strings; plain ones are YAML 1.2's core schema (null,
/// booleans, integers, floats) or strings; mappings' keys are strings.
nlohmann::json yaml_to_json(const YAML::Node& node);
/// "a, b, c" (loader.cpp).
std::string join(const std::vector<std::string>& words);

/// Parses the value of the top-level `notifications` key (whose key is at `where`) into `out`. `file` is the
/// main config file (for file:line and as the base of a relative `file:`). Appends every problem to
/// `errors`; `out` is only meaningful when none were added.
void parse_notifications(const YAML::Node& section, const std::string& where, const std::string& file,
                         const environment_map& environment, notification_settings& out,
                         std::vector<config_error>& errors);

/// One key of a YAML mapping, with its dotted key and the key node's location (an empty value's own mark
/// points at the following line).
struct entry {
  std::string name;   ///< "routing_key"
  std::string key;    ///< "notifications.channels[2].routing_key"
  std::string where;  ///< "config.yaml:12"
  YAML::Node value;
};

/// A mapping's entries in file order (duplicates reported and dropped).
struct mapping {
  std::string key;    ///< dotted key of the mapping itself
  std::string where;  ///< location of the mapping
  std::vector<entry> entries;
  [[nodiscard]] const entry* find(std::string_view name) const;
};

/// Typed reads from one YAML file. Every failed read records an error (dotted key, file:line, how to fix)
/// and returns nullopt, so callers just skip the value and go on collecting errors.
class yaml_reader {
 public:
  yaml_reader(std::string file, const environment_map& environment, std::vector<config_error>& errors);

  [[nodiscard]] const std::string& file() const { return file_; }
  /// "file.yaml:12" for a node; the bare file name when the node has no mark.
  [[nodiscard]] std::string at(const YAML::Node& node) const;
  void fail(const std::string& key, const std::string& where, std::string message);
  [[nodiscard]] std::size_t error_count() const;

  /// The node as a mapping (null reads as empty); nullopt and an error for any other kind.
  std::optional<mapping> open(const YAML::Node& node, const std::string& key, const std::string& where);
  /// Reports every entry of `m` whose name is not in `allowed`, naming `what` ("a slack channel").
  void reject_unknown(const mapping& m, const std::vector<std::string>& allowed, std::string_view what);

  /// A scalar with `${VAR}` expanded; null reads as "".
  std::optional<std::string> text(const entry& e);
  /// Like text(), but messages never quote the value.
  std::optional<std::string> secret_text(const entry& e);
  /// A list of scalars (each expanded); null reads as empty.
  std::optional<std::vector<std::string>> list(const entry& e);
  std::optional<bool> boolean(const entry& e);
  /// "250ms", "30s", "5m", "4h", "1d" or a bare number of seconds.
  std::optional<std::chrono::milliseconds> duration(const entry& e);
  /// A decimal number > 0.
  std::optional<double> positive_number(const entry& e);
  /// An integer in [min, max].
  std::optional<std::uint64_t> integer(const entry& e, std::uint64_t min, std::uint64_t max);
  /// One of `choices`, compared case-insensitively; returns the matching choice's spelling.
  std::optional<std::string> one_of(const entry& e, const std::vector<std::string>& choices);

  /// A secret given as `field` or `field_file` (in `m`): the value, "" when neither is present. Both at
  /// once, an unreadable file or an unset variable are errors that never quote the secret.
  std::optional<std::string> secret(const mapping& m, const std::string& field);

 private:
  std::string file_;
  std::filesystem::path base_dir_;  ///< relative `*_file` paths start here
  const environment_map& environment_;
  std::vector<config_error>& errors_;
};

/// Reads the channel described by `node` (an item of `channels:`) into `out`, defaults filled. False when it
/// has errors (reported); `out.name` is still set when the name itself was readable.
bool parse_channel(yaml_reader& reader, const YAML::Node& node, const std::string& key, channel_settings& out);

/// Why `url` is not an acceptable webhook/API URL ("" when it is): http(s) only, plain http only for
/// loopback hosts. Never quotes the URL, which may hold a secret.
std::string url_problem(std::string_view url);

/// The host part of a URL, without userinfo or port; an IPv6 literal keeps its brackets ("[::1]"). "" when
/// there is none.
std::string_view url_host(std::string_view url);

/// 127.0.0.1, ::1, [::1] or localhost (any case).
bool is_loopback_host(std::string_view host);

}  // namespace osprey::config::detail

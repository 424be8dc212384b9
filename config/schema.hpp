#pragma once
// Internal to config/: the table of settings keys, one entry per dotted key, with the parser that turns raw
// text from any layer (YAML scalar, environment variable, flag) into the typed field and the printer that
// turns it back. Adding a setting means adding a field to settings.hpp and one row to the table.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"

namespace osprey::config::detail {

struct field {
  std::string key;  ///< dotted, e.g. "database.group_commit.max_batch"
  /// Parses `raw` into its member of `into`. On failure returns the message (which never echoes a
  /// secret) and leaves `into` unchanged.
  std::function<std::optional<std::string>(std::string_view raw, settings& into)> apply;
  /// The current value as text, e.g. "4200", "true", "FULL".
  std::function<std::string(const settings&)> show;
  /// A list setting: YAML may give a list (its items are joined with ", "), the environment and flags give
  /// the items comma-separated.
  bool list = false;
};

/// Every setting, in the order `config view` prints them. Built once; safe to read from any thread.
const std::vector<field>& fields();

/// The field named by a dotted key, or nullptr.
const field* find_field(std::string_view key);

/// True when `prefix` (e.g. "database.group_commit") is a mapping holding other keys.
bool is_section(std::string_view prefix);

/// The next key components below a section ("" is the top level), e.g. {"host", "port", ...}.
std::vector<std::string> children(std::string_view prefix);

/// "server.port" -> "OSPREY_SERVER_PORT".
std::string environment_name(std::string_view key);

/// true/false/yes/no/on/off/1/0 in any case; nullopt otherwise.
std::optional<bool> parse_bool(std::string_view text);

/// Plain decimal digits that fit in 64 bits; nullopt otherwise (signs, spaces, hex are rejected).
std::optional<std::uint64_t> parse_uint(std::string_view text);

/// Lower-cased ASCII copy of `text`.
std::string lower(std::string_view text);
/// How a raw value is echoed in messages: quoted, so empty and space-padded values are visible.
std::string got(std::string_view raw);

}  // namespace osprey::config::detail

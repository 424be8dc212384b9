#pragma once
// Loads the effective settings from, lowest to highest precedence:
//   defaults < YAML file < OSPREY_* environment variables < command-line flags.
// The YAML file is `--config FILE`, else $OSPREY_CONFIG, else $OSPREY_HOME/config.yaml when it exists
// (a missing --config or $OSPREY_CONFIG file is an error; a missing default file is not).
// OSPREY_HOME defaults to $HOME/.osprey; only the environment sets it, since it locates the config file.
//
// YAML: nested mappings whose dotted paths are the keys listed in settings.hpp (server.port is
// `server: {port: 4200}`). Unknown keys at any level are errors. The top-level `notifications` mapping
// (channels and policies, notification_settings.hpp) has its own parser and may name another file with
// `file:`; it is set from YAML only, never from the environment or flags.
// `${VAR}` inside YAML scalar values is replaced from the environment (an unset VAR is an error);
// `$${` writes a literal `${`. Environment variables and flags are taken literally.
//
// Environment: OSPREY_ + the dotted key upper-cased with dots as underscores (server.port ->
// OSPREY_SERVER_PORT, database.group_commit.max_batch -> OSPREY_DATABASE_GROUP_COMMIT_MAX_BATCH), plus the
// short aliases OSPREY_HOST and OSPREY_PORT. The long name wins when both it and its alias are set (the
// alias is then ignored with a warning). Other OSPREY_* variables are ignored; those that look like a
// setting (OSPREY_SERVER_*, OSPREY_DATABASE_*, OSPREY_LOGGING_*) produce a warning, as they are likely typos.
//
// Values: integers are plain decimal; booleans are true/false/yes/no/on/off/1/0 (any case).

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/settings.hpp"

namespace osprey::config {

/// Where one setting's effective value came from.
struct source {
  enum class kind { default_value, file, environment, flag };
  kind from = kind::default_value;
  std::string detail;  ///< "" | "/etc/osprey.yaml:12" | "OSPREY_PORT" | "--port"
};

/// One problem found while loading; all of them are collected, not just the first.
struct config_error {
  std::string key;      ///< dotted key, e.g. "server.port" ("" when the file as a whole is unreadable)
  std::string where;    ///< "file.yaml:7", "environment OSPREY_PORT", "flag --port"
  std::string message;  ///< e.g. "expected an integer between 0 and 65535, got 'abc'"
  /// "file.yaml:7: server.port: expected an integer ..." — the line printed to users.
  [[nodiscard]] std::string to_string() const;
};

/// Inputs, all injectable so tests never touch the real environment or home directory.
struct load_request {
  std::map<std::string, std::string> environment;  ///< usually environment_from_process()
  std::optional<std::string> config_file;          ///< --config
  std::map<std::string, std::string> flags;        ///< dotted key -> raw text, e.g. {"server.port","4300"}
  std::string flag_name_prefix = "--";             ///< only for messages: key "server.port" came from "--port"
  std::map<std::string, std::string> flag_names;   ///< dotted key -> flag as typed, e.g. "--port"
};

struct loaded_settings {
  settings values;
  std::map<std::string, source> sources;   ///< every known dotted key -> where its value came from
  std::optional<std::string> config_file;  ///< the YAML file actually read, if any
  source home_source;                      ///< environment OSPREY_HOME, or default ("$HOME/.osprey")
  source config_file_source;  ///< flag --config, environment OSPREY_CONFIG, or default; meaningless without a file
  /// Harmless oddities worth telling the user (e.g. "environment OSPREY_SERVER_PROT: unknown setting, ignored").
  std::vector<std::string> warnings;
};

/// Loads and validates. On failure returns every error found (never partial settings).
/// Thread-safe (no global state is read: the environment comes in `request`).
struct load_outcome {
  std::optional<loaded_settings> loaded;
  std::vector<config_error> errors;
};
load_outcome load(const load_request& request);

/// The process environment as a map (OSPREY_*, HOME and anything `${VAR}` may name).
std::map<std::string, std::string> environment_from_process();

/// `osprey config view`: the home directory and config file first, then one line per setting,
/// "key = value  # source", aligned; sources read "default", "FILE:LINE", "env VAR" or "flag --x".
/// database.url shows the effective URL (the default applied) with its password as "***". A last block lists
/// notifications.enabled/ui_url/retry, each channel (type and target; secrets as "<secret>") and each policy
/// (match and channels).
std::string render_view(const loaded_settings& loaded);

/// Replaces the password of a URL like scheme://user:pass@host/... with "***", and the value of a
/// `password=` query parameter too. Other text is unchanged.
std::string redact_url(const std::string& url);

}  // namespace osprey::config

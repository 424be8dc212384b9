#pragma once
// The `osprey` command line: each command family registers its subcommands on the CLI11 app.
// Only cli/ knows every module; it wires config → persistence → actors → http.

#include <CLI/CLI.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "persistence/sql.hpp"

namespace osprey::cli {

/// Options every command accepts (--config and the settings flags); collected into a load_request.
struct common_options {
  std::optional<std::string> config_file;
  std::map<std::string, std::string> flags;       ///< dotted key -> raw value
  std::map<std::string, std::string> flag_names;  ///< dotted key -> flag as typed
};

/// Adds --config to `cmd` (stored in `opts`).
void add_config_option(CLI::App& cmd, common_options& opts);
/// Adds a flag that overrides the setting `key` (e.g. "--port" for "server.port").
void add_setting_flag(CLI::App& cmd, common_options& opts, const std::string& flag, const std::string& key,
                      const std::string& help);

/// Loads settings with the process environment and `opts`; prints every error and returns nullopt on failure.
std::optional<config::loaded_settings> load_settings_or_report(const common_options& opts);

/// The configured database, opened for a one-off command (no writer threads).
struct configured_database {
  config::loaded_settings loaded;
  persistence::database_target target;
  std::unique_ptr<persistence::sql_connection> conn;
};
/// Loads the settings and opens their database; on failure prints why and throws CLI::RuntimeError with
/// exit_usage (bad settings or URL) or exit_failure (unreachable database).
configured_database open_configured_database(const common_options& opts);

void register_server_commands(CLI::App& app, common_options& opts);
void register_database_commands(CLI::App& server, common_options& opts);
void register_services_commands(CLI::App& server, common_options& opts);

/// The daemon's background services as the settings describe them (name, enabled, interval, purpose).
struct service_row {
  std::string name;  ///< its settings section, services.<name>
  bool enabled;
  std::chrono::seconds interval;
  std::string purpose;
};
std::vector<service_row> services_of(const config::settings& s);
void register_config_commands(CLI::App& app, common_options& opts);
void register_notifications_commands(CLI::App& app, common_options& opts);
void register_api_key_commands(CLI::App& app, common_options& opts);

/// Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error, 3 refused (needs confirmation).
inline constexpr int exit_ok = 0, exit_failure = 1, exit_usage = 2, exit_refused = 3;

}  // namespace osprey::cli

#include <iostream>

#include "cli/commands.hpp"

namespace osprey::cli {

void add_config_option(CLI::App& cmd, common_options& opts) {
  cmd.add_option_function<std::string>(
         "--config", [&opts](const std::string& path) { opts.config_file = path; },
         "YAML configuration file (default: $OSPREY_CONFIG, else $OSPREY_HOME/config.yaml if it exists)")
      ->type_name("FILE");
}

void add_setting_flag(CLI::App& cmd, common_options& opts, const std::string& flag, const std::string& key,
                      const std::string& help) {
  cmd.add_option_function<std::string>(
         flag,
         [&opts, flag, key](const std::string& value) {
           opts.flags[key] = value;
           opts.flag_names[key] = flag;
         },
         help + " (setting " + key + ")")
      ->type_name("VALUE");
}

std::optional<config::loaded_settings> load_settings_or_report(const common_options& opts) {
  config::load_request request;
  request.environment = config::environment_from_process();
  request.config_file = opts.config_file;
  request.flags = opts.flags;
  request.flag_names = opts.flag_names;
  auto outcome = config::load(request);
  if (!outcome.errors.empty() || !outcome.loaded) {
    std::cerr << "osprey: the configuration is invalid (" << outcome.errors.size() << " error"
              << (outcome.errors.size() == 1 ? "" : "s") << "):\n";
    for (const auto& e : outcome.errors) std::cerr << "  " << e.to_string() << "\n";
    return std::nullopt;
  }
  return std::move(outcome.loaded);
}

configured_database open_configured_database(const common_options& opts) {
  auto loaded = load_settings_or_report(opts);
  if (!loaded) throw CLI::RuntimeError(exit_usage);
  auto target = persistence::parse_database_url(loaded->values.effective_database_url());
  if (!target) {
    std::cerr << "osprey: " << target.error().message() << "\n";
    throw CLI::RuntimeError(exit_usage);
  }
  persistence::connection_options options;
  options.busy_timeout = loaded->values.database.busy_timeout;
  options.sqlite_synchronous = loaded->values.database.sqlite_synchronous;
  options.sqlite_max_size_mb = loaded->values.database.sqlite_max_size_mb;
  auto conn = persistence::open_connection(*target, options);
  if (!conn) {
    std::cerr << "osprey: " << conn.error().message() << "\n";
    throw CLI::RuntimeError(exit_failure);
  }
  return {std::move(*loaded), std::move(*target), std::move(*conn)};
}

}  // namespace osprey::cli

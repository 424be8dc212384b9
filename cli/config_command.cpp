#include <iostream>

#include "cli/commands.hpp"

namespace osprey::cli {

void register_config_commands(CLI::App& app, common_options& opts) {
  auto* config = app.add_subcommand("config", "Inspect Osprey's configuration");
  config->require_subcommand(1);
  auto* view = config->add_subcommand(
      "view",
      "Print the effective settings and where each came from (defaults, file, environment, flags); "
      "secrets are redacted");
  add_config_option(*view, opts);
  view->callback([&opts] {
    auto loaded = load_settings_or_report(opts);
    if (!loaded) throw CLI::RuntimeError(exit_usage);
    std::cout << config::render_view(*loaded);
  });
}

}  // namespace osprey::cli

// osprey: a self-hosted workflow-orchestration server that speaks Prefect 3's API.
#include <CLI/CLI.hpp>

#include <cctype>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "domain/version.hpp"

namespace {

// CLI11 reads "-1" as an option name; `downgrade -r -1` (Prefect's spelling) must mean "one back".
std::vector<std::string> join_negative_revisions(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const bool revision_flag = args[i] == "-r" || args[i] == "--revision";
    if (revision_flag && i + 1 < args.size() && args[i + 1].size() > 1 && args[i + 1][0] == '-' &&
        std::isdigit(static_cast<unsigned char>(args[i + 1][1]))) {
      out.push_back("--revision=" + args[i + 1]);
      ++i;
    } else {
      out.push_back(args[i]);
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Osprey: a self-hosted workflow-orchestration server for the Prefect 3 client.\n"
      "Point Prefect at it with PREFECT_API_URL=http://127.0.0.1:4200/api",
      "osprey"};
  app.set_version_flag("--version", std::string("osprey ") + osprey::osprey_version + " (Prefect API " +
                                        osprey::prefect_compatible_version + ")");
  app.require_subcommand(1);
  app.fallthrough();
  osprey::cli::common_options opts;
  osprey::cli::add_config_option(app, opts);
  osprey::cli::register_server_commands(app, opts);
  osprey::cli::register_config_commands(app, opts);
  osprey::cli::register_notifications_commands(app, opts);
  osprey::cli::register_api_key_commands(app, opts);
  // Commands run as CLI11 callbacks and report failure by throwing CLI::RuntimeError(exit code).
  try {
    auto args = join_negative_revisions(argc, argv);
    std::vector<std::string> reversed(args.rbegin(), args.rend() - 1);  // CLI11 wants them reversed, no argv[0]
    app.parse(reversed);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : osprey::cli::exit_usage;
  }
  return osprey::cli::exit_ok;
}

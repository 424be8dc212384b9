// `osprey server services ls`: the background services inside the daemon, whether the effective settings
// enable them and how often they run (as `prefect server services ls` lists Prefect's).
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"

namespace osprey::cli {

std::vector<service_row> services_of(const config::settings& s) {
  const auto& v = s.services;
  return {
      {"scheduler", v.scheduler_enabled, v.scheduler_loop, "creates the runs of deployment schedules"},
      {"late_runs", v.late_runs_enabled, v.late_runs_interval,
       "marks runs Late " + std::to_string(v.late_runs_after.count()) + "s past their scheduled start"},
      {"cancellation_cleanup", v.cancellation_cleanup_enabled, v.cancellation_cleanup_interval,
       "cancels the children of cancelled runs; Cancelling past " + std::to_string(v.cancelling_timeout.count()) +
           "s becomes Cancelled"},
      {"pause_expirations", v.pause_expirations_enabled, v.pause_expirations_interval,
       "fails runs Paused past their pause timeout"},
      {"foreman", v.foreman_enabled, v.foreman_interval, "takes silent workers OFFLINE, unserved pools NOT_READY"},
      {"concurrency_lease_reaper", v.lease_reaper_enabled, v.lease_reaper_interval,
       "gives back the slots of expired concurrency leases"},
      {"db_vacuum", v.db_vacuum_enabled, v.db_vacuum_interval,
       "deletes events older than " + std::to_string(v.event_retention_days) + " days" +
           (v.db_vacuum_flow_runs
                ? ", and finished flow runs older than " + std::to_string(v.flow_run_retention_days) + " days"
                : "")},
  };
}

void register_services_commands(CLI::App& server, common_options& opts) {
  auto* services = server.add_subcommand("services", "List the background services of the server");
  services->require_subcommand(1);
  auto* ls = services->add_subcommand("ls", "List each service, whether it is enabled and how often it runs");
  add_config_option(*ls, opts);
  ls->callback([&opts] {
    auto loaded = load_settings_or_report(opts);
    if (!loaded) throw CLI::RuntimeError(exit_usage);
    std::cout << std::left << std::setw(26) << "SERVICE" << std::setw(10) << "ENABLED" << std::setw(10) << "EVERY"
              << "WHAT\n";
    for (const auto& row : services_of(loaded->values))
      std::cout << std::setw(26) << row.name << std::setw(10) << (row.enabled ? "yes" : "no") << std::setw(10)
                << (std::to_string(row.interval.count()) + "s") << row.purpose << "\n";
    std::cout << "Change them under services.<SERVICE> in the config file or with OSPREY_SERVICES_<SERVICE>_ENABLED "
                 "(see `osprey config view`).\n";
  });
}

}  // namespace osprey::cli

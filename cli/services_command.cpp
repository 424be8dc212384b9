// `osprey server services ls`: the background services inside the daemon, whether the effective settings
// enable them and how often they run (as `prefect server services ls` lists Prefect's). `osprey server ls`: the
// servers running on the configured database, and which of them runs the timed service passes.
#include <iomanip>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "persistence/sql.hpp"
#include "persistence/server_instance_store.hpp"

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

  auto* servers = server.add_subcommand("ls", "List the servers running on the configured database");
  add_config_option(*servers, opts);
  servers->callback([&opts] {
    auto db = open_configured_database(opts);
    std::vector<persistence::server_instance> rows;
    std::optional<persistence::service_lease> lease;
    auto s = persistence::in_transaction(*db.conn, persistence::transaction_kind::read, "listing the servers",
                                         [&](persistence::sql_connection& c) {
                                           rows = persistence::list_server_instances(c);
                                           lease = persistence::find_service_lease(c, persistence::services_lease_name);
                                         });
    if (!s) {
      std::cerr << "osprey: " << s.message() << "\n";
      throw CLI::RuntimeError(exit_failure);
    }
    std::cout << "Database: " << db.target.display << "\n";
    if (rows.empty()) {
      std::cout << "No server is running on it.\n";
      return;
    }
    const auto now = system_clock::instance().now();
    std::cout << std::left << std::setw(34) << "SERVER" << std::setw(24) << "LISTENING" << std::setw(10) << "VERSION"
              << std::setw(16) << "LAST HEARTBEAT"
              << "SERVICES\n";
    for (const auto& row : rows) {
      const auto age = std::chrono::duration_cast<std::chrono::seconds>(now - row.heartbeat).count();
      const bool leads = lease && lease->owner == row.id && lease->expires > now;
      std::cout << std::setw(34) << row.id << std::setw(24) << row.listen << std::setw(10) << row.version
                << std::setw(16) << (std::to_string(age) + "s ago") << (leads ? "runs them" : "standby") << "\n";
    }
    const auto dead_after = db.loaded.values.services.cluster_dead_after.count();
    std::cout << "A server silent for " << dead_after << "s (services.cluster.dead_after_seconds) is taken for dead: "
              << "its notification deliveries and the services move to the others.\n";
  });
}

}  // namespace osprey::cli

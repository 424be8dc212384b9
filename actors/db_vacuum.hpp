#pragma once
// The database vacuum (Prefect's db_vacuum service): keeps a long-lived database from growing without end.
// Each pass deletes, in batches of `batch`, the events and event resources older than `event_retention`
// (Prefect's server.events.retention_period, 7 days) and, when `flow_run_retention` is set, the top-level
// flow runs that finished longer ago than that, with their task runs, states and logs. Runs are deleted
// through their actors (remove_flow_runs), so a warm actor never keeps a run that is gone. A full batch of
// events, or any run deleted (its subflows are top-level now), is followed at once by the next pass
// (actors/periodic_service.hpp); each batch is one short write job, so a large backlog is worked off between
// other writes instead of stalling them.

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>
#include <cstddef>
#include <optional>

#include "actors/flow_run_protocol.hpp"
#include "domain/time.hpp"
#include "persistence/database.hpp"
#include "actors/service_leadership.hpp"

namespace osprey::actors {

struct db_vacuum_options {
  persistence::database db;
  flow_run_registry_actor flow_runs;
  const clock* time = &system_clock::instance();
  std::chrono::milliseconds interval{3'600'000};           ///< services.db_vacuum.loop_seconds (Prefect's default)
  std::shared_ptr<const service_leadership> leadership{};  ///< actors/periodic_service.hpp
  std::size_t batch = 200;                                 ///< services.db_vacuum.batch_size (Prefect's default)
  std::chrono::seconds event_retention{7 * 86400};
  std::optional<std::chrono::seconds> flow_run_retention{};  ///< nullopt: finished runs are kept
};

/// Spawns the service; its first pass runs at once. Messages (actors/periodic_service.hpp):
///   (sweep_atom)  — run a pass now
///   (stats_atom) -> (std::uint64_t passes, std::uint64_t changed): passes completed, rows and runs deleted
/// Stop it with an exit message before the flow-run registry.
caf::actor spawn_db_vacuum(caf::actor_system& system, db_vacuum_options options);

}  // namespace osprey::actors

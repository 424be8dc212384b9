#pragma once
// The pause expiration service (Prefect's server/services/pause_expirations.py): a flow run Paused past its
// state's pause_timeout was never resumed, so it is forced to Failed ("The flow was paused and never
// resumed."). Every `interval` it reads the Paused runs (in pages, by id), keeps those whose pause expired
// (domain/run_cleanup pause_expired), up to `batch`, and proposes Failed to each through the flow-run registry,
// only from the Paused state that was read: a run resumed meanwhile is left alone. Events and notification
// policies see the change like any other.

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>
#include <cstddef>

#include "actors/flow_run_protocol.hpp"
#include "domain/time.hpp"
#include "persistence/database.hpp"
#include "actors/service_leadership.hpp"

namespace osprey::actors {

struct pause_expirations_options {
  persistence::database db;
  flow_run_registry_actor flow_runs;
  const clock* time = &system_clock::instance();
  /// services.pause_expirations.loop_seconds (Prefect's default: 5 s).
  std::chrono::milliseconds interval{5000};
  std::shared_ptr<const service_leadership> leadership{};  ///< actors/periodic_service.hpp
  std::size_t batch = 200;                                 ///< expired runs per pass (Prefect's batch size)
};

/// Spawns the service; its first pass runs at once. Messages (actors/periodic_service.hpp):
///   (sweep_atom)  — run a pass now
///   (stats_atom) -> (std::uint64_t passes, std::uint64_t changed): passes completed, runs failed so far
/// Stop it with an exit message before the flow-run registry.
caf::actor spawn_pause_expirations(caf::actor_system& system, pause_expirations_options options);

}  // namespace osprey::actors

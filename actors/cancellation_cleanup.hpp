#pragma once
// The cancellation cleanup service (Prefect's server/services/cancellation_cleanup.py). Every `interval` one
// read finds, up to `batch` of each:
//   - task runs not yet terminal whose flow run was Cancelled within the last day → forced Cancelled ("The
//     parent flow run was cancelled."), through the task-run transition path;
//   - subflows not yet terminal whose containing flow run is Cancelled → Cancelling when the subflow has a
//     deployment (its worker stops it), Cancelled otherwise, proposed (not forced) to the subflow's actor;
//   - flow runs Cancelling for longer than `cancelling_timeout` → Cancelled ("Flow run cancellation timed
//     out; ..."), proposed to the run's actor only from the Cancelling state that was read.
// Flow-run states go through the flow-run registry, so the run's actor orders them with its other transitions,
// Prefect's policy decides them, and events and notification policies see them. Prefect also queues a teardown
// message for the worker of a run whose cancellation timed out; Osprey has no worker channel, so it does not.

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>
#include <cstddef>

#include "actors/flow_run_protocol.hpp"
#include "domain/time.hpp"
#include "persistence/database.hpp"
#include "actors/service_leadership.hpp"

namespace osprey::actors {

struct cancellation_cleanup_options {
  persistence::database db;
  flow_run_registry_actor flow_runs;
  const clock* time = &system_clock::instance();
  /// services.cancellation_cleanup.loop_seconds (Prefect's default: 20 s).
  std::chrono::milliseconds interval{20000};
  std::shared_ptr<const service_leadership> leadership{};  ///< actors/periodic_service.hpp
  /// services.cancellation_cleanup.cancelling_timeout_seconds (Prefect's default: 300 s).
  std::chrono::milliseconds cancelling_timeout{300000};
  std::size_t batch = 200;  ///< candidates of each kind per pass (Prefect's batch size)
};

/// Spawns the service; its first pass runs at once. Messages (actors/periodic_service.hpp):
///   (sweep_atom)  — run a pass now
///   (stats_atom) -> (std::uint64_t passes, std::uint64_t changed): passes completed, states written so far
/// Stop it with an exit message before the flow-run registry.
caf::actor spawn_cancellation_cleanup(caf::actor_system& system, cancellation_cleanup_options options);

}  // namespace osprey::actors

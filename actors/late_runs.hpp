#pragma once
// The late-runs service (Prefect's MarkLateRuns): a run still "Scheduled" `after` past its scheduled start was
// not picked up by anything, so it becomes "Late" (type SCHEDULED, name Late, scheduled_time kept) where users
// and notification policies see it. Every `interval` it looks with one read (persistence find_overdue_runs, up
// to `batch` runs) and proposes Late to each run through the flow-run registry, so the run's actor orders it
// with the run's other transitions and the core policy decides it (EnsureOnlyScheduledFlowsMarkedLate refuses
// it for a run that moved on meanwhile); the state change is published and notified like any other. A full
// batch asks for another pass at once. At most one pass runs at a time; it never blocks its scheduler thread.

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>
#include <cstddef>

#include "actors/flow_run_protocol.hpp"
#include "actors/messages.hpp"
#include "actors/service_leadership.hpp"
#include "domain/time.hpp"
#include "persistence/database.hpp"

namespace osprey::actors {

struct late_runs_options {
  persistence::database db;
  flow_run_registry_actor flow_runs;
  const clock* time = &system_clock::instance();
  /// services.late_runs.loop_seconds (Prefect's default: 5 s).
  std::chrono::milliseconds interval{5000};
  std::shared_ptr<const service_leadership> leadership{};  ///< actors/periodic_service.hpp
  /// services.late_runs.after_seconds: how far past its scheduled start a run becomes Late (Prefect's: 15 s).
  std::chrono::milliseconds after{15000};
  std::size_t batch = 400;  ///< runs per pass (Prefect's batch size)
};

/// Spawns the service; its first pass runs at once. Messages:
///   (sweep_atom)  — run a pass now (besides the periodic ones)
///   (stats_atom) -> (std::uint64_t passes, std::uint64_t marked): passes completed and runs marked Late so far
/// Stop it with an exit message before the flow-run registry.
caf::actor spawn_late_runs(caf::actor_system& system, late_runs_options options);

}  // namespace osprey::actors

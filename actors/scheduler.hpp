#pragma once
// The deployment scheduler (Prefect's scheduler service): creates the flow runs that the active schedules of
// non-paused deployments ask for, a window ahead (domain/schedule.hpp dates_to_schedule: Prefect's min/max
// runs and times). Every `interval`, and at once when asked (sweep_atom: the deployment routes ask after each
// change), it reads in one job the deployments that need runs (persistence/deployment_store.hpp
// deployments_to_schedule), computes their dates, leaves out the runs already there, and creates the rest
// through the flow-run registry like any other run (so their Scheduled state is published and matched against
// notification policies). At most one pass runs at a time; a full batch of deployments goes on at once.
//
// Each run carries the idempotency key "scheduled {deployment} {schedule} {time}" (domain/deployment.hpp), and
// (flow_id, idempotency_key) is unique: whatever restarts or overlapping passes happen, a date of a schedule
// becomes at most one run.

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>
#include <cstddef>
#include <functional>

#include "actors/flow_run_protocol.hpp"
#include "actors/messages.hpp"
#include "actors/service_leadership.hpp"
#include "domain/deployment.hpp"
#include "domain/schedule.hpp"
#include "domain/status.hpp"
#include "persistence/database.hpp"

namespace osprey::actors {

struct scheduler_options {
  persistence::database db;
  flow_run_registry_actor flow_runs;
  const clock* time = &system_clock::instance();
  /// services.scheduler.loop_seconds (Prefect's default 60 s).
  std::chrono::milliseconds interval{60000};
  std::shared_ptr<const service_leadership> leadership{};  ///< actors/periodic_service.hpp
  scheduling_window window{};
  std::size_t batch = 100;  ///< deployments per pass (services.scheduler.deployment_batch_size)
};

/// Spawns the scheduler; its first pass runs at once. Messages:
///   (sweep_atom)  — run a pass now (besides the periodic ones)
///   (stats_atom) -> (std::uint64_t passes, std::uint64_t runs): passes completed and runs created so far
/// Stop it with an exit message before draining the database.
caf::actor spawn_scheduler(caf::actor_system& system, scheduler_options options);

/// POST /api/deployments/{id}/schedule (Prefect's schedule_runs, e.g. a backfill with a start in the past): the
/// runs of the deployment's active schedules from `start` within `window`, created like the scheduler's own, so a
/// date already scheduled is not scheduled twice. `done` gets how many runs were new (0 for an unknown
/// deployment, as Prefect), once all were answered.
void schedule_deployment_runs(const flow_run_registry_actor& registry, const persistence::database& db,
                              const deployment_id& d, timestamp start, const scheduling_window& window,
                              const clock& time, std::function<void(result<std::size_t>)> done);

}  // namespace osprey::actors

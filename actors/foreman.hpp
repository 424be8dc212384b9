#pragma once
// The foreman (Prefect's service of that name): notices workers that stopped heartbeating and what that leaves
// unserved. Every `interval` it looks with reads only (persistence/work_pool_store.hpp find_stale); only when
// something is stale does it write, in one job (mark_stale):
//   ONLINE workers silent for more than their heartbeat interval (else `fallback_heartbeat_interval_seconds`)
//   × `inactivity_heartbeat_multiple` → OFFLINE;
//   READY pools left without an ONLINE worker → NOT_READY (a heartbeat makes them READY again:
//   http/routes_workers.cpp);
//   READY queues and deployments not polled within their timeouts → NOT_READY (a poll makes them READY again:
//   record_poll).
// At most one pass runs at a time; it never blocks its scheduler thread.

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>

#include "actors/messages.hpp"
#include "actors/service_leadership.hpp"
#include "domain/time.hpp"
#include "persistence/database.hpp"
#include "persistence/work_pool_store.hpp"

namespace osprey::actors {

struct foreman_options {
  persistence::database db;
  const clock* time = &system_clock::instance();
  /// services.foreman.interval_seconds (Prefect's loop_seconds: 15 s).
  std::chrono::milliseconds interval{15000};
  std::shared_ptr<const service_leadership> leadership{};  ///< actors/periodic_service.hpp
  /// services.foreman.* (Prefect's defaults: 3, 30 s, 60 s, 60 s).
  persistence::foreman_limits limits{};
};

/// Spawns the foreman; its first pass runs at once. Messages:
///   (sweep_atom)  — run a pass now (besides the periodic ones)
///   (stats_atom) -> (std::uint64_t passes, std::uint64_t changed): passes completed and rows marked so far
/// Stop it with an exit message before draining the database.
caf::actor spawn_foreman(caf::actor_system& system, foreman_options options);

}  // namespace osprey::actors

#pragma once
// The lease reaper (Prefect's "repossessor"): gives back the slots of concurrency leases whose holders stopped
// renewing them (a killed worker, a lost network). Every `interval` it looks for an expired lease with one
// read; only when there is one does it release them in one write job (delete the leases, decrement their
// limits — persistence/concurrency_store.hpp reap_expired_leases), up to `batch` per pass, and goes on at once
// while passes come back full. At most one pass runs at a time; it never blocks its scheduler thread.
//
// A lease renewed or released before the write job runs is not expired any more (or gone) when the job
// looks, so its slots are never given back twice.

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>
#include <cstddef>

#include "actors/messages.hpp"
#include "actors/service_leadership.hpp"
#include "domain/concurrency.hpp"
#include "persistence/database.hpp"

namespace osprey::actors {

struct lease_reaper_options {
  persistence::database db;
  const clock* time = &system_clock::instance();
  /// services.concurrency_lease_reaper.interval_seconds (Prefect's repossessor loop: 15 s).
  std::chrono::milliseconds interval{15000};
  std::shared_ptr<const service_leadership> leadership{};  ///< actors/periodic_service.hpp
  slot_wait_caps caps{};                                   ///< for the denied-slot decay applied with each release
  std::size_t batch = 100;                                 ///< leases per write job
};

/// Spawns the reaper; its first pass runs at once. Messages:
///   (sweep_atom)  — run a pass now (besides the periodic ones)
///   (stats_atom) -> (std::uint64_t passes, std::uint64_t leases): passes completed and leases released so far
/// Stop it with an exit message before draining the database.
caf::actor spawn_lease_reaper(caf::actor_system& system, lease_reaper_options options);

}  // namespace osprey::actors

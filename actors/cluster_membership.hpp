#pragma once
// This server's membership among the servers sharing its database (several Osprey servers on one PostgreSQL).
// Every `heartbeat` one write job: renew this server's row (persistence/server_instance_store.hpp), remove dead
// servers (heartbeat older than `dead_after`, or their PostgreSQL session gone: a kill -9 is seen at the next
// beat) and release their outbox leases for the live servers to deliver, then take or renew the `services` lease.
// While it holds the lease this server runs the timed passes of the background services (the scheduler, late
// runs, the foreman...; actors/periodic_service.hpp asks `leadership`); when it gains the lease it asks each of
// `services` for a pass at once. It also follows the notification policies another server changed through the
// API (their fingerprint: count and newest update), so every server alerts by the same policies within a beat.
//
// Safety of the lease: it runs `dead_after` from the renewal; this server stops leading a third of it earlier
// (counted from before the renewal was sent), and stops at once when a renewal finds another holder. Another
// server may take the lease only after it expired or once this server's row is gone (dead), so two servers never
// run timed passes at the same time while their clocks agree within that third (one machine: exactly). Passes
// are safe to repeat anyway (scheduled runs carry idempotency keys, proposals name the state they read).
//
// With SQLite (one server per file) every other row is a previous process of this server: removed at once.

#include <caf/actor.hpp>

#include <chrono>
#include <memory>
#include <vector>

#include "actors/service_leadership.hpp"
#include "domain/time.hpp"
#include "notifications/rules.hpp"
#include "persistence/database.hpp"
#include "persistence/server_instance_store.hpp"

namespace osprey::actors {

struct cluster_membership_options {
  persistence::database db;
  persistence::server_instance self{};  ///< this server (its heartbeat is set by each pass)
  std::shared_ptr<service_leadership> leadership{};
  std::vector<caf::actor> services{};  ///< sent sweep_atom when this server gains the lease
  /// The notification policies in force here: replaced by the stored ones when a beat finds that they changed
  /// (another server's API change; this server's own changes replace it at once). None: not followed.
  std::shared_ptr<notifications::policy_book> policies{};
  std::chrono::milliseconds heartbeat{5000};    ///< cluster.heartbeat_seconds
  std::chrono::milliseconds dead_after{30000};  ///< cluster.dead_after_seconds (also the lease's length)
  bool sole_server = false;                     ///< SQLite: nobody else can share the database
  const clock* time = &system_clock::instance();
};

/// Spawns the membership service; its first beat runs at once. It answers (status_atom, callback) like every
/// periodic service (actors/periodic_service.hpp). Stop it with an exit message, then call leave_cluster.
caf::actor spawn_cluster_membership(caf::actor_system& system, cluster_membership_options options);

/// A clean stop: gives the services lease up and removes this server's row, so another server takes over at its
/// next beat instead of after `dead_after`. Blocks until the write committed (or failed; then the others find
/// this server dead in time).
void leave_cluster(const persistence::database& db, const std::string& server_id);

}  // namespace osprey::actors

#pragma once
// Delivery of the notification outbox. The dispatcher takes committed jobs (handed over by flow-run actors
// right after their commit, or found in the outbox by a sweep: retries that came due, jobs left by a
// stopped or killed server) and routes each to the notifier actor of its channel's backend. Notifier actors
// (one per backend: Slack, Teams, PagerDuty, Opsgenie, Twilio, SMTP) apply the channel's rate limit and
// group_wait, build the requests and send them through the libcurl transport without blocking; the
// verdict comes back to the dispatcher, which records it in the outbox:
//   delivered -> status delivered;  retry -> pending again at now + backoff (exponential, jittered, at least
//   the service's Retry-After), or dead once the job is older than retry.max_age;  dead -> status dead
//   with the reason (secrets redacted).
// Delivery is at-least-once: a job is marked only after its reply, so a crash in between sends it again,
// with the same dedup key (PagerDuty dedup_key, Opsgenie alias, e-mail Message-ID) to make that harmless.

#include <caf/fwd.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "actors/notification_protocol.hpp"
#include "notifications/rules.hpp"
#include "notifiers/transport.hpp"
#include "persistence/database.hpp"

namespace osprey::actors {

struct dispatcher_options {
  persistence::database db;
  std::shared_ptr<notifications::policy_book> book;
  notifiers::transport transport;
  std::string owner;  ///< this server's lease owner id
  const clock* time = &system_clock::instance();
  /// How often the outbox is checked for due jobs besides the retries this dispatcher schedules itself.
  std::chrono::milliseconds sweep_interval{2000};
  /// One server per database (SQLite): every lease at start is a previous process's, released at once. With
  /// several servers (PostgreSQL) only dead servers' leases are released, by actors/cluster_membership.
  bool release_leases_at_start = true;
  /// Makes the actor that runs automation actions (outbox jobs of kind "action"; actors/automation_actions.hpp),
  /// spawned with the dispatcher as its listener the first time one is due. None: such jobs are left pending.
  std::function<notifier_actor(caf::actor_system&, delivery_listener_actor)> action_runner{};
};

/// Spawns the dispatcher (and, lazily, its notifier actors, linked to it). At start it releases leases left by
/// a previous process (release_leases_at_start) and sweeps the outbox. Its messages: notification_dispatcher_actor
/// (actors/notification_protocol.hpp).
notification_dispatcher_actor spawn_notification_dispatcher(caf::actor_system& system, dispatcher_options options);

/// A notifier actor for one backend (notifier_actor in actors/notification_protocol.hpp); spawned by the
/// dispatcher, which is its `listener`.
notifier_actor spawn_notifier_actor(caf::actor_system& system, config::channel_type backend,
                                    std::shared_ptr<notifications::policy_book> book, notifiers::transport transport,
                                    delivery_listener_actor listener);

}  // namespace osprey::actors

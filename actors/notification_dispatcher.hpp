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
#include <memory>
#include <string>
#include <vector>

#include "actors/messages.hpp"
#include "notifications/rules.hpp"
#include "notifiers/transport.hpp"
#include "persistence/database.hpp"

namespace osprey::actors {

using outbox_jobs = std::vector<persistence::outbox_job>;

/// What a notifier actor reports for the jobs it sent as one message (several when group_wait folded them).
struct delivery_result {
  outbox_jobs jobs;
  notifiers::verdict outcome = notifiers::verdict::dead;
  std::optional<std::chrono::seconds> retry_after;
  std::string reason;
  std::vector<int> parts_done;  ///< request indexes delivered so far (Twilio: one per recipient)
};

struct dispatcher_options {
  persistence::database db;
  std::shared_ptr<notifications::policy_book> book;
  notifiers::transport transport;
  std::string owner;  ///< this server's lease owner id
  const clock* time = &system_clock::instance();
  /// How often the outbox is checked for due jobs besides the retries this dispatcher schedules itself.
  std::chrono::milliseconds sweep_interval{2000};
};

/// Spawns the dispatcher (and, lazily, its notifier actors). At start it releases leases left by a previous
/// process and sweeps the outbox. Messages:
///   (enqueued_atom, outbox_jobs)  — jobs committed and leased to `owner`, to deliver now
///   (sweep_atom)                  — look for due jobs now (e.g. after `osprey notifications outbox retry`)
caf::actor spawn_notification_dispatcher(caf::actor_system& system, dispatcher_options options);

/// A notifier actor for one backend; spawned by the dispatcher. (deliver_atom, outbox_job) sends one job
/// and answers the dispatcher with (sent_atom, delivery_result).
caf::actor spawn_notifier_actor(caf::actor_system& system, config::channel_type backend,
                                std::shared_ptr<notifications::policy_book> book, notifiers::transport transport,
                                caf::actor dispatcher);

}  // namespace osprey::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::persistence::outbox_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::outbox_jobs)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::delivery_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::notifiers::reply)

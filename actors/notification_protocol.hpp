#pragma once
// The notification protocol: every message the notification dispatcher and the notifier actors take, and what
// each one answers, as typed actor handles — the compiler checks every send and handler against them. Who
// does what (leases, backoff, dead letters, rate limits, group_wait) is in actors/notification_dispatcher.hpp;
// spawning is there too. The shape follows actors/flow_run_protocol.hpp:
//   1. the message types, 2. their CAF_ALLOW_UNSAFE_MESSAGE_TYPE lines, 3. the atoms in this protocol's own
//   type-ID block (sweep_atom and tick_atom are shared with other actors: actors/messages.hpp), 4. the handles,
//   one line and one comment per message; messages an actor sends only to itself extend its public handle.

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/messages.hpp"
#include "notifiers/notifier.hpp"
#include "persistence/notification_store.hpp"

namespace osprey::actors {

/// Outbox jobs handed on together (committed by one transition, or leased by one sweep).
using outbox_jobs = std::vector<persistence::outbox_job>;

/// What a notifier actor reports for the jobs it sent as one message (several when group_wait folded them).
struct delivery_result {
  outbox_jobs jobs;
  notifiers::verdict outcome = notifiers::verdict::dead;
  std::optional<std::chrono::seconds> retry_after;  ///< the service's Retry-After, when it sent one
  std::string reason;                               ///< why it failed (may name secrets: the dispatcher redacts)
  std::vector<int> parts_done;                      ///< request indexes delivered so far (Twilio: one per recipient)
};

}  // namespace osprey::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::persistence::outbox_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::outbox_jobs)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::delivery_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::notifiers::reply)

// Type IDs: each protocol header takes its own hundred after actors/messages.hpp's block (flow runs +100).
CAF_BEGIN_TYPE_ID_BLOCK(osprey_notifications, caf::first_custom_type_id + 200)
CAF_ADD_ATOM(osprey_notifications, osprey::actors, enqueued_atom, "enqueued")
CAF_ADD_ATOM(osprey_notifications, osprey::actors, swept_atom, "swept")
CAF_ADD_ATOM(osprey_notifications, osprey::actors, deliver_atom, "deliver")
CAF_ADD_ATOM(osprey_notifications, osprey::actors, sent_atom, "sent")
CAF_ADD_ATOM(osprey_notifications, osprey::actors, reply_atom, "reply")
CAF_ADD_ATOM(osprey_notifications, osprey::actors, refill_atom, "refill")
CAF_ADD_ATOM(osprey_notifications, osprey::actors, group_due_atom, "groupdue")
CAF_END_TYPE_ID_BLOCK(osprey_notifications)

namespace osprey::actors {

/// Where a notifier actor reports what became of the jobs it was given: the dispatcher (a test may stand in).
using delivery_listener_actor = caf::typed_actor<
    /// The verdict on jobs sent as one message. No reply; the listener records it in the outbox.
    caf::reacts_to<sent_atom, delivery_result>>;

/// The dispatcher (spawn_notification_dispatcher): routes outbox jobs to the notifier actor of their channel's
/// backend and records the verdicts.
using notification_dispatcher_actor = delivery_listener_actor::extend<
    /// Jobs committed and leased to this server (a flow-run actor hands them over after its COMMIT), to
    /// deliver now. No reply: the outcome is recorded in the outbox.
    caf::reacts_to<enqueued_atom, outbox_jobs>,
    /// Look for due jobs in the outbox now (after `osprey notifications outbox retry`, a reload). No reply.
    caf::reacts_to<sweep_atom>>;

/// The dispatcher's own handle: the public messages plus those it sends itself (from database threads and
/// timers). Nothing outside actors/notification_dispatcher.cpp holds one.
using notification_dispatcher_with_internals = notification_dispatcher_actor::extend<
    /// A sweep ended with the jobs it leased (maybe none; a full batch means more may be waiting).
    caf::reacts_to<swept_atom, outbox_jobs>,
    /// The periodic sweep is due (every dispatcher_options::sweep_interval).
    caf::reacts_to<tick_atom>>;

/// A notifier actor (spawn_notifier_actor; one per backend, spawned by the dispatcher).
using notifier_actor = caf::typed_actor<
    /// Sends one job, subject to its channel's rate limit and the job's group_wait. No reply: the verdict goes
    /// to the delivery listener as (sent_atom, delivery_result).
    caf::reacts_to<deliver_atom, persistence::outbox_job>>;

/// The notifier actor's own handle: the public message plus those it sends itself. Nothing outside
/// actors/notifier_actor.cpp holds one.
using notifier_actor_with_internals = notifier_actor::extend<
    /// The transport's reply to request `part` of send `send` (the send's number within this actor).
    caf::reacts_to<reply_atom, std::uint64_t, int, notifiers::reply>,
    /// The channel's token bucket may hold a token again: send what waits for one.
    caf::reacts_to<refill_atom, std::string>,
    /// The group_wait of (channel, policy) ended: send what it gathered as one message.
    caf::reacts_to<group_due_atom, std::string, std::string>>;

}  // namespace osprey::actors

#pragma once
// Atoms and message types of the actors not yet behind a typed protocol header, and the domain types that
// several protocols carry (each declared "unsafe" once, here). The flow-run protocol is in
// actors/flow_run_protocol.hpp. All messages stay in one process, so domain structs travel as "unsafe" (not
// serialisable) types.

#include <caf/all.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "domain/client_version.hpp"
#include "domain/event.hpp"
#include "domain/orchestration.hpp"
#include "domain/flow_run.hpp"
#include "domain/state.hpp"
#include "domain/task_run.hpp"
#include "domain/status.hpp"

namespace osprey::actors {

// ---- events (actors/event_bus.hpp) ----

/// Events published together (one client message, one POST, one state change).
using event_batch = std::vector<event>;
/// An event as delivered to subscribers: shared and immutable, one copy however many subscribers see it.
using shared_event = std::shared_ptr<const event>;
/// A subscriber outside the actor system (e.g. a websocket stream): called on the bus's thread for every new
/// event, in the order the bus publishes them. Must not block and should not throw (exceptions are logged).
using event_sink = std::function<void(const shared_event&)>;
/// Completion of a publication: ok once the events are stored (repeated ids included), or why storing failed.
/// Runs on a database or actor thread.
using publish_callback = std::function<void(const status&)>;

}  // namespace osprey::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::run_state)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::state_change)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::flow_run_id)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::optional<osprey::run_state>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::event_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::event_sink)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::publish_callback)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::flow_run_event_info)

CAF_BEGIN_TYPE_ID_BLOCK(osprey_actors, caf::first_custom_type_id)
/// shared: a write job of the actor's own ended — the flow-run actor's transition (actors/flow_run_protocol.hpp),
/// the lease reaper's pass (actors/lease_reaper.hpp).
CAF_ADD_ATOM(osprey_actors, osprey::actors, committed_atom, "committed")
/// event bus (actors/event_bus.hpp): (subscribe_atom, actor) adds a subscriber of state_change messages;
/// (publish_atom, state_change[, flow_run_event_info]) forwards it and emits its prefect.flow-run.* event;
/// (publish_atom, event_batch[, publish_callback]) stores and delivers client events;
/// (subscribe_atom, std::uint64_t token, event_sink) / (unsubscribe_atom, token) for event subscribers;
/// (flush_atom) hands every event waiting for a retry to the writer at once (shutdown);
/// internal: (stored_atom, write number, status) — a write ended; (retry_atom) — try refused writes again.
CAF_ADD_ATOM(osprey_actors, osprey::actors, subscribe_atom, "subscribe")
CAF_ADD_ATOM(osprey_actors, osprey::actors, publish_atom, "publish")
CAF_ADD_ATOM(osprey_actors, osprey::actors, unsubscribe_atom, "unsub")
CAF_ADD_ATOM(osprey_actors, osprey::actors, stored_atom, "stored")
/// task-run recorder: (record_atom, event json); (flush_atom) hands everything held to the writer (shutdown);
/// internal: (tick_atom) writes the batch, (recorded_atom, status, events, failures), (retry_atom).
CAF_ADD_ATOM(osprey_actors, osprey::actors, record_atom, "record")
CAF_ADD_ATOM(osprey_actors, osprey::actors, flush_atom, "flush")
CAF_ADD_ATOM(osprey_actors, osprey::actors, recorded_atom, "recorded")
CAF_ADD_ATOM(osprey_actors, osprey::actors, retry_atom, "retry")
CAF_ADD_ATOM(osprey_actors, osprey::actors, stats_atom, "stats")
/// notifications (actors/notification_dispatcher.hpp): (enqueued_atom, outbox_jobs) hands committed jobs to the
/// dispatcher; (deliver_atom, outbox_job) to a notifier actor; (sent_atom, delivery_result) back;
/// (sweep_atom) looks for due jobs in the outbox.
CAF_ADD_ATOM(osprey_actors, osprey::actors, enqueued_atom, "enqueued")
CAF_ADD_ATOM(osprey_actors, osprey::actors, deliver_atom, "deliver")
CAF_ADD_ATOM(osprey_actors, osprey::actors, sent_atom, "sent")
CAF_ADD_ATOM(osprey_actors, osprey::actors, sweep_atom, "sweep")
CAF_ADD_ATOM(osprey_actors, osprey::actors, reply_atom, "reply")
CAF_ADD_ATOM(osprey_actors, osprey::actors, tick_atom, "tick")
CAF_END_TYPE_ID_BLOCK(osprey_actors)

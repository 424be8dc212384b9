#pragma once
// The event bus protocol: every message the event bus takes, and what each one answers, as a typed actor
// handle — the compiler checks every send and handler against it. What the bus does (store first, then
// deliver; de-duplication; refused writes kept and retried) is in actors/event_bus.hpp; spawning is there too.
// The shape follows actors/flow_run_protocol.hpp: message types, their unsafe-type lines, this protocol's own
// type-ID block, then the handles (flush_atom and retry_atom are shared with the task-run recorder:
// actors/messages.hpp, as are the domain types state_change and flow_run_event_info).

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "actors/messages.hpp"
#include "domain/event.hpp"
#include "domain/status.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey::actors {

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

/// Events another server stored and announced, by id, in the order it announced them.
struct peer_events {
  std::vector<uuid> ids;
};
/// The listener was cut off from the other servers' announcements: every event stored (events.updated, by the
/// database's clock) at or after `since` may have been missed.
struct peer_gap {
  timestamp since;
};

}  // namespace osprey::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::peer_events)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::peer_gap)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::event_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::event_sink)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::publish_callback)

// Type IDs: each protocol header takes its own hundred after actors/messages.hpp's block (flow runs +100,
// notifications +200).
CAF_BEGIN_TYPE_ID_BLOCK(osprey_event_bus, caf::first_custom_type_id + 300)
CAF_ADD_ATOM(osprey_event_bus, osprey::actors, subscribe_atom, "subscribe")
CAF_ADD_ATOM(osprey_event_bus, osprey::actors, publish_atom, "publish")
CAF_ADD_ATOM(osprey_event_bus, osprey::actors, unsubscribe_atom, "unsub")
CAF_ADD_ATOM(osprey_event_bus, osprey::actors, stored_atom, "stored")
CAF_ADD_ATOM(osprey_event_bus, osprey::actors, peer_atom, "peer")
CAF_ADD_ATOM(osprey_event_bus, osprey::actors, fetched_atom, "fetched")
CAF_ADD_ATOM(osprey_event_bus, osprey::actors, fetch_atom, "fetch")
CAF_END_TYPE_ID_BLOCK(osprey_event_bus)

namespace osprey::actors {

/// An actor that follows flow-run state changes through the bus (tests do; nothing in the server does yet).
using state_change_listener_actor = caf::typed_actor<
    /// One published state change, in publication order. No reply.
    caf::reacts_to<state_change>>;

/// The bus (spawn_event_bus).
using event_bus_actor = caf::typed_actor<
    /// Forwards every state_change published from now on to `listener`, until it stops. No reply.
    caf::reacts_to<subscribe_atom, state_change_listener_actor>,
    /// A committed flow-run state change: forwarded to the listeners, and its prefect.flow-run.<State> event
    /// stored, then delivered. No reply.
    caf::reacts_to<publish_atom, state_change>,
    /// The same, with the run's facts the event names (run name, flow, deployment, tags). No reply.
    caf::reacts_to<publish_atom, state_change, flow_run_event_info>,
    /// Client events, already validated: `received` stamped where unset, stored (repeated ids dropped), the
    /// new ones delivered. No reply.
    caf::reacts_to<publish_atom, event_batch>,
    /// The same; the callback runs once they are stored (after a refusal, once a retry commits).
    caf::reacts_to<publish_atom, event_batch, publish_callback>,
    /// Adds `sink` under `token`: it sees every new event from now on. No reply.
    caf::reacts_to<subscribe_atom, std::uint64_t, event_sink>,
    /// Removes the sink under `token` (it may still see events the bus was already delivering). No reply.
    caf::reacts_to<unsubscribe_atom, std::uint64_t>,
    /// Hands every event not written yet (queued behind the write in flight, or refused and waiting for a
    /// retry) to the writer now (shutdown). The empty reply says they are handed over (not yet committed: the
    /// writer drains after this).
    caf::reacts_to<flush_atom>>;

/// The bus's own handle: the public messages plus those it sends itself (from database threads, timers and
/// its listener's thread).
/// Nothing outside actors/event_bus.cpp holds one.
using event_bus_with_internals = event_bus_actor::extend<
    /// Write number `write` ended: ok = committed, else refused (the events are kept and tried again).
    caf::reacts_to<stored_atom, std::uint64_t, status>,
    /// Refused events are due to be tried again.
    caf::reacts_to<retry_atom>,
    /// From the listener: another server announced these events; they are read and delivered (not stored).
    caf::reacts_to<peer_atom, peer_events>,
    /// From the listener: it listens again after a gap; what was stored meanwhile is read and delivered.
    caf::reacts_to<peer_atom, peer_gap>,
    /// The current read of other servers' events ended: the events found, or why the read failed (it is
    /// tried again).
    caf::reacts_to<fetched_atom, event_batch>, caf::reacts_to<fetched_atom, status>,
    /// A failed read is due to be tried again.
    caf::reacts_to<fetch_atom>>;

}  // namespace osprey::actors

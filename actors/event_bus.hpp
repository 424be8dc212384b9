#pragma once
// The event bus: one actor through which every event passes. Client events (WS /api/events/in, POST
// /api/events) and the server's own prefect.flow-run.<State> events (from every state_change a flow-run actor
// publishes) are stored in `events`/`event_resources` first, then delivered to the subscribers — so a
// subscriber that subscribes and then reads the store (the /api/events/out backfill) misses nothing: an event
// committed before the subscription is in the store, one committed after it is delivered.
//
// Duplicates by id are dropped: the store keeps the first copy (ON CONFLICT DO NOTHING) and only new events
// are delivered; without a store (tests), a memory of the last `recent_ids` ids does the same.
//
// An accepted event is never dropped: when the database refuses a write (locked past its lock timeout, the
// connection lost) the events are delivered at once — the live stream does not wait for the database — and
// kept; the bus tries the write again with backoff (`retry`) until it commits, and only then runs the
// publication's `done`. At shutdown a (flush_atom) request, and at the latest the exit message, hands every
// event still waiting to the writer, which commits it before the process ends. Only an event the database
// refuses for another reason than being busy (a row it can never take) is given up after a few tries.
//
// Several servers on one PostgreSQL database (`peers` set) share the live stream: each write that stores new
// events also announces their ids to the other servers (persistence/event_notices.hpp; delivered only once it
// commits), and a listener on a connection of its own hears the others' announcements. The bus reads those
// events from the store and delivers them to its own subscribers only: it never stores or announces them
// again. Reads run one at a time, so events are delivered in the order they were announced. When the listener
// was cut off, the bus reads what was stored meanwhile (at most `catch_up_limit` events); the duplicate-by-id
// memory keeps an event it delivered already from being delivered twice. A bus without subscribers ignores
// announcements (a later subscriber's backfill reads the store). The listener stops with the bus.
//
// State changes published by flow-run actors also go to every subscribed state_change listener, in order.
// Every message and its reply: actors/event_bus_protocol.hpp.

#include <caf/fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "actors/event_bus_protocol.hpp"
#include "actors/write_retry.hpp"
#include "persistence/database.hpp"
#include "persistence/event_notices.hpp"

namespace osprey::actors {

struct event_bus_options {
  std::optional<persistence::database> db;        ///< where events are stored; none: delivered only (tests)
  const clock* time = &system_clock::instance();  ///< stamps `received` and `recorded`
  std::size_t recent_ids = 16384;                 ///< ids remembered for de-duplication besides the store
  write_retry retry;  ///< how refused writes (and failed reads of other servers' events) are tried again
  /// Names this bus in its announcements, so its own listener can ignore them. Default: a fresh uuid4, i.e.
  /// one per server process. At most persistence::max_origin_bytes.
  std::string origin = new_uuid4().to_string();
  /// Share the live stream with the other servers on this PostgreSQL database (the one `db` writes to):
  /// announce what this bus stores and deliver what the others store. Unset (the default): local only.
  std::optional<persistence::event_listener_options> peers;
  std::int64_t catch_up_limit = 10000;  ///< after the listener was cut off, the most missed events delivered
};

/// Spawns the bus. With `peers` set, it first starts the listener (which tries to connect for up to its
/// connect_timeout, then goes on trying in the background; a `peers` on SQLite is logged and ignored).
/// (spawn_event_bus(system) is this with default options: no store.)
event_bus_actor spawn_event_bus(caf::actor_system& system, event_bus_options options);
event_bus_actor spawn_event_bus(caf::actor_system& system);

/// Subscribes `sink` to every new event from now on; returns the token that unsubscribes it. Thread-safe,
/// non-blocking; the subscription takes effect before any publication sent after this call returns.
std::uint64_t subscribe_events(const event_bus_actor& bus, event_sink sink);
/// Ends a subscription; the sink may still be called for events the bus was already delivering.
void unsubscribe_events(const event_bus_actor& bus, std::uint64_t token);

/// Publishes client events (already validated): the bus stamps `received` where unset, stores the new ones
/// and delivers them. `done` (optional) runs once they are stored — after a refusal, once a retry commits.
/// Thread-safe, non-blocking.
void publish_events(const event_bus_actor& bus, event_batch events, publish_callback done = {});

}  // namespace osprey::actors

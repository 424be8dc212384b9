#pragma once
// Restores flow-run state events lost in a crash. A transition is committed first and its
// prefect.flow-run.<State> event stored by the bus after (domain flow_run_state_event; the event's id is the
// state's), so a kill -9 between the two leaves a state without its event — and automations that watch for
// it never hear of it. At start, before serving, the server looks for states written since shortly before the
// newest stored event that have no event of their id, and publishes each again as a state change: the bus
// stores it and delivers it to its subscribers (the trigger evaluator among them), as it would have.
//
// Bound: states written up to a minute before the newest stored event. On one server nothing is stored while
// it is down, so that covers every state its crash could have cut off; with several servers sharing a
// database, a server restarting more than a minute after its crash while others went on storing events can
// leave its last states without events.

#include <caf/fwd.hpp>

#include <functional>

#include "actors/event_bus_protocol.hpp"
#include "persistence/database.hpp"

namespace osprey::actors {

/// Finds and republishes the lost state events (one read job); `done` gets how many were republished, or the
/// error (nothing republished).
void restore_lost_state_events(persistence::database db, const event_bus_actor& bus,
                               std::function<void(result<std::size_t>)> done);

}  // namespace osprey::actors

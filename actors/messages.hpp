#pragma once
// Atoms and message types of the actors not yet behind a typed protocol header, the atoms several actors
// share, and the domain types that several protocols carry (each declared "unsafe" once, here). The
// protocols: actors/flow_run_protocol.hpp, actors/event_bus_protocol.hpp, actors/notification_protocol.hpp.
// All messages stay in one process, so domain structs travel as "unsafe" (not serialisable) types.

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

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::run_state)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::state_change)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::flow_run_id)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::optional<osprey::run_state>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::flow_run_event_info)

CAF_BEGIN_TYPE_ID_BLOCK(osprey_actors, caf::first_custom_type_id)
/// shared: a write job of the actor's own ended — the flow-run actor's transition (actors/flow_run_protocol.hpp),
/// the lease reaper's pass (actors/lease_reaper.hpp).
CAF_ADD_ATOM(osprey_actors, osprey::actors, committed_atom, "committed")
/// task-run recorder: (record_atom, event json); (flush_atom) hands everything held to the writer (shutdown);
/// internal: (tick_atom) writes the batch, (recorded_atom, status, events, failures), (retry_atom).
/// flush_atom and retry_atom mean the same to the event bus (actors/event_bus_protocol.hpp).
CAF_ADD_ATOM(osprey_actors, osprey::actors, record_atom, "record")
CAF_ADD_ATOM(osprey_actors, osprey::actors, flush_atom, "flush")
CAF_ADD_ATOM(osprey_actors, osprey::actors, recorded_atom, "recorded")
CAF_ADD_ATOM(osprey_actors, osprey::actors, retry_atom, "retry")
CAF_ADD_ATOM(osprey_actors, osprey::actors, stats_atom, "stats")
/// A background service's status for GET /api/admin/services (actors/periodic_service.hpp).
CAF_ADD_ATOM(osprey_actors, osprey::actors, status_atom, "status")
/// Shared by several actors: (sweep_atom) "look for due work now" (the notification dispatcher, see
/// actors/notification_protocol.hpp), (tick_atom) "a periodic timer fired" (recorder, dispatcher, lease reaper).
CAF_ADD_ATOM(osprey_actors, osprey::actors, sweep_atom, "sweep")
CAF_ADD_ATOM(osprey_actors, osprey::actors, tick_atom, "tick")
CAF_END_TYPE_ID_BLOCK(osprey_actors)

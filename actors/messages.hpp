#pragma once
// Atoms and message types of the actors not yet behind a typed protocol header, the atoms several actors
// share, and the domain types that several protocols carry (each declared "unsafe" once, here). The
// protocols: actors/event_bus_protocol.hpp, actors/notification_protocol.hpp. All messages stay in one
// process, so domain structs travel as "unsafe" (not serialisable) types.

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

/// The answer to a proposed transition, sent after the decision was committed (or refused).
struct transition_outcome {
  status error;                       ///< not ok: nothing was decided (unknown run, database failure)
  transition_decision decision;       ///< what the policy decided
  std::optional<run_state> state;     ///< the run's state after the call (the new one when written)
  bool written = false;               ///< a state row was committed
};

/// A proposed transition and who proposes it (two orchestration rules depend on the client's version).
struct transition_call {
  transition_request request;
  client_info client;
  /// POST /api/flow_runs/{id}/resume: the actor builds the proposal from the current (paused) state —
  /// Running, or Scheduled "Resuming" when the pause asked for a reschedule; `request` is ignored.
  bool resume = false;
};

/// Completion for callers outside the actor system (HTTP handlers); runs on an actor thread.
using transition_callback = std::function<void(const transition_outcome&)>;

/// A change to a flow run's own columns (PATCH, labels, DELETE). The run's actor applies it in order with the
/// run's transitions, so its copy of the run — what transitions write back and what events and alerts name —
/// never goes stale.
struct flow_run_edit {
  enum class kind { update, merge_labels, remove };
  kind what = kind::update;
  /// update: the FlowRunUpdate keys given (see persistence::update_flow_run); merge_labels: the labels to merge.
  nlohmann::json changes = nlohmann::json::object();
};

/// The answer to an edit, sent after its COMMIT.
struct edit_outcome {
  status error;        ///< not ok: nothing changed (database failure, actor unavailable)
  bool found = false;  ///< false: the run does not exist, nothing changed
};

/// Completion of an edit for callers outside the actor system; runs on an actor thread.
using edit_callback = std::function<void(const edit_outcome&)>;

}  // namespace osprey::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::run_state)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::state_change)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::flow_run_id)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::transition_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::transition_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::transition_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::transition_callback)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::flow_run_edit)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::edit_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::edit_callback)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::optional<osprey::run_state>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::optional<osprey::flow_run>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::flow_run_event_info)

CAF_BEGIN_TYPE_ID_BLOCK(osprey_actors, caf::first_custom_type_id)
/// (transition_atom, flow_run_id, transition_call[, transition_callback]) -> transition_outcome
CAF_ADD_ATOM(osprey_actors, osprey::actors, transition_atom, "transit")
/// (edit_atom, flow_run_id, flow_run_edit[, edit_callback]) -> edit_outcome
CAF_ADD_ATOM(osprey_actors, osprey::actors, edit_atom, "edit")
/// flow-run actor internal: the run's stored state arrived / its transition committed / its edit committed.
CAF_ADD_ATOM(osprey_actors, osprey::actors, loaded_atom, "loaded")
CAF_ADD_ATOM(osprey_actors, osprey::actors, committed_atom, "committed")
CAF_ADD_ATOM(osprey_actors, osprey::actors, edited_atom, "edited")
/// task-run recorder: (record_atom, event json); (flush_atom) hands everything held to the writer (shutdown);
/// internal: (tick_atom) writes the batch, (recorded_atom, status, events, failures), (retry_atom).
/// flush_atom and retry_atom mean the same to the event bus (actors/event_bus_protocol.hpp).
CAF_ADD_ATOM(osprey_actors, osprey::actors, record_atom, "record")
CAF_ADD_ATOM(osprey_actors, osprey::actors, flush_atom, "flush")
CAF_ADD_ATOM(osprey_actors, osprey::actors, recorded_atom, "recorded")
CAF_ADD_ATOM(osprey_actors, osprey::actors, retry_atom, "retry")
CAF_ADD_ATOM(osprey_actors, osprey::actors, stats_atom, "stats")
/// registry: (count_atom) -> std::size_t live flow-run actors.
CAF_ADD_ATOM(osprey_actors, osprey::actors, count_atom, "count")
/// Shared by several actors: (sweep_atom) "look for due work now" (the notification dispatcher, see
/// actors/notification_protocol.hpp), (tick_atom) "a periodic timer fired" (recorder, dispatcher).
CAF_ADD_ATOM(osprey_actors, osprey::actors, sweep_atom, "sweep")
CAF_ADD_ATOM(osprey_actors, osprey::actors, tick_atom, "tick")
CAF_END_TYPE_ID_BLOCK(osprey_actors)

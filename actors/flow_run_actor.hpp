#pragma once
// Internal to actors/: spawns the actor of one flow run (see flow_runs.hpp for the contract and
// flow_run_protocol.hpp for its messages).

#include "actors/flow_runs.hpp"

namespace osprey::actors {

/// Handles (transition_atom, transition_call) -> transition_outcome and (edit_atom, flow_run_edit) ->
/// edit_outcome for `run`, one request at a time.
flow_run_actor spawn_flow_run(caf::actor_system& system, const flow_run_id& run, const flow_run_options& options);

}  // namespace osprey::actors

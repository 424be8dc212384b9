#pragma once
// Internal to actors/: spawns the actor of one flow run (see flow_runs.hpp for the contract).

#include "actors/flow_runs.hpp"

namespace osprey::actors {

/// Handles (transition_atom, transition_request) -> transition_outcome for `run`, one at a time.
caf::actor spawn_flow_run(caf::actor_system& system, const flow_run_id& run, const flow_run_options& options);

}  // namespace osprey::actors

#pragma once
// What Prefect's cancellation cleanup and pause expiration services decide (server/services/
// cancellation_cleanup.py, pause_expirations.py), as pure functions: which runs they act on and the state each
// one proposes. The services that find the candidates and propose the states are actors/run_cleanup.hpp.

#include <chrono>
#include <optional>

#include "domain/orchestration.hpp"
#include "domain/state.hpp"

namespace osprey {

/// Prefect's CANCELLING_TIMEOUT_CANCELLED_MESSAGE.
inline constexpr const char* cancelling_timeout_message =
    "Flow run cancellation timed out; marked this flow run as Cancelled.";
/// The message of the states the cleanup gives the children of a cancelled flow run.
inline constexpr const char* parent_cancelled_message = "The parent flow run was cancelled.";
/// The message of the Failed state an expired pause ends in.
inline constexpr const char* pause_expired_message = "The flow was paused and never resumed.";

/// cancel_child_task_runs: a non-terminal task run of a cancelled flow run is forced to this Cancelled state.
run_state cancelled_by_parent_task_state(timestamp now);

/// cancel_subflow_run: the state proposed (not forced) to a non-terminal subflow whose containing flow run is
/// Cancelled — Cancelling when the subflow has a deployment (its worker then stops its infrastructure),
/// Cancelled otherwise. Nullopt when nothing is to be done: a deployment's subflow already Cancelling, or a
/// subflow in a terminal state.
std::optional<run_state> orphaned_subflow_state(state_type current, bool has_deployment, timestamp now);

/// handle_cancelling_timeout: true when a run Cancelling since `since` has waited longer than `timeout`.
bool cancelling_timed_out(timestamp since, std::chrono::microseconds timeout, timestamp now);
/// The Cancelled state proposed (CoreFlowPolicy, not forced) to a run whose cancellation timed out.
run_state cancelling_timeout_state(timestamp now);

/// fail_expired_pause: true when `paused` (a PAUSED state) carries a pause_timeout that is before `now`.
bool pause_expired(const run_state& paused, timestamp now);
/// The Failed state forced onto a run whose pause expired.
run_state pause_expired_state(timestamp now);

}  // namespace osprey

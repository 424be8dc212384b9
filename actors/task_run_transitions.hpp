#pragma once
// Orchestrated task-run transitions (POST /api/task_runs/{id}/set_state): load, decide with Prefect's task
// policy (domain), store — all inside one writer job. The writer runs jobs one at a time, so the load and
// the write cannot interleave with another transition of the same run.

#include "actors/flow_run_protocol.hpp"  // transition_outcome, transition_callback
#include "persistence/database.hpp"

namespace osprey::actors {

/// Loads the task run, decides `request` with Prefect's task policy and stores the result, on `conn` inside the
/// caller's transaction. Used by propose_task_transition and, with force, to copy a subflow's states onto its
/// parent tracking task run (UpdateSubflowParentTask) in the subflow's own transaction. Throws sql_error.
transition_outcome decide_task_transition(persistence::sql_connection& conn, const uuid& task_run,
                                          const transition_request& request, timestamp now);

/// Proposes `request` for the task run; `done` receives the outcome after the commit (on the writer thread).
void propose_task_transition(const persistence::database& db, const uuid& task_run, const transition_request& request,
                             const clock& time, transition_callback done);

}  // namespace osprey::actors

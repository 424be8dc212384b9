#pragma once
// Orchestrated task-run transitions (POST /api/task_runs/{id}/set_state): load, decide with Prefect's task
// policy (domain), store — all inside one writer job. The writer runs jobs one at a time, so the load and
// the write cannot interleave with another transition of the same run.

#include "actors/messages.hpp"
#include "persistence/database.hpp"

namespace osprey::actors {

/// Proposes `request` for the task run; `done` receives the outcome after the commit (on the writer thread).
void propose_task_transition(const persistence::database& db, const uuid& task_run, const transition_request& request,
                             const clock& time, transition_callback done);

}  // namespace osprey::actors

#pragma once
// Orchestrated task-run transitions (POST /api/task_runs/{id}/set_state): load, decide with Prefect's task
// policy (domain), store — all inside one writer job. The writer runs jobs one at a time, so the load and
// the write cannot interleave with another transition of the same run.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "actors/background_task_queue.hpp"
#include "actors/flow_run_protocol.hpp"  // transition_outcome, transition_callback
#include "persistence/database.hpp"

namespace osprey::actors {

/// Loads the task run, decides `request` with Prefect's task policy and stores the result, on `conn` inside the
/// caller's transaction. Used by propose_task_transition and, with force, to copy a subflow's states onto its
/// parent tracking task run (UpdateSubflowParentTask) in the subflow's own transaction. Throws sql_error.
transition_outcome decide_task_transition(persistence::sql_connection& conn, const uuid& task_run,
                                          const transition_request& request, timestamp now);

/// Proposes `request` for the task run; `done` receives the outcome after the commit (on the writer thread).
/// A background (deferred) run the decision Scheduled goes to `background_tasks` after the commit (Prefect's
/// EnqueueScheduledTasks; AwaitingRetry to its retry queue).
void propose_task_transition(const persistence::database& db, const uuid& task_run, const transition_request& request,
                             const clock& time, transition_callback done,
                             std::shared_ptr<background_task_queue> background_tasks = nullptr);

/// A written state that hands its task run to the task workers: Scheduled and deferred.
[[nodiscard]] bool schedules_background_task(const run_state& written);

/// Every deferred task run still Scheduled, oldest first (id and task key): what a starting server enqueues.
std::vector<std::pair<uuid, std::string>> scheduled_background_tasks(persistence::sql_connection& conn);

}  // namespace osprey::actors

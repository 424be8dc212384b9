#pragma once
// Prefect's global transforms (PrefectHQ/prefect src/prefect/server/orchestration/global_policy.py): the
// bookkeeping that runs on every transition that writes a state, forced or not, after the policy's rules chose
// the state. Pure functions over the run's denormalised columns.
//
// Order, as Prefect runs them for flows: EnsureFlowRunStateTimestampIsUnique (`unique_state_timestamp`), then the
// common list (`apply_common_transforms`), then UpdateSubflowStateDetails, IncrementFlowRunCount and
// RemoveResumingIndicator (`apply_flow_transforms`); UpdateSubflowParentTask runs after the write
// (`subflow_parent_task_state`). Tasks: the common list, then IncrementTaskRunCount (`apply_task_transforms`).
// SetRunStateType/SetRunStateName/SetRunStateTimestamp copy the written state's type, name and timestamp into the
// run row (`state_type`, `state_name`, `state_timestamp` columns); the persistence layer does that from the
// written state itself, so they have no function here.

#include <chrono>
#include <optional>

#include "domain/client_version.hpp"
#include "domain/state.hpp"

namespace osprey {

/// The run columns the global transforms maintain (flow_run and task_run alike).
struct run_bookkeeping {
  int run_count = 0;                                   ///< entries into RUNNING (resumes excepted for flows)
  std::optional<timestamp> start_time;                 ///< first RUNNING (or the end, for runs that never ran)
  std::optional<timestamp> end_time;                   ///< entering a terminal state; cleared when leaving one
  std::chrono::microseconds total_run_time{0};         ///< time spent RUNNING, summed when leaving RUNNING
  std::optional<timestamp> expected_start_time;        ///< set once, by the first state
  std::optional<timestamp> next_scheduled_start_time;  ///< the SCHEDULED state's time while SCHEDULED

  friend bool operator==(const run_bookkeeping&, const run_bookkeeping&) = default;
};

/// EnsureFlowRunStateTimestampIsUnique, for a run whose states are written in order: `now`, or 1 µs after the
/// current state's timestamp when the clock has not moved past it. (Prefect probes the table for an equal
/// timestamp; the unique index on (flow_run_id, timestamp) remains the final guard.)
timestamp unique_state_timestamp(const std::optional<run_state>& current, timestamp now);

/// The common transforms, in Prefect's order: SetStartTime, SetEndTime, IncrementRunTime, SetExpectedStartTime,
/// SetNextScheduledStartTime. `written` is the state being written (its `at` already final).
void apply_common_transforms(run_bookkeeping& run, const std::optional<run_state>& current, const run_state& written);

/// UpdateStateDetails for a flow run (`flow_run_id`), then UpdateSubflowStateDetails (`task_run_id` = the
/// parent's tracking task run, for subflows).
void update_flow_state_details(run_state& written, const flow_run_id& run,
                               const std::optional<task_run_id>& parent_task_run);

/// IncrementFlowRunCount and RemoveResumingIndicator. Entering RUNNING counts a run unless it is resuming from a
/// pause (`resuming`, honoured when the client tracks pauses, i.e. API ≥ 0.8.4 or unknown); entering RUNNING or a
/// terminal state clears `resuming`.
void apply_flow_run_count(run_bookkeeping& run, bool& resuming, const run_state& written, const client_info& client);

/// UpdateSubflowParentTask: the state to force onto a subflow's parent tracking task run after `written` was
/// committed — a fresh copy (new id, `at = now`) with `child_flow_run_id` set to the subflow.
run_state subflow_parent_task_state(const run_state& written, const flow_run_id& subflow, timestamp now);

/// UpdateStateDetails for a task run (`flow_run_id` — null for a task outside a flow — and `task_run_id`).
void update_task_state_details(run_state& written, const task_run_id& run, const std::optional<flow_run_id>& flow_run);

/// IncrementTaskRunCount: entering RUNNING counts a run.
void apply_task_run_count(run_bookkeeping& run, const run_state& written);

/// Prefect's FlowRun/TaskRun.estimated_run_time: total_run_time, plus the time since the current state began
/// while RUNNING.
std::chrono::microseconds estimated_run_time(const run_bookkeeping& run, const std::optional<run_state>& current,
                                             timestamp now);

/// Prefect's estimated_start_time_delta ("lateness"): start_time − expected_start_time when it started late;
/// now − expected_start_time for a run not started, not terminal and past its expected start; else zero.
std::chrono::microseconds estimated_start_time_delta(const run_bookkeeping& run,
                                                     const std::optional<run_state>& current, timestamp now);

}  // namespace osprey

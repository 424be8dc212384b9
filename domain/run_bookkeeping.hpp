#pragma once
// Run bookkeeping conversions, in one place: between a run as stored and returned (domain/flow_run.hpp: columns,
// total_run_time in float seconds, empirical_policy as JSON) and what orchestration reads and writes
// (domain/flow_policy.hpp: flow_run_snapshot, flow_run_policy; domain/global_transforms.hpp: run_bookkeeping,
// counting microseconds). The flow-run actor, the create route, the stores and the JSON shapes call these
// instead of copying fields by hand. Pure.

#include <chrono>
#include <optional>

#include <nlohmann/json.hpp>

#include "domain/flow_policy.hpp"
#include "domain/flow_run.hpp"
#include "domain/global_transforms.hpp"
#include "domain/state.hpp"
#include "domain/task_run.hpp"

namespace osprey {

// ---- total_run_time (flow and task runs): orchestration counts microseconds; the runs, their columns and
// Prefect's JSON hold seconds.

double run_time_seconds(std::chrono::microseconds run_time);
/// Rounded to the nearest microsecond (a float column seldom holds µs / 10⁶ exactly, and truncating would lose
/// a microsecond per round trip); a value that is not finite counts as 0.
std::chrono::microseconds run_time_from_seconds(double seconds);

// ---- empirical_policy (Prefect's FlowRunPolicy) as JSON

/// Reads the fields orchestration models from stored or received JSON; absent, null or mistyped fields take their
/// defaults.
flow_run_policy parse_flow_run_policy(const nlohmann::json& j);
/// Writes those fields into `stored` (an object; replaced by one if not), keeping every other key (max_retries,
/// retry_delay_seconds, ...). `pause_keys` is written as a sorted array; a whole retry_delay as an integer.
void merge_flow_run_policy(nlohmann::json& stored, const flow_run_policy& policy);
/// Fills FlowRunPolicy's defaults and its deprecated mirrors the way Prefect's model does, for requests that
/// set a policy and for responses: {max_retries, retry_delay_seconds, retries, retry_delay, pause_keys,
/// resuming, retry_type}.
nlohmann::json normalize_flow_run_policy(const nlohmann::json& policy);

// ---- the run → orchestration's view

/// The run's bookkeeping columns as the global transforms see them.
run_bookkeeping bookkeeping_of(const flow_run& run);
/// The same for a task run, from its stored columns (absent or mistyped ones read as zero / none).
run_bookkeeping bookkeeping_of(const task_run& run);
/// Everything orchestration reads of the run besides its current state: the bookkeeping, the parsed
/// empirical_policy, deployment, parent task run (subflows) and infrastructure pid.
flow_run_snapshot snapshot_of(const flow_run& run);

// ---- a decided transition → the run

/// What a decided transition changes in the run's row; the write job stores exactly this, and after COMMIT the
/// same value is applied to any copy of the run kept in memory.
struct flow_run_changes {
  std::optional<run_state> written;  ///< the new current state; none: the state stays
  run_bookkeeping counters;          ///< the bookkeeping columns after the transition
  nlohmann::json empirical_policy;   ///< the stored policy with orchestration's merged in (unknown keys kept)
};

/// The changes `result` (decided for `run`) makes.
flow_run_changes changes_of(const flow_run& run, const flow_transition_result& result);
/// Applies `changes` to `run`: the bookkeeping columns, empirical_policy and, when written, the current state.
/// Other columns (`updated` included) are left alone.
void apply_changes(flow_run& run, const flow_run_changes& changes);

}  // namespace osprey

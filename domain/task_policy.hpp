#pragma once
// Task-run orchestration for `POST /api/task_runs/{id}/set_state`: Prefect's CoreTaskPolicy, MinimalTaskPolicy
// (`force=true`) and BackgroundTaskPolicy (any proposal with `state_details.deferred = true`), each followed by
// the global task transforms (PrefectHQ/prefect src/prefect/server/orchestration/core_policy.py, global_policy.py,
// models/task_runs.py `set_task_run_state`).
//
// Note: today's Prefect engine does not call this endpoint for ordinary tasks — it orchestrates task runs
// client-side and reports states as events (the task run recorder writes them without these rules). It is used
// by older clients, background (deferred) tasks and tools.
//
// Integration contract (whoever owns task-run writes):
//   1. Load the task run: current state (with data), run_count, flow_run_run_count, the bookkeeping columns,
//      empirical_policy (`parse_task_run_policy`), flow_run_id; and, if it has a flow run, that run's id, current
//      state and run_count (`parent_flow_run`).
//   2. If `cache_lookup_key(input)` gives a key, look up the newest task_run_state_cache row with that key whose
//      expiration is null or after now, and put that state (with its data) in `input.cached_state`.
//   3. If `wants_tag_slots(input)`, try to take the run's tag concurrency slots (v2 "tag:<t>" limits first, then
//      v1) and record the outcome in `input.tag_slots`.
//   4. result = orchestrate_task_transition(input); commit `written`, and `run` when `run_changed`.
//   5. After commit apply `effects` (cache row, slot releases, task queue), then answer like the flow endpoint.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/global_transforms.hpp"
#include "domain/orchestration.hpp"

namespace osprey {

/// A task run's `empirical_policy` (Prefect's TaskRunPolicy), the fields orchestration reads.
struct task_run_policy {
  std::optional<int> retries;                 ///< default none: never retried by the server
  std::vector<double> retry_delay;            ///< seconds; one value, or one per retry; empty = 0
  std::optional<double> retry_jitter_factor;  ///< > 0 spreads delays (clamped Poisson); default none

  friend bool operator==(const task_run_policy&, const task_run_policy&) = default;
};

/// Reads the fields above; `retry_delay` may be a number or a list of numbers. Mistyped fields take defaults.
task_run_policy parse_task_run_policy(const nlohmann::json& j);

/// The task-run fields the rules and transforms read and update.
struct task_run_snapshot {
  task_run_id id;
  std::optional<flow_run_id> flow_run;  ///< the enclosing flow run, if any
  run_bookkeeping counters;
  int flow_run_run_count = 0;  ///< the flow run's run_count when this task last entered RUNNING
  task_run_policy policy;

  friend bool operator==(const task_run_snapshot&, const task_run_snapshot&) = default;
};

/// The enclosing flow run as the rules see it.
struct parent_flow_run {
  flow_run_id id;
  std::optional<run_state> state;
  int run_count = 0;
};

/// SecureTaskConcurrencySlots' outcome, found by the caller (see wants_tag_slots).
struct tag_slot_attempt {
  enum class outcome {
    not_attempted,  ///< not planned, or no active limit on the run's tags
    acquired,       ///< slots taken on every limited tag
    zero_limit,     ///< a limit of 0 on `tags.front()`
    full,           ///< a limit is reached; nothing was taken
  };
  outcome result = outcome::not_attempted;
  std::vector<std::string> tags;  ///< zero_limit: the tag; full: the limited tags (without "tag:")
  bool legacy_limit = false;      ///< full: reached a v1 (tag) limit rather than a v2 "tag:" limit
  /// full: how long the client should wait. v1: server.tasks.tag_concurrency_slot_wait_seconds (30);
  /// v2: `clamped_poisson_interval(min(avg_slot_occupancy_seconds or 30, 30), 0.3, u)` rounded.
  std::chrono::seconds delay{30};
};

struct task_transition_input {
  std::optional<run_state> current;
  transition_request request;
  task_run_snapshot run;
  timestamp now;
  /// The enclosing flow run; none when the task has none (or it was deleted).
  std::optional<parent_flow_run> flow_run;
  /// CacheRetrieval: the state cached under `cache_lookup_key(input)`, if any.
  std::optional<run_state> cached_state;
  tag_slot_attempt tag_slots;
  /// A uniform sample in [0, 1) for retry jitter (Python's random.uniform); tests pin it.
  double jitter_sample = 0.5;
  /// server.tasks.max_cache_key_length.
  std::size_t max_cache_key_length = 2000;
};

/// A task_run_state_cache row to insert (CacheInsertion).
struct cache_entry {
  std::string cache_key;
  std::optional<timestamp> cache_expiration;
  state_id state;

  friend bool operator==(const cache_entry&, const cache_entry&) = default;
};

struct task_transition_effects {
  std::optional<cache_entry> insert_cache;
  /// ReleaseTaskConcurrencySlots: the run left RUNNING/CANCELLING; release every tag slot it holds (v2 leases
  /// whose holder is this task run, and its id in v1 active_slots).
  bool release_tag_slots = false;
  /// The slots taken for this call (input.tag_slots acquired) were not used: give them back.
  bool release_acquired_tag_slots = false;
  /// EnqueueScheduledTasks: push the deferred run onto its task_key's queue (`retry` for AwaitingRetry).
  bool enqueue = false;
  bool enqueue_as_retry = false;

  friend bool operator==(const task_transition_effects&, const task_transition_effects&) = default;
};

struct task_transition_result {
  transition_decision decision;
  std::optional<run_state> written;
  task_run_snapshot run;
  bool run_changed = false;
  task_transition_effects effects;
};

/// The cache key to look up before deciding, when CacheRetrieval applies (→ RUNNING, non-empty `cache_key`,
/// not `refresh_cache`, and not forced).
std::optional<std::string> cache_lookup_key(const task_transition_input& in);
/// Whether to try the tag concurrency slots before deciding (CoreTaskPolicy, → RUNNING, not deferred/forced).
bool wants_tag_slots(const task_transition_input& in);

/// Decides one task-run transition: BackgroundTaskPolicy for deferred proposals, MinimalTaskPolicy when forced,
/// else CoreTaskPolicy; then the global task transforms.
task_transition_result orchestrate_task_transition(const task_transition_input& in);

/// Prefect's clamped_poisson_interval with the random draw made explicit: `uniform` in [0, 1).
/// `clamping_factor` must be > 0.
double clamped_poisson_interval(double average_interval, double clamping_factor, double uniform);

// ---------------------------------------------------------------------------------------------------------------
// The policies as data.

struct task_work {
  const task_transition_input& in;
  task_run_snapshot run;
  task_transition_effects effects;
  std::optional<int> saved_run_count;  ///< HandleTaskTerminalStateTransitions, restored on cleanup
  bool tag_slots_kept = false;         ///< SecureTaskConcurrencySlots used the acquired slots
};
using task_rule = orchestration_rule<task_work>;

std::span<const task_rule> core_task_policy();
std::span<const task_rule> minimal_task_policy();
std::span<const task_rule> background_task_policy();
/// A rule of any task policy by Prefect's class name; nullptr when unknown.
const task_rule* find_task_rule(std::string_view name);
/// Runs `rules` plus the global task transforms.
task_transition_result apply_task_rules(const task_transition_input& in, std::span<const task_rule> rules);

}  // namespace osprey

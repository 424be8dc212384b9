#pragma once
// Flow-run orchestration: Prefect's CoreFlowPolicy (non-forced `set_state`) and MinimalFlowPolicy (`force=true`),
// each followed by the global flow transforms (PrefectHQ/prefect src/prefect/server/orchestration/core_policy.py,
// global_policy.py, models/flow_runs.py `set_flow_run_state`). Pure: the caller loads what the rules read, calls
// `orchestrate_flow_transition`, then writes back what the result says.
//
// Integration contract for the flow-run actor (one call per queued request, serialised per run):
//   1. Load the run: current state (with `data`), and the flow_run_snapshot — `snapshot_of(run)`
//      (domain/run_bookkeeping.hpp) reads it from the stored flow_run.
//   2. Build flow_transition_input: the request (proposal + force), `now` from the injected clock, client_info from
//      the User-Agent and X-Prefect-Api-Version headers (domain/client_version.hpp).
//   3. Deployment concurrency (only for runs with a deployment): call `plan_deployment_concurrency(input)`; if it
//      asks, try to take a slot / renew the lease in the concurrency store and record the outcome in
//      `input.deployment_slot` / `input.lease_renewal`. Runs without a deployment skip this step.
//   4. result = orchestrate_flow_transition(input).
//   5. In one transaction: if `result.written`, insert it (its id, `at` and details are final) and point the run
//      at it; if `result.run_changed`, update the run's columns from `result.run` — `changes_of(run, result)`
//      (domain/run_bookkeeping.hpp) gives the counters and the merged empirical_policy, and `apply_changes`
//      brings an in-memory copy of the run up to date after COMMIT. The policy can change without a written
//      state (e.g. a rejected resume sets `resuming`), so check `run_changed` even then. The
//      state_type/state_name/state_timestamp columns come from `written`.
//   6. Apply `result.effects`: in the same transaction, force `parent_task_state` onto the parent task run (task
//      policy with force=true; Prefect does it in the same session); after commit, release/revoke deployment
//      leases and publish the state event (prefect.flow-run.<name>) for the written state
//      (InstrumentFlowRunStateTransitions).
//   7. Answer: status = decision.kind; details = {reason, delay_seconds for WAIT}; state = `written`, or the
//      current state when nothing was written. HTTP 201 when a state was written, else 200.

#include <functional>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/client_version.hpp"
#include "domain/global_transforms.hpp"
#include "domain/orchestration.hpp"

namespace osprey {

/// A flow run's `empirical_policy` (Prefect's FlowRunPolicy), the fields orchestration reads and writes.
struct flow_run_policy {
  std::optional<int> retries;             ///< default: none (never retried by the server)
  std::optional<double> retry_delay;      ///< seconds between retries; default none (0)
  std::set<std::string> pause_keys;       ///< pauses this run has already observed
  bool resuming = false;                  ///< leaving a pause: the next RUNNING is not a new attempt
  std::optional<std::string> retry_type;  ///< "in_process" | "reschedule" | none

  friend bool operator==(const flow_run_policy&, const flow_run_policy&) = default;
};

// Its JSON form (parse, merge into the stored object) is in domain/run_bookkeeping.hpp.

/// The flow-run fields the rules and transforms read and update.
struct flow_run_snapshot {
  flow_run_id id;
  run_bookkeeping counters;
  flow_run_policy policy;
  std::optional<uuid> deployment_id;
  std::optional<task_run_id> parent_task_run_id;  ///< set for subflows
  std::optional<std::string> infrastructure_pid;  ///< empty string counts as none

  friend bool operator==(const flow_run_snapshot&, const flow_run_snapshot&) = default;
};

enum class collision_strategy { enqueue, cancel_new };  ///< a deployment's concurrency_options.collision_strategy

/// SecureFlowConcurrencySlots' outcome, found by the caller before deciding (see plan_deployment_concurrency).
struct deployment_slot_attempt {
  enum class outcome {
    not_attempted,       ///< not planned (no deployment, or the transition does not take slots)
    not_limited,         ///< the deployment has no concurrency limit
    acquired,            ///< a slot was taken under `lease_id`
    full,                ///< the limit is reached
    zero_limit,          ///< the limit is 0
    deployment_missing,  ///< the run's deployment no longer exists
  };
  outcome result = outcome::not_attempted;
  std::optional<std::string> lease_id;                        ///< for acquired
  collision_strategy strategy = collision_strategy::enqueue;  ///< for full (default when options are unset)
  std::chrono::seconds wait{30};  ///< for full/enqueue: server.deployments.concurrency_slot_wait_seconds
};

/// ValidateDeploymentConcurrencyAtRunning's outcome: the caller renewed the current state's lease (TTL = the
/// deployment's grace period, default server.concurrency.initial_deployment_lease_duration = 300 s) or, when the
/// lease was reaped, tried to take a new slot.
struct deployment_lease_renewal {
  enum class outcome { not_attempted, renewed, reacquired, lost };
  outcome result = outcome::not_attempted;  ///< not_attempted also covers "deployment has no limit"
  std::optional<std::string> new_lease_id;  ///< for reacquired
};

struct flow_transition_input {
  std::optional<run_state> current;  ///< the run's current state, none for a run without states
  transition_request request;
  flow_run_snapshot run;
  timestamp now;
  client_info client;
  deployment_slot_attempt deployment_slot;
  deployment_lease_renewal lease_renewal;
};

/// What the caller must do after committing, besides writing the state and the run.
struct flow_transition_effects {
  /// Leases to release: decrement their limits' active slots and revoke the lease; for a lease the store no
  /// longer knows, decrement the run's deployment limit by one instead (Prefect's fallback).
  std::vector<std::string> release_leases;
  /// ReleaseFlowConcurrencySlots for a state that carried no lease id: decrement the deployment's limit by one,
  /// if the deployment has one.
  bool release_deployment_slot = false;
  /// RemoveDeploymentConcurrencyLeaseForOldClientVersions: revoke this lease without touching slots (clients
  /// older than 3.4.11 do not renew it).
  std::optional<std::string> revoke_lease;
  /// UpdateSubflowParentTask: force this state onto the parent task run (`run.parent_task_run_id`).
  std::optional<run_state> parent_task_state;
};

struct flow_transition_result {
  transition_decision decision;
  std::optional<run_state> written;  ///< the state to insert (id, at, name, details final); none: nothing written
  flow_run_snapshot run;             ///< the run after the transition
  bool run_changed = false;          ///< `run` differs from the input's: write it back
  flow_transition_effects effects;
};

/// Which concurrency-store calls to make before `orchestrate_flow_transition` (step 3 of the contract).
struct deployment_concurrency_plan {
  bool acquire_slot = false;               ///< try to take a deployment slot → input.deployment_slot
  std::optional<std::string> renew_lease;  ///< renew this lease (re-acquire if reaped) → input.lease_renewal
};
deployment_concurrency_plan plan_deployment_concurrency(const flow_transition_input& in);

/// Decides one flow-run transition: CoreFlowPolicy, or MinimalFlowPolicy when `request.force`, then the global
/// transforms on the state to be written. Never fails; bad proposals become REJECT/ABORT decisions.
flow_transition_result orchestrate_flow_transition(const flow_transition_input& in);

/// The flow-run actor's policy hook. Must be pure and thread-safe; `orchestrate_flow_transition` is the default.
using transition_policy = std::function<flow_transition_result(const flow_transition_input&)>;

// ---------------------------------------------------------------------------------------------------------------
// The policies as data: for tests of single rules and for tools that explain a decision.

/// A rule's working view of the run during one call.
struct flow_work {
  const flow_transition_input& in;
  flow_run_snapshot run;
  flow_transition_effects effects;
  // per-call memory of individual rules
  std::optional<flow_run_policy> saved_policy;  ///< HandleFlowTerminalStateTransitions, restored on cleanup
  std::optional<std::string> pause_key;         ///< HandlePausingFlows, recorded after the transition
};
using flow_rule = orchestration_rule<flow_work>;

/// CoreFlowPolicy, in Prefect's order.
std::span<const flow_rule> core_flow_policy();
/// MinimalFlowPolicy (force=true).
std::span<const flow_rule> minimal_flow_policy();
/// A rule of either policy by Prefect's class name; nullptr when unknown.
const flow_rule* find_flow_rule(std::string_view name);
/// Runs `rules` (instead of the policy `request.force` selects) plus the global transforms.
flow_transition_result apply_flow_rules(const flow_transition_input& in, std::span<const flow_rule> rules);

}  // namespace osprey

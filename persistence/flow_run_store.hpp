#pragma once
// Named queries for flow runs and their state history. Run on a connection the caller owns, inside the
// caller's transaction; throw sql_error.

#include <optional>
#include <string>

#include "domain/flow_run.hpp"
#include "domain/global_transforms.hpp"
#include "domain/state.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// The columns a new flow run needs at least; the rest take their defaults.
struct new_flow_run {
  flow_run_id id;
  flow_id flow;
  std::string name;
  timestamp created;
};

void insert_flow_run(sql_connection& conn, const new_flow_run& run);

struct stored_run_state {
  bool run_exists = false;
  std::optional<run_state> current;  ///< nullopt: the run has no state yet
};

/// The run's current state (the row flow_run.state_id points at).
stored_run_state load_flow_run_state(sql_connection& conn, const flow_run_id& run);

struct flow_run_created {
  flow_run stored;
  bool created = false;  ///< false: a run with the same (flow_id, idempotency_key) existed and is returned
};

/// Inserts `run` with `initial` as its first state (already decided by the forced policy, with `counters` from
/// the global transforms), unless a run with the same flow and idempotency key exists. Throws sql_error.
flow_run_created create_flow_run(sql_connection& conn, const flow_run& run, const run_state& initial,
                                 const run_bookkeeping& counters);

/// The whole run with its current state, or nullopt.
std::optional<flow_run> find_flow_run(sql_connection& conn, const flow_run_id& run);

/// Runs matching `where` (SQL over alias `r` for flow_run and `s` for its current flow_run_state, $1.. params;
/// empty = all), ordered by `order_by`.
std::vector<flow_run> select_flow_runs(sql_connection& conn, const std::string& where, const sql_params& params,
                                       const std::string& order_by, std::int64_t limit, std::int64_t offset);
std::int64_t count_flow_runs(sql_connection& conn, const std::string& where, const sql_params& params);

/// Applies a FlowRunUpdate (only the keys present: name, flow_version, parameters, empirical_policy, tags,
/// infrastructure_pid, job_variables). Returns false when the run does not exist.
bool update_flow_run(sql_connection& conn, const flow_run_id& run, const nlohmann::json& changes, timestamp now);

/// Merges `labels` into the run's labels. Returns false when the run does not exist.
bool merge_flow_run_labels(sql_connection& conn, const flow_run_id& run, const nlohmann::json& labels, timestamp now);

/// Deletes the run (its states and task runs cascade) and its logs. Returns false when it did not exist.
bool delete_flow_run(sql_connection& conn, const flow_run_id& run);

/// Stores what orchestration decided: `written` (if any) is appended to the run's history and made current
/// (state_id, state_type, state_name, state_timestamp), and the bookkeeping columns (run_count, start_time,
/// end_time, total_run_time, expected_start_time, next_scheduled_start_time) and empirical_policy are set from
/// `counters` and `policy` (domain/run_bookkeeping.hpp's changes_of gives all three).
///
void write_flow_transition(sql_connection& conn, const flow_run_id& run, const std::optional<run_state>& written,
                           const run_bookkeeping& counters, const nlohmann::json& policy, timestamp now);

/// Before a transition decided from the run as read at `decided_from` (its `updated`) is written, in the same
/// write job. On PostgreSQL, where several servers may share the database: true when the run is still that
/// version — and then this transaction holds the run's row lock, so no other server can change it before the
/// write — false when another server changed (or deleted) it since: write nothing, reload the run and decide
/// again. Nothing is thrown, so the refusal does not roll back the group commit's other jobs. On SQLite one
/// server owns the file and its writer thread serialises every write: always true, no statement.
[[nodiscard]] bool claim_flow_run_version(sql_connection& conn, const flow_run_id& run, timestamp decided_from);

/// claim_flow_run_version and then write_flow_transition, in one job: true when written, false when the run is
/// no longer the version read at `decided_from` (nothing written). On PostgreSQL one statement does both (one
/// round trip where there were three); on SQLite it is write_flow_transition.
[[nodiscard]] bool write_flow_transition_if_current(sql_connection& conn, const flow_run_id& run,
                                                    timestamp decided_from, const std::optional<run_state>& written,
                                                    const run_bookkeeping& counters, const nlohmann::json& policy,
                                                    timestamp now);

/// The run's whole history, oldest first.
/// A Scheduled run that did not start on time (the late-runs service's candidates).
struct overdue_run {
  flow_run_id id;
  timestamp scheduled;  ///< its next_scheduled_start_time
};
/// Up to `limit` runs in state "Scheduled" (type SCHEDULED, not yet "Late" or "AwaitingRetry"...) whose
/// next_scheduled_start_time is at or before `due_before`, the most overdue first.
std::vector<overdue_run> find_overdue_runs(sql_connection& conn, timestamp due_before, std::int64_t limit);

std::vector<run_state> flow_run_state_history(sql_connection& conn, const flow_run_id& run);
/// States written (by their row's `updated`) since `margin` before the newest stored event's `received`, whose
/// prefect.flow-run.* event (same id) is not stored, oldest first, at most `limit`: (state id, run). None when
/// no event is stored.
std::vector<std::pair<state_id, flow_run_id>> states_without_events(sql_connection& conn, std::chrono::seconds margin,
                                                                    std::int64_t limit);
/// One state of any flow run, by the state's id.
std::optional<run_state> find_flow_run_state(sql_connection& conn, const uuid& state);

}  // namespace osprey::persistence

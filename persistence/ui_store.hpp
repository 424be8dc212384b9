#pragma once
// Named queries behind the UI's helper routes (/api/ui/*, /api/flow_runs/history, /api/task_runs/history):
// the narrow columns a history needs, per-id counts and each flow's next scheduled run. Functions run on a
// connection the caller owns and throw sql_error, like every store.
//
// `where` and `params` come from filter_sql (flow_run_where with alias `r`, task_run_where with alias `t`);
// further parameters are appended after them.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/run_graph.hpp"
#include "domain/run_history.hpp"
#include "domain/uuid.hpp"
#include "persistence/filter_sql.hpp"

namespace osprey::persistence {

/// Flow runs (task runs) matching `where` with an expected start time in [from, from + intervals * interval),
/// summed per interval, state type and state name with Prefect's estimates at `now` (domain run_history's rules),
/// ordered by interval, state type and state name.
std::vector<history_group> sum_flow_run_history(sql_connection& conn, const sql_where& where, timestamp from,
                                                std::chrono::microseconds interval, std::int64_t intervals,
                                                timestamp now);
std::vector<history_group> sum_task_run_history(sql_connection& conn, const sql_where& where, timestamp from,
                                                std::chrono::microseconds interval, std::int64_t intervals,
                                                timestamp now);

/// Task runs matching `where` in a terminal state that started within `span`, counted into the dashboard's buckets
/// (domain dashboard_task_run_counts' rules).
std::vector<task_run_bucket> count_finished_task_runs(sql_connection& conn, const sql_where& where,
                                                      dashboard_span span);

/// Task runs matching `where` (task_run_count_where: its `joins` are used), counted per state type ("COMPLETED" →
/// n; types without runs are absent).
std::map<std::string, std::int64_t> count_task_runs_by_state(sql_connection& conn, const sql_where& where);

/// Per flow run id: its task runs that are not the parent task of a subflow run (absent: none).
std::map<uuid, std::int64_t> count_task_runs_by_flow_run(sql_connection& conn, const std::vector<uuid>& flow_runs);

/// Per flow id: its deployments (absent: none).
std::map<uuid, std::int64_t> count_deployments_by_flow(sql_connection& conn, const std::vector<uuid>& flows);

/// Prefect's SimpleNextFlowRun: a flow's SCHEDULED run with the earliest next scheduled start time.
struct next_flow_run {
  uuid id;
  uuid flow_id;
  std::string name;
  std::string state_name;
  std::string state_type;
  timestamp next_scheduled_start_time;
};
std::map<uuid, next_flow_run> next_runs_by_flow(sql_connection& conn, const std::vector<uuid>& flows);

/// Flow runs matching `where`: how many, and their estimated lateness at `now` summed (seconds).
struct lateness_sum {
  std::int64_t runs = 0;
  double seconds = 0;
};
lateness_sum sum_flow_run_lateness(sql_connection& conn, const sql_where& where, timestamp now);

/// The flow run's own span (COALESCE(start_time, expected_start_time), end_time); nullopt when it does not exist.
struct run_span {
  std::optional<timestamp> start;
  std::optional<timestamp> end;
};
std::optional<run_span> find_run_span(sql_connection& conn, const uuid& flow_run);

/// The task runs of `flow_run`, each with the subflow run whose parent task run it is, for the graph.
std::vector<graph_row> select_graph_rows(sql_connection& conn, const uuid& flow_run);

/// A state type and exact name seen in the retained flow- and task-run histories, with the first and last
/// time it was entered (GET /api/observed-states: the UI's state-name filter).
struct observed_state {
  std::string type;
  std::string name;
  timestamp first_seen;
  timestamp last_seen;
};
/// Pairs whose type or name starts with `prefix` (case-insensitive; empty: all), newest last_seen first
/// (or by type and name when `by_name`), at most `limit`.
std::vector<observed_state> select_observed_states(sql_connection& conn, const std::string& prefix, bool by_name,
                                                   std::int64_t limit);

}  // namespace osprey::persistence

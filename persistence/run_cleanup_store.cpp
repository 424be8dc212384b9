// Named queries of the cancellation cleanup and pause expiration services (see the header).
#include "persistence/run_cleanup_store.hpp"

#include "persistence/state_columns.hpp"

namespace osprey::persistence {
namespace {

constexpr const char* open_task_runs_sql =
    "SELECT t.id FROM task_run t JOIN flow_run f ON f.id = t.flow_run_id "
    "WHERE f.state_type = 'CANCELLED' AND f.end_time IS NOT NULL AND f.end_time >= $1 "
    "AND t.state_type IN ('SCHEDULED', 'PENDING', 'RUNNING', 'PAUSED', 'CANCELLING') ORDER BY t.id LIMIT $2";

constexpr const char* orphaned_subflows_sql =
    "SELECT f.id, f.state_type, f.deployment_id FROM flow_run f "
    "JOIN task_run t ON t.id = f.parent_task_run_id JOIN flow_run p ON p.id = t.flow_run_id "
    "WHERE f.state_type IN ('SCHEDULED', 'PENDING', 'RUNNING', 'PAUSED', 'CANCELLING') "
    "AND p.state_type = 'CANCELLED' "
    "AND NOT (f.deployment_id IS NOT NULL AND f.state_type = 'CANCELLING') ORDER BY f.id LIMIT $1";

constexpr const char* state_columns_sql = "s.id, s.type, s.name, s.timestamp, s.message, s.state_details, s.data ";

std::vector<run_at_state> runs_at_states(sql_connection& conn, const std::string& sql, const sql_params& params) {
  std::vector<run_at_state> out;
  for (const auto& row : conn.query(sql, params)) out.push_back({flow_run_id{row.id(0)}, state_from_columns(row, 1)});
  return out;
}

}  // namespace

std::vector<uuid> open_task_runs_of_cancelled_runs(sql_connection& conn, timestamp cancelled_since,
                                                   std::int64_t limit) {
  std::vector<uuid> out;
  for (const auto& row : conn.query(open_task_runs_sql, {ts(cancelled_since), integer(limit)}))
    out.push_back(row.id(0));
  return out;
}

std::vector<orphaned_subflow> orphaned_subflows(sql_connection& conn, std::int64_t limit) {
  std::vector<orphaned_subflow> out;
  for (const auto& row : conn.query(orphaned_subflows_sql, {integer(limit)})) {
    auto type = parse_state_type(row.text(1));
    if (!type) continue;  // the column's CHECK constraint allows only state types
    out.push_back({flow_run_id{row.id(0)}, *type, !row.is_null(2)});
  }
  return out;
}

std::vector<run_at_state> cancelling_since(sql_connection& conn, timestamp since, std::int64_t limit) {
  return runs_at_states(conn,
                        std::string("SELECT f.id, ") + state_columns_sql +
                            "FROM flow_run f JOIN flow_run_state s ON s.id = f.state_id "
                            "WHERE f.state_type = 'CANCELLING' AND f.state_timestamp <= $1 "
                            "ORDER BY f.state_timestamp, f.id LIMIT $2",
                        {ts(since), integer(limit)});
}

std::vector<run_at_state> paused_runs(sql_connection& conn, const std::optional<flow_run_id>& after,
                                      std::int64_t limit) {
  const std::string select =
      std::string("SELECT f.id, ") + state_columns_sql +
      "FROM flow_run f JOIN flow_run_state s ON s.id = f.state_id WHERE f.state_type = 'PAUSED' ";
  if (!after) return runs_at_states(conn, select + "ORDER BY f.id LIMIT $1", {integer(limit)});
  return runs_at_states(conn, select + "AND f.id > $1 ORDER BY f.id LIMIT $2", {id(*after), integer(limit)});
}

}  // namespace osprey::persistence

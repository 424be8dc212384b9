#include "persistence/ui_store.hpp"

#include <cctype>

#include <nlohmann/json.hpp>

namespace osprey::persistence {
namespace {

// The aggregates read the runs' denormalised state columns only (filters never name the state tables): a join to
// the state table costs one index probe per run, seconds over a few million runs.
constexpr const char* flow_run_history_sql =
    "SELECT r.expected_start_time, r.start_time, r.state_type, r.state_name, r.state_timestamp, r.total_run_time "
    "FROM flow_run r ";
constexpr const char* task_run_history_sql =
    "SELECT t.expected_start_time, t.start_time, t.state_type, t.state_name, t.state_timestamp, t.total_run_time "
    "FROM task_run t ";
constexpr const char* finished_task_runs_sql =
    "SELECT t.start_time, t.state_type FROM task_run t "
    "WHERE t.state_type IN ('COMPLETED', 'CANCELLED', 'FAILED', 'CRASHED') AND t.start_time IS NOT NULL";
constexpr const char* task_runs_by_state_sql = "SELECT t.state_type, count(*) FROM task_run t";
constexpr const char* next_runs_sql =
    "SELECT r.id, r.flow_id, r.name, r.state_name, r.state_type, r.next_scheduled_start_time FROM flow_run r "
    "WHERE r.state_type = 'SCHEDULED' AND r.flow_id IN ({ids}) AND r.next_scheduled_start_time = "
    "(SELECT min(n.next_scheduled_start_time) FROM flow_run n WHERE n.flow_id = r.flow_id AND n.state_type = 'SCHEDULED')";

/// "$N" naming a JSON array of ids, as a sub-select for IN (...).
std::string id_list(dialect d, sql_params& params, const std::vector<uuid>& ids) {
  nlohmann::json texts = nlohmann::json::array();
  for (const auto& u : ids) texts.push_back(u.to_string());
  params.push_back(text(texts.dump()));
  const auto p = "$" + std::to_string(params.size());
  return d == dialect::postgresql ? "SELECT (jsonb_array_elements_text(" + p + "::jsonb))::uuid"
                                  : "SELECT value FROM json_each(" + p + ")";
}

std::string with_where(std::string sql, const sql_where& where, const std::string& more = "") {
  std::string condition = where.sql;
  if (!more.empty()) condition = condition.empty() ? more : "(" + condition + ") AND " + more;
  if (!condition.empty()) sql += (sql.find(" WHERE ") == std::string::npos ? " WHERE " : " AND ") + condition;
  return sql;
}

std::vector<history_run> history(sql_connection& conn, const char* select, const char* alias, const sql_where& where,
                                 std::optional<timestamp> from, std::optional<timestamp> to) {
  sql_params params = where.params;
  std::string window;
  if (from && to) {
    params.push_back(ts(*from));
    const auto from_p = "$" + std::to_string(params.size());
    params.push_back(ts(*to));
    const auto to_p = "$" + std::to_string(params.size());
    const std::string a(alias);
    window = a + ".expected_start_time >= " + from_p + " AND " + a + ".expected_start_time < " + to_p;
  }
  const auto sql = with_where(select, where, window);
  std::vector<history_run> out;
  for (const auto& row : conn.query(sql, params)) {
    history_run run;
    run.expected_start_time = row.optional_time(0);
    run.start_time = row.optional_time(1);
    if (!row.is_null(2)) run.type = parse_state_type(row.text(2));
    run.state_name = row.text(3);
    run.state_timestamp = row.optional_time(4);
    run.total_run_time = row.is_null(5) ? 0 : row.real(5);
    out.push_back(std::move(run));
  }
  return out;
}

std::map<uuid, std::int64_t> counts_by_id(sql_connection& conn, const std::string& sql, const sql_params& params) {
  std::map<uuid, std::int64_t> out;
  for (const auto& row : conn.query(sql, params)) out[row.id(0)] = row.integer(1);
  return out;
}

}  // namespace

std::vector<history_run> select_flow_run_history(sql_connection& conn, const sql_where& where, timestamp from,
                                                 timestamp to) {
  return history(conn, flow_run_history_sql, "r", where, from, to);
}

std::vector<history_run> select_task_run_history(sql_connection& conn, const sql_where& where, timestamp from,
                                                 timestamp to) {
  return history(conn, task_run_history_sql, "t", where, from, to);
}

std::vector<finished_task_run> select_finished_task_runs(sql_connection& conn, const sql_where& where) {
  std::vector<finished_task_run> out;
  for (const auto& row : conn.query(with_where(finished_task_runs_sql, where), where.params)) {
    const auto type = parse_state_type(row.text(1));
    if (type) out.push_back({row.time(0), *type});
  }
  return out;
}

std::map<std::string, std::int64_t> count_task_runs_by_state(sql_connection& conn, const sql_where& where) {
  std::map<std::string, std::int64_t> out;
  for (const auto& row : conn.query(with_where(task_runs_by_state_sql, where) + " GROUP BY t.state_type", where.params))
    if (!row.is_null(0)) out[row.text(0)] = row.integer(1);
  return out;
}

std::map<uuid, std::int64_t> count_task_runs_by_flow_run(sql_connection& conn, const std::vector<uuid>& flow_runs) {
  if (flow_runs.empty()) return {};
  sql_params params;
  const auto ids = id_list(conn.dialect(), params, flow_runs);
  return counts_by_id(conn,
                      "SELECT t.flow_run_id, count(*) FROM task_run t WHERE t.flow_run_id IN (" + ids +
                          ") AND NOT EXISTS (SELECT 1 FROM flow_run sub WHERE sub.parent_task_run_id = t.id) "
                          "GROUP BY t.flow_run_id",
                      params);
}

std::map<uuid, std::int64_t> count_deployments_by_flow(sql_connection& conn, const std::vector<uuid>& flows) {
  if (flows.empty()) return {};
  sql_params params;
  const auto ids = id_list(conn.dialect(), params, flows);
  return counts_by_id(conn, "SELECT d.flow_id, count(*) FROM deployment d WHERE d.flow_id IN (" + ids + ") GROUP BY d.flow_id",
                      params);
}

std::map<uuid, next_flow_run> next_runs_by_flow(sql_connection& conn, const std::vector<uuid>& flows) {
  if (flows.empty()) return {};
  sql_params params;
  std::string sql = next_runs_sql;
  sql.replace(sql.find("{ids}"), 5, id_list(conn.dialect(), params, flows));
  std::map<uuid, next_flow_run> out;
  for (const auto& row : conn.query(sql, params)) {
    next_flow_run run{row.id(0), row.id(1), row.text(2), row.text(3), row.text(4), row.time(5)};
    out.insert_or_assign(run.flow_id, std::move(run));
  }
  return out;
}

std::vector<history_run> select_flow_run_estimates(sql_connection& conn, const sql_where& where) {
  return history(conn, flow_run_history_sql, "r", where, std::nullopt, std::nullopt);
}

std::optional<run_span> find_run_span(sql_connection& conn, const uuid& flow_run) {
  const auto rows = conn.query("SELECT start_time, expected_start_time, end_time FROM flow_run WHERE id = $1", {id(flow_run)});
  if (rows.empty()) return std::nullopt;
  const auto& row = rows.front();
  return run_span{row.is_null(0) ? row.optional_time(1) : row.optional_time(0), row.optional_time(2)};
}

std::vector<graph_row> select_graph_rows(sql_connection& conn, const uuid& flow_run) {
  constexpr const char* sql =
      "SELECT t.id, t.name, t.state_type, t.start_time, t.expected_start_time, t.end_time, t.task_inputs, "
      "sub.id, f.name, sub.name, sub.state_type, sub.start_time, sub.expected_start_time, sub.end_time "
      "FROM task_run t LEFT JOIN flow_run sub ON sub.parent_task_run_id = t.id LEFT JOIN flow f ON f.id = sub.flow_id "
      "WHERE t.flow_run_id = $1";
  std::vector<graph_row> out;
  for (const auto& row : conn.query(sql, {id(flow_run)})) {
    graph_row r;
    r.task_run_id = row.id(0);
    r.task_run_name = row.text(1);
    if (!row.is_null(2)) r.task_state = parse_state_type(row.text(2));
    r.task_start = row.optional_time(3);
    r.task_expected_start = row.optional_time(4);
    r.task_end = row.optional_time(5);
    if (!row.is_null(6)) {
      auto inputs = nlohmann::json::parse(row.text(6), nullptr, false);
      if (!inputs.is_discarded()) r.task_inputs = std::move(inputs);
    }
    if (!row.is_null(7)) {
      r.subflow_id = row.id(7);
      r.subflow_label = row.text(8) + " / " + row.text(9);
      if (!row.is_null(10)) r.subflow_state = parse_state_type(row.text(10));
      r.subflow_start = row.optional_time(11);
      r.subflow_expected_start = row.optional_time(12);
      r.subflow_end = row.optional_time(13);
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<observed_state> select_observed_states(sql_connection& conn, const std::string& prefix, bool by_name,
                                                   std::int64_t limit) {
  // Each history is grouped before the union, so the union holds distinct pairs, not every transition.
  std::string sql =
      "SELECT type, name, MIN(first_seen), MAX(last_seen) FROM ("
      "SELECT type, name, MIN(timestamp) AS first_seen, MAX(timestamp) AS last_seen FROM flow_run_state "
      "GROUP BY type, name UNION ALL "
      "SELECT type, name, MIN(timestamp), MAX(timestamp) FROM task_run_state GROUP BY type, name) h "
      "WHERE type IS NOT NULL AND name IS NOT NULL ";
  sql_params params;
  if (!prefix.empty()) {
    // A prefix match that takes the text literally: LIKE's wildcards in it are escaped.
    std::string pattern;
    for (char ch : prefix) {
      if (ch == '%' || ch == '_' || ch == '\\') pattern += '\\';
      pattern += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    params.push_back(text(pattern + "%"));
    sql += "AND (LOWER(type) LIKE $1 ESCAPE '\\' OR LOWER(name) LIKE $1 ESCAPE '\\') ";
  }
  sql += "GROUP BY type, name ORDER BY ";
  sql += by_name ? "type, name" : "MAX(last_seen) DESC, type, name";
  sql += " LIMIT " + std::to_string(limit);
  std::vector<observed_state> out;
  for (const auto& row : conn.query(sql, params)) out.push_back({row.text(0), row.text(1), row.time(2), row.time(3)});
  return out;
}

}  // namespace osprey::persistence

#include "persistence/ui_store.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "persistence/sql_lists.hpp"

namespace osprey::persistence {
namespace {

// The aggregates read the runs' denormalised state columns only (filters never name the state tables): a join to
// the state table costs one index probe per run, seconds over a few million runs. They sum in SQL, by the rules
// of domain/run_history (its functions are the reference the store tests compare with): reading a day of a
// million-run database out run by run took most of a second.
constexpr const char* terminal_types = "('COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED')";
constexpr const char* task_runs_by_state_sql = "SELECT t.state_type, count(*) FROM task_run t";
// Each flow's earliest time first (one pass over the flows' runs), then the runs at that time: a subquery per
// Scheduled run read all of its flow's runs again for each (2.8 s for 5 flows of a 100,000-run SQLite file).
constexpr const char* next_runs_sql =
    "SELECT r.id, r.flow_id, r.name, r.state_name, r.state_type, r.next_scheduled_start_time FROM (SELECT n.flow_id, "
    "min(n.next_scheduled_start_time) AS first_time FROM flow_run n WHERE n.state_type = 'SCHEDULED' AND {ids} "
    "GROUP BY n.flow_id) x JOIN flow_run r ON r.next_scheduled_start_time = x.first_time AND r.flow_id = x.flow_id "
    "AND r.state_type = 'SCHEDULED'";

/// `column IN ids`, the ids bound as one list after `params`.
std::string in_ids(dialect d, sql_params& params, const std::string& column, const std::vector<uuid>& ids) {
  std::vector<std::string> texts;
  texts.reserve(ids.size());
  for (const auto& u : ids) texts.push_back(u.to_string());
  params.push_back(list_parameter(d, texts));
  return in_list(d, column, "$" + std::to_string(params.size()), "uuid", false);
}

std::string with_where(std::string sql, const sql_where& where, const std::string& more = "") {
  std::string condition = where.sql;
  if (!more.empty()) condition = condition.empty() ? more : "(" + condition + ") AND " + more;
  if (!condition.empty()) sql += (sql.find(" WHERE ") == std::string::npos ? " WHERE " : " AND ") + condition;
  return sql;
}

/// `column` as whole microseconds since the epoch (NULL stays NULL), exactly: the bucket a run falls in and the
/// lateness sums must not move with floating-point rounding. SQLite holds format_iso8601's fixed-width text, read
/// by the driver's osprey_micros (persistence/sqlite): a fifth of the history's CPU time less than unixepoch plus
/// the fraction's digits, itself a third of strftime('%s')'s.
std::string micros(dialect d, const std::string& column) {
  if (d == dialect::postgresql) return "CAST(EXTRACT(EPOCH FROM " + column + ") * 1000000 AS BIGINT)";
  return "osprey_micros(" + column + ")";
}

/// `value` when positive, else 0: each run's estimate counts when positive. One evaluation of `value`, where a
/// CASE would compute it twice.
std::string positive(dialect d, const std::string& value) {
  return (d == dialect::postgresql ? "GREATEST(" : "max(") + value + ", 0)";
}

/// Binds `v` after `params`; the placeholder, typed BIGINT for PostgreSQL's arithmetic.
std::string add_bigint_param(sql_params& params, std::int64_t v) {
  params.push_back(integer(v));
  return "CAST($" + std::to_string(params.size()) + " AS BIGINT)";
}

std::string add_time_param(sql_params& params, timestamp t) {
  params.push_back(ts(t));
  return "$" + std::to_string(params.size());
}

std::int64_t micros_of(timestamp t) { return t.time_since_epoch().count(); }

/// Whole microseconds from `earlier` to `later` (timestamp expressions; NULL stays NULL), exactly. PostgreSQL
/// takes the epoch of their difference as a float8 (date_part), exact to the microsecond for any span under 285
/// years, where EXTRACT's numeric arithmetic on each time took 45 of a day's history's 110 ms of reading
/// (156,000 runs). SQLite subtracts the two times' microseconds.
std::string micros_between(dialect d, const std::string& later, const std::string& earlier) {
  if (d == dialect::postgresql)
    return "CAST(round(date_part('epoch', " + later + " - " + earlier + ") * 1000000) AS BIGINT)";
  return "(" + micros(d, later) + " - " + micros(d, earlier) + ")";
}

/// Whole microseconds from `t` (bound after `params`) to `column`'s time.
std::string micros_since(dialect d, sql_params& params, timestamp t, const std::string& column) {
  if (d == dialect::postgresql)
    return micros_between(d, column, "CAST(" + add_time_param(params, t) + " AS TIMESTAMPTZ)");
  return "(" + micros(d, column) + " - " + add_bigint_param(params, micros_of(t)) + ")";
}

/// Whole microseconds from `column`'s time to `t` (bound after `params`).
std::string micros_until(dialect d, sql_params& params, timestamp t, const std::string& column) {
  if (d == dialect::postgresql)
    return micros_between(d, "CAST(" + add_time_param(params, t) + " AS TIMESTAMPTZ)", column);
  return "(" + add_bigint_param(params, micros_of(t)) + " - " + micros(d, column) + ")";
}

/// Prefect's estimated lateness of the run `a` at `now`, in microseconds (estimated_lateness_seconds); never
/// negative: a started run's is clamped at 0, an unstarted one counts only once due.
std::string lateness_sql(dialect d, const std::string& a, sql_params& params, timestamp now) {
  const auto now_time = add_time_param(params, now);
  const auto overdue = micros_until(d, params, now, a + ".expected_start_time");
  return "CASE WHEN " + a + ".start_time IS NOT NULL THEN " +
         positive(d, micros_between(d, a + ".start_time", a + ".expected_start_time")) + " WHEN " + a +
         ".expected_start_time < " + now_time + " AND (" + a + ".state_type IS NULL OR " + a + ".state_type NOT IN " +
         terminal_types + ") THEN " + overdue + " ELSE 0 END";
}

/// Prefect's estimated run time of the run `a` at `now`, in seconds (estimated_run_time_seconds).
std::string run_time_sql(dialect d, const std::string& a, sql_params& params, timestamp now) {
  return "COALESCE(" + a + ".total_run_time, 0) + CASE WHEN " + a + ".state_type = 'RUNNING' AND " + a +
         ".state_timestamp IS NOT NULL THEN " + micros_until(d, params, now, a + ".state_timestamp") +
         " / 1000000.0 ELSE 0 END";
}

/// The runs of `table` (alias `a`, the alias `where` was built for) in the history's window.
std::string history_window(const std::string& a, const sql_where& where, sql_params& params, timestamp from,
                           std::chrono::microseconds interval, std::int64_t intervals) {
  return (where.sql.empty() ? " WHERE " : " WHERE (" + where.sql + ") AND ") + a +
         ".expected_start_time >= " + add_time_param(params, from) + " AND " + a + ".expected_start_time < " +
         add_time_param(params, from + intervals * interval) + " AND " + a + ".state_type IS NOT NULL";
}

/// The window's runs summed per interval, state type and state name by the database (PostgreSQL), in that
/// order.
std::vector<history_group> sum_history_in_sql(sql_connection& conn, const std::string& table, const std::string& a,
                                              const sql_where& where, timestamp from,
                                              std::chrono::microseconds interval, std::int64_t intervals,
                                              timestamp now) {
  const auto d = conn.dialect();
  sql_params params = where.params;
  const auto since_from = micros_since(d, params, from, a + ".expected_start_time");
  const auto interval_us = add_bigint_param(params, interval.count());
  const auto run_time = run_time_sql(d, a, params, now);
  const auto lateness = lateness_sql(d, a, params, now);
  const auto window = history_window(a, where, params, from, interval, intervals);
  // late is never negative (lateness_sql); rt is clamped per run.
  const auto sql = "SELECT i, state_type, state_name, count(*), sum(" + positive(d, "rt") +
                   "), sum(late) FROM (SELECT " + since_from + " / " + interval_us + " AS i, " + a + ".state_type, " +
                   a + ".state_name, " + run_time + " AS rt, " + lateness + " AS late FROM " + table + " " + a +
                   window + ") h GROUP BY i, state_type, state_name ORDER BY i, state_type, state_name";
  std::vector<history_group> out;
  for (const auto& row : conn.query(sql, params)) {
    const auto type = parse_state_type(row.text(1));
    if (!type) continue;
    out.push_back({row.integer(0), *type, row.text(2), row.integer(3), row.is_null(4) ? 0 : row.real(4),
                   row.is_null(5) ? 0 : row.real(5) / 1e6});
  }
  return out;
}

/// The same summed here as SQLite reads the runs, by domain/run_history's own estimates. SQLite groups by sorting
/// every run (it has no hash aggregate): 110 ms of a day's 156,000 task runs, whose reading takes 55 ms from the
/// covering index. The groups are few: at most 500 intervals, a few states in each.
std::vector<history_group> sum_history_as_read(sql_connection& conn, const std::string& table, const std::string& a,
                                               const sql_where& where, timestamp from,
                                               std::chrono::microseconds interval, std::int64_t intervals,
                                               timestamp now) {
  sql_params params = where.params;
  const auto window = history_window(a, where, params, from, interval, intervals);
  // Only a RUNNING run's state timestamp counts (estimated_run_time_seconds): the others' are not parsed.
  const auto sql = "SELECT " + micros(dialect::sqlite, a + ".expected_start_time") + ", " +
                   micros(dialect::sqlite, a + ".start_time") + ", " + a + ".state_type, " + a +
                   ".state_name, CASE WHEN " + a + ".state_type = 'RUNNING' THEN " +
                   micros(dialect::sqlite, a + ".state_timestamp") + " END, " + a + ".total_run_time FROM " + table +
                   " " + a + window;
  const auto at = [](const sql_row& row, std::size_t i) -> std::optional<timestamp> {
    if (row.is_null(i)) return std::nullopt;
    return timestamp(std::chrono::microseconds(row.integer(i)));
  };
  std::vector<std::vector<history_group>> groups(static_cast<std::size_t>(std::max<std::int64_t>(intervals, 0)));
  conn.for_each_row(sql, params, [&](const sql_row& row) {
    history_run run;
    run.expected_start_time = at(row, 0);
    run.start_time = at(row, 1);
    run.type = parse_state_type(std::get<std::string>(row.raw(2)));
    run.state_timestamp = at(row, 4);
    run.total_run_time = row.is_null(5) ? 0 : row.real(5);
    const auto i = (*run.expected_start_time - from) / interval;
    if (!run.type || i < 0 || i >= intervals) return;
    const auto* name = std::get_if<std::string>(&row.raw(3));
    auto& seen = groups[static_cast<std::size_t>(i)];
    auto g = std::find_if(seen.begin(), seen.end(), [&](const history_group& x) {
      return x.type == *run.type && (name ? x.name == *name : x.name.empty());
    });
    if (g == seen.end()) g = seen.insert(seen.end(), history_group{i, *run.type, name ? *name : std::string()});
    ++g->count;
    g->sum_estimated_run_time += std::max(0.0, estimated_run_time_seconds(run, now));
    g->sum_estimated_lateness += std::max(0.0, estimated_lateness_seconds(run, now));
  });
  std::vector<history_group> out;
  for (auto& seen : groups) {
    // The order of the SQL's GROUP BY: state type as text, then name.
    const auto key = [](const history_group& g) {
      return std::pair(std::string_view(to_string(g.type)), std::string_view(g.name));
    };
    std::sort(seen.begin(), seen.end(), [&key](const auto& x, const auto& y) { return key(x) < key(y); });
    for (auto& g : seen) out.push_back(std::move(g));
  }
  return out;
}

/// The runs of `table` in the history's window, summed per interval, state type and state name.
std::vector<history_group> sum_history(sql_connection& conn, const std::string& table, const std::string& a,
                                       const sql_where& where, timestamp from, std::chrono::microseconds interval,
                                       std::int64_t intervals, timestamp now) {
  if (conn.dialect() == dialect::sqlite)
    return sum_history_as_read(conn, table, a, where, from, interval, intervals, now);
  return sum_history_in_sql(conn, table, a, where, from, interval, intervals, now);
}

std::map<uuid, std::int64_t> counts_by_id(sql_connection& conn, const std::string& sql, const sql_params& params) {
  std::map<uuid, std::int64_t> out;
  for (const auto& row : conn.query(sql, params)) out[row.id(0)] = row.integer(1);
  return out;
}

}  // namespace

std::vector<history_group> sum_flow_run_history(sql_connection& conn, const sql_where& where, timestamp from,
                                                std::chrono::microseconds interval, std::int64_t intervals,
                                                timestamp now) {
  return sum_history(conn, "flow_run", "r", where, from, interval, intervals, now);
}

std::vector<history_group> sum_task_run_history(sql_connection& conn, const sql_where& where, timestamp from,
                                                std::chrono::microseconds interval, std::int64_t intervals,
                                                timestamp now) {
  return sum_history(conn, "task_run", "t", where, from, interval, intervals, now);
}

std::vector<task_run_bucket> count_finished_task_runs(sql_connection& conn, const sql_where& where,
                                                      dashboard_span span) {
  std::vector<task_run_bucket> out(dashboard_task_run_buckets);
  if (span.end <= span.start) return out;
  const auto d = conn.dialect();
  sql_params params = where.params;
  const auto since_start = micros_since(d, params, span.start, "t.start_time");
  const auto width_us = add_bigint_param(params, (span.end - span.start).count());
  const auto buckets = add_bigint_param(params, dashboard_task_run_buckets);
  const auto from = add_time_param(params, span.start);
  const auto to = add_time_param(params, span.end);
  const auto sql = "SELECT " + since_start + " * " + buckets + " / " + width_us +
                   " AS b, sum(CASE WHEN t.state_type IN ('FAILED', 'CRASHED') THEN 1 ELSE 0 END), count(*) "
                   "FROM task_run t WHERE " +
                   (where.sql.empty() ? "" : "(" + where.sql + ") AND ") + "t.state_type IN " + terminal_types +
                   " AND t.start_time >= " + from + " AND t.start_time < " + to + " GROUP BY b";
  for (const auto& row : conn.query(sql, params)) {
    const auto b = row.integer(0);
    if (b < 0 || b >= dashboard_task_run_buckets) continue;
    auto& bucket = out[static_cast<std::size_t>(b)];
    bucket.failed = row.integer(1);
    bucket.completed = row.integer(2) - bucket.failed;
  }
  return out;
}

std::map<std::string, std::int64_t> count_task_runs_by_state(sql_connection& conn, const sql_where& where) {
  std::map<std::string, std::int64_t> out;
  const auto from = std::string(task_runs_by_state_sql) + (where.joins.empty() ? "" : " " + where.joins);
  for (const auto& row : conn.query(with_where(from, where) + " GROUP BY t.state_type", where.params))
    if (!row.is_null(0)) out[row.text(0)] = row.integer(1);
  return out;
}

std::map<uuid, std::int64_t> count_task_runs_by_flow_run(sql_connection& conn, const std::vector<uuid>& flow_runs) {
  if (flow_runs.empty()) return {};
  sql_params params;
  const auto ids = in_ids(conn.dialect(), params, "t.flow_run_id", flow_runs);
  return counts_by_id(conn,
                      "SELECT t.flow_run_id, count(*) FROM task_run t WHERE " + ids +
                          " AND NOT EXISTS (SELECT 1 FROM flow_run sub WHERE sub.parent_task_run_id = t.id) "
                          "GROUP BY t.flow_run_id",
                      params);
}

std::map<uuid, std::int64_t> count_deployments_by_flow(sql_connection& conn, const std::vector<uuid>& flows) {
  if (flows.empty()) return {};
  sql_params params;
  const auto ids = in_ids(conn.dialect(), params, "d.flow_id", flows);
  return counts_by_id(conn, "SELECT d.flow_id, count(*) FROM deployment d WHERE " + ids + " GROUP BY d.flow_id",
                      params);
}

std::map<uuid, next_flow_run> next_runs_by_flow(sql_connection& conn, const std::vector<uuid>& flows) {
  if (flows.empty()) return {};
  sql_params params;
  std::string sql = next_runs_sql;
  sql.replace(sql.find("{ids}"), 5, in_ids(conn.dialect(), params, "n.flow_id", flows));
  std::map<uuid, next_flow_run> out;
  for (const auto& row : conn.query(sql, params)) {
    next_flow_run run{row.id(0), row.id(1), row.text(2), row.text(3), row.text(4), row.time(5)};
    out.insert_or_assign(run.flow_id, std::move(run));
  }
  return out;
}

lateness_sum sum_flow_run_lateness(sql_connection& conn, const sql_where& where, timestamp now) {
  sql_params params = where.params;
  const auto lateness = lateness_sql(conn.dialect(), "r", params, now);
  const auto sql =
      "SELECT count(*), sum(" + lateness + ") FROM flow_run r" + (where.sql.empty() ? "" : " WHERE " + where.sql);
  const auto rows = conn.query(sql, params);
  if (rows.empty()) return {};
  return {rows.front().integer(0), rows.front().is_null(1) ? 0 : rows.front().real(1) / 1e6};
}

std::optional<run_span> find_run_span(sql_connection& conn, const uuid& flow_run) {
  const auto rows =
      conn.query("SELECT start_time, expected_start_time, end_time FROM flow_run WHERE id = $1", {id(flow_run)});
  if (rows.empty()) return std::nullopt;
  const auto& row = rows.front();
  return run_span{row.is_null(0) ? row.optional_time(1) : row.optional_time(0), row.optional_time(2)};
}

std::vector<graph_row> select_graph_rows(sql_connection& conn, const uuid& flow_run) {
  // SQLite's statistics see parent_task_run_id as one value shared by every run (NULL, for all but subflows), so
  // it judged its index useless and scanned every flow run once per task run (0.9 s for a run of 6 tasks in a
  // 100,000-run file). The index finds the few subflows; INDEXED BY says so. PostgreSQL counts NULLs apart.
  const std::string sub =
      conn.dialect() == dialect::sqlite ? "flow_run sub INDEXED BY ix_flow_run__parent_task_run_id" : "flow_run sub";
  const auto sql =
      "SELECT t.id, t.name, t.state_type, t.start_time, t.expected_start_time, t.end_time, t.task_inputs, "
      "sub.id, f.name, sub.name, sub.state_type, sub.start_time, sub.expected_start_time, sub.end_time "
      "FROM task_run t LEFT JOIN " +
      sub + " ON sub.parent_task_run_id = t.id LEFT JOIN flow f ON f.id = sub.flow_id WHERE t.flow_run_id = $1";
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

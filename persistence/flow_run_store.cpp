#include "persistence/flow_run_store.hpp"

#include "domain/run_bookkeeping.hpp"
#include "persistence/state_columns.hpp"

namespace osprey::persistence {
namespace {

constexpr const char* insert_run_sql =
    "INSERT INTO flow_run (id, created, updated, name, flow_id) VALUES ($1, $2, $2, $3, $4)";

constexpr const char* select_current_state_sql =
    "SELECT r.id, s.id, s.type, s.name, s.timestamp, s.message, s.state_details, s.data "
    "FROM flow_run r LEFT JOIN flow_run_state s ON s.id = r.state_id WHERE r.id = $1";

constexpr const char* insert_state_sql =
    "INSERT INTO flow_run_state (id, created, updated, flow_run_id, type, timestamp, name, message, state_details, "
    "data) "
    "VALUES ($1, $2, $2, $3, $4, $2, $5, $6, $7, $8)";

/// The run's UPDATE: $1 the run, $2 the time of the change, $3 to $9 the bookkeeping columns and empirical_policy
/// (bookkeeping_params), then with a new current state $10 to $13 (state_id, type, name, timestamp).
constexpr const char* set_bookkeeping =
    "UPDATE flow_run SET updated = $2, run_count = $3, start_time = $4, end_time = $5, total_run_time = $6, "
    "expected_start_time = $7, next_scheduled_start_time = $8, empirical_policy = $9";
constexpr const char* and_set_state = ", state_id = $10, state_type = $11, state_name = $12, state_timestamp = $13";

const std::string update_run_bookkeeping_sql = std::string(set_bookkeeping) + " WHERE id = $1";
// The same with the new current state, so a transition costs one UPDATE of the run (one round trip less on
// PostgreSQL).
const std::string update_run_state_and_bookkeeping_sql =
    std::string(set_bookkeeping) + and_set_state + " WHERE id = $1";

// PostgreSQL: the version check of claim_flow_run_version folded into the transition's statements, so a
// transition is one round trip, not three. The run's UPDATE (which takes its row lock) runs only on the version
// read; the state is inserted only when it did (the foreign key from state_id is checked at the statement's end,
// after both). Parameters as in update_run_state_and_bookkeeping_sql, then the version, message, details, data.
const std::string write_transition_if_current_sql =
    "WITH claimed AS (" + std::string(set_bookkeeping) + and_set_state +
    " WHERE id = $1 AND updated = $14 RETURNING id) "
    "INSERT INTO flow_run_state (id, created, updated, flow_run_id, type, timestamp, name, message, state_details, "
    "data) SELECT $10, $13, $13, claimed.id, $11, $13, $12, $15, CAST($16 AS JSONB), CAST($17 AS JSONB) FROM claimed";
const std::string update_bookkeeping_if_current_sql = std::string(set_bookkeeping) + " WHERE id = $1 AND updated = $10";

constexpr const char* select_history_sql =
    "SELECT id, id, type, name, timestamp, message, state_details, data FROM flow_run_state "
    "WHERE flow_run_id = $1 ORDER BY timestamp";

constexpr const char* insert_full_run_sql =
    "INSERT INTO flow_run (id, created, updated, name, flow_id, deployment_id, deployment_version, work_queue_id, "
    "work_queue_name, flow_version, parameters, idempotency_key, context, empirical_policy, tags, labels, "
    "parent_task_run_id, infrastructure_document_id, infrastructure_pid, created_by, job_variables, auto_scheduled, "
    "expected_start_time, next_scheduled_start_time) "
    "VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, "
    "$23) "
    "ON CONFLICT (flow_id, idempotency_key) DO NOTHING";

constexpr const char* select_run_columns =
    "SELECT r.id, r.created, r.updated, r.name, r.flow_id, r.deployment_id, r.deployment_version, r.work_queue_id, "
    "r.work_queue_name, r.flow_version, r.parameters, r.idempotency_key, r.context, r.empirical_policy, r.tags, "
    "r.labels, r.parent_task_run_id, r.run_count, r.expected_start_time, r.next_scheduled_start_time, r.start_time, "
    "r.end_time, r.total_run_time, r.auto_scheduled, r.infrastructure_document_id, r.infrastructure_pid, "
    "r.created_by, r.job_variables, s.id, s.type, s.name, s.timestamp, s.message, s.state_details, s.data, "
    "rq.name, rp.id, rp.name ";
/// What a run row is read with: its current state, its queue and that queue's pool.
constexpr const char* run_joins =
    "LEFT JOIN flow_run_state s ON s.id = r.state_id "
    "LEFT JOIN work_queue rq ON rq.id = r.work_queue_id LEFT JOIN work_pool rp ON rp.id = rq.work_pool_id ";

const std::string select_run_sql = std::string(select_run_columns) + "FROM flow_run r " + run_joins;
const std::string select_run_by_id_sql = select_run_sql + "WHERE r.id = $1";
const std::string select_run_by_key_sql = select_run_sql + "WHERE r.flow_id = $1 AND r.idempotency_key = $2";

constexpr std::size_t run_state_first_column = 28;
constexpr std::size_t run_queue_first_column = 35;  ///< the run's queue name, its pool's id and name

sql_value optional_id(const std::optional<uuid>& u) { return u ? id(*u) : null_value(); }
sql_value optional_text(const std::optional<std::string>& s) { return s ? text(*s) : null_value(); }
std::optional<uuid> optional_uuid(const sql_row& row, std::size_t i) {
  if (row.is_null(i)) return std::nullopt;
  return row.id(i);
}
std::optional<std::string> optional_string(const sql_row& row, std::size_t i) {
  if (row.is_null(i)) return std::nullopt;
  return row.text(i);
}
nlohmann::json json_column(const sql_row& row, std::size_t i, nlohmann::json fallback) {
  if (row.is_null(i)) return fallback;
  auto j = nlohmann::json::parse(row.text(i), nullptr, false);
  return j.is_discarded() ? fallback : j;
}

flow_run run_from_row(const sql_row& row) {
  flow_run r;
  r.id = flow_run_id{row.id(0)};
  r.created = row.time(1);
  r.updated = row.time(2);
  r.name = row.text(3);
  r.flow = flow_id{row.id(4)};
  r.deployment_id = optional_uuid(row, 5);
  r.deployment_version = optional_string(row, 6);
  r.work_queue_id = optional_uuid(row, 7);
  r.work_queue_name = optional_string(row, 8);
  r.flow_version = optional_string(row, 9);
  r.parameters = json_column(row, 10, nlohmann::json::object());
  r.idempotency_key = optional_string(row, 11);
  r.context = json_column(row, 12, nlohmann::json::object());
  r.empirical_policy = json_column(row, 13, nlohmann::json::object());
  for (const auto& t : json_column(row, 14, nlohmann::json::array()))
    if (t.is_string()) r.tags.push_back(t.get<std::string>());
  r.labels = json_column(row, 15, nlohmann::json::object());
  r.parent_task_run_id = optional_uuid(row, 16);
  r.run_count = row.integer(17);
  r.expected_start_time = row.optional_time(18);
  r.next_scheduled_start_time = row.optional_time(19);
  r.start_time = row.optional_time(20);
  r.end_time = row.optional_time(21);
  r.total_run_time = row.real(22);
  r.auto_scheduled = row.boolean(23);
  r.infrastructure_document_id = optional_uuid(row, 24);
  r.infrastructure_pid = optional_string(row, 25);
  r.created_by = json_column(row, 26, nullptr);
  r.job_variables = json_column(row, 27, nlohmann::json::object());
  if (!row.is_null(run_state_first_column)) r.state = state_from_columns(row, run_state_first_column);
  // FlowRunResponse names the run's queue and pool as they are now (a renamed queue shows its new name).
  if (!row.is_null(run_queue_first_column)) r.work_queue_name = row.text(run_queue_first_column);
  r.work_pool_id = optional_uuid(row, run_queue_first_column + 1);
  r.work_pool_name = optional_string(row, run_queue_first_column + 2);
  return r;
}

sql_value optional_ts(const std::optional<timestamp>& t) { return t ? ts(*t) : null_value(); }

/// $1 to $9 of the run's UPDATEs: the run, the time of the change, the bookkeeping columns and empirical_policy.
sql_params bookkeeping_params(const flow_run_id& run, const run_bookkeeping& counters, const nlohmann::json& policy,
                              timestamp now) {
  return {id(run),
          ts(now),
          integer(counters.run_count),
          optional_ts(counters.start_time),
          optional_ts(counters.end_time),
          sql_value(run_time_seconds(counters.total_run_time)),
          optional_ts(counters.expected_start_time),
          optional_ts(counters.next_scheduled_start_time),
          text(policy.dump())};
}

}  // namespace

flow_run_created create_flow_run(sql_connection& conn, const flow_run& run, const run_state& initial,
                                 const run_bookkeeping& counters) {
  const auto inserted =
      conn.execute(insert_full_run_sql, {id(run.id),
                                         ts(run.created),
                                         text(run.name),
                                         id(run.flow),
                                         optional_id(run.deployment_id),
                                         optional_text(run.deployment_version),
                                         optional_id(run.work_queue_id),
                                         optional_text(run.work_queue_name),
                                         optional_text(run.flow_version),
                                         text(run.parameters.dump()),
                                         optional_text(run.idempotency_key),
                                         text(run.context.dump()),
                                         text(run.empirical_policy.dump()),
                                         text(nlohmann::json(run.tags).dump()),
                                         text(run.labels.dump()),
                                         optional_id(run.parent_task_run_id),
                                         optional_id(run.infrastructure_document_id),
                                         optional_text(run.infrastructure_pid),
                                         run.created_by.is_null() ? null_value() : text(run.created_by.dump()),
                                         text(run.job_variables.dump()),
                                         boolean(run.auto_scheduled),
                                         optional_ts(run.expected_start_time),
                                         optional_ts(run.next_scheduled_start_time)});
  if (inserted == 0) {
    auto rows = conn.query(select_run_by_key_sql, {id(run.flow), optional_text(run.idempotency_key)});
    if (rows.empty()) throw sql_error(sql_error::kind::constraint, "flow run could not be created");
    return {run_from_row(rows.front()), false};
  }
  write_flow_transition(conn, run.id, initial, counters, run.empirical_policy, run.created);
  auto stored = find_flow_run(conn, run.id);
  if (!stored) throw sql_error(sql_error::kind::other, "flow run vanished after insert");
  return {std::move(*stored), true};
}

std::optional<flow_run> find_flow_run(sql_connection& conn, const flow_run_id& run) {
  auto rows = conn.query(select_run_by_id_sql, {id(run)});
  if (rows.empty()) return std::nullopt;
  return run_from_row(rows.front());
}

std::vector<flow_run> select_flow_runs(sql_connection& conn, const std::string& where, const sql_params& params,
                                       const std::string& order_by, std::int64_t limit, std::int64_t offset) {
  // The page's runs are chosen from flow_run alone, then joined to their state, queue and pool: joined first,
  // every matching run was joined before the sort kept a page of them (the flows page's last run of a flow: the
  // state row of each of its 10,000 runs read, 55 ms, against 18 ms).
  std::string page = "SELECT r.id FROM flow_run r ";
  if (!where.empty()) page += "WHERE " + where;
  page += " ORDER BY " + order_by + " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(offset);
  std::string sql = std::string(select_run_columns) + "FROM (" + page +
                    ") chosen JOIN flow_run r ON r.id = chosen.id " + run_joins + "ORDER BY " + order_by;
  std::vector<flow_run> out;
  for (const auto& row : conn.query(sql, params)) out.push_back(run_from_row(row));
  return out;
}

std::int64_t count_flow_runs(sql_connection& conn, const std::string& where, const sql_params& params) {
  // No join to the state table: filters read the run's own state columns, and the join (one probe of a
  // 3,000,000-row index per run) made a count of 1,000,000 runs take seconds.
  std::string sql = "SELECT count(*) FROM flow_run r";
  if (!where.empty()) sql += " WHERE " + where;
  return conn.query(sql, params).front().integer(0);
}

bool update_flow_run(sql_connection& conn, const flow_run_id& run, const nlohmann::json& changes, timestamp now) {
  // Column names come from this fixed list, never from the request.
  static const std::vector<std::pair<const char*, bool>> columns = {
      {"name", false}, {"flow_version", false},       {"parameters", true},   {"empirical_policy", true},
      {"tags", true},  {"infrastructure_pid", false}, {"job_variables", true}};
  std::string sql = "UPDATE flow_run SET updated = $2";
  sql_params params = {id(run), ts(now)};
  for (const auto& [column, is_json] : columns) {
    auto it = changes.find(column);
    if (it == changes.end()) continue;
    params.push_back(it->is_null() ? null_value()
                                   : text(is_json || !it->is_string() ? it->dump() : it->get<std::string>()));
    sql += std::string(", ") + column + " = $" + std::to_string(params.size());
  }
  sql += " WHERE id = $1";
  return conn.execute(sql, params) > 0;
}

bool merge_flow_run_labels(sql_connection& conn, const flow_run_id& run, const nlohmann::json& labels, timestamp now) {
  auto rows = conn.query("SELECT labels FROM flow_run WHERE id = $1", {id(run)});
  if (rows.empty()) return false;
  auto merged = json_column(rows.front(), 0, nlohmann::json::object());
  if (!merged.is_object()) merged = nlohmann::json::object();
  merged.update(labels);
  conn.execute("UPDATE flow_run SET labels = $2, updated = $3 WHERE id = $1", {id(run), text(merged.dump()), ts(now)});
  return true;
}

bool delete_flow_run(sql_connection& conn, const flow_run_id& run) {
  if (conn.execute("DELETE FROM flow_run WHERE id = $1", {id(run)}) == 0) return false;
  conn.execute("DELETE FROM log WHERE flow_run_id = $1", {id(run)});  // no foreign key: Prefect removes them too
  return true;
}

void insert_flow_run(sql_connection& conn, const new_flow_run& run) {
  conn.execute(insert_run_sql, {id(run.id), ts(run.created), text(run.name), id(run.flow)});
}

stored_run_state load_flow_run_state(sql_connection& conn, const flow_run_id& run) {
  auto rows = conn.query(select_current_state_sql, {id(run)});
  stored_run_state out;
  if (rows.empty()) return out;
  out.run_exists = true;
  if (!rows.front().is_null(1)) out.current = state_from_columns(rows.front(), 1);
  return out;
}

void write_flow_transition(sql_connection& conn, const flow_run_id& run, const std::optional<run_state>& written,
                           const run_bookkeeping& counters, const nlohmann::json& policy, timestamp now) {
  sql_params params = bookkeeping_params(run, counters, policy, now);
  if (!written) {
    conn.execute(update_run_bookkeeping_sql, params);
    return;
  }
  const auto& state = *written;
  conn.execute(insert_state_sql, {id(state.id), ts(state.at), id(run), text(to_string(state.type)), text(state.name),
                                  state.message ? text(*state.message) : null_value(), text(state.details.dump()),
                                  state.data.is_null() ? null_value() : text(state.data.dump())});
  params.insert(params.end(), {id(state.id), text(to_string(state.type)), text(state.name), ts(state.at)});
  conn.execute(update_run_state_and_bookkeeping_sql, params);
}

bool write_flow_transition_if_current(sql_connection& conn, const flow_run_id& run, timestamp decided_from,
                                      const std::optional<run_state>& written, const run_bookkeeping& counters,
                                      const nlohmann::json& policy, timestamp now) {
  if (conn.dialect() != dialect::postgresql) {
    write_flow_transition(conn, run, written, counters, policy, now);
    return true;
  }
  sql_params params = bookkeeping_params(run, counters, policy, now);
  if (!written) {
    params.push_back(ts(decided_from));
    return conn.execute(update_bookkeeping_if_current_sql, params) == 1;
  }
  const auto& state = *written;
  params.insert(params.end(),
                {id(state.id), text(to_string(state.type)), text(state.name), ts(state.at), ts(decided_from),
                 state.message ? text(*state.message) : null_value(), text(state.details.dump()),
                 state.data.is_null() ? null_value() : text(state.data.dump())});
  return conn.execute(write_transition_if_current_sql, params) == 1;
}

bool claim_flow_run_version(sql_connection& conn, const flow_run_id& run, timestamp decided_from) {
  if (conn.dialect() != dialect::postgresql) return true;
  // A no-op UPDATE: it takes the row lock (a concurrent writer waits for this transaction, then re-checks and
  // finds the version moved on) and says whether the row is still the version read.
  return conn.execute("UPDATE flow_run SET updated = updated WHERE id = $1 AND updated = $2",
                      {id(run), ts(decided_from)}) == 1;
}

std::vector<run_state> flow_run_state_history(sql_connection& conn, const flow_run_id& run) {
  std::vector<run_state> out;
  for (const auto& row : conn.query(select_history_sql, {id(run)})) out.push_back(state_from_columns(row, 1));
  return out;
}

std::optional<run_state> find_flow_run_state(sql_connection& conn, const uuid& state) {
  auto rows = conn.query(
      "SELECT id, type, name, timestamp, message, state_details, data FROM flow_run_state WHERE id = $1", {id(state)});
  if (rows.empty()) return std::nullopt;
  return state_from_columns(rows.front(), 0);
}

std::vector<overdue_run> find_overdue_runs(sql_connection& conn, timestamp due_before, std::int64_t limit) {
  std::vector<overdue_run> out;
  for (const auto& row : conn.query("SELECT id, next_scheduled_start_time FROM flow_run WHERE state_type = 'SCHEDULED' "
                                    "AND state_name = 'Scheduled' AND next_scheduled_start_time <= $1 "
                                    "ORDER BY next_scheduled_start_time LIMIT $2",
                                    {ts(due_before), integer(limit)}))
    out.push_back({flow_run_id{row.id(0)}, row.time(1)});
  return out;
}

std::vector<std::pair<state_id, flow_run_id>> states_without_events(sql_connection& conn, std::chrono::seconds margin,
                                                                    std::int64_t limit) {
  std::vector<std::pair<state_id, flow_run_id>> out;
  const auto newest = conn.query("SELECT max(received) FROM events");
  if (newest.empty() || newest.front().is_null(0)) return out;
  const auto since = newest.front().time(0) - margin;
  for (const auto& row : conn.query("SELECT s.id, s.flow_run_id FROM flow_run_state s WHERE s.updated >= $1 AND "
                                    "NOT EXISTS (SELECT 1 FROM events e WHERE e.id = s.id) "
                                    "ORDER BY s.updated, s.timestamp LIMIT $2",
                                    {ts(since), integer(limit)}))
    out.emplace_back(state_id{row.id(0)}, flow_run_id{row.id(1)});
  return out;
}

}  // namespace osprey::persistence

#include "persistence/flow_run_store.hpp"

namespace osprey::persistence {
namespace {

constexpr const char* insert_run_sql =
    "INSERT INTO flow_run (id, created, updated, name, flow_id) VALUES ($1, $2, $2, $3, $4)";

constexpr const char* select_current_state_sql =
    "SELECT r.id, s.id, s.type, s.name, s.timestamp, s.message, s.state_details, s.data "
    "FROM flow_run r LEFT JOIN flow_run_state s ON s.id = r.state_id WHERE r.id = $1";

constexpr const char* insert_state_sql =
    "INSERT INTO flow_run_state (id, created, updated, flow_run_id, type, timestamp, name, message, state_details, data) "
    "VALUES ($1, $2, $2, $3, $4, $2, $5, $6, $7, $8)";

// Prefect's bookkeeping: run_count counts entries into RUNNING; start_time is the first RUNNING;
// end_time is set on terminal states; total_run_time accumulates time spent RUNNING.
constexpr const char* update_run_sql =
    "UPDATE flow_run SET state_id = $2, state_type = $3, state_name = $4, state_timestamp = $5, updated = $5, "
    "run_count = run_count + $6, start_time = COALESCE(start_time, $7), end_time = $8, "
    "total_run_time = total_run_time + $9 WHERE id = $1";

constexpr const char* select_history_sql =
    "SELECT id, id, type, name, timestamp, message, state_details, data FROM flow_run_state "
    "WHERE flow_run_id = $1 ORDER BY timestamp";

run_state state_from_row(const sql_row& row) {
  run_state s;
  s.id = state_id{row.id(1)};
  s.type = parse_state_type(row.text(2)).value_or(state_type::pending);
  s.name = row.text(3);
  s.at = row.time(4);
  if (!row.is_null(5)) s.message = row.text(5);
  auto details = nlohmann::json::parse(row.is_null(6) ? "{}" : row.text(6), nullptr, false);
  s.details = details.is_object() ? details : nlohmann::json::object();
  if (!row.is_null(7)) s.data = nlohmann::json::parse(row.text(7), nullptr, false);
  if (s.data.is_discarded()) s.data = nullptr;
  return s;
}

sql_value optional_ts(const std::optional<timestamp>& t) { return t ? ts(*t) : null_value(); }

}  // namespace

void insert_flow_run(sql_connection& conn, const new_flow_run& run) {
  conn.execute(insert_run_sql, {id(run.id), ts(run.created), text(run.name), id(run.flow)});
}

stored_run_state load_flow_run_state(sql_connection& conn, const flow_run_id& run) {
  auto rows = conn.query(select_current_state_sql, {id(run)});
  stored_run_state out;
  if (rows.empty()) return out;
  out.run_exists = true;
  if (!rows.front().is_null(1)) out.current = state_from_row(rows.front());
  return out;
}

void record_flow_run_state(sql_connection& conn, const flow_run_id& run, const run_state& state,
                           const std::optional<run_state>& previous) {
  conn.execute(insert_state_sql,
               {id(state.id), ts(state.at), id(run), text(to_string(state.type)), text(state.name),
                state.message ? text(*state.message) : null_value(), text(state.details.dump()),
                state.data.is_null() ? null_value() : text(state.data.dump())});
  const bool entering_running = state.type == state_type::running;
  double ran_seconds = 0;
  if (previous && previous->type == state_type::running)
    ran_seconds = std::chrono::duration<double>(state.at - previous->at).count();
  conn.execute(update_run_sql,
               {id(run), id(state.id), text(to_string(state.type)), text(state.name), ts(state.at),
                integer(entering_running ? 1 : 0), entering_running ? ts(state.at) : null_value(),
                optional_ts(is_terminal(state.type) ? std::optional<timestamp>(state.at) : std::nullopt),
                sql_value(ran_seconds)});
}

std::vector<run_state> flow_run_state_history(sql_connection& conn, const flow_run_id& run) {
  std::vector<run_state> out;
  for (const auto& row : conn.query(select_history_sql, {id(run)})) out.push_back(state_from_row(row));
  return out;
}

}  // namespace osprey::persistence

#include "persistence/task_run_store.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "domain/json_string.hpp"
#include "domain/run_bookkeeping.hpp"
#include "persistence/state_columns.hpp"

namespace osprey::persistence {
namespace {

// Binds a normalised column value (see domain/task_run.hpp) with the right SQL type.
sql_value column_value(const task_run_column& col, const nlohmann::json& v) {
  if (v.is_null()) return null_value();
  switch (col.kind) {
    case task_run_column_kind::text:
    case task_run_column_kind::datetime: return text(v.get<std::string>());
    case task_run_column_kind::integer: return integer(v.get<std::int64_t>());
    case task_run_column_kind::real: return sql_value(v.get<double>());
    case task_run_column_kind::json: return text(v.dump());
  }
  return null_value();
}

/// A state row's values: (id, created, updated, task_run_id, type, timestamp, name, message, state_details, data).
void add_state_values(sql_params& out, const uuid& task_run, const run_state& s, timestamp now) {
  out.insert(out.end(), {id(s.id), ts(now), ts(now), id(task_run), text(to_string(s.type)), ts(s.at), text(s.name),
                         s.message ? text(*s.message) : null_value(), text(s.details.dump()),
                         s.data.is_null() ? null_value() : text(s.data.dump())});
}

constexpr std::size_t state_columns = 10;

const chunk_statements& state_statements() {
  static const chunk_statements texts(
      "INSERT INTO task_run_state (id, created, updated, task_run_id, type, timestamp, name, message, state_details, "
      "data) VALUES ",
      " ON CONFLICT DO NOTHING", state_columns, 64);
  return texts;
}

void insert_state(sql_connection& conn, const uuid& task_run, const run_state& s, timestamp now) {
  sql_params values;
  add_state_values(values, task_run, s, now);
  for (const auto& st : state_statements().chunked(std::move(values))) conn.execute(st.sql, st.params);
}

std::optional<uuid> id_by_natural_key(sql_connection& conn, const uuid& flow_run, const nlohmann::json& columns) {
  auto rows = conn.query("SELECT id FROM task_run WHERE flow_run_id = $1 AND task_key = $2 AND dynamic_key = $3",
                         {id(flow_run), text(columns.value("task_key", "")), text(columns.value("dynamic_key", ""))});
  if (rows.empty()) return std::nullopt;
  return rows.front().id(0);
}

/// The upsert's values for one run, in upsert_statements' column order (`created` and `updated` apart: a
/// multi-row statement cannot share one placeholder between rows); `present` gets its set of columns.
sql_params upsert_values(const uuid& run_id, const std::optional<uuid>& flow_run_id, const nlohmann::json& columns,
                         const run_state& state, timestamp now, std::uint32_t& present) {
  sql_params params = {id(run_id),       ts(now),
                       ts(now),          flow_run_id ? id(*flow_run_id) : null_value(),
                       id(state.id),     text(to_string(state.type)),
                       text(state.name), ts(state.at)};
  present = 0;
  const auto& settable = task_run_settable_columns();
  static_assert(sizeof(present) * 8 >= 17, "a bit per settable column");
  for (std::size_t i = 0; i < settable.size(); ++i) {
    auto it = columns.find(settable[i].name);
    if (it == columns.end()) continue;
    params.push_back(column_value(settable[i], *it));
    present |= 1u << i;
  }
  return params;
}

constexpr std::size_t upsert_fixed_values = 8;
constexpr std::size_t max_upsert_rows = 64;

/// INSERT ... ON CONFLICT (id) DO UPDATE ... WHERE the stored state is older, for one set of columns, one text per
/// chunk size; built once per set for the process (engines send few sets). The conflict target is the id because
/// the natural key was already resolved to the canonical id.
const chunk_statements& upsert_statements(std::uint32_t present) {
  static std::mutex guard;
  static std::unordered_map<std::uint32_t, std::unique_ptr<const chunk_statements>> texts;
  const std::lock_guard lock(guard);
  auto& slot = texts[present];
  if (!slot) {
    std::string names = "id, created, updated, flow_run_id, state_id, state_type, state_name, state_timestamp";
    std::string updates =
        "updated = excluded.updated, state_id = excluded.state_id, state_type = excluded.state_type, "
        "state_name = excluded.state_name, state_timestamp = excluded.state_timestamp";
    std::size_t count = upsert_fixed_values;
    const auto& columns = task_run_settable_columns();
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (!(present & (1u << i))) continue;
      const std::string name = columns[i].name;
      names += ", " + name;
      updates += ", " + name + " = excluded." + name;
      ++count;
    }
    slot = std::make_unique<const chunk_statements>(
        "INSERT INTO task_run (" + names + ") VALUES ",
        " ON CONFLICT (id) DO UPDATE SET " + updates +
            " WHERE task_run.state_timestamp IS NULL OR task_run.state_timestamp < excluded.state_timestamp",
        count, max_upsert_rows);
  }
  return *slot;
}

void upsert_row(sql_connection& conn, const uuid& run_id, const std::optional<uuid>& flow_run_id,
                const nlohmann::json& columns, const run_state& state, timestamp now) {
  std::uint32_t present = 0;
  auto values = upsert_values(run_id, flow_run_id, columns, state, now, present);
  for (const auto& st : upsert_statements(present).chunked(std::move(values))) conn.execute(st.sql, st.params);
}

/// "flow run id, task key, dynamic key" as one string, for matching a run to its stored row.
std::string natural_key(const uuid& flow_run_id, const std::string& task_key, const std::string& dynamic_key) {
  return flow_run_id.to_string() + '\n' + task_key + '\n' + dynamic_key;
}
std::string natural_key(const uuid& flow_run_id, const nlohmann::json& columns) {
  return natural_key(flow_run_id, columns.value("task_key", ""), columns.value("dynamic_key", ""));
}

using stored_id_map = std::unordered_map<std::string, uuid>;

void remember_stored_id(stored_id_map& out, const sql_row& row) {
  out.emplace(natural_key(row.id(1), row.text(2), row.text(3)), row.id(0));
}

// SQLite scans the table for a row-value IN (VALUES ...) but looks each key up in the unique index when joined:
// a join with a VALUES list, one statement per 64 runs.
stored_id_map stored_ids_sqlite(sql_connection& conn, const std::vector<task_run_event>& events,
                                const task_run_event_rows& rows) {
  static const chunk_statements texts(
      "SELECT t.id, t.flow_run_id, t.task_key, t.dynamic_key FROM (VALUES ",
      ") v JOIN task_run t ON t.flow_run_id = v.column1 AND t.task_key = v.column2 AND t.dynamic_key = v.column3", 3,
      64);
  sql_params keys;
  for (const auto& run : rows.runs) {
    const auto& e = events[run.applied.front()];
    if (!e.flow_run_id) continue;
    keys.insert(keys.end(),
                {id(*e.flow_run_id), text(e.columns.value("task_key", "")), text(e.columns.value("dynamic_key", ""))});
  }
  stored_id_map out;
  if (keys.empty()) return out;
  for (const auto& st : texts.chunked(std::move(keys)))
    for (const auto& row : conn.query(st.sql, st.params)) remember_stored_id(out, row);
  return out;
}

// PostgreSQL gets the keys as one JSON parameter joined to the unique index: one statement text for any number of
// keys, and an index probe per key even before the table has statistics (a row-value IN list was planned as a
// sequential scan of task_run on a new database, 10 ms per batch).
stored_id_map stored_ids_postgres(sql_connection& conn, const std::vector<task_run_event>& events,
                                  const task_run_event_rows& rows) {
  constexpr const char* sql =
      "SELECT t.id, t.flow_run_id, t.task_key, t.dynamic_key "
      "FROM jsonb_to_recordset(CAST($1 AS JSONB)) AS k(f UUID, tk TEXT, dk TEXT) "
      "JOIN task_run t ON t.flow_run_id = k.f AND t.task_key = k.tk AND t.dynamic_key = k.dk";
  std::string keys = "[";
  for (const auto& run : rows.runs) {
    const auto& e = events[run.applied.front()];
    if (!e.flow_run_id) continue;
    if (keys.size() > 1) keys.push_back(',');
    keys += "{\"f\":\"" + e.flow_run_id->to_string() + "\",\"tk\":";
    append_json_string(keys, e.columns.value("task_key", ""));
    keys += ",\"dk\":";
    append_json_string(keys, e.columns.value("dynamic_key", ""));
    keys.push_back('}');
  }
  stored_id_map out;
  if (keys.size() == 1) return out;
  keys.push_back(']');
  for (const auto& row : conn.query(sql, {text(std::move(keys))})) remember_stored_id(out, row);
  return out;
}

/// The ids the runs' natural keys are stored under (runs without a flow run have none).
stored_id_map stored_ids(sql_connection& conn, const std::vector<task_run_event>& events,
                         const task_run_event_rows& rows) {
  return conn.dialect() == dialect::postgresql ? stored_ids_postgres(conn, events, rows)
                                               : stored_ids_sqlite(conn, events, rows);
}

constexpr const char* select_columns_head =
    "SELECT t.id, t.created, t.updated, t.flow_run_id, s.id, s.type, s.name, s.timestamp, s.message, "
    "s.state_details, s.data";

std::string select_columns() {
  std::string sql = select_columns_head;
  for (const auto& col : task_run_settable_columns()) sql += std::string(", t.") + col.name;
  return sql + " FROM task_run t LEFT JOIN task_run_state s ON s.id = t.state_id ";
}

nlohmann::json parse_json_text(const sql_row& row, std::size_t i) {
  auto j = nlohmann::json::parse(row.text(i), nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

task_run task_run_from_row(const sql_row& row) {
  task_run t;
  t.id = task_run_id{row.id(0)};
  t.created = row.time(1);
  t.updated = row.time(2);
  if (!row.is_null(3)) t.flow_run_id = row.id(3);
  if (!row.is_null(4)) t.state = state_from_columns(row, 4);
  std::size_t i = 11;
  for (const auto& col : task_run_settable_columns()) {
    if (row.is_null(i)) {
      t.columns[col.name] = nullptr;
    } else {
      switch (col.kind) {
        case task_run_column_kind::text: t.columns[col.name] = row.text(i); break;
        case task_run_column_kind::datetime: t.columns[col.name] = format_iso8601(row.time(i)); break;
        case task_run_column_kind::integer: t.columns[col.name] = row.integer(i); break;
        case task_run_column_kind::real: t.columns[col.name] = row.real(i); break;
        case task_run_column_kind::json: t.columns[col.name] = parse_json_text(row, i); break;
      }
    }
    ++i;
  }
  return t;
}

}  // namespace

uuid record_task_run_event(sql_connection& conn, const task_run_event& event, timestamp now) {
  uuid canonical = event.task_run_id;
  if (event.flow_run_id)
    if (auto existing = id_by_natural_key(conn, *event.flow_run_id, event.columns)) canonical = *existing;
  upsert_row(conn, canonical, event.flow_run_id, event.columns, event.state, now);
  run_state state = event.state;
  if (!(canonical == event.task_run_id)) state.details["task_run_id"] = canonical.to_string();
  insert_state(conn, canonical, state, now);
  return canonical;
}

namespace {

/// A run's folded upsert values: the newest applied event's state, the columns of every applied event (later ones
/// winning), the flow run of its first event; `present` gets its set of columns.
sql_params run_upsert_values(const std::vector<task_run_event>& events, const task_run_event_rows::run& run,
                             timestamp now, std::uint32_t& present) {
  const auto& first = events[run.applied.front()];
  const auto& newest = events[run.applied.back()];
  if (run.applied.size() == 1)
    return upsert_values(newest.task_run_id, first.flow_run_id, newest.columns, newest.state, now, present);
  nlohmann::json columns = first.columns;
  for (std::size_t k = 1; k < run.applied.size(); ++k) columns.update(events[run.applied[k]].columns);
  return upsert_values(newest.task_run_id, first.flow_run_id, columns, newest.state, now, present);
}

/// The upserts of the runs `include(run index)` accepts, one multi-row statement per set of columns and chunk.
template <class Include>
std::vector<chunk_statements::statement> upsert_rows(const std::vector<task_run_event>& events,
                                                     const task_run_event_rows& rows, Include include) {
  std::vector<std::pair<std::uint32_t, sql_params>> by_columns;  // few sets: engines send the same fields
  for (std::size_t r = 0; r < rows.runs.size(); ++r) {
    if (!include(r)) continue;
    std::uint32_t present = 0;
    auto values = run_upsert_values(events, rows.runs[r], rows.now, present);
    auto set = std::find_if(by_columns.begin(), by_columns.end(), [&](const auto& s) { return s.first == present; });
    if (set == by_columns.end()) set = by_columns.insert(by_columns.end(), {present, {}});
    set->second.insert(set->second.end(), std::make_move_iterator(values.begin()),
                       std::make_move_iterator(values.end()));
  }
  std::vector<chunk_statements::statement> out;
  for (auto& [present, values] : by_columns)
    for (auto& st : upsert_statements(present).chunked(std::move(values))) out.push_back(std::move(st));
  return out;
}

}  // namespace

task_run_event_rows prepare_task_run_events(const std::vector<task_run_event>& events, timestamp now) {
  task_run_event_rows out;
  out.now = now;
  out.run_of.reserve(events.size());
  std::unordered_map<uuid, std::size_t> run_index;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto [it, first] = run_index.try_emplace(events[i].task_run_id, out.runs.size());
    auto& applied = first ? out.runs.emplace_back().applied : out.runs[it->second].applied;
    if (applied.empty() || events[applied.back()].state.at < events[i].state.at) applied.push_back(i);
    out.run_of.push_back(it->second);
  }
  out.upserts = upsert_rows(events, out, [](std::size_t) { return true; });
  sql_params states;
  states.reserve(events.size() * state_columns);
  for (const auto& e : events) add_state_values(states, e.task_run_id, e.state, now);
  out.states = state_statements().chunked(std::move(states));
  return out;
}

void record_prepared_task_run_events(sql_connection& conn, const std::vector<task_run_event>& events,
                                     const task_run_event_rows& rows) {
  // Which runs are stored under another id: found so by their natural key, or a run earlier in the batch holds
  // that key under its own id (its upsert goes first).
  const auto stored = stored_ids(conn, events, rows);
  std::unordered_map<std::string, uuid> claimed;
  std::vector<bool> elsewhere(rows.runs.size(), false);
  for (std::size_t r = 0; r < rows.runs.size(); ++r) {
    const auto& e = events[rows.runs[r].applied.front()];
    if (!e.flow_run_id) continue;
    auto key = natural_key(*e.flow_run_id, e.columns);
    if (auto it = stored.find(key); it != stored.end())
      elsewhere[r] = !(it->second == e.task_run_id);
    else if (auto [held, fresh] = claimed.try_emplace(std::move(key), e.task_run_id); !fresh)
      elsewhere[r] = !(held->second == e.task_run_id);
  }

  // The upserts, before any state row (a state needs its run); prepared unless a run is stored elsewhere.
  const bool any_elsewhere = std::find(elsewhere.begin(), elsewhere.end(), true) != elsewhere.end();
  if (!any_elsewhere) {
    for (const auto& st : rows.upserts) conn.execute(st.sql, st.params);
  } else {
    for (const auto& st : upsert_rows(events, rows, [&](std::size_t r) { return !elsewhere[r]; }))
      conn.execute(st.sql, st.params);
  }

  // State rows in event order; a run stored under another id breaks the batch so that its states keep their place
  // in that order (a state is unique per run and timestamp).
  if (!any_elsewhere) {
    for (const auto& st : rows.states) conn.execute(st.sql, st.params);
    return;
  }
  std::size_t unwritten_states = 0;  // events before this one have their state row written
  auto write_states = [&](std::size_t end) {
    sql_params states;
    for (std::size_t i = unwritten_states; i < end; ++i)
      add_state_values(states, events[i].task_run_id, events[i].state, rows.now);
    for (const auto& st : state_statements().chunked(std::move(states))) conn.execute(st.sql, st.params);
    unwritten_states = end;
  };
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!elsewhere[rows.run_of[i]]) continue;
    write_states(i);
    record_task_run_event(conn, events[i], rows.now);  // rare: the slow way
    unwritten_states = i + 1;
  }
  write_states(events.size());
}

task_run_created create_task_run(sql_connection& conn, const uuid& run_id, const std::optional<uuid>& flow_run_id,
                                 const nlohmann::json& columns, const run_state& initial, timestamp now) {
  if (flow_run_id)
    if (auto existing = id_by_natural_key(conn, *flow_run_id, columns)) {
      auto stored = find_task_run(conn, *existing);
      if (stored) return {std::move(*stored), false};
    }
  upsert_row(conn, run_id, flow_run_id, columns, initial, now);
  insert_state(conn, run_id, initial, now);
  auto stored = find_task_run(conn, run_id);
  if (!stored) throw sql_error(sql_error::kind::other, "task run vanished after insert");
  return {std::move(*stored), true};
}

std::optional<task_run> find_task_run(sql_connection& conn, const uuid& run_id) {
  auto rows = conn.query(select_columns() + "WHERE t.id = $1", {id(run_id)});
  if (rows.empty()) return std::nullopt;
  return task_run_from_row(rows.front());
}

void lock_task_run(sql_connection& conn, const uuid& run_id) {
  if (conn.dialect() == dialect::postgresql)
    conn.query("SELECT 1 FROM task_run WHERE id = $1 FOR UPDATE", {id(run_id)});
}

std::vector<task_run> select_task_runs(sql_connection& conn, const std::string& where, const sql_params& params,
                                       const std::string& order_by, std::int64_t limit, std::int64_t offset) {
  std::string sql = select_columns();
  if (!where.empty()) sql += "WHERE " + where;
  sql += " ORDER BY " + order_by + " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(offset);
  std::vector<task_run> out;
  for (const auto& row : conn.query(sql, params)) out.push_back(task_run_from_row(row));
  return out;
}

std::int64_t count_task_runs(sql_connection& conn, const std::string& where, const sql_params& params,
                             const std::string& joins) {
  // No join to the state table (see count_flow_runs): 5,000,000 probes of the state index otherwise.
  std::string sql = "SELECT count(*) FROM task_run t";
  if (!joins.empty()) sql += " " + joins;
  if (!where.empty()) sql += " WHERE " + where;
  return conn.query(sql, params).front().integer(0);
}

void write_task_transition(sql_connection& conn, const uuid& task_run, const std::optional<run_state>& written,
                           const run_bookkeeping& counters, int flow_run_run_count, timestamp now) {
  if (written) {
    insert_state(conn, task_run, *written, now);
    conn.execute(
        "UPDATE task_run SET state_id = $2, state_type = $3, state_name = $4, state_timestamp = $5 WHERE id = $1",
        {id(task_run), id(written->id), text(to_string(written->type)), text(written->name), ts(written->at)});
  }
  auto opt = [](const std::optional<timestamp>& t) { return t ? ts(*t) : null_value(); };
  conn.execute(
      "UPDATE task_run SET updated = $2, run_count = $3, start_time = $4, end_time = $5, total_run_time = $6, "
      "expected_start_time = $7, next_scheduled_start_time = $8, flow_run_run_count = $9 WHERE id = $1",
      {id(task_run), ts(now), integer(counters.run_count), opt(counters.start_time), opt(counters.end_time),
       sql_value(run_time_seconds(counters.total_run_time)), opt(counters.expected_start_time),
       opt(counters.next_scheduled_start_time), integer(flow_run_run_count)});
}

std::optional<run_state> find_cached_task_state(sql_connection& conn, const std::string& cache_key, timestamp now) {
  auto rows = conn.query(
      "SELECT s.id, s.type, s.name, s.timestamp, s.message, s.state_details, s.data FROM task_run_state_cache c "
      "JOIN task_run_state s ON s.id = c.task_run_state_id "
      "WHERE c.cache_key = $1 AND (c.cache_expiration IS NULL OR c.cache_expiration > $2) ORDER BY c.created DESC "
      "LIMIT 1",
      {text(cache_key), ts(now)});
  if (rows.empty()) return std::nullopt;
  return state_from_columns(rows.front(), 0);
}

void insert_task_cache_entry(sql_connection& conn, const std::string& cache_key,
                             const std::optional<timestamp>& expiration, const state_id& state, timestamp now) {
  conn.execute(
      "INSERT INTO task_run_state_cache (id, created, updated, cache_key, cache_expiration, task_run_state_id) "
      "VALUES ($1, $2, $2, $3, $4, $5)",
      {id(new_uuid4()), ts(now), text(cache_key), expiration ? ts(*expiration) : null_value(), id(state)});
}

std::vector<run_state> task_run_state_history(sql_connection& conn, const uuid& task_run_id) {
  std::vector<run_state> out;
  for (const auto& row :
       conn.query("SELECT id, type, name, timestamp, message, state_details, data FROM task_run_state "
                  "WHERE task_run_id = $1 ORDER BY timestamp",
                  {id(task_run_id)}))
    out.push_back(state_from_columns(row, 0));
  return out;
}

bool rename_task_run(sql_connection& conn, const uuid& task_run, const std::string& name, timestamp now) {
  return conn.execute("UPDATE task_run SET name = $2, updated = $3 WHERE id = $1",
                      {id(task_run), text(name), ts(now)}) > 0;
}

bool delete_task_run(sql_connection& conn, const uuid& task_run) {
  if (conn.execute("DELETE FROM task_run WHERE id = $1", {id(task_run)}) == 0) return false;
  conn.execute("DELETE FROM log WHERE task_run_id = $1", {id(task_run)});  // no foreign key: Prefect removes them too
  return true;
}

std::optional<run_state> find_task_run_state(sql_connection& conn, const uuid& state) {
  auto rows = conn.query(
      "SELECT id, type, name, timestamp, message, state_details, data FROM task_run_state WHERE id = $1", {id(state)});
  if (rows.empty()) return std::nullopt;
  return state_from_columns(rows.front(), 0);
}

}  // namespace osprey::persistence

// Work queues, polls and the scheduled runs a worker gets (declared in work_pool_store.hpp).
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "persistence/flow_run_store.hpp"
#include "persistence/work_pool_store.hpp"

namespace osprey::persistence {
namespace {

constexpr const char* queue_columns =
    "wq.id, wq.created, wq.updated, wq.name, wq.description, wq.is_paused, wq.concurrency_limit, wq.priority, "
    "wq.last_polled, wq.status, wq.work_pool_id, wp.name, wq.filter";
constexpr const char* queue_from_clause = " FROM work_queue wq JOIN work_pool wp ON wp.id = wq.work_pool_id";

work_queue queue_from(const sql_row& row) {
  work_queue q;
  q.id = work_queue_id{row.id(0)};
  q.created = row.time(1);
  q.updated = row.time(2);
  q.name = row.text(3);
  q.description = row.text(4);
  q.is_paused = row.boolean(5);
  if (!row.is_null(6)) q.concurrency_limit = row.integer(6);
  q.priority = row.integer(7);
  q.last_polled = row.optional_time(8);
  q.status = parse_pool_status(row.text(9)).value_or(pool_status::not_ready);
  q.pool = work_pool_id{row.id(10)};
  q.pool_name = row.text(11);
  if (!row.is_null(12)) {
    auto f = nlohmann::json::parse(row.text(12), nullptr, false);
    if (!f.is_discarded()) q.filter = f;
  }
  return q;
}

std::vector<work_queue> queues_from(const std::vector<sql_row>& rows) {
  std::vector<work_queue> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(queue_from(r));
  return out;
}

std::string select_queues_sql() { return std::string("SELECT ") + queue_columns + queue_from_clause; }

std::string window(std::int64_t limit, std::int64_t offset) {
  if (limit < 0) return offset > 0 ? " LIMIT 9223372036854775807 OFFSET " + std::to_string(offset) : "";
  return " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(offset);
}

std::string ids_json(const std::vector<work_queue>& queues) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& q : queues) out.push_back(q.id.to_string());
  return out.dump();
}

std::string ids_in(dialect d, const char* param) {
  return d == dialect::postgresql ? std::string("SELECT (jsonb_array_elements_text(") + param + "::jsonb))::uuid"
                                  : std::string("SELECT value FROM json_each(") + param + ")";
}

}  // namespace

void insert_queue(sql_connection& conn, const work_queue& q) {
  conn.execute(
      "INSERT INTO work_queue (id, created, updated, name, filter, description, is_paused, concurrency_limit, "
      "priority, last_polled, status, work_pool_id) VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
      {id(q.id), ts(q.created), text(q.name), q.filter.is_null() ? null_value() : text(q.filter.dump()),
       text(q.description), boolean(q.is_paused), q.concurrency_limit ? integer(*q.concurrency_limit) : null_value(),
       integer(q.priority), q.last_polled ? ts(*q.last_polled) : null_value(), text(to_string(q.status)), id(q.pool)});
}

void create_queue(sql_connection& conn, work_queue& queue, std::optional<std::int64_t> priority) {
  if (priority) {
    queue.priority = *priority;
  } else {
    std::vector<std::int64_t> taken;
    for (const auto& row : conn.query("SELECT priority FROM work_queue WHERE work_pool_id = $1", {id(queue.pool)}))
      taken.push_back(row.integer(0));
    queue.priority = first_free_priority(std::move(taken));
  }
  insert_queue(conn, queue);
  if (priority) apply_priority(conn, queue.pool, queue.id, *priority);
}

std::optional<work_queue> find_queue(sql_connection& conn, const work_queue_id& queue) {
  auto rows = conn.query(select_queues_sql() + " WHERE wq.id = $1", {id(queue)});
  if (rows.empty()) return std::nullopt;
  return queue_from(rows.front());
}

std::optional<work_queue> find_queue_by_name(sql_connection& conn, const std::string& pool_name,
                                             const std::string& queue_name) {
  auto rows =
      conn.query(select_queues_sql() + " WHERE wp.name = $1 AND wq.name = $2", {text(pool_name), text(queue_name)});
  if (rows.empty()) return std::nullopt;
  return queue_from(rows.front());
}

std::optional<work_queue> find_legacy_queue_by_name(sql_connection& conn, const std::string& name) {
  const bool agent_pool =
      !conn.query("SELECT 1 FROM work_pool WHERE name = $1", {text(default_agent_pool_name)}).empty();
  auto rows = agent_pool ? conn.query(select_queues_sql() + " WHERE wp.name = $1 AND wq.name = $2",
                                      {text(default_agent_pool_name), text(name)})
                         : conn.query(select_queues_sql() + " WHERE wq.name = $1 ORDER BY wq.created, wq.id LIMIT 1",
                                      {text(name)});
  if (rows.empty()) return std::nullopt;
  return queue_from(rows.front());
}

std::vector<work_queue> select_pool_queues(sql_connection& conn, const work_pool_id& pool, const sql_where& where,
                                           std::int64_t limit, std::int64_t offset) {
  auto params = where.params;
  const auto pool_param = "$" + std::to_string(params.size() + 1);
  params.push_back(id(pool));
  std::string sql = select_queues_sql() + " WHERE wq.work_pool_id = " + pool_param;
  if (!where.sql.empty()) sql += " AND " + where.sql;
  return queues_from(conn.query(sql + " ORDER BY wq.priority, wq.id" + window(limit, offset), params));
}

std::vector<work_queue> select_queues(sql_connection& conn, const sql_where& where, std::int64_t limit,
                                      std::int64_t offset) {
  std::string sql = select_queues_sql();
  if (!where.sql.empty()) sql += " WHERE " + where.sql;
  return queues_from(conn.query(sql + " ORDER BY wq.name, wq.id" + window(limit, offset), where.params));
}

void update_queue(sql_connection& conn, const work_queue& q) {
  conn.execute(
      "UPDATE work_queue SET updated = $2, name = $3, description = $4, is_paused = $5, concurrency_limit = $6, "
      "priority = $7, last_polled = $8, status = $9, filter = $10 WHERE id = $1",
      {id(q.id), ts(q.updated), text(q.name), text(q.description), boolean(q.is_paused),
       q.concurrency_limit ? integer(*q.concurrency_limit) : null_value(), integer(q.priority),
       q.last_polled ? ts(*q.last_polled) : null_value(), text(to_string(q.status)),
       q.filter.is_null() ? null_value() : text(q.filter.dump())});
}

void apply_priority(sql_connection& conn, const work_pool_id& pool, std::optional<work_queue_id> moved,
                    std::int64_t priority) {
  std::map<work_queue_id, std::int64_t> current;
  for (const auto& row : conn.query("SELECT id, priority FROM work_queue WHERE work_pool_id = $1", {id(pool)}))
    current[work_queue_id{row.id(0)}] = row.integer(1);
  for (const auto& [queue, p] : reprioritized(current, moved, priority))
    conn.execute("UPDATE work_queue SET priority = $2 WHERE id = $1", {id(queue), integer(p)});
}

void delete_queue(sql_connection& conn, const work_queue_id& queue) {
  conn.execute("DELETE FROM work_queue WHERE id = $1", {id(queue)});
}

std::int64_t queue_active_slots(sql_connection& conn, const work_queue_id& queue, bool cancelling) {
  return conn
      .query(std::string("SELECT COUNT(*) FROM flow_run WHERE work_queue_id = $1 AND state_type IN ('PENDING', "
                         "'RUNNING'") +
                 (cancelling ? ", 'CANCELLING')" : ")"),
             {id(queue)})
      .at(0)
      .integer(0);
}

std::int64_t late_runs(sql_connection& conn, const work_queue_id& queue) {
  return conn.query("SELECT COUNT(*) FROM flow_run WHERE work_queue_id = $1 AND state_name = 'Late'", {id(queue)})
      .at(0)
      .integer(0);
}

std::vector<polled_run> scheduled_runs(sql_connection& conn, const work_pool& pool, const poll_request& request) {
  if (pool.is_paused || request.limit <= 0) return {};
  auto queues = select_pool_queues(conn, pool.id, {});
  std::erase_if(queues, [&](const work_queue& q) {
    return q.is_paused ||
           (request.queues && std::find(request.queues->begin(), request.queues->end(), q.id) == request.queues->end());
  });
  if (queues.empty()) return {};
  // Slots held per queue (Pending and Running runs), for the queue limits and the pool's.
  std::map<work_queue_id, std::int64_t> held;
  std::int64_t pool_held = 0;
  for (const auto& row :
       conn.query("SELECT r.work_queue_id, COUNT(*) FROM flow_run r JOIN work_queue wq ON wq.id = r.work_queue_id "
                  "WHERE wq.work_pool_id = $1 AND wq.is_paused = $2 AND r.state_type IN ('PENDING', 'RUNNING') "
                  "GROUP BY r.work_queue_id",
                  {id(pool.id), boolean(false)})) {
    held[work_queue_id{row.id(0)}] = row.integer(1);
    pool_held += row.integer(1);
  }
  std::int64_t room = request.limit;
  if (pool.concurrency_limit) room = std::min(room, std::max<std::int64_t>(0, *pool.concurrency_limit - pool_held));
  const bool pg = conn.dialect() == dialect::postgresql;
  std::string where = std::string("r.work_queue_id = $1 AND r.state_type = 'SCHEDULED' AND COALESCE(") +
                      (pg ? "r.empirical_policy->>'retry_type'" : "json_extract(r.empirical_policy, '$.retry_type')") +
                      ", '') <> 'in_process'";
  sql_params base;
  if (request.scheduled_after) {
    where += " AND r.next_scheduled_start_time >= $" + std::to_string(base.size() + 2);
    base.push_back(ts(*request.scheduled_after));
  }
  if (request.scheduled_before) {
    where += " AND r.next_scheduled_start_time <= $" + std::to_string(base.size() + 2);
    base.push_back(ts(*request.scheduled_before));
  }
  // Queues in priority order, each run in scheduled order; the first `room` of that order are the answer
  // (Prefect orders by queue priority, then scheduled time).
  std::vector<polled_run> out;
  for (const auto& q : queues) {
    if (static_cast<std::int64_t>(out.size()) >= room) break;
    std::int64_t take = room - static_cast<std::int64_t>(out.size());
    if (q.concurrency_limit) take = std::min(take, std::max<std::int64_t>(0, *q.concurrency_limit - held[q.id]));
    if (take <= 0) continue;
    sql_params params{id(q.id)};
    params.insert(params.end(), base.begin(), base.end());
    for (auto& run : select_flow_runs(conn, where, params, "r.next_scheduled_start_time ASC, r.id ASC", take, 0))
      out.push_back({q.id, std::move(run)});
  }
  return out;
}

void record_poll(sql_connection& conn, const std::vector<work_queue>& queues, timestamp now) {
  if (queues.empty()) return;
  const auto d = conn.dialect();
  const auto ids = text(ids_json(queues));
  conn.execute(
      "UPDATE work_queue SET last_polled = $2, status = CASE WHEN status = 'NOT_READY' THEN 'READY' ELSE "
      "status END WHERE id IN (" +
          ids_in(d, "$1") + ")",
      {ids, ts(now)});
  conn.execute(
      "UPDATE deployment SET last_polled = $2, status = 'READY' WHERE work_queue_id IN (" + ids_in(d, "$1") + ")",
      {ids, ts(now)});
}

}  // namespace osprey::persistence

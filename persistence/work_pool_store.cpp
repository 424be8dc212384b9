// Pools, workers and the foreman's pass (see the header). Queues and polling: work_queue_store.cpp.
#include "persistence/work_pool_store.hpp"

#include <nlohmann/json.hpp>

namespace osprey::persistence {
namespace {

constexpr const char* pool_columns =
    "wp.id, wp.created, wp.updated, wp.name, wp.description, wp.type, wp.base_job_template, wp.is_paused, "
    "wp.default_queue_id, wp.concurrency_limit, wp.status, wp.last_transitioned_status_at, "
    "wp.storage_configuration";

constexpr const char* worker_columns =
    "w.id, w.created, w.updated, w.work_pool_id, w.name, w.last_heartbeat_time, w.heartbeat_interval_seconds, "
    "w.status";

nlohmann::json json_or(const sql_row& row, std::size_t i, nlohmann::json fallback) {
  if (row.is_null(i)) return fallback;
  auto j = nlohmann::json::parse(row.text(i), nullptr, false);
  return j.is_discarded() ? fallback : j;
}

work_pool pool_from(const sql_row& row) {
  work_pool p;
  p.id = work_pool_id{row.id(0)};
  p.created = row.time(1);
  p.updated = row.time(2);
  p.name = row.text(3);
  if (!row.is_null(4)) p.description = row.text(4);
  p.type = row.text(5);
  p.base_job_template = json_or(row, 6, nlohmann::json::object());
  p.is_paused = row.boolean(7);
  if (!row.is_null(8)) p.default_queue = work_queue_id{row.id(8)};
  if (!row.is_null(9)) p.concurrency_limit = row.integer(9);
  p.status = parse_pool_status(row.text(10)).value_or(pool_status::not_ready);
  p.last_transitioned_status_at = row.optional_time(11);
  p.storage_configuration = json_or(row, 12, nlohmann::json::object());
  return p;
}

worker worker_from(const sql_row& row) {
  worker w;
  w.id = row.id(0);
  w.created = row.time(1);
  w.updated = row.time(2);
  w.pool = work_pool_id{row.id(3)};
  w.name = row.text(4);
  w.last_heartbeat_time = row.time(5);
  if (!row.is_null(6)) w.heartbeat_interval_seconds = row.integer(6);
  w.status = parse_worker_status(row.text(7)).value_or(worker_status::offline);
  return w;
}

std::vector<work_pool> pools_from(const std::vector<sql_row>& rows) {
  std::vector<work_pool> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(pool_from(r));
  return out;
}

sql_value optional_integer(const std::optional<std::int64_t>& v) { return v ? integer(*v) : null_value(); }

/// "$n" for the parameter after `params`.
std::string next_param(const sql_params& params) { return "$" + std::to_string(params.size() + 1); }

std::string where_clause(const sql_where& where, const std::string& prefix = " WHERE ") {
  return where.sql.empty() ? "" : prefix + where.sql;
}

std::string window(std::int64_t limit, std::int64_t offset) {
  return " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(offset);
}

std::string id_list(const std::vector<uuid>& ids) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& i : ids) out.push_back(i.to_string());
  return out.dump();
}

std::string ids_in(dialect d, const char* param) {
  return d == dialect::postgresql ? std::string("SELECT (jsonb_array_elements_text(") + param + "::jsonb))::uuid"
                                  : std::string("SELECT value FROM json_each(") + param + ")";
}

}  // namespace

void create_pool(sql_connection& conn, work_pool& pool) {
  conn.execute(
      "INSERT INTO work_pool (id, created, updated, name, description, type, base_job_template, is_paused, "
      "concurrency_limit, status, last_transitioned_status_at, storage_configuration) "
      "VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
      {id(pool.id), ts(pool.created), text(pool.name), pool.description ? text(*pool.description) : null_value(),
       text(pool.type), text(pool.base_job_template.dump()), boolean(pool.is_paused),
       optional_integer(pool.concurrency_limit), text(to_string(pool.status)),
       pool.last_transitioned_status_at ? ts(*pool.last_transitioned_status_at) : null_value(),
       text(pool.storage_configuration.dump())});
  work_queue q;
  q.id = work_queue_id{new_uuid4()};
  q.created = q.updated = pool.created;
  q.name = default_queue_name;
  q.description = "The work pool's default queue.";
  q.priority = 1;
  q.pool = pool.id;
  insert_queue(conn, q);
  conn.execute("UPDATE work_pool SET default_queue_id = $2 WHERE id = $1", {id(pool.id), id(q.id)});
  pool.default_queue = q.id;
}

std::optional<work_pool> find_pool(sql_connection& conn, const work_pool_id& pool) {
  auto rows = conn.query(std::string("SELECT ") + pool_columns + " FROM work_pool wp WHERE wp.id = $1", {id(pool)});
  if (rows.empty()) return std::nullopt;
  return pool_from(rows.front());
}

std::optional<work_pool> find_pool_by_name(sql_connection& conn, const std::string& name) {
  auto rows = conn.query(std::string("SELECT ") + pool_columns + " FROM work_pool wp WHERE wp.name = $1", {text(name)});
  if (rows.empty()) return std::nullopt;
  return pool_from(rows.front());
}

std::vector<work_pool> select_pools(sql_connection& conn, const sql_where& where, std::int64_t limit,
                                    std::int64_t offset) {
  return pools_from(conn.query(std::string("SELECT ") + pool_columns + " FROM work_pool wp" + where_clause(where) +
                                   " ORDER BY wp.name" + window(limit, offset),
                               where.params));
}

std::int64_t count_pools(sql_connection& conn, const sql_where& where) {
  return conn.query("SELECT COUNT(*) FROM work_pool wp" + where_clause(where), where.params).at(0).integer(0);
}

void update_pool(sql_connection& conn, const work_pool& pool) {
  conn.execute(
      "UPDATE work_pool SET updated = $2, description = $3, base_job_template = $4, is_paused = $5, "
      "concurrency_limit = $6, status = $7, last_transitioned_status_at = $8, storage_configuration = $9 "
      "WHERE id = $1",
      {id(pool.id), ts(pool.updated), pool.description ? text(*pool.description) : null_value(),
       text(pool.base_job_template.dump()), boolean(pool.is_paused), optional_integer(pool.concurrency_limit),
       text(to_string(pool.status)),
       pool.last_transitioned_status_at ? ts(*pool.last_transitioned_status_at) : null_value(),
       text(pool.storage_configuration.dump())});
}

void delete_pool(sql_connection& conn, const work_pool_id& pool) {
  // The default queue's RESTRICT reference would stop the cascade that removes the pool's queues.
  conn.execute("UPDATE work_pool SET default_queue_id = NULL WHERE id = $1", {id(pool)});
  conn.execute("DELETE FROM work_pool WHERE id = $1", {id(pool)});
}

std::int64_t pool_active_slots(sql_connection& conn, const work_pool_id& pool) {
  return conn
      .query(
          "SELECT COUNT(*) FROM flow_run r JOIN work_queue wq ON wq.id = r.work_queue_id "
          "WHERE wq.work_pool_id = $1 AND r.state_type IN ('PENDING', 'RUNNING')",
          {id(pool)})
      .at(0)
      .integer(0);
}

void record_heartbeat(sql_connection& conn, const work_pool_id& pool, const std::string& name,
                      std::optional<std::int64_t> interval_seconds, timestamp now) {
  // One statement for both dialects: the interval is kept when the heartbeat does not say it.
  conn.execute(
      "INSERT INTO worker (id, created, updated, work_pool_id, name, last_heartbeat_time, heartbeat_interval_seconds, "
      "status) VALUES ($1, $2, $2, $3, $4, $2, $5, 'ONLINE') "
      "ON CONFLICT (work_pool_id, name) DO UPDATE SET last_heartbeat_time = excluded.last_heartbeat_time, "
      "updated = excluded.updated, status = 'ONLINE', "
      "heartbeat_interval_seconds = COALESCE(excluded.heartbeat_interval_seconds, worker.heartbeat_interval_seconds)",
      {id(new_uuid4()), ts(now), id(pool), text(name), optional_integer(interval_seconds)});
}

void record_worker_heartbeat(sql_connection& conn, work_pool& pool, const std::string& name,
                             std::optional<std::int64_t> interval_seconds, timestamp now) {
  record_heartbeat(conn, pool.id, name, interval_seconds, now);
  if (apply_heartbeat(pool, now)) update_pool(conn, pool);
}

std::vector<worker> select_workers(sql_connection& conn, const work_pool_id& pool, const sql_where& where,
                                   std::int64_t limit, std::int64_t offset) {
  auto params = where.params;
  const auto pool_param = next_param(params);
  params.push_back(id(pool));
  std::vector<worker> out;
  for (const auto& row : conn.query(
           std::string("SELECT ") + worker_columns + " FROM worker w WHERE w.work_pool_id = " + pool_param +
               where_clause(where, " AND ") + " ORDER BY w.last_heartbeat_time DESC, w.id" + window(limit, offset),
           params))
    out.push_back(worker_from(row));
  return out;
}

bool any_worker_online(sql_connection& conn, const work_pool_id& pool) {
  return !conn.query("SELECT 1 FROM worker WHERE work_pool_id = $1 AND status = 'ONLINE' LIMIT 1", {id(pool)}).empty();
}

bool delete_worker(sql_connection& conn, const work_pool_id& pool, const std::string& name) {
  return conn.execute("DELETE FROM worker WHERE work_pool_id = $1 AND name = $2", {id(pool), text(name)}) > 0;
}

namespace {

struct stale_set {
  std::vector<uuid> workers, pools, queues, deployments;
};

/// What is stale at `now`. Pools are judged as they will be once the stale workers are OFFLINE.
stale_set stale_at(sql_connection& conn, timestamp now, const foreman_limits& limits) {
  stale_set out;
  std::vector<uuid> online_kept;
  for (const auto& row :
       conn.query(std::string("SELECT ") + worker_columns + " FROM worker w WHERE w.status = 'ONLINE'")) {
    auto w = worker_from(row);
    if (worker_is_stale(w, now, limits.inactivity_heartbeat_multiple, limits.fallback_heartbeat_interval_seconds))
      out.workers.push_back(w.id);
  }
  const auto d = conn.dialect();
  for (const auto& row :
       conn.query("SELECT wp.id FROM work_pool wp WHERE wp.status = 'READY' AND NOT EXISTS (SELECT 1 FROM worker w "
                  "WHERE w.work_pool_id = wp.id AND w.status = 'ONLINE' AND w.id NOT IN (" +
                      ids_in(d, "$1") + "))",
                  {text(id_list(out.workers))}))
    out.pools.push_back(row.id(0));
  for (const auto& row : conn.query("SELECT id FROM work_queue WHERE status = 'READY' AND last_polled IS NOT NULL AND "
                                    "last_polled < $1",
                                    {ts(now - limits.work_queue_last_polled_timeout)}))
    out.queues.push_back(row.id(0));
  // A deployment stays READY while its queue was polled recently (Prefect's foreman looks at both).
  for (const auto& row : conn.query(
           "SELECT d.id FROM deployment d LEFT JOIN work_queue wq ON wq.id = d.work_queue_id WHERE d.status = 'READY' "
           "AND d.last_polled IS NOT NULL AND d.last_polled < $1 AND (wq.last_polled IS NULL OR wq.last_polled < $1)",
           {ts(now - limits.deployment_last_polled_timeout)}))
    out.deployments.push_back(row.id(0));
  return out;
}

foreman_outcome outcome_of(const stale_set& s) {
  return {s.workers.size(), s.pools.size(), s.queues.size(), s.deployments.size()};
}

}  // namespace

foreman_outcome find_stale(sql_connection& conn, timestamp now, const foreman_limits& limits) {
  return outcome_of(stale_at(conn, now, limits));
}

foreman_outcome mark_stale(sql_connection& conn, timestamp now, const foreman_limits& limits) {
  const auto stale = stale_at(conn, now, limits);
  const auto d = conn.dialect();
  if (!stale.workers.empty())
    conn.execute("UPDATE worker SET status = 'OFFLINE', updated = $2 WHERE id IN (" + ids_in(d, "$1") + ")",
                 {text(id_list(stale.workers)), ts(now)});
  if (!stale.pools.empty())
    conn.execute(
        "UPDATE work_pool SET status = 'NOT_READY', last_transitioned_status_at = $2, updated = $2, "
        "last_status_event_id = NULL WHERE status = 'READY' AND id IN (" +
            ids_in(d, "$1") + ")",
        {text(id_list(stale.pools)), ts(now)});
  if (!stale.queues.empty())
    conn.execute("UPDATE work_queue SET status = 'NOT_READY', updated = $2 WHERE id IN (" + ids_in(d, "$1") + ")",
                 {text(id_list(stale.queues)), ts(now)});
  if (!stale.deployments.empty())
    conn.execute("UPDATE deployment SET status = 'NOT_READY', updated = $2 WHERE id IN (" + ids_in(d, "$1") + ")",
                 {text(id_list(stale.deployments)), ts(now)});
  return outcome_of(stale);
}

}  // namespace osprey::persistence

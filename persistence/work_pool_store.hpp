#pragma once
// Named queries on work pools, their queues and workers (tables work_pool, work_queue, worker), and the query
// workers poll: the scheduled runs of a pool's queues under the pool's and queues' concurrency limits. Every
// function runs inside the caller's transaction on the caller's connection (a database job); none commits.
// Failures are sql_error (a taken name: kind constraint).
//
// A pool's default queue and the pool reference each other (work_pool.default_queue_id, work_queue.work_pool_id):
// create_pool writes both, delete_pool clears the reference before the row goes (its queues and workers go by
// cascade; runs and deployments keep their rows with work_queue_id NULL).

#include <optional>
#include <string>
#include <vector>

#include "domain/flow_run.hpp"
#include "domain/work_pool.hpp"
#include "persistence/filter_sql.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

// ---- pools ----

/// Inserts `pool` (id, timestamps and status set by the caller) and its queue "default" (priority 1), and sets
/// `pool.default_queue`. Throws kind constraint when the name is taken.
void create_pool(sql_connection& conn, work_pool& pool);
std::optional<work_pool> find_pool(sql_connection& conn, const work_pool_id& id);
std::optional<work_pool> find_pool_by_name(sql_connection& conn, const std::string& name);
/// Pools (alias `wp`) matching `where`, by name.
std::vector<work_pool> select_pools(sql_connection& conn, const sql_where& where, std::int64_t limit,
                                    std::int64_t offset);
std::int64_t count_pools(sql_connection& conn, const sql_where& where);
/// Stores every mutable column of `pool` (same id).
void update_pool(sql_connection& conn, const work_pool& pool);
void delete_pool(sql_connection& conn, const work_pool_id& id);
/// Runs Pending or Running in the pool's queues (WorkPoolResponse.active_slots).
std::int64_t pool_active_slots(sql_connection& conn, const work_pool_id& id);

// ---- queues ----

/// Creates `queue` in its pool: with `priority`, at that priority (the pool's other queues move down as Prefect
/// moves them); without, at the first free priority. Sets queue.priority. Throws kind constraint on a taken name.
void create_queue(sql_connection& conn, work_queue& queue, std::optional<std::int64_t> priority);
/// Inserts `queue` (its priority already decided). Throws kind constraint when the pool has the name.
void insert_queue(sql_connection& conn, const work_queue& queue);
std::optional<work_queue> find_queue(sql_connection& conn, const work_queue_id& id);
std::optional<work_queue> find_queue_by_name(sql_connection& conn, const std::string& pool_name,
                                             const std::string& queue_name);
/// The legacy GET /api/work_queues/name/{name}: the queue of the default agent pool when that pool exists,
/// else the first queue of any pool with the name (Prefect's read_work_queue_by_name).
std::optional<work_queue> find_legacy_queue_by_name(sql_connection& conn, const std::string& name);
/// Queues (alias `wq`) of `pool` matching `where`, by priority; limit < 0: all.
std::vector<work_queue> select_pool_queues(sql_connection& conn, const work_pool_id& pool, const sql_where& where,
                                           std::int64_t limit = -1, std::int64_t offset = 0);
/// Queues of every pool matching `where`, by name (the legacy /api/work_queues/filter).
std::vector<work_queue> select_queues(sql_connection& conn, const sql_where& where, std::int64_t limit,
                                      std::int64_t offset);
/// Stores every mutable column of `queue` (same id). Throws kind constraint on a taken name.
void update_queue(sql_connection& conn, const work_queue& queue);
/// Moves `moved` to `priority` and renumbers the pool's other queues as Prefect does (domain reprioritized);
/// nullopt only closes the gaps' order after a deletion.
void apply_priority(sql_connection& conn, const work_pool_id& pool, std::optional<work_queue_id> moved,
                    std::int64_t priority);
void delete_queue(sql_connection& conn, const work_queue_id& id);
/// Runs of `queue` in the states that hold a queue slot: Pending, Running and, with `cancelling`, Cancelling
/// (the legacy routes count it, the pool routes do not).
std::int64_t queue_active_slots(sql_connection& conn, const work_queue_id& queue, bool cancelling);
/// Flow runs of `queue` whose state is named Late (the queue's health).
std::int64_t late_runs(sql_connection& conn, const work_queue_id& queue);

// ---- polling ----

/// What a poll of a pool returns: each run with the queue it came from.
struct polled_run {
  work_queue_id queue;
  flow_run run;
};

struct poll_request {
  std::optional<std::vector<work_queue_id>> queues;  ///< nullopt: every queue of the pool
  std::optional<timestamp> scheduled_before;
  std::optional<timestamp> scheduled_after;
  std::int64_t limit = 200;
};

/// Scheduled runs of the pool's unpaused queues (none when the pool is paused), by queue priority then
/// scheduled time: at most each queue's free slots (concurrency_limit − its Pending/Running runs) and, in all,
/// the pool's free slots and `limit`. Runs retried in-process (empirical_policy.retry_type "in_process") are left
/// for the engine that holds them.
std::vector<polled_run> scheduled_runs(sql_connection& conn, const work_pool& pool, const poll_request& request);

/// A poll of these queues at `now`: last_polled for all; the NOT_READY ones become READY; the deployments
/// pulling from them are READY and polled too (Prefect's mark_work_queues_ready + mark_deployments_ready).
void record_poll(sql_connection& conn, const std::vector<work_queue>& queues, timestamp now);

// ---- workers ----

/// Upserts the worker (pool, name): last heartbeat `now`, ONLINE, and its interval when given.
void record_heartbeat(sql_connection& conn, const work_pool_id& pool, const std::string& name,
                      std::optional<std::int64_t> interval_seconds, timestamp now);
/// A worker's heartbeat as both of Prefect's heartbeat routes record it (POST .../workers/heartbeat and the
/// worker channel's frames): record_heartbeat, then the pool as domain apply_heartbeat leaves it, stored when it
/// changed. `pool` is the caller's copy, updated in place (its `updated` tells a channel the pool changed).
void record_worker_heartbeat(sql_connection& conn, work_pool& pool, const std::string& name,
                             std::optional<std::int64_t> interval_seconds, timestamp now);
/// Workers (alias `w`) of `pool` matching `where`, newest heartbeat first.
std::vector<worker> select_workers(sql_connection& conn, const work_pool_id& pool, const sql_where& where,
                                   std::int64_t limit, std::int64_t offset);
bool any_worker_online(sql_connection& conn, const work_pool_id& pool);
/// False when the pool has no worker of that name.
bool delete_worker(sql_connection& conn, const work_pool_id& pool, const std::string& name);

// ---- the foreman (one write job per pass) ----

struct foreman_limits {
  std::int64_t inactivity_heartbeat_multiple = 3;
  std::int64_t fallback_heartbeat_interval_seconds = 30;
  std::chrono::seconds work_queue_last_polled_timeout{60};
  std::chrono::seconds deployment_last_polled_timeout{60};
};

struct foreman_outcome {
  std::size_t workers_offline = 0;
  std::size_t pools_not_ready = 0;
  std::size_t queues_not_ready = 0;
  std::size_t deployments_not_ready = 0;
  [[nodiscard]] std::size_t total() const {
    return workers_offline + pools_not_ready + queues_not_ready + deployments_not_ready;
  }
};

/// What mark_stale would change at `now`, found with reads only (the foreman's cheap look before it writes).
foreman_outcome find_stale(sql_connection& conn, timestamp now, const foreman_limits& limits);
/// ONLINE workers without a recent heartbeat → OFFLINE; READY pools left without an ONLINE worker → NOT_READY;
/// READY queues and deployments not polled within their timeouts → NOT_READY.
foreman_outcome mark_stale(sql_connection& conn, timestamp now, const foreman_limits& limits);

}  // namespace osprey::persistence

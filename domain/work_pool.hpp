#pragma once
// Work pools, their queues and the workers that poll them, as Prefect 3.9.1 models them (WorkPool, WorkQueue,
// Worker and their statuses), and the rules Prefect applies to them: reserved names, queue priorities, the
// statuses a pause or a heartbeat moves a pool or queue to, when a worker counts as gone, the checks on a base
// job template. Pure: the stores read and write these, the routes and the foreman ask these functions.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "domain/field_problem.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

using work_pool_id = typed_id<struct work_pool_tag>;
using work_queue_id = typed_id<struct work_queue_tag>;

/// WorkPoolStatus and WorkQueueStatus share their values.
enum class pool_status { ready, not_ready, paused };
/// WorkerStatus.
enum class worker_status { online, offline };

const char* to_string(pool_status s) noexcept;
const char* to_string(worker_status s) noexcept;
/// "READY" → ready; nullopt for anything else.
std::optional<pool_status> parse_pool_status(const std::string& text) noexcept;
std::optional<worker_status> parse_worker_status(const std::string& text) noexcept;

struct work_pool {
  work_pool_id id;
  timestamp created;
  timestamp updated;
  std::string name;
  std::optional<std::string> description;
  std::string type = "prefect-agent";
  nlohmann::json base_job_template = nlohmann::json::object();
  bool is_paused = false;
  std::optional<work_queue_id> default_queue;
  std::optional<std::int64_t> concurrency_limit;
  pool_status status = pool_status::not_ready;
  std::optional<timestamp> last_transitioned_status_at;
  nlohmann::json storage_configuration = nlohmann::json::object();
};

struct work_queue {
  work_queue_id id;
  timestamp created;
  timestamp updated;
  std::string name;
  std::string description;
  bool is_paused = false;
  std::optional<std::int64_t> concurrency_limit;
  std::int64_t priority = 1;
  std::optional<timestamp> last_polled;
  pool_status status = pool_status::not_ready;
  work_pool_id pool;
  std::string pool_name;  ///< joined from the pool on every read (WorkQueueResponse.work_pool_name)
  nlohmann::json filter;  ///< deprecated QueueFilter; null unless a legacy client set one
};

struct worker {
  uuid id;
  timestamp created;
  timestamp updated;
  work_pool_id pool;
  std::string name;
  timestamp last_heartbeat_time;
  std::optional<std::int64_t> heartbeat_interval_seconds;
  worker_status status = worker_status::offline;
};

/// The pool type Prefect gives a pool created without one, and to the pool legacy queues live in.
inline constexpr const char* agent_pool_type = "prefect-agent";
/// Where POST /api/work_queues/ puts queues created without a pool (Prefect's DEFAULT_AGENT_WORK_POOL_NAME).
inline constexpr const char* default_agent_pool_name = "default-agent-pool";
/// The queue every pool is created with.
inline constexpr const char* default_queue_name = "default";

/// True for names Prefect keeps for itself: anything starting with "prefect", in any case.
bool is_reserved_pool_name(const std::string& name) noexcept;

/// The status of a pool created with `is_paused` (a prefect-agent pool keeps none: nullopt; Prefect shows null).
std::optional<pool_status> initial_pool_status(const std::string& type, bool is_paused) noexcept;

/// A pool's status after PATCH sets `is_paused` (Prefect's update_work_pool): paused → PAUSED; unpaused →
/// READY when a worker is online, else NOT_READY; prefect-agent pools never change. nullopt: unchanged.
std::optional<pool_status> pool_status_after_pause(const std::string& type, bool is_paused,
                                                   bool any_worker_online) noexcept;

/// A queue's status after `is_paused` is set (Prefect's update_work_queue): pausing a queue not yet PAUSED →
/// PAUSED; unpausing a PAUSED queue → READY when it was polled within `recent` (60 s) of `now`, else NOT_READY.
/// nullopt: unchanged.
std::optional<pool_status> queue_status_after_pause(pool_status current, bool is_paused,
                                                    const std::optional<timestamp>& last_polled, timestamp now,
                                                    std::chrono::seconds recent = std::chrono::seconds(60)) noexcept;

/// Pauses or resumes `pool` at `now`: is_paused, and the status pool_status_after_pause gives (with the time
/// of the change, which Prefect stamps).
void apply_pool_pause(work_pool& pool, bool paused, bool any_worker_online, timestamp now);

/// A worker's heartbeat at `now` (Prefect's record_worker_heartbeat): a NOT_READY pool becomes READY, with the
/// time of the change; prefect-agent pools keep their status. True when `pool` changed and must be stored.
bool apply_heartbeat(work_pool& pool, timestamp now);

/// Pauses or resumes `queue` at `now`: is_paused, and the status queue_status_after_pause gives.
void apply_queue_pause(work_queue& queue, bool paused, timestamp now);

/// The priority a new queue takes without one: the first gap in the taken priorities 1, 2, …, else max + 1.
std::int64_t first_free_priority(std::vector<std::int64_t> taken);

/// Prefect's bulk_update_work_queue_priorities: `queues` (id → priority) with `moved` given `priority`, the others
/// shifted as little as needed so that priorities stay unique and increasing in the old order. Returns only the
/// queues whose priority changes (the moved one included when it changes).
std::map<work_queue_id, std::int64_t> reprioritized(const std::map<work_queue_id, std::int64_t>& queues,
                                                    std::optional<work_queue_id> moved, std::int64_t priority);

/// The foreman's test: an ONLINE worker whose last heartbeat is more than
/// (its interval, else `fallback_interval`) × `multiple` seconds before `now` goes OFFLINE.
bool worker_is_stale(const worker& w, timestamp now, std::int64_t multiple, std::int64_t fallback_interval) noexcept;

/// Prefect's validate_base_job_template: {} passes; otherwise both `job_configuration` and `variables` must be
/// there and every {{ placeholder }} of the job configuration must be a property of `variables`. The problem's
/// field is "base_job_template".
std::optional<field_problem> check_base_job_template(const nlohmann::json& tpl);

/// WorkQueueHealthPolicy's verdict with Prefect's fixed policy (no late runs, polled within 60 s).
bool queue_is_healthy(std::int64_t late_runs, const std::optional<timestamp>& last_polled, timestamp now) noexcept;

}  // namespace osprey

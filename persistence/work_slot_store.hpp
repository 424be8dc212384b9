#pragma once
// Who holds the concurrency slots of a work pool or queue (the concurrency_status routes, `prefect work-pool
// slots`, `prefect work-queue slots`). The rules are the ones the polls apply: a pool slot is held by a run of
// one of its queues that is Pending or Running; a queue slot also by a Cancelling run, and by a run that names
// the queue only by name (no queue id). Runs in ascending id order, as Prefect lists them.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/time.hpp"
#include "domain/work_pool.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

struct slot_holder {
  flow_run_id id;
  std::string name;
  std::optional<std::string> state_type;
  std::optional<std::string> state_name;
  std::optional<timestamp> start_time;
  std::optional<timestamp> state_timestamp;
  std::optional<uuid> queue;  ///< work_queue_id
};

/// How many runs hold a slot of each of the pool's queues (queues holding none are absent).
std::map<uuid, std::int64_t> pool_slot_counts_by_queue(sql_connection& conn, const work_pool_id& pool);

/// The slot holders of the given queues of the pool, at most `per_queue` of each.
std::vector<slot_holder> pool_slot_holders(sql_connection& conn, const work_pool_id& pool,
                                           const std::vector<work_queue_id>& queues, std::int64_t per_queue);

/// How many runs hold a slot of the queue, and one page of them.
std::int64_t count_queue_slot_holders(sql_connection& conn, const work_queue& queue);
std::vector<slot_holder> queue_slot_holders(sql_connection& conn, const work_queue& queue, std::int64_t limit,
                                            std::int64_t offset);

}  // namespace osprey::persistence

#pragma once
// Internal to http/: what both queue route files (routes_work_queues, routes_work_queues_legacy) do inside their
// database jobs: change a queue as Prefect's update_work_queue does, delete one, answer with one.

#include <nlohmann/json.hpp>

#include "domain/status.hpp"
#include "http/work_pool_fields.hpp"
#include "persistence/sql.hpp"

namespace osprey::http::work_queue_jobs {

/// Applies `update` to `queue` and stores it: a pause or unpause moves its status (domain
/// queue_status_after_pause), a priority renumbers the pool's queues. A taken name throws (kind constraint).
void change(persistence::sql_connection& c, work_queue& queue, const work_pool_fields::queue_update& update,
            timestamp now);

/// Deletes `queue`; its pool's default queue is refused (errc::conflict), as Prefect refuses it.
status remove(persistence::sql_connection& c, const work_queue& queue);

/// WorkQueueResponse with active slots counted when the queue has a limit (Cancelling runs too with
/// `cancelling`, as the legacy routes count).
nlohmann::json answer(persistence::sql_connection& c, const work_queue& queue, bool cancelling);

}  // namespace osprey::http::work_queue_jobs

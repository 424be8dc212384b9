#include "http/work_queue_jobs.hpp"

#include "persistence/work_pool_store.hpp"

namespace osprey::http::work_queue_jobs {

void change(persistence::sql_connection& c, work_queue& queue, const work_pool_fields::queue_update& update,
            timestamp now) {
  work_pool_fields::apply(update, queue);
  if (update.is_paused) apply_queue_pause(queue, *update.is_paused, now);
  queue.updated = now;
  persistence::update_queue(c, queue);
  if (update.priority) persistence::apply_priority(c, queue.pool, queue.id, *update.priority);
}

status remove(persistence::sql_connection& c, const work_queue& queue) {
  auto pool = persistence::find_pool(c, queue.pool);
  if (pool && pool->default_queue == queue.id) return status(errc::conflict, "Can't delete a pool's default queue.");
  persistence::delete_queue(c, queue.id);
  persistence::apply_priority(c, queue.pool, std::nullopt, 0);
  return status::ok();
}

nlohmann::json answer(persistence::sql_connection& c, const work_queue& queue, bool cancelling) {
  std::optional<std::int64_t> slots;
  if (queue.concurrency_limit) slots = persistence::queue_active_slots(c, queue.id, cancelling);
  return work_pool_fields::queue_json(queue, slots);
}

}  // namespace osprey::http::work_queue_jobs

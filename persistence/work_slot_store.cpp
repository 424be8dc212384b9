#include "persistence/work_slot_store.hpp"

namespace osprey::persistence {
namespace {

constexpr const char* holder_columns =
    "r.id, r.name, r.state_type, r.state_name, r.start_time, r.state_timestamp, r.work_queue_id";
constexpr const char* queue_holder_where =
    "(r.work_queue_id = $1 OR (r.work_queue_id IS NULL AND r.work_queue_name = $2)) "
    "AND r.state_type IN ('PENDING', 'RUNNING', 'CANCELLING')";

slot_holder holder_from_row(const sql_row& row) {
  slot_holder h;
  h.id = flow_run_id{row.id(0)};
  h.name = row.text(1);
  if (!row.is_null(2)) h.state_type = row.text(2);
  if (!row.is_null(3)) h.state_name = row.text(3);
  if (!row.is_null(4)) h.start_time = row.time(4);
  if (!row.is_null(5)) h.state_timestamp = row.time(5);
  if (!row.is_null(6)) h.queue = row.id(6);
  return h;
}

}  // namespace

std::map<uuid, std::int64_t> pool_slot_counts_by_queue(sql_connection& conn, const work_pool_id& pool) {
  std::map<uuid, std::int64_t> out;
  for (const auto& row : conn.query("SELECT r.work_queue_id, COUNT(*) FROM flow_run r JOIN work_queue wq ON wq.id = "
                                    "r.work_queue_id WHERE wq.work_pool_id = $1 AND r.state_type IN ('PENDING', "
                                    "'RUNNING') GROUP BY r.work_queue_id",
                                    {id(pool)}))
    out[row.id(0)] = row.integer(1);
  return out;
}

std::vector<slot_holder> pool_slot_holders(sql_connection& conn, const work_pool_id& pool,
                                           const std::vector<work_queue_id>& queues, std::int64_t per_queue) {
  std::vector<slot_holder> out;
  for (const auto& q : queues) {
    auto rows = conn.query(std::string("SELECT ") + holder_columns +
                               " FROM flow_run r JOIN work_queue wq ON wq.id = r.work_queue_id WHERE wq.work_pool_id = "
                               "$1 AND r.work_queue_id = $2 AND r.state_type IN ('PENDING', 'RUNNING') ORDER BY r.id "
                               "LIMIT $3",
                           {id(pool), id(q), integer(per_queue)});
    for (const auto& row : rows) out.push_back(holder_from_row(row));
  }
  return out;
}

std::int64_t count_queue_slot_holders(sql_connection& conn, const work_queue& queue) {
  return conn
      .query(std::string("SELECT COUNT(*) FROM flow_run r WHERE ") + queue_holder_where,
             {id(queue.id), text(queue.name)})
      .at(0)
      .integer(0);
}

std::vector<slot_holder> queue_slot_holders(sql_connection& conn, const work_queue& queue, std::int64_t limit,
                                            std::int64_t offset) {
  std::vector<slot_holder> out;
  for (const auto& row : conn.query(std::string("SELECT ") + holder_columns + " FROM flow_run r WHERE " +
                                        queue_holder_where + " ORDER BY r.id LIMIT $3 OFFSET $4",
                                    {id(queue.id), text(queue.name), integer(limit), integer(offset)}))
    out.push_back(holder_from_row(row));
  return out;
}

}  // namespace osprey::persistence

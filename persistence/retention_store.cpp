// The database vacuum's queries (see the header).
#include "persistence/retention_store.hpp"

namespace osprey::persistence {

events_deleted delete_events_before(sql_connection& conn, timestamp cutoff, std::int64_t limit) {
  // IN (SELECT ... LIMIT): both dialects bound a DELETE this way (PostgreSQL has no DELETE ... LIMIT).
  events_deleted out;
  out.resources = conn.execute(
      "DELETE FROM event_resources WHERE id IN "
      "(SELECT id FROM event_resources WHERE occurred < $1 ORDER BY occurred LIMIT $2)",
      {ts(cutoff), integer(limit)});
  out.events = conn.execute(
      "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE occurred < $1 ORDER BY occurred LIMIT $2)",
      {ts(cutoff), integer(limit)});
  return out;
}

std::vector<flow_run_id> runs_ended_before(sql_connection& conn, timestamp cutoff, std::int64_t limit) {
  std::vector<flow_run_id> out;
  for (const auto& row :
       conn.query("SELECT id FROM flow_run WHERE parent_task_run_id IS NULL AND end_time IS NOT NULL AND end_time < $1 "
                  "AND state_type IN ('COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED') ORDER BY end_time LIMIT $2",
                  {ts(cutoff), integer(limit)})) {
    out.push_back(flow_run_id{row.id(0)});
  }
  return out;
}

namespace {

std::int64_t database_bytes(sql_connection& conn) {
  if (conn.dialect() == dialect::postgresql)
    return conn.query("SELECT pg_database_size(current_database())").front().integer(0);
  const auto pages = conn.query("PRAGMA page_count").front().integer(0);
  return pages * conn.query("PRAGMA page_size").front().integer(0);
}

}  // namespace

vacuum_report vacuum_database(sql_connection& conn) {
  vacuum_report report;
  report.bytes_before = database_bytes(conn);
  if (conn.dialect() == dialect::postgresql) {
    conn.execute("VACUUM (ANALYZE)");
  } else {
    conn.query("PRAGMA wal_checkpoint(TRUNCATE)");
    conn.execute("VACUUM");
  }
  report.bytes_after = database_bytes(conn);
  return report;
}

}  // namespace osprey::persistence

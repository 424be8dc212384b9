#include "persistence/planner_statistics.hpp"

#include <string>

namespace osprey::persistence {

std::span<const planner_statistic> planner_statistics() {
  // A full ANALYZE of bench/generate_big_db.py's default database (1,000,000 flow runs, 3.8 M flow-run states,
  // 5 M task runs, 15 M task-run states, 20 M logs) at schema bf05c75cfb45. A migration that adds, drops or
  // renames an index of these tables updates its row here (PlannerStatistics.CoverEveryIndexOfThePlannedTables).
  static constexpr planner_statistic rows[] = {
      {"flow_run", "ix_flow_run__coalesce_start_time_expected_start_time_asc", "1000000 1"},
      {"flow_run", "ix_flow_run__coalesce_start_time_expected_start_time_desc", "1000000 1"},
      {"flow_run", "ix_flow_run__deployment_id_expected_start_time_id_start_time", "1000000 19608 1 1 1"},
      {"flow_run", "ix_flow_run__deployment_version", "1000000 1000000"},
      {"flow_run", "ix_flow_run__end_time_desc", "1000000 1"},
      {"flow_run", "ix_flow_run__expected_start_time_desc_id_start_time", "1000000 1 1 1"},
      {"flow_run", "ix_flow_run__flow_id_expected_start_time_id_start_time", "1000000 10000 1 1 1"},
      {"flow_run", "ix_flow_run__flow_version", "1000000 1000000"},
      {"flow_run", "ix_flow_run__infrastructure_document_id", "1000000 1000000"},
      {"flow_run", "ix_flow_run__name", "1000000 1"},
      {"flow_run", "ix_flow_run__next_scheduled_start_time_asc", "1000000 20"},
      {"flow_run", "ix_flow_run__parent_task_run_id", "1000000 1000000"},
      {"flow_run", "ix_flow_run__scheduler_deployment_id_auto_scheduled_next_schedu", "51609 1012 847 1"},
      {"flow_run", "ix_flow_run__start_time", "1000000 1"},
      {"flow_run", "ix_flow_run__state_id", "1000000 1"},
      {"flow_run", "ix_flow_run__state_name", "1000000 125000"},
      {"flow_run", "ix_flow_run__state_timestamp", "1000000 1"},
      {"flow_run", "ix_flow_run__state_type", "1000000 142858"},
      {"flow_run", "ix_flow_run__updated", "1000000 1"},
      {"flow_run", "ix_flow_run__work_queue_id_expected_start_time_id_start_time", "1000000 166667 1 1 1"},
      {"flow_run", "ix_flow_run__work_queue_name", "1000000 500000"},
      {"flow_run", "sqlite_autoindex_flow_run_1", "1000000 1"},
      {"flow_run", "uq_flow_run__flow_id_idempotency_key", "1000000 10000 10000"},
      {"flow_run_state", "ix_flow_run_state__name", "3840116 480015"},
      {"flow_run_state", "ix_flow_run_state__result_artifact_id", "3840116 3840116"},
      {"flow_run_state", "ix_flow_run_state__type", "3840116 548588"},
      {"flow_run_state", "ix_flow_run_state__updated", "3840116 1"},
      {"flow_run_state", "sqlite_autoindex_flow_run_state_1", "3840116 1"},
      {"flow_run_state", "uq_flow_run_state__flow_run_id_timestamp_desc", "3840116 4 1"},
      {"log", "ix_log__flow_run_id_timestamp", "20000000 22 1"},
      {"log", "ix_log__level", "20000000 10000000"},
      {"log", "ix_log__task_run_id", "20000000 6"},
      {"log", "ix_log__timestamp", "20000000 1"},
      {"log", "ix_log__updated", "20000000 1"},
      {"log", "sqlite_autoindex_log_1", "20000000 1"},
      {"task_run", "ix_task_run__end_time_desc", "5000000 1"},
      {"task_run", "ix_task_run__expected_start_time_desc_id_history", "5000000 1 1 1 1 1 1 1 1"},
      {"task_run", "ix_task_run__flow_run_id_state_type_history", "5000000 6 5 1 1 1 1 1 1"},
      {"task_run", "ix_task_run__name", "5000000 1"},
      {"task_run", "ix_task_run__next_scheduled_start_time_asc", "5000000 5000000"},
      {"task_run", "ix_task_run__start_time", "5000000 1"},
      {"task_run", "ix_task_run__state_name", "5000000 1000000"},
      {"task_run", "ix_task_run__state_type_start_time_id", "5000000 1000000 1 1"},
      {"task_run", "sqlite_autoindex_task_run_1", "5000000 1"},
      {"task_run", "uq_task_run__flow_run_id_task_key_dynamic_key", "5000000 6 1 1"},
      {"task_run_state", "ix_task_run_state__result_artifact_id", "14994938 14994938"},
      {"task_run_state", "sqlite_autoindex_task_run_state_1", "14994938 1"},
      {"task_run_state", "uq_task_run_state__task_run_id_timestamp_desc", "14994938 3 1"},
  };
  return rows;
}

status install_planner_statistics(sql_connection& conn) {
  if (conn.dialect() != dialect::sqlite) return status::ok();
  try {
    // Creates sqlite_stat1 when missing (a table name SQLite reserves), analysing only the schema table: instant
    // on any file.
    conn.execute_script("ANALYZE sqlite_schema");
  } catch (const sql_error& e) {
    return to_status(e, "creating SQLite's statistics table");
  }
  return in_write_transaction(conn, "writing the query planner's statistics", [](sql_connection& c) {
    std::string tables;
    for (const auto& t : planned_tables) tables += std::string(tables.empty() ? "" : ", ") + "'" + std::string(t) + "'";
    c.execute("DELETE FROM sqlite_stat1 WHERE tbl IN (" + tables + ")");
    for (const auto& s : planner_statistics())
      c.execute("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ($1, $2, $3)",
                {text(std::string(s.tbl)), text(std::string(s.idx)), text(std::string(s.stat))});
  });
}

}  // namespace osprey::persistence

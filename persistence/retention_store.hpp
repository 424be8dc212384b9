#pragma once
// The database vacuum's queries (actors/db_vacuum.hpp): what outlived its retention, in bounded batches so a
// pass never holds the writer long. Run on a connection the caller owns; throw sql_error.

#include <cstdint>
#include <vector>

#include "domain/flow_run.hpp"
#include "domain/time.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// What one delete_events_before removed.
struct events_deleted {
  std::int64_t resources = 0;  ///< event_resources rows
  std::int64_t events = 0;
};

/// Deletes at most `limit` event_resources rows and at most `limit` events that occurred before `cutoff`
/// (Prefect's event retention). Resources go first, so an event is never left pointing at resources that are
/// gone, nor the reverse for longer than one batch.
events_deleted delete_events_before(sql_connection& conn, timestamp cutoff, std::int64_t limit);

/// Top-level flow runs (no parent task run) in a terminal state (COMPLETED, FAILED, CANCELLED, CRASHED) that
/// ended before `cutoff`, the longest-ended first. Subflows are not listed: they become top-level when their
/// parent's task runs are deleted with it (parent_task_run_id is set null), and go in a later batch.
std::vector<flow_run_id> runs_ended_before(sql_connection& conn, timestamp cutoff, std::int64_t limit);

/// The database's size around a vacuum_database.
struct vacuum_report {
  std::int64_t bytes_before = 0;
  std::int64_t bytes_after = 0;
};
/// Gives the space of deleted rows back. SQLite: checkpoints the WAL into the file and rebuilds the file
/// (VACUUM), which holds the write lock while it runs; sizes are the main file's. PostgreSQL: VACUUM (ANALYZE)
/// of the whole database, which reuses space and refreshes the planner's statistics without blocking writes
/// (it rarely shrinks the files; that needs VACUUM FULL, which locks, so it is left to the operator); sizes are
/// pg_database_size. Must not run inside a transaction.
vacuum_report vacuum_database(sql_connection& conn);

}  // namespace osprey::persistence

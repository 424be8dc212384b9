#pragma once
// Named queries for task runs: the recorder's upserts (newest state wins, every state kept in history),
// the REST create (natural-key upsert), and reads.

#include <optional>

#include "domain/global_transforms.hpp"
#include "domain/task_run.hpp"
#include "persistence/multi_row.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// Records one task-run state event. The row is created, or updated only when the event's state is newer
/// than the stored one (out-of-order events never overwrite newer rows); columns the event lacks keep their
/// stored values. A row that already exists under the same (flow_run_id, task_key, dynamic_key) keeps its id
/// and the state is filed under it. The state itself is always kept in the history (idempotent by state id).
/// Returns the id the run is stored under.
uuid record_task_run_event(sql_connection& conn, const task_run_event& event, timestamp now);

/// record_task_run_event for a batch (oldest first), split so that its CPU work (each run's upsert values, each
/// state row, JSON serialised) is done before the write, off the writer thread. The events of one task run are
/// folded into one upsert: its state is the newest (the first of equal times, as one-by-one recording keeps),
/// its columns those of every event that would have moved the row, later ones winning. So a run's Pending,
/// Running and Completed in one batch rewrite its row and indexes once, not three times; every state still joins
/// the history. (One-by-one recording differs only when the stored row is newer than some of the batch's events
/// and older than others, and those older events carried a column the newer ones lack; Prefect's engines send
/// the whole task run in every event.) The write looks up every run's natural key in one query per 64 runs,
/// upserts the runs stored under their own id as multi-row statements (one per set of columns and chunk), then
/// the state rows as multi-row INSERTs; a run stored under another id is recorded the slow way, event by event,
/// in its place. It may run more than once (a rolled-back batch is retried); it only reads `rows`.
struct task_run_event_rows {
  struct run {
    /// The run's events one-by-one recording would apply (each newer than every earlier one), oldest first; the
    /// first is the run's first event in the batch. Its upsert folds them.
    std::vector<std::size_t> applied;
  };
  std::vector<run> runs;            ///< in order of each run's first event
  std::vector<std::size_t> run_of;  ///< per event: the index of its run
  /// Every run's upsert, for when every run is stored under its own id.
  std::vector<chunk_statements::statement> upserts;
  /// Every event's state row, for when every run is stored under the event's own id.
  std::vector<chunk_statements::statement> states;
  timestamp now{};
};
task_run_event_rows prepare_task_run_events(const std::vector<task_run_event>& events, timestamp now);
void record_prepared_task_run_events(sql_connection& conn, const std::vector<task_run_event>& events,
                                     const task_run_event_rows& rows);

struct task_run_created {
  task_run stored;
  bool created = false;  ///< false: the natural key existed; the stored run is returned unchanged
};

/// POST /api/task_runs/: inserts unless (flow_run_id, task_key, dynamic_key) exists, with `initial` forced as
/// its first state.
task_run_created create_task_run(sql_connection& conn, const uuid& id, const std::optional<uuid>& flow_run_id,
                                 const nlohmann::json& columns, const run_state& initial, timestamp now);

std::optional<task_run> find_task_run(sql_connection& conn, const uuid& id);

/// Inside a write job that reads a task run, decides and writes it: on PostgreSQL takes the run's row lock first,
/// so a server deciding the same run at the same time (several servers on one database) waits for this
/// transaction and then reads what it wrote. On SQLite the single writer thread already serialises them: no-op.
void lock_task_run(sql_connection& conn, const uuid& id);

/// Task runs matching `where` (alias `t` for task_run, `s` for its current state).
std::vector<task_run> select_task_runs(sql_connection& conn, const std::string& where, const sql_params& params,
                                       const std::string& order_by, std::int64_t limit, std::int64_t offset);
/// `joins` (from task_run_count_where) go after `task_run t`.
std::int64_t count_task_runs(sql_connection& conn, const std::string& where, const sql_params& params,
                             const std::string& joins = {});

/// Stores an orchestrated task transition: `written` (if any) joins the history and becomes current; the
/// bookkeeping columns and flow_run_run_count are set.
void write_task_transition(sql_connection& conn, const uuid& task_run, const std::optional<run_state>& written,
                           const run_bookkeeping& counters, int flow_run_run_count, timestamp now);

/// The newest cached state for `cache_key` that has not expired at `now`, with its data.
std::optional<run_state> find_cached_task_state(sql_connection& conn, const std::string& cache_key, timestamp now);

/// Remembers `state` under `cache_key` until `expiration` (none: forever).
void insert_task_cache_entry(sql_connection& conn, const std::string& cache_key,
                             const std::optional<timestamp>& expiration, const state_id& state, timestamp now);

/// A task run's states, oldest first.
std::vector<run_state> task_run_state_history(sql_connection& conn, const uuid& task_run);
/// Renames the task run; false when it does not exist.
bool rename_task_run(sql_connection& conn, const uuid& task_run, const std::string& name, timestamp now);
/// Deletes the task run (its states cascade) and its logs; false when it did not exist.
bool delete_task_run(sql_connection& conn, const uuid& task_run);
/// One state of any task run, by the state's id.
std::optional<run_state> find_task_run_state(sql_connection& conn, const uuid& state);

}  // namespace osprey::persistence

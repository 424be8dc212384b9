#pragma once
// The database as a service: one writer thread per database that groups concurrent writes into one
// transaction (group commit; on PostgreSQL a second one for bulk records, write_bulk), and a few reader threads
// beside it (SQLite WAL lets reads run while the writer commits; PostgreSQL gets one connection per reader).
// Blocking database calls run only on these threads — never on CAF's cooperative scheduler or on the HTTP io
// threads.
//
// Why threads and not CAF detached actors: CAF 0.17 cannot tear down an actor system while detached actors'
// threads are still finishing, and a plain queue lets the writer take every waiting job in one step.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "domain/status.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// Work run inside the writer's open transaction, on the writer thread. It may throw sql_error (the batch is
/// then rolled back and its jobs retried one by one, so one bad write cannot sink its neighbours). Because
/// of that retry a job may run twice: it must only write its outputs into state it owns.
using write_job = std::function<void(sql_connection&)>;
/// Work run inside a read transaction on a reader thread.
using read_job = std::function<void(sql_connection&)>;
/// Called exactly once on the database thread when the job's transaction has ended: ok means committed
/// (durable per the connection's settings). Keep it short: it delays the next batch. An exception escaping it
/// is logged and swallowed (the thread goes on serving).
using completion = std::function<void(const status&)>;

struct database_options {
  database_target target;
  connection_options connection;
  std::size_t max_batch = 1024;            ///< jobs per transaction at most
  std::chrono::microseconds max_delay{0};  ///< after the first job, wait this long for more (0: don't wait)
  unsigned readers = 2;                    ///< reader threads/connections (at least 1)
  /// PostgreSQL: write_bulk's jobs get a writer of their own (connection, thread, group commit), so the stream
  /// of events does not queue behind run transitions on one connection. Ignored on SQLite, where one connection
  /// writes a file at a time anyway.
  bool bulk_writer = true;
};

/// Counters of the writer, for tests, benchmarks and status output.
struct writer_stats {
  std::uint64_t writes = 0;         ///< jobs committed
  std::uint64_t failed_writes = 0;  ///< jobs answered with an error
  std::uint64_t transactions = 0;   ///< COMMITs issued
  std::uint64_t largest_batch = 0;  ///< most jobs in one transaction
  /// Batches the database refused as a whole (busy, locked, out of space): their jobs were answered with the
  /// refusal at once, not retried one by one.
  std::uint64_t refused_batches = 0;
  /// SQLite: WAL checkpoints run by the checkpointer thread (persistence/sqlite/wal_checkpointer.hpp).
  std::uint64_t checkpoints = 0;
};

/// Handle to the running database threads. Copies share them; all methods are thread-safe and, except
/// drain_and_stop(), return at once.
class database {
 public:
  /// Opens the writer's and readers' connections (failing with the reason and the redacted target) and starts
  /// the threads.
  static result<database> start(const database_options& options);

  /// Queues `job` for the next group commit; `done` follows its COMMIT (or its failure). After
  /// drain_and_stop() began, `done` gets errc::unavailable at once.
  void write(write_job job, completion done) const;
  /// write() for records that need no order with other writes beyond what their callers already awaited (the
  /// event bus's events): on PostgreSQL with bulk_writer, the second writer takes them, in transactions of their
  /// own; otherwise the one writer. Same guarantees: `done` follows the COMMIT.
  void write_bulk(write_job job, completion done) const;
  /// Runs `job` on the first free reader; `done` follows.
  void read(read_job job, completion done) const;

  [[nodiscard]] writer_stats stats() const;
  [[nodiscard]] dialect target_dialect() const;

  /// True from a write refused for lack of disk space (is_disk_full(status); answered 503) until the next
  /// write that commits. The start and the end of each such episode are logged once (stderr). Readiness
  /// (GET /api/ready) reports it.
  [[nodiscard]] bool disk_full() const;

  /// Commits every write queued before the call, answers it, and stops all threads. Blocks; idempotent.
  void drain_and_stop() const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace osprey::persistence

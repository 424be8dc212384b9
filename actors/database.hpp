#pragma once
// The database as actors: one writer per database that batches writes into one transaction (group
// commit), and a small pool of readers that run beside it (SQLite WAL / PostgreSQL connections).
// Blocking database calls run only on these actors' own (detached) threads, never on CAF's cooperative
// scheduler or on the HTTP io threads.

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>

#include "actors/messages.hpp"
#include "persistence/sql.hpp"

namespace osprey::actors {

struct database_options {
  persistence::database_target target;
  persistence::connection_options connection;
  std::size_t max_batch = 1024;                 ///< jobs per transaction at most
  std::chrono::microseconds max_delay{0};       ///< wait this long for more jobs before committing (0: no wait)
  unsigned readers = 2;                         ///< reader connections (>= 1)
};

/// Handles to the database actors. Copyable; thread-safe; every method returns at once.
class database {
public:
  /// Opens the writer's and readers' connections (failing fast with the reason) and spawns the actors.
  static result<database> start(caf::actor_system& system, const database_options& options);

  /// Queues `job` for the writer. `done` runs after the transaction holding the job committed (ok) or
  /// failed (the error, with context). Messages sent from one thread keep their order.
  void write(write_job job, completion done) const;
  /// Runs `job` on a reader; `done` follows.
  void read(read_job job, completion done) const;

  /// The writer actor: request (write_atom, write_job) -> status, (stats_atom) -> writer_stats,
  /// (drain_atom) -> status once every earlier write is committed.
  [[nodiscard]] const caf::actor& writer() const;
  [[nodiscard]] persistence::dialect dialect() const;

  /// Blocks the calling thread until every write queued before the call is committed, then stops the
  /// actors. For shutdown; never call it from an actor or an io thread.
  void drain_and_stop(caf::actor_system& system) const;

private:
  struct shared_state;
  std::shared_ptr<shared_state> shared_;
};

}  // namespace osprey::actors

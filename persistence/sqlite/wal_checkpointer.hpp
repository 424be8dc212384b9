#pragma once
// SQLite WAL checkpoints off the writer thread. By default SQLite checkpoints inside the COMMIT that grows the
// WAL past 1000 pages: that commit then copies the WAL into the database file and fsyncs it, and every write
// queued behind it waits (the tail of set_state latency). Instead the writer's connection turns automatic
// checkpoints off and tells this object after each commit; a thread with its own connection runs a PASSIVE
// checkpoint (it never blocks the writer or the readers) at most every `period` while commits arrive, and a
// TRUNCATE one when stopped, so a stopped server leaves an empty WAL behind.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "persistence/sql.hpp"

namespace osprey::persistence {

class wal_checkpointer {
 public:
  /// Takes `conn` (a connection to the same SQLite database) and starts the thread.
  wal_checkpointer(std::unique_ptr<sql_connection> conn, std::chrono::milliseconds period);
  ~wal_checkpointer();  ///< stop()
  wal_checkpointer(const wal_checkpointer&) = delete;
  wal_checkpointer& operator=(const wal_checkpointer&) = delete;

  /// The writer committed: a checkpoint is due within `period`. Cheap, any thread.
  void committed();
  /// Runs a last, truncating checkpoint and joins the thread. Call after the writer stopped. Idempotent.
  void stop();

  /// Checkpoints run so far (tests).
  [[nodiscard]] std::uint64_t checkpoints() const;

 private:
  void loop();
  void checkpoint(const char* mode);

  std::unique_ptr<sql_connection> conn_;
  std::chrono::milliseconds period_;
  mutable std::mutex m_;
  std::condition_variable cv_;
  bool dirty_ = false;
  bool stopping_ = false;
  bool failing_ = false;  ///< the last checkpoint failed (logged once per episode)
  std::uint64_t checkpoints_ = 0;
  std::thread thread_;
};

}  // namespace osprey::persistence

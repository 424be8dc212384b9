#include "persistence/database.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "logging/log.hpp"
#include "persistence/sqlite/wal_checkpointer.hpp"

namespace osprey::persistence {
namespace {

struct queued {
  std::function<void(sql_connection&)> job;
  completion done;
};

/// Runs a completion. One that throws (a bug in its caller, e.g. a response that cannot be serialised) is
/// logged; it must not end the database thread, which would stop every later write or read.
void answer(const completion& done, const status& s) noexcept {
  if (!done) return;
  try {
    done(s);
  } catch (const std::exception& e) {
    log::line(log::level::error, "database", "a database completion threw: ", e.what());
  } catch (...) {
    log::error("database", "a database completion threw a non-standard exception");
  }
}

status run_in_transaction(sql_connection& conn, bool write, const std::function<void(sql_connection&)>& job) {
  return in_transaction(conn, write ? transaction_kind::write : transaction_kind::read,
                        write ? "writing to the database" : "reading from the database", job);
}

// A queue of jobs served by one or more threads, each owning one connection.
class job_queue {
 public:
  void push(queued q) {
    {
      std::lock_guard lock(m_);
      if (!stopping_) {
        jobs_.push_back(std::move(q));
        cv_.notify_one();
        return;
      }
    }
    answer(q.done, status(errc::unavailable, "the database is shutting down"));
  }

  /// Waits for work; takes up to `max` jobs (waiting up to `linger` for more once one is there). Returns an
  /// empty batch only when stopping and drained.
  std::vector<queued> take(std::size_t max, std::chrono::microseconds linger) {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return !jobs_.empty() || stopping_; });
    if (linger.count() > 0 && !stopping_ && jobs_.size() < max)
      cv_.wait_for(lock, linger, [&] { return jobs_.size() >= max || stopping_; });
    std::vector<queued> batch;
    const std::size_t n = std::min(max, jobs_.size());
    batch.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(jobs_.front()));
      jobs_.pop_front();
    }
    return batch;
  }

  void stop() {
    std::lock_guard lock(m_);
    stopping_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<queued> jobs_;
  bool stopping_ = false;
};

}  // namespace

struct database::impl {
  database_options options;
  job_queue writes;
  job_queue bulk_writes;  ///< PostgreSQL with bulk_writer only
  job_queue reads;
  std::unique_ptr<sql_connection> writer_conn;
  std::unique_ptr<sql_connection> bulk_conn;  ///< PostgreSQL with bulk_writer only
  std::vector<std::unique_ptr<sql_connection>> reader_conns;
  std::unique_ptr<wal_checkpointer> checkpointer;  ///< SQLite files only
  std::thread writer;
  std::thread bulk_writer;
  std::vector<std::thread> readers;
  mutable std::mutex stats_mutex;
  writer_stats stats;
  std::once_flag stopped;
  std::atomic<bool> disk_full{false};  ///< written by the writer thread only

  /// Writer thread, after each transaction: a disk-full episode starts with the first write refused for lack
  /// of space and ends with the next write that commits. Each end is logged once, not every refused write.
  void note_outcome(const status& s) {
    if (is_disk_full(s)) {
      if (!disk_full.exchange(true))
        log::line(log::level::error, "database", s.message(), "; every write gets 503 until then");
    } else if (s && disk_full.exchange(false)) {
      log::warning("database", "the database accepts writes again (disk space was freed)");
    }
  }

  ~impl() { stop(); }

  void stop() {
    std::call_once(stopped, [this] {
      writes.stop();
      bulk_writes.stop();
      reads.stop();
      if (writer.joinable()) writer.join();
      if (bulk_writer.joinable()) bulk_writer.join();
      for (auto& r : readers)
        if (r.joinable()) r.join();
      if (checkpointer) checkpointer->stop();
    });
  }

  // Jobs are destroyed before their completions run: what a job shares with its caller (events, rows) is then
  // freed by the caller when it hears the answer, not on this thread, which every write waits for.
  static void release_jobs(std::vector<queued>& batch) {
    for (auto& q : batch) q.job = nullptr;
  }

  // One transaction for the whole batch; callers hear back only after COMMIT. If a job fails, the batch is
  // rolled back and each job runs alone, so one bad job fails only itself. If the database itself refused
  // (busy, locked, out of space, connection lost), every job would meet the same refusal one transaction at a
  // time, each waiting out the busy timeout: the whole batch gets that answer at once instead.
  void commit_batch(sql_connection& conn, std::vector<queued>& batch) {
    bool ok = false;
    std::optional<status> refused_by_database;
    try {
      conn.begin_write();
      try {
        for (auto& q : batch) q.job(conn);
        conn.commit();
        ok = true;
      } catch (...) {
        conn.rollback();
        throw;
      }
    } catch (const sql_error& e) {
      if (e.what_kind() == sql_error::kind::busy || e.what_kind() == sql_error::kind::disk_full)
        refused_by_database = to_status(e, "writing to the database");
    } catch (const std::exception&) {
      ok = false;
    }
    std::uint64_t committed = 0, failed = 0, transactions = 0, refused = 0;
    if (ok) {
      committed = batch.size();
      transactions = 1;
      note_outcome(status::ok());
      release_jobs(batch);
      for (auto& q : batch) answer(q.done, status::ok());
    } else if (refused_by_database) {
      failed = batch.size();
      refused = 1;
      note_outcome(*refused_by_database);
      release_jobs(batch);
      for (auto& q : batch) answer(q.done, *refused_by_database);
    } else {
      for (auto& q : batch) {
        auto s = run_in_transaction(conn, true, q.job);
        s ? (++committed, ++transactions) : ++failed;
        note_outcome(s);
        q.job = nullptr;
        answer(q.done, s);
      }
    }
    if (committed > 0 && checkpointer) checkpointer->committed();
    std::lock_guard lock(stats_mutex);
    stats.writes += committed;
    stats.failed_writes += failed;
    stats.transactions += transactions;
    stats.refused_batches += refused;
    stats.largest_batch = std::max<std::uint64_t>(stats.largest_batch, batch.size());
  }

  void writer_loop(job_queue& jobs, sql_connection& conn) {
    while (true) {
      auto batch = jobs.take(options.max_batch, options.max_delay);
      if (batch.empty()) return;  // stopping, and everything queued is committed
      commit_batch(conn, batch);
    }
  }

  void reader_loop(sql_connection& conn) {
    while (true) {
      auto batch = reads.take(1, std::chrono::microseconds(0));
      if (batch.empty()) return;
      auto s = run_in_transaction(conn, false, batch.front().job);
      answer(batch.front().done, s);
    }
  }
};

result<database> database::start(const database_options& options) {
  auto state = std::make_shared<impl>();
  state->options = options;
  state->options.max_batch = std::max<std::size_t>(1, options.max_batch);
  auto writer_conn = open_connection(options.target, options.connection);
  if (!writer_conn) return writer_conn.error();
  state->writer_conn = std::move(*writer_conn);
  if (options.target.dialect == dialect::sqlite && options.target.sqlite_path != ":memory:") {
    // Checkpoints leave the writer's commits (wal_checkpointer.hpp). A bigger page cache keeps a large
    // batch's pages in memory instead of spilling them to the WAL mid-transaction (SQLite's default is 2 MB).
    try {
      state->writer_conn->execute_script("PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=-32768");
    } catch (const sql_error& e) {
      return to_status(e, "configuring the writer's connection");
    }
    auto c = open_connection(options.target, options.connection);
    if (!c) return c.error();
    state->checkpointer = std::make_unique<wal_checkpointer>(std::move(*c), std::chrono::milliseconds(200));
  }
  if (options.bulk_writer && options.target.dialect == dialect::postgresql) {
    auto c = open_connection(options.target, options.connection);
    if (!c) return c.error();
    state->bulk_conn = std::move(*c);
  }
  for (unsigned i = 0; i < std::max(1u, options.readers); ++i) {
    auto c = open_connection(options.target, options.connection);
    if (!c) return c.error();
    state->reader_conns.push_back(std::move(*c));
  }
  auto* raw = state.get();
  state->writer = std::thread([raw] { raw->writer_loop(raw->writes, *raw->writer_conn); });
  if (raw->bulk_conn) state->bulk_writer = std::thread([raw] { raw->writer_loop(raw->bulk_writes, *raw->bulk_conn); });
  for (auto& c : state->reader_conns) state->readers.emplace_back([raw, conn = c.get()] { raw->reader_loop(*conn); });
  database db;
  db.impl_ = std::move(state);
  return db;
}

void database::write(write_job job, completion done) const { impl_->writes.push({std::move(job), std::move(done)}); }

void database::write_bulk(write_job job, completion done) const {
  auto& jobs = impl_->bulk_conn ? impl_->bulk_writes : impl_->writes;
  jobs.push({std::move(job), std::move(done)});
}

void database::read(read_job job, completion done) const { impl_->reads.push({std::move(job), std::move(done)}); }

writer_stats database::stats() const {
  std::lock_guard lock(impl_->stats_mutex);
  auto out = impl_->stats;
  if (impl_->checkpointer) out.checkpoints = impl_->checkpointer->checkpoints();
  return out;
}

dialect database::target_dialect() const { return impl_->options.target.dialect; }

bool database::disk_full() const { return impl_->disk_full.load(); }

void database::drain_and_stop() const { impl_->stop(); }

}  // namespace osprey::persistence

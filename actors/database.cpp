#include "actors/database.hpp"

#include <atomic>
#include <iostream>
#include <vector>

namespace osprey::actors {

using persistence::sql_connection;
using persistence::sql_error;

struct database::shared_state {
  caf::actor writer;
  std::vector<caf::actor> readers;
  std::atomic<std::size_t> next_reader{0};
  persistence::dialect dialect = persistence::dialect::sqlite;
};

namespace {

struct pending_write {
  write_job job;
  completion done;
};

struct writer_state {
  std::unique_ptr<sql_connection> conn;
  database_options options;
  std::vector<pending_write> pending;
  bool flush_scheduled = false;
  writer_stats stats;
  static inline const char* name = "osprey.database_writer";
};

using writer_actor = caf::stateful_actor<writer_state>;

status run_one(sql_connection& conn, const write_job& job) {
  try {
    conn.begin_write();
    try {
      job.apply(conn);
      conn.commit();
    } catch (...) {
      conn.rollback();
      throw;
    }
    return status::ok();
  } catch (const sql_error& e) {
    return persistence::to_status(e, "writing to the database");
  } catch (const std::exception& e) {
    return {errc::internal, std::string("writing to the database: ") + e.what()};
  }
}

// One transaction for the whole batch; callers hear back only after COMMIT. If any job fails, the batch
// is rolled back and each job runs alone, so one bad write cannot sink its neighbours.
void commit_batch(writer_actor* self, std::vector<pending_write>& batch) {
  auto& st = self->state;
  auto& conn = *st.conn;
  st.stats.largest_batch = std::max<std::uint64_t>(st.stats.largest_batch, batch.size());
  bool batch_ok = false;
  try {
    conn.begin_write();
    try {
      for (auto& p : batch) p.job.apply(conn);
      conn.commit();
      batch_ok = true;
    } catch (...) {
      conn.rollback();
      throw;
    }
  } catch (const std::exception&) {
    batch_ok = false;
  }
  if (batch_ok) {
    ++st.stats.transactions;
    st.stats.writes += batch.size();
    for (auto& p : batch)
      if (p.done) p.done(status::ok());
    return;
  }
  for (auto& p : batch) {
    auto s = run_one(conn, p.job);
    if (s) {
      ++st.stats.transactions;
      ++st.stats.writes;
    } else {
      ++st.stats.failed_writes;
    }
    if (p.done) p.done(s);
  }
}

void flush(writer_actor* self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.pending.empty()) return;
  std::vector<pending_write> batch;
  batch.swap(st.pending);
  commit_batch(self, batch);
}

void enqueue(writer_actor* self, write_job job, completion done) {
  auto& st = self->state;
  st.pending.push_back({std::move(job), std::move(done)});
  if (st.pending.size() >= st.options.max_batch) {
    flush(self);
    return;
  }
  if (!st.flush_scheduled) {
    // The mailbox is FIFO: every write that arrived before this flush message joins the same transaction.
    st.flush_scheduled = true;
    if (st.options.max_delay.count() == 0) self->send(self, flush_atom_v);
    else self->delayed_send(self, st.options.max_delay, flush_atom_v);
  }
}

caf::behavior database_writer(writer_actor* self, std::shared_ptr<std::unique_ptr<sql_connection>> conn,
                              database_options options) {
  self->state.conn = std::move(*conn);
  self->state.options = std::move(options);
  return {
      [self](write_atom, write_job& job) {
        auto rp = self->make_response_promise<status>();
        enqueue(self, std::move(job), [rp](const status& s) mutable { rp.deliver(s); });
        return rp;
      },
      [self](write_atom, write_job& job, completion& done) { enqueue(self, std::move(job), std::move(done)); },
      [self](flush_atom) { flush(self); },
      [self](drain_atom) {
        flush(self);
        return status::ok();
      },
      [self](stats_atom) { return self->state.stats; },
  };
}

struct reader_state {
  std::unique_ptr<sql_connection> conn;
  static inline const char* name = "osprey.database_reader";
};

using reader_actor = caf::stateful_actor<reader_state>;

status run_read(sql_connection& conn, const read_job& job) {
  try {
    conn.begin_read();
    try {
      job.apply(conn);
      conn.commit();
    } catch (...) {
      conn.rollback();
      throw;
    }
    return status::ok();
  } catch (const sql_error& e) {
    return persistence::to_status(e, "reading from the database");
  } catch (const std::exception& e) {
    return {errc::internal, std::string("reading from the database: ") + e.what()};
  }
}

caf::behavior database_reader(reader_actor* self, std::shared_ptr<std::unique_ptr<sql_connection>> conn) {
  self->state.conn = std::move(*conn);
  return {
      [self](read_atom, read_job& job) { return run_read(*self->state.conn, job); },
      [self](read_atom, read_job& job, completion& done) {
        auto s = run_read(*self->state.conn, job);
        if (done) done(s);
      },
  };
}

}  // namespace

result<database> database::start(caf::actor_system& system, const database_options& options) {
  auto writer_conn = persistence::open_connection(options.target, options.connection);
  if (!writer_conn) return writer_conn.error();
  database db;
  db.shared_ = std::make_shared<shared_state>();
  db.shared_->dialect = options.target.dialect;
  std::vector<std::shared_ptr<std::unique_ptr<sql_connection>>> reader_conns;
  for (unsigned i = 0; i < std::max(1u, options.readers); ++i) {
    auto c = persistence::open_connection(options.target, options.connection);
    if (!c) return c.error();
    reader_conns.push_back(std::make_shared<std::unique_ptr<sql_connection>>(std::move(*c)));
  }
  db.shared_->writer = system.spawn<caf::detached>(
      database_writer, std::make_shared<std::unique_ptr<sql_connection>>(std::move(*writer_conn)), options);
  for (auto& c : reader_conns) db.shared_->readers.push_back(system.spawn<caf::detached>(database_reader, c));
  return db;
}

const caf::actor& database::writer() const { return shared_->writer; }
persistence::dialect database::dialect() const { return shared_->dialect; }

void database::write(write_job job, completion done) const {
  caf::anon_send(shared_->writer, write_atom_v, std::move(job), std::move(done));
}

void database::read(read_job job, completion done) const {
  auto& readers = shared_->readers;
  const auto i = shared_->next_reader.fetch_add(1, std::memory_order_relaxed) % readers.size();
  caf::anon_send(readers[i], read_atom_v, std::move(job), std::move(done));
}

void database::drain_and_stop(caf::actor_system& system) const {
  {
    caf::scoped_actor self{system};
    self->request(shared_->writer, caf::infinite, drain_atom_v)
        .receive([](const status&) {},
                 [](const caf::error& err) { std::cerr << "osprey: draining the writer failed: " << to_string(err) << "\n"; });
  }
  caf::anon_send_exit(shared_->writer, caf::exit_reason::user_shutdown);
  for (auto& r : shared_->readers) caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
}

}  // namespace osprey::actors

// Group commit: many writers share few transactions, every caller hears back only after COMMIT, one bad
// write does not sink its batch, and draining commits everything queued. On SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <filesystem>

#include <atomic>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "persistence/database.hpp"
#include "domain/flow.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/migrator.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;

namespace {

class GroupCommit : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    auto conn = db_.connect();
    persistence::migrator m(*conn);
    auto plan = m.plan_upgrade("head");
    ASSERT_TRUE(plan);
    ASSERT_TRUE(m.apply(*plan));
  }

  void TearDown() override {
    if (database_) database_->drain_and_stop();
    database_.reset();
  }

  persistence::database& start(std::size_t max_batch = 1024,
                               std::chrono::microseconds max_delay = std::chrono::microseconds(0),
                               std::chrono::milliseconds busy_timeout = 60s) {
    persistence::database_options options;
    options.target = db_.target();
    options.max_batch = max_batch;
    options.max_delay = max_delay;
    options.connection.busy_timeout = busy_timeout;
    auto started = persistence::database::start(options);
    EXPECT_TRUE(started) << (started ? "" : started.error().message());
    database_ = std::move(*started);
    return *database_;
  }

  static persistence::write_job insert_flow(const std::string& name) {
    flow f;
    f.id = flow_id{new_uuid4()};
    f.created = f.updated = system_clock::instance().now();
    f.name = name;
    return [f](persistence::sql_connection& c) { persistence::upsert_flow(c, f); };
  }

  std::int64_t count_flows() {
    auto conn = db_.connect();
    return conn->query("SELECT count(*) FROM flow").front().integer(0);
  }

  persistence::writer_stats stats() { return database_->stats(); }

  osprey::testing::scratch_database db_{GetParam()};
  std::optional<persistence::database> database_;
};

TEST_P(GroupCommit, ManyConcurrentWritersShareFewTransactions) {
  auto& database = start();
  constexpr int writers = 64, per_writer = 50;
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      for (int i = 0; i < per_writer; ++i)
        database.write(insert_flow("w" + std::to_string(w) + "-" + std::to_string(i)),
                       [&](const status& s) { (s ? ok : failed)++; });
    });
  for (auto& t : threads) t.join();
  ASSERT_TRUE(osprey::testing::wait_until([&] { return ok + failed == writers * per_writer; }, 60s));
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(count_flows(), writers * per_writer);
  auto s = stats();
  EXPECT_EQ(s.writes, static_cast<std::uint64_t>(writers * per_writer));
  EXPECT_LT(s.transactions, s.writes / 4) << "writes were not grouped into shared transactions";
}

TEST_P(GroupCommit, CallersAreAnsweredOnlyAfterCommit) {
  auto& database = start();
  // Each completion checks, on a separate connection, that its row is already visible: committed.
  auto observer = db_.connect();
  std::mutex m;
  std::atomic<int> answered{0}, visible{0};
  for (int i = 0; i < 200; ++i) {
    const std::string name = "after-commit-" + std::to_string(i);
    database.write(insert_flow(name), [&, name](const status& s) {
      EXPECT_TRUE(s) << s.message();
      std::lock_guard lock(m);
      if (persistence::find_flow_by_name(*observer, name)) ++visible;
      ++answered;
    });
  }
  ASSERT_TRUE(osprey::testing::wait_until([&] { return answered == 200; }, 60s));
  EXPECT_EQ(visible, 200);
}

// Bulk records (events, task-run records) do not wait behind run transitions on PostgreSQL: they have a writer
// of their own. On SQLite one connection writes the file, so they queue behind the held write, in order.
TEST_P(GroupCommit, BulkWritesHaveTheirOwnWriterOnPostgresql) {
  auto& database = start();
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<bool> held_committed{false}, bulk_committed{false};
  std::atomic<bool> bulk_before_held{false};
  database.write(
      [released](persistence::sql_connection& c) {
        released.wait();  // the main writer is busy with this job until the test lets it go
        insert_flow("held")(c);
      },
      [&](const status& s) {
        EXPECT_TRUE(s) << s.message();
        held_committed = true;
      });
  database.write_bulk(insert_flow("bulk"), [&](const status& s) {
    EXPECT_TRUE(s) << s.message();
    bulk_before_held = !held_committed;
    bulk_committed = true;
  });
  if (GetParam() == dialect::postgresql) {
    EXPECT_TRUE(osprey::testing::wait_until([&] { return bulk_committed.load(); }, 30s))
        << "the bulk write waited for the main writer";
    release.set_value();
    ASSERT_TRUE(osprey::testing::wait_until([&] { return held_committed.load(); }, 30s));
    EXPECT_TRUE(bulk_before_held);
  } else {
    release.set_value();
    ASSERT_TRUE(osprey::testing::wait_until([&] { return bulk_committed && held_committed; }, 30s));
    EXPECT_FALSE(bulk_before_held) << "SQLite has one writer: the bulk write follows the held one";
  }
  EXPECT_EQ(count_flows(), 2);
}

TEST_P(GroupCommit, AFailingWriteDoesNotSinkItsBatch) {
  auto& database = start();
  std::atomic<int> ok{0}, conflicts{0}, done{0};
  for (int i = 0; i < 100; ++i) {
    persistence::write_job job = insert_flow("good-" + std::to_string(i));
    if (i == 50)
      job = [](persistence::sql_connection& c) {
        c.execute("INSERT INTO flow (id, created, updated, name) VALUES ($1, $2, $2, $3)",
                  {persistence::text("not-unique-id"), persistence::ts(system_clock::instance().now()),
                   persistence::text("dup-a")});
        c.execute("INSERT INTO flow (id, created, updated, name) VALUES ($1, $2, $2, $3)",
                  {persistence::text("not-unique-id"), persistence::ts(system_clock::instance().now()),
                   persistence::text("dup-b")});
      };
    database.write(std::move(job), [&](const status& s) {
      if (s)
        ++ok;
      else if (s.code() == errc::conflict || s.code() == errc::internal)
        ++conflicts;
      ++done;
    });
  }
  ASSERT_TRUE(osprey::testing::wait_until([&] { return done == 100; }, 60s));
  EXPECT_EQ(ok, 99);
  EXPECT_EQ(conflicts, 1);
  EXPECT_EQ(count_flows(), 99);
}

// While another connection holds the write lock, a batch is refused as a whole (503): splitting it into one
// transaction per job would make each job wait out the busy timeout again, and fail the same way.
TEST_P(GroupCommit, ABatchTheDatabaseRefusesIsAnsweredAtOnceNotJobByJob) {
  auto& database = start(1024, 200ms, 300ms);
  auto holder = db_.connect();
  holder->begin_write();
  // PostgreSQL takes no table lock on BEGIN: hold one on the table every insert needs.
  if (GetParam() == dialect::postgresql) holder->execute("LOCK TABLE flow IN ACCESS EXCLUSIVE MODE", {});
  std::atomic<int> unavailable{0}, other{0}, done{0};
  for (int i = 0; i < 20; ++i)
    database.write(insert_flow("refused-" + std::to_string(i)), [&](const status& s) {
      (s.code() == errc::unavailable ? unavailable : other)++;
      ++done;
    });
  ASSERT_TRUE(osprey::testing::wait_until([&] { return done == 20; }, 60s));
  holder->rollback();
  EXPECT_EQ(unavailable, 20);
  EXPECT_EQ(other, 0);
  auto s = stats();
  EXPECT_EQ(s.failed_writes, 20u);
  EXPECT_EQ(s.transactions, 0u);
  EXPECT_GE(s.refused_batches, 1u);
  // The lock is gone: the next write commits.
  std::atomic<bool> written{false};
  database.write(insert_flow("after-lock"), [&](const status& st) { written = st.is_ok(); });
  ASSERT_TRUE(osprey::testing::wait_until([&] { return written.load(); }, 30s));
}

// A completion that threw (say, serialising a response) ended the writer thread, and with it the server.
TEST_P(GroupCommit, ACompletionThatThrowsDoesNotStopTheDatabase) {
  auto& database = start();
  database.write(insert_flow("thrower"), [](const status&) { throw std::runtime_error("cannot serialise"); });
  database.read([](persistence::sql_connection&) {}, [](const status&) { throw std::runtime_error("nor this"); });
  std::atomic<int> answered{0};
  database.write(insert_flow("after"), [&](const status& s) { answered += s ? 1 : 100; });
  database.read([](persistence::sql_connection&) {}, [&](const status& s) { answered += s ? 1 : 100; });
  ASSERT_TRUE(osprey::testing::wait_until([&] { return answered >= 2; }, 30s));
  EXPECT_EQ(answered, 2);
  EXPECT_EQ(count_flows(), 2);
}

TEST_P(GroupCommit, DrainCommitsEverythingQueued) {
  auto& database = start(/*max_batch=*/16);
  for (int i = 0; i < 500; ++i) database.write(insert_flow("drain-" + std::to_string(i)), {});
  database.drain_and_stop();
  database_.reset();
  EXPECT_EQ(count_flows(), 500);
}

TEST_P(GroupCommit, ReadersSeeCommittedWrites) {
  auto& database = start();
  std::atomic<bool> written{false};
  database.write(insert_flow("visible"), [&](const status& s) { written = s.is_ok(); });
  ASSERT_TRUE(osprey::testing::wait_until([&] { return written.load(); }, 30s));
  auto found = std::make_shared<std::optional<flow>>();
  std::atomic<bool> read_done{false};
  database.read([found](persistence::sql_connection& c) { *found = persistence::find_flow_by_name(c, "visible"); },
                [&](const status& s) {
                  EXPECT_TRUE(s);
                  read_done = true;
                });
  ASSERT_TRUE(osprey::testing::wait_until([&] { return read_done.load(); }, 30s));
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->name, "visible");
}

// SQLite: the writer's commits never checkpoint (wal_autocheckpoint=0 on its connection); the checkpointer
// thread does, while writes go on, and a stopped database leaves its WAL empty.
TEST_P(GroupCommit, SqliteCheckpointsRunBesideTheWriterAndAStopLeavesAnEmptyWal) {
  if (GetParam() != dialect::sqlite) GTEST_SKIP() << "PostgreSQL checkpoints on its own";
  auto& database = start();
  std::atomic<int> ok{0};
  for (int i = 0; i < 2000; ++i)
    database.write(insert_flow("ckpt-" + std::to_string(i)), [&](const status& s) { ok += s ? 1 : 0; });
  ASSERT_TRUE(osprey::testing::wait_until([&] { return ok == 2000; }, 60s));
  EXPECT_TRUE(osprey::testing::wait_until([&] { return stats().checkpoints > 0; }, 10s))
      << "no checkpoint ran within 10 s of the commits";
  database.drain_and_stop();
  const auto wal = std::filesystem::path(db_.target().sqlite_path + "-wal");
  EXPECT_TRUE(!std::filesystem::exists(wal) || std::filesystem::file_size(wal) == 0);
  EXPECT_EQ(count_flows(), 2000);
}

INSTANTIATE_TEST_SUITE_P(Dialects, GroupCommit, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace

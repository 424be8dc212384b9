// read_value / write_value (persistence/database_calls.hpp): a job's value reaches its callback as result<T>,
// a returned error arrives as it is, a thrown refusal rolls the job back and arrives as its status, a job
// retried after its batch failed answers with its last run. On SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <future>
#include <memory>

#include "domain/flow.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/migrator.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;
using persistence::sql_connection;

namespace {

/// One callback's answer; the callback may be called once only (a second call throws on the database thread).
template <class Answer>
class awaited {
 public:
  auto callback() {
    return [p = promise_](Answer a) { p->set_value(std::move(a)); };
  }
  Answer get() {
    EXPECT_EQ(future_.wait_for(30s), std::future_status::ready) << "no answer within 30 s";
    return future_.get();
  }

 private:
  std::shared_ptr<std::promise<Answer>> promise_ = std::make_shared<std::promise<Answer>>();
  std::future<Answer> future_ = promise_->get_future();
};

flow named(const std::string& name) {
  flow f;
  f.id = flow_id{new_uuid4()};
  f.created = f.updated = system_clock::instance().now();
  f.name = name;
  return f;
}

class DatabaseCalls : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(scratch_);
    auto conn = scratch_.connect();
    persistence::migrator m(*conn);
    auto plan = m.plan_upgrade("head");
    ASSERT_TRUE(plan);
    ASSERT_TRUE(m.apply(*plan));
  }

  void TearDown() override {
    if (database_) database_->drain_and_stop();
  }

  persistence::database& start(std::size_t max_batch = 1024, std::chrono::microseconds max_delay = 0us) {
    persistence::database_options options;
    options.target = scratch_.target();
    options.max_batch = max_batch;
    options.max_delay = max_delay;
    auto started = persistence::database::start(options);
    EXPECT_TRUE(started) << (started ? "" : started.error().message());
    database_ = std::move(*started);
    return *database_;
  }

  bool stored(const std::string& name) { return persistence::find_flow_by_name(*scratch_.connect(), name).has_value(); }

  osprey::testing::scratch_database scratch_{GetParam()};
  std::optional<persistence::database> database_;
};

TEST_P(DatabaseCalls, AWriteAnswersWithTheJobsValueAfterCommit) {
  auto& db = start();
  awaited<result<persistence::flow_upsert>> written;
  persistence::write_value(
      db, [f = named("etl")](sql_connection& c) { return persistence::upsert_flow(c, f); }, written.callback());
  auto out = written.get();
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_TRUE(out->created);
  EXPECT_EQ(out->stored.name, "etl");
  EXPECT_TRUE(stored("etl"));

  awaited<result<std::optional<flow>>> read;
  persistence::read_value(
      db, [](sql_connection& c) { return persistence::find_flow_by_name(c, "etl"); }, read.callback());
  auto found = read.get();
  ASSERT_TRUE(found) << found.error().message();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, out->stored.id);
}

TEST_P(DatabaseCalls, AnErrorTheJobReturnsArrivesAsItIs) {
  auto& db = start();
  awaited<result<flow>> read;
  persistence::read_value(
      db,
      [](sql_connection& c) -> result<flow> {
        auto f = persistence::find_flow_by_name(c, "missing");
        if (!f) return status(errc::not_found, "Flow not found");
        return std::move(*f);
      },
      read.callback());
  auto out = read.get();
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), errc::not_found);
  EXPECT_EQ(out.error().message(), "Flow not found");
}

TEST_P(DatabaseCalls, AReturnedErrorCommitsWhatTheJobWrote) {
  // The contract: return errors before writing; what was written before the return stays.
  auto& db = start();
  awaited<status> written;
  persistence::write_value(
      db,
      [f = named("kept")](sql_connection& c) {
        persistence::upsert_flow(c, f);
        return status(errc::failed_precondition, "refused after writing");
      },
      written.callback());
  EXPECT_EQ(written.get().code(), errc::failed_precondition);
  EXPECT_TRUE(stored("kept"));
}

TEST_P(DatabaseCalls, AThrownRefusalRollsTheJobBackAndArrivesAsItsStatus) {
  auto& db = start();
  awaited<result<int>> written;
  persistence::write_value(
      db,
      [f = named("undone")](sql_connection& c) -> int {
        persistence::upsert_flow(c, f);
        throw persistence::refusal(errc::conflict, "the name is reserved");
      },
      written.callback());
  auto out = written.get();
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), errc::conflict);
  EXPECT_EQ(out.error().message(), "the name is reserved");
  EXPECT_FALSE(stored("undone"));

  awaited<status> read;  // a read job may refuse the same way
  persistence::read_value(
      db, [](sql_connection&) { throw persistence::refusal(errc::not_found, "nothing here"); }, read.callback());
  auto refused = read.get();
  EXPECT_EQ(refused.code(), errc::not_found);
  EXPECT_EQ(refused.message(), "nothing here");
}

TEST_P(DatabaseCalls, InAFailedBatchEachJobAnswersWithItsLastRun) {
  // Three jobs in one batch (the writer waits for all three): a database error sinks the batch, so every job
  // runs again alone. The counting job answers 2 (its last run), not 1 and not both runs.
  auto& db = start(/*max_batch=*/3, /*max_delay=*/30s);
  auto runs = std::make_shared<int>(0);  // written by the writer thread only
  awaited<result<int>> counted;
  awaited<status> broken;
  awaited<result<flow>> refused;
  persistence::write_value(
      db,
      [runs, f = named("counted")](sql_connection& c) {
        persistence::upsert_flow(c, f);
        return ++*runs;
      },
      counted.callback());
  persistence::write_value(
      db,
      [](sql_connection&) {
        throw persistence::sql_error(persistence::sql_error::kind::constraint, "UNIQUE constraint failed");
      },
      broken.callback());
  persistence::write_value(
      db,
      [f = named("refused")](sql_connection& c) -> result<flow> {
        persistence::upsert_flow(c, f);
        throw persistence::refusal(errc::invalid_argument, "not this one");
      },
      refused.callback());

  auto count = counted.get();
  ASSERT_TRUE(count) << count.error().message();
  EXPECT_EQ(*count, 2);
  EXPECT_EQ(broken.get().code(), errc::conflict);
  auto r = refused.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), errc::invalid_argument);
  EXPECT_EQ(r.error().message(), "not this one");
  EXPECT_TRUE(stored("counted"));
  EXPECT_FALSE(stored("refused"));
}

TEST_P(DatabaseCalls, ADatabaseFailureArrivesAsTheDatabasesStatus) {
  auto& db = start();
  awaited<result<std::int64_t>> read;
  persistence::read_value(
      db, [](sql_connection& c) { return c.query("SELECT count(*) FROM no_such_table").front().integer(0); },
      read.callback());
  auto out = read.get();
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), errc::internal);

  db.drain_and_stop();
  awaited<status> late;
  persistence::write_value(
      db, [](sql_connection&) {}, late.callback());
  EXPECT_EQ(late.get().code(), errc::unavailable);
}

INSTANTIATE_TEST_SUITE_P(Dialects, DatabaseCalls, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace

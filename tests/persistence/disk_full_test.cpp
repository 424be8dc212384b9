// A full disk is a condition of its own: writes refused for lack of space are unavailable (503) with a message
// that names the cause, the database reports the episode until a write commits again, and other failures are
// not mistaken for it. SQLite gets a genuine SQLITE_FULL from a capped file (max_page_count); PostgreSQL a
// genuine SQLSTATE 53100 raised by the server.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>

#include "persistence/database.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;

namespace {

class DiskFull : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    db_.connect()->execute_script("CREATE TABLE filler (data TEXT NOT NULL)");
  }

  void TearDown() override {
    if (database_) database_->drain_and_stop();
  }

  persistence::database& start(std::uint64_t max_size_mb = 0) {
    persistence::database_options options;
    options.target = db_.target();
    options.connection.sqlite_max_size_mb = max_size_mb;
    auto started = persistence::database::start(options);
    EXPECT_TRUE(started) << (started ? "" : started.error().message());
    database_ = std::move(*started);
    return *database_;
  }

  /// Runs one write and waits for its outcome.
  status write(const std::string& sql) {
    std::promise<status> outcome;
    database_->write([sql](persistence::sql_connection& c) { c.execute(sql); },
                     [&outcome](const status& s) { outcome.set_value(s); });
    return outcome.get_future().get();
  }

  osprey::testing::scratch_database db_{GetParam()};
  std::optional<persistence::database> database_;
};

TEST_P(DiskFull, AFullDiskRefusesWritesWith503UntilOneCommitsAgain) {
  status refused;
  if (GetParam() == dialect::sqlite) {
    // A 1 MiB cap on the file: 100 KB rows fill it within a dozen writes.
    start(/*max_size_mb=*/1);
    const std::string row = "INSERT INTO filler (data) VALUES ('" + std::string(100'000, 'x') + "')";
    for (int i = 0; i < 50 && !persistence::is_disk_full(refused); ++i) refused = write(row);
  } else {
    start();
    refused = write(
        "DO $$ BEGIN RAISE EXCEPTION 'could not extend file \"base/1/2\": No space left on device' "
        "USING ERRCODE = 'disk_full'; END $$");
  }
  ASSERT_TRUE(persistence::is_disk_full(refused)) << refused.message();
  EXPECT_EQ(refused.code(), errc::unavailable);
  EXPECT_TRUE(
      refused.message().starts_with("The database is out of disk space; writes are refused until space is freed ("))
      << refused.message();
  EXPECT_TRUE(database_->disk_full());

  // Freeing space (SQLite reuses the pages of deleted rows) lets the next write commit, which ends the episode.
  ASSERT_TRUE(write("DELETE FROM filler")) << "deleting needs no new pages";
  EXPECT_FALSE(database_->disk_full());
  EXPECT_TRUE(write("INSERT INTO filler (data) VALUES ('again')"));
}

TEST_P(DiskFull, OtherFailuresAreNotADiskFull) {
  start();
  const auto bad = write("INSERT INTO no_such_table VALUES (1)");
  EXPECT_EQ(bad.code(), errc::internal);
  EXPECT_FALSE(persistence::is_disk_full(bad));
  EXPECT_FALSE(database_->disk_full());
  if (GetParam() == dialect::postgresql) {  // the rest of class 53: transient, but not the disk
    const auto memory = write("DO $$ BEGIN RAISE EXCEPTION 'out of memory' USING ERRCODE = 'out_of_memory'; END $$");
    EXPECT_EQ(memory.code(), errc::unavailable);
    EXPECT_FALSE(persistence::is_disk_full(memory));
    EXPECT_FALSE(database_->disk_full());
  }
}

INSTANTIATE_TEST_SUITE_P(Dialects, DiskFull, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace

// Event notices between servers on one PostgreSQL database: announcements are split below PostgreSQL's payload
// limit and read back whole; a listener hears only what committed, never its own origin; after its backend
// is terminated it reports the gap and hears again; stopping it while the database is unreachable is prompt.
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>

#include "persistence/event_notices.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;

namespace {

std::vector<uuid> some_ids(std::size_t n) {
  std::vector<uuid> ids;
  for (std::size_t i = 0; i < n; ++i) ids.push_back(new_uuid4());
  return ids;
}

/// What a listener reported, for assertions from the test thread.
struct heard_log {
  std::mutex mutex;
  std::vector<uuid> ids;
  std::vector<timestamp> gaps;

  persistence::event_listener_callbacks callbacks() {
    return {[this](std::vector<uuid> announced) {
              std::lock_guard lock(mutex);
              ids.insert(ids.end(), announced.begin(), announced.end());
            },
            [this](timestamp since) {
              std::lock_guard lock(mutex);
              gaps.push_back(since);
            }};
  }
  bool heard(const uuid& id) {
    std::lock_guard lock(mutex);
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }
  std::size_t gap_count() {
    std::lock_guard lock(mutex);
    return gaps.size();
  }
};

TEST(EventNoticePayloads, StayBelowPostgresLimitAndCarryEveryIdInOrder) {
  const auto ids = some_ids(1000);
  const auto payloads = persistence::event_notice_payloads("server-a", ids);
  ASSERT_GT(payloads.size(), 1u);
  std::vector<uuid> read_back;
  for (const auto& payload : payloads) {
    EXPECT_LT(payload.size(), persistence::max_notice_bytes);
    const auto notice = persistence::parse_event_notice(payload);
    ASSERT_TRUE(notice) << payload;
    EXPECT_EQ(notice->origin, "server-a");
    read_back.insert(read_back.end(), notice->ids.begin(), notice->ids.end());
  }
  EXPECT_EQ(read_back, ids);
}

TEST(EventNoticePayloads, NoIdsNoPayload) { EXPECT_TRUE(persistence::event_notice_payloads("a", {}).empty()); }

TEST(EventNoticePayloads, SomeoneElsesNotificationIsNotANotice) {
  for (const char* payload : {"", "hello", "{}", R"({"origin":"a"})", R"({"origin":"a","ids":["not-a-uuid"]})",
                              R"({"origin":1,"ids":[]})", "[1,2]"})
    EXPECT_FALSE(persistence::parse_event_notice(payload)) << payload;
}

class EventListener : public ::testing::Test {
 protected:
  void SetUp() override { OSPREY_SKIP_IF_UNAVAILABLE(db_); }

  std::unique_ptr<persistence::event_listener> listen(const std::string& origin, heard_log& log) {
    persistence::event_listener_options options;
    options.target = db_.target();
    options.first_retry = 20ms;
    options.max_retry = 200ms;
    auto listener = persistence::start_event_listener(options, origin, log.callbacks());
    EXPECT_TRUE(listener) << listener.error().message();
    return listener ? std::move(*listener) : nullptr;
  }

  /// Announces `ids` from `origin` in a transaction that commits (or rolls back).
  void announce(const std::string& origin, const std::vector<uuid>& ids, bool commit = true) {
    auto conn = db_.connect();
    conn->begin_write();
    persistence::announce_events(*conn, origin, ids);
    commit ? conn->commit() : conn->rollback();
  }

  /// Runs `sql` (one text parameter) on the server's maintenance database; returns the first column of its rows.
  static std::int64_t admin_count(const std::string& sql, const std::string& param) {
    auto admin = persistence::open_connection(*persistence::parse_database_url(*osprey::testing::postgres_admin_url()));
    EXPECT_TRUE(admin);
    return admin ? static_cast<std::int64_t>((*admin)->query(sql, {persistence::text(param)}).size()) : 0;
  }

  osprey::testing::scratch_database db_{dialect::postgresql};
};

TEST_F(EventListener, HearsOnlyWhatCommitted) {
  heard_log log;
  auto listener = listen("listener", log);
  const auto rolled_back = new_uuid4();
  const auto committed = new_uuid4();
  announce("writer", {rolled_back}, false);
  announce("writer", {committed});
  ASSERT_TRUE(osprey::testing::wait_until([&] { return log.heard(committed); }, 10s));
  // Notifications arrive in commit order: had the rolled-back one been sent, it would be here already.
  EXPECT_FALSE(log.heard(rolled_back));
}

TEST_F(EventListener, IgnoresItsOwnOrigin) {
  heard_log log;
  auto listener = listen("me", log);
  const auto mine = new_uuid4();
  const auto theirs = new_uuid4();
  announce("me", {mine});
  announce("them", {theirs});
  ASSERT_TRUE(osprey::testing::wait_until([&] { return log.heard(theirs); }, 10s));
  EXPECT_FALSE(log.heard(mine));
}

TEST_F(EventListener, HearsEveryIdOfALargeAnnouncement) {
  heard_log log;
  auto listener = listen("listener", log);
  const auto ids = some_ids(700);
  announce("writer", ids);
  ASSERT_TRUE(osprey::testing::wait_until([&] { return log.heard(ids.back()); }, 10s));
  std::lock_guard lock(log.mutex);
  EXPECT_EQ(log.ids, ids);
}

TEST_F(EventListener, AfterItsBackendIsTerminatedItReportsTheGapAndHearsAgain) {
  heard_log log;
  auto listener = listen("cut-off", log);
  const std::string name = "osprey-events-cut-off";
  const char* listening = "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'";
  ASSERT_TRUE(osprey::testing::wait_until([&] { return admin_count(listening, name) == 1; }, 10s));
  const auto before = system_clock::instance().now();
  EXPECT_EQ(admin_count("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", name), 1);
  ASSERT_TRUE(osprey::testing::wait_until([&] { return log.gap_count() == 1; }, 10s)) << "no reconnection reported";
  {
    std::lock_guard lock(log.mutex);
    // The gap starts before the loss, by the margin (clocks here are the same machine's).
    EXPECT_LE(log.gaps[0], before);
    EXPECT_GE(log.gaps[0], before - 130s);
  }
  const auto after = new_uuid4();
  announce("writer", {after});
  EXPECT_TRUE(osprey::testing::wait_until([&] { return log.heard(after); }, 10s));
}

TEST(EventListenerStop, IsPromptWhileTheDatabaseIsUnreachable) {
  persistence::event_listener_options options;
  // Nothing listens on port 1: every attempt is refused at once, and the listener keeps retrying.
  options.target = *persistence::parse_database_url("postgresql://osprey@127.0.0.1:1/osprey");
  options.first_retry = 10ms;
  heard_log log;
  auto listener = persistence::start_event_listener(options, "unreachable", log.callbacks());
  ASSERT_TRUE(listener) << listener.error().message();
  const auto start = std::chrono::steady_clock::now();
  (*listener)->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(log.gap_count(), 0u);
}

TEST(EventListenerStart, IsRefusedForSqlite) {
  persistence::event_listener_options options;
  options.target = *persistence::parse_database_url("sqlite:///:memory:");
  EXPECT_FALSE(persistence::start_event_listener(options, "a", {}));
}

}  // namespace

// The outbox and policy queries on real SQLite and PostgreSQL: leases (one holder at a time, expiry, release
// at start), retry scheduling, dead letters and re-queueing, and file-policy synchronisation.
#include <gtest/gtest.h>

#include "persistence/migrator.hpp"
#include "persistence/notification_store.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;

namespace {

class NotificationStore : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    conn_ = db_.connect();
    persistence::migrator m(*conn_);
    ASSERT_TRUE(m.reset());
  }

  persistence::outbox_job job(const std::string& channel, std::optional<std::string> owner = std::nullopt) {
    persistence::outbox_job j;
    j.id = new_uuid4();
    j.created = j.next_attempt_at = now_;
    j.policy_name = "p";
    j.channel_name = channel;
    j.state = state_id{new_uuid4()};
    j.state_name = "Failed";
    j.dedup_key = "osprey/p/x";
    j.payload = {{"title", "t"}};
    if (owner) {
      j.lease_owner = owner;
      j.lease_expires_at = now_ + 300s;
    }
    return j;
  }

  template <class Fn>
  void write(Fn&& fn) {
    ASSERT_TRUE(persistence::in_write_transaction(*conn_, "test", fn));
  }

  osprey::testing::scratch_database db_{GetParam()};
  std::unique_ptr<persistence::sql_connection> conn_;
  timestamp now_ = system_clock::instance().now();
};

TEST_P(NotificationStore, LeasesGoToOneHolderUntilTheyExpireOrAreReleased) {
  write([&](auto& c) { persistence::insert_outbox_jobs(c, {job("a"), job("b", "other:1")}); });
  std::vector<persistence::outbox_job> first, second;
  write([&](auto& c) { first = persistence::lease_due_jobs(c, "me:1", now_, now_ + 60s, 10); });
  ASSERT_EQ(first.size(), 1u);  // "b" is held by another server
  EXPECT_EQ(first[0].channel_name, "a");
  EXPECT_EQ(first[0].lease_owner, "me:1");
  write([&](auto& c) { second = persistence::lease_due_jobs(c, "me:1", now_, now_ + 60s, 10); });
  EXPECT_TRUE(second.empty());
  // After the leases expire both are due again.
  write([&](auto& c) { second = persistence::lease_due_jobs(c, "me:2", now_ + 400s, now_ + 460s, 10); });
  EXPECT_EQ(second.size(), 2u);
  std::int64_t released = 0;
  write([&](auto& c) { released = persistence::release_all_leases(c); });
  EXPECT_EQ(released, 2);
}

TEST_P(NotificationStore, RetriesWaitUntilDueAndDeadLettersCanBeRequeued) {
  auto j = job("a", "me:1");
  write([&](auto& c) { persistence::insert_outbox_jobs(c, {j}); });
  j.parts_done = {0};
  write([&](auto& c) { persistence::mark_retry(c, j, 1, now_ + 30s, "HTTP 503", now_); });
  std::optional<timestamp> due;
  std::vector<persistence::outbox_job> leased;
  ASSERT_TRUE(persistence::in_transaction(*conn_, persistence::transaction_kind::read, "t",
                                          [&](auto& c) { due = persistence::next_due_time(c); }));
  ASSERT_TRUE(due);
  EXPECT_EQ(*due, now_ + 30s);
  write([&](auto& c) { leased = persistence::lease_due_jobs(c, "me:1", now_ + 10s, now_ + 70s, 10); });
  EXPECT_TRUE(leased.empty());  // not due yet
  write([&](auto& c) { leased = persistence::lease_due_jobs(c, "me:1", now_ + 31s, now_ + 91s, 10); });
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0].attempts, 1);
  EXPECT_EQ(leased[0].last_error, "HTTP 503");
  EXPECT_EQ(leased[0].parts_done, std::vector<int>{0});
  EXPECT_EQ(leased[0].payload, (nlohmann::json{{"title", "t"}}));

  write([&](auto& c) { persistence::mark_dead(c, j.id, 2, "HTTP 404: no_service", now_); });
  auto counts = persistence::count_outbox(*conn_);
  EXPECT_EQ(counts.dead, 1);
  EXPECT_EQ(counts.pending, 0);
  bool requeued = false;
  write([&](auto& c) { requeued = persistence::requeue_job(c, j.id, now_ + 100s); });
  EXPECT_TRUE(requeued);
  auto back = persistence::find_outbox_job(*conn_, j.id);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, persistence::outbox_status::pending);
  EXPECT_EQ(back->attempts, 0);
  write([&](auto& c) { persistence::mark_delivered(c, j.id, 1, now_ + 101s); });
  write([&](auto& c) { requeued = persistence::requeue_job(c, j.id, now_ + 102s); });
  EXPECT_FALSE(requeued);  // delivered jobs stay delivered
  EXPECT_FALSE(persistence::find_outbox_job(*conn_, new_uuid4()));
}

TEST_P(NotificationStore, KindGroupWaitAndPartsDoneRoundTrip) {
  auto j = job("a");
  j.kind = notification_kind::resolve;
  j.group_wait = 250ms;
  j.parts_done = {1, 2};
  write([&](auto& c) { persistence::insert_outbox_jobs(c, {j}); });
  auto back = persistence::find_outbox_job(*conn_, j.id);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kind, notification_kind::resolve);
  EXPECT_EQ(back->status, persistence::outbox_status::pending);
  EXPECT_EQ(back->group_wait, 250ms);
  EXPECT_EQ(back->parts_done, (std::vector<int>{1, 2}));
  EXPECT_EQ(back->payload, (nlohmann::json{{"title", "t"}}));  // the notifier's payload only
  auto listed = persistence::list_outbox(*conn_, persistence::outbox_status::pending, 10);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_TRUE(persistence::list_outbox(*conn_, persistence::outbox_status::dead, 10).empty());
  EXPECT_EQ(persistence::list_outbox(*conn_, std::nullopt, 10).size(), 1u);
}

// Rows written before group_wait and parts_done became fields kept them in the payload; an upgraded server
// reads such a row as if it had written it (and writes them there too, so a downgraded one still can).
TEST_P(NotificationStore, ARowWrittenByThePreviousVersionReadsIntoTheFields) {
  const auto id = new_uuid4();
  write([&](auto& c) {
    c.execute(
        "INSERT INTO notification_outbox (id, created, updated, policy_name, channel_name, state_id, state_name, "
        "dedup_key, kind, payload, status, attempts, next_attempt_at) "
        "VALUES ($1, $2, $2, 'p', 'sms', $3, 'Failed', 'osprey/p/x', 'trigger', $4, 'pending', 1, $2)",
        {persistence::id(id), persistence::ts(now_), persistence::id(new_uuid4()),
         persistence::text(R"({"title":"t","message":"m","values":{"flow_name":"etl"},"group_wait_ms":1500,)"
                           R"("parts_done":[0,2]})")});
  });
  std::vector<persistence::outbox_job> leased;
  write([&](auto& c) { leased = persistence::lease_due_jobs(c, "me:1", now_, now_ + 60s, 10); });
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0].kind, notification_kind::trigger);
  EXPECT_EQ(leased[0].group_wait, 1500ms);
  EXPECT_EQ(leased[0].parts_done, (std::vector<int>{0, 2}));
  EXPECT_EQ(leased[0].payload, (nlohmann::json{{"title", "t"}, {"message", "m"}, {"values", {{"flow_name", "etl"}}}}));

  write([&](auto& c) { persistence::mark_retry(c, leased[0], 2, now_ + 1s, "HTTP 500", now_); });
  auto rows = conn_->query("SELECT payload FROM notification_outbox WHERE id = $1", {persistence::id(id)});
  ASSERT_EQ(rows.size(), 1u);
  const auto stored = nlohmann::json::parse(rows[0].text(0));
  EXPECT_EQ(stored["group_wait_ms"], 1500);
  EXPECT_EQ(stored["parts_done"], nlohmann::json::array({0, 2}));
}

TEST_P(NotificationStore, FilePoliciesAreSynchronisedByNameAndKeepTheirIds) {
  notification_policy a, b, api;
  a.name = "a";
  a.channels = {"x"};
  a.match.state_names = {"Failed"};
  a.group_wait = 1500ms;
  b.name = "b";
  b.channels = {"y"};
  b.scope = dedup_scope::deployment;
  api.name = "from-api";
  api.source = "api";
  api.id = new_uuid4();
  api.channels = {"x"};
  write([&](auto& c) {
    persistence::insert_policy(c, api, now_);
    persistence::sync_file_policies(c, {a, b}, now_);
  });
  auto stored = persistence::list_policies(*conn_);
  ASSERT_EQ(stored.size(), 3u);
  const auto id_of_a = *stored[0].id;
  EXPECT_EQ(stored[0].name, "a");
  EXPECT_EQ(stored[0].source, "file");
  EXPECT_EQ(stored[0].group_wait, 1500ms);
  EXPECT_EQ(stored[0].match.state_names, std::vector<std::string>{"Failed"});
  EXPECT_EQ(stored[1].scope, dedup_scope::deployment);
  EXPECT_EQ(stored[2].source, "api");
  // The file drops "b" and changes "a": "a" keeps its id, "b" goes, the API policy stays.
  a.channels = {"x", "y"};
  write([&](auto& c) { persistence::sync_file_policies(c, {a}, now_); });
  stored = persistence::list_policies(*conn_);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(*stored[0].id, id_of_a);
  EXPECT_EQ(stored[0].channels, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(stored[1].name, "from-api");
}

INSTANTIATE_TEST_SUITE_P(D, NotificationStore, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace

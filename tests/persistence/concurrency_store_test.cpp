// Global concurrency limits and their leases on real SQLite and PostgreSQL: slots are taken and given back in
// one job, a lease lives in the database until released or reaped, an expired lease gives its slots back, and
// concurrent acquisitions through the group-committing writer never exceed the limit.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "persistence/concurrency_store.hpp"
#include "persistence/database.hpp"
#include "persistence/migrator.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;

namespace {

const slot_wait_caps caps{};

class ConcurrencyStore : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    conn_ = db_.connect();
    persistence::migrator m(*conn_);
    ASSERT_TRUE(m.reset());
  }

  concurrency_limit create(const std::string& name, std::int64_t max, double decay = 0) {
    concurrency_limit l;
    l.id = concurrency_limit_id{new_uuid4()};
    l.created = l.updated = now_;
    l.name = name;
    l.limit = max;
    l.slot_decay_per_second = decay;
    write([&](auto& c) { persistence::insert_limit(c, l); });
    return l;
  }

  template <class Fn>
  void write(Fn&& fn) {
    auto s = persistence::in_write_transaction(*conn_, "test", fn);
    ASSERT_TRUE(s) << s.message();
  }

  concurrency_limit stored(const concurrency_limit& l) {
    std::optional<concurrency_limit> found;
    write([&](auto& c) { found = persistence::find_limit(c, l.id); });
    EXPECT_TRUE(found);
    return found.value_or(concurrency_limit{});
  }

  persistence::acquire_outcome acquire(std::vector<std::string> names, std::int64_t slots = 1,
                                       std::optional<std::chrono::microseconds> lease = 60s, timestamp at = {}) {
    persistence::acquire_request r;
    r.names = std::move(names);
    r.slots = slots;
    r.lease_duration = lease;
    r.holder = lease_holder{"task_run", new_uuid4()};
    persistence::acquire_outcome out;
    write([&](auto& c) { out = persistence::acquire_slots(c, r, at == timestamp{} ? now_ : at, caps); });
    return out;
  }

  std::int64_t count_leases() { return conn_->query("SELECT count(*) FROM concurrency_lease")[0].integer(0); }

  osprey::testing::scratch_database db_{GetParam()};
  std::unique_ptr<persistence::sql_connection> conn_;
  timestamp now_ = *parse_iso8601("2026-03-01T12:00:00.123456Z");
};

TEST_P(ConcurrencyStore, LimitsRoundTripAndNamesAreUnique) {
  auto l = create("db", 3, 0.5);
  auto back = stored(l);
  EXPECT_EQ(back.name, "db");
  EXPECT_EQ(back.limit, 3);
  EXPECT_DOUBLE_EQ(back.slot_decay_per_second, 0.5);
  EXPECT_DOUBLE_EQ(back.avg_slot_occupancy_seconds, 2.0);
  EXPECT_EQ(back.updated, now_);
  auto twin = l;
  twin.id = concurrency_limit_id{new_uuid4()};
  auto s = persistence::in_write_transaction(*conn_, "dup", [&](auto& c) { persistence::insert_limit(c, twin); });
  EXPECT_EQ(s.code(), errc::conflict);
  create("api", 1);
  std::vector<concurrency_limit> listed;
  write([&](auto& c) { listed = persistence::list_limits(c, 10, 0); });
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].name, "api");
  write([&](auto& c) { listed = persistence::list_limits(c, 10, 1); });
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].name, "db");
}

TEST_P(ConcurrencyStore, NamesWithoutLimitsAreGrantedWithoutALeaseOrAnyWrite) {
  auto out = acquire({"tag:none"});
  EXPECT_EQ(out.decision.verdict, acquire_verdict::granted);
  EXPECT_TRUE(out.limits.empty());
  EXPECT_FALSE(out.lease);
  EXPECT_EQ(count_leases(), 0);
}

TEST_P(ConcurrencyStore, SlotsAreTakenUntilTheLimitThenRefusedWithDeniedSlotsCounted) {
  auto l = create("tag:db", 2);
  auto first = acquire({"tag:db", "tag:other"});
  ASSERT_EQ(first.decision.verdict, acquire_verdict::granted);
  ASSERT_EQ(first.limits.size(), 1u);
  ASSERT_TRUE(first.lease);
  EXPECT_EQ(acquire({"tag:db"}).decision.verdict, acquire_verdict::granted);
  auto third = acquire({"tag:db"});
  EXPECT_EQ(third.decision.verdict, acquire_verdict::locked);
  EXPECT_FALSE(third.lease);
  EXPECT_GT(third.decision.retry_after_average, 0);
  auto after = stored(l);
  EXPECT_EQ(after.active_slots, 2);
  EXPECT_EQ(after.denied_slots, 1);
  EXPECT_EQ(count_leases(), 2);

  std::optional<concurrency_lease> lease;
  write([&](auto& c) { lease = persistence::find_lease(c, *first.lease); });
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->slots, 1);
  EXPECT_EQ(lease->expiration, now_ + 60s);
  ASSERT_EQ(lease->resource_ids.size(), 1u);
  EXPECT_EQ(lease->resource_ids[0], l.id);
  ASSERT_TRUE(lease->holder);
  EXPECT_EQ(lease->holder->type, "task_run");
}

TEST_P(ConcurrencyStore, TooManySlotsChangesNothing) {
  auto l = create("db", 2);
  EXPECT_EQ(acquire({"db"}, 3).decision.verdict, acquire_verdict::too_many_slots);
  EXPECT_EQ(stored(l).active_slots, 0);
  EXPECT_EQ(stored(l).updated, now_);
  EXPECT_EQ(count_leases(), 0);
}

TEST_P(ConcurrencyStore, ReleasingALeaseGivesItsSlotsBackOnceAndLearnsTheOccupancy) {
  auto l = create("db", 1);
  auto out = acquire({"db"});
  ASSERT_TRUE(out.lease);
  std::optional<concurrency_lease> released, again;
  write([&](auto& c) { released = persistence::release_lease(c, *out.lease, now_ + 10s, caps); });
  ASSERT_TRUE(released);
  auto after = stored(l);
  EXPECT_EQ(after.active_slots, 0);
  EXPECT_DOUBLE_EQ(after.avg_slot_occupancy_seconds, 2.0 + 10.0 / 2 - 2.0 / 2);
  write([&](auto& c) { again = persistence::release_lease(c, *out.lease, now_ + 11s, caps); });
  EXPECT_FALSE(again);
  EXPECT_EQ(stored(l).active_slots, 0);
  EXPECT_EQ(count_leases(), 0);
}

TEST_P(ConcurrencyStore, AnExpiredLeaseIsReapedAndFreesItsSlot) {
  auto l = create("db", 1);
  auto held = acquire({"db"}, 1, 60s);
  ASSERT_TRUE(held.lease);
  EXPECT_EQ(acquire({"db"}).decision.verdict, acquire_verdict::locked);
  bool expired = true;
  std::size_t reaped = 99;
  write([&](auto& c) { expired = persistence::any_expired_lease(c, now_ + 59s); });
  EXPECT_FALSE(expired);
  write([&](auto& c) { reaped = persistence::reap_expired_leases(c, now_ + 59s, caps, 100); });
  EXPECT_EQ(reaped, 0u);
  write([&](auto& c) { expired = persistence::any_expired_lease(c, now_ + 61s); });
  EXPECT_TRUE(expired);
  write([&](auto& c) { reaped = persistence::reap_expired_leases(c, now_ + 61s, caps, 100); });
  EXPECT_EQ(reaped, 1u);
  EXPECT_EQ(stored(l).active_slots, 0);
  EXPECT_EQ(count_leases(), 0);
  EXPECT_EQ(acquire({"db"}, 1, 60s, now_ + 62s).decision.verdict, acquire_verdict::granted);
}

TEST_P(ConcurrencyStore, ARenewedLeaseOutlivesItsFirstExpiration) {
  create("db", 1);
  auto held = acquire({"db"}, 1, 60s);
  bool renewed = false;
  write([&](auto& c) { renewed = persistence::renew_lease(c, *held.lease, now_ + 120s, now_ + 50s); });
  EXPECT_TRUE(renewed);
  std::size_t reaped = 99;
  write([&](auto& c) { reaped = persistence::reap_expired_leases(c, now_ + 90s, caps, 100); });
  EXPECT_EQ(reaped, 0u);
  write([&](auto& c) { renewed = persistence::renew_lease(c, concurrency_lease_id{new_uuid4()}, now_, now_); });
  EXPECT_FALSE(renewed);
}

TEST_P(ConcurrencyStore, LeasesOfALimitAreFoundAndDropped) {
  auto l = create("tag:db", 5);
  create("tag:web", 5);
  acquire({"tag:db"});
  acquire({"tag:db", "tag:web"});
  acquire({"tag:web"});
  std::vector<concurrency_lease> holding;
  write([&](auto& c) { holding = persistence::leases_holding(c, l.id, now_); });
  EXPECT_EQ(holding.size(), 2u);
  write([&](auto& c) { holding = persistence::leases_holding(c, l.id, now_ + 61s); });
  EXPECT_TRUE(holding.empty());  // expired leases hold nothing any more
  std::size_t dropped = 0;
  write([&](auto& c) { dropped = persistence::drop_leases_on(c, l.id); });
  EXPECT_EQ(dropped, 2u);
  EXPECT_EQ(count_leases(), 1);
}

TEST_P(ConcurrencyStore, InactiveLimitsAreListedLeasedButNeverCounted) {
  auto l = create("db", 1);
  l.active = false;
  l.updated = now_;
  write([&](auto& c) { ASSERT_TRUE(persistence::update_limit(c, l)); });
  auto out = acquire({"db"});
  EXPECT_EQ(out.decision.verdict, acquire_verdict::granted);
  EXPECT_EQ(out.limits.size(), 1u);
  EXPECT_TRUE(out.lease);
  EXPECT_EQ(acquire({"db"}).decision.verdict, acquire_verdict::granted);
  EXPECT_EQ(stored(l).active_slots, 0);
}

TEST_P(ConcurrencyStore, ConcurrentAcquisitionsThroughGroupCommitNeverExceedTheLimit) {
  create("tag:db", 3);
  persistence::database_options options;
  options.target = db_.target();
  auto database = persistence::database::start(options);
  ASSERT_TRUE(database) << database.error().message();
  constexpr int requests = 40;
  std::atomic<int> granted{0}, locked{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < requests / 4; ++i) {
        auto out = std::make_shared<persistence::acquire_outcome>();
        persistence::acquire_request r{{"tag:db"}, 1, acquire_mode::concurrency, 60s, std::nullopt};
        database->write([out, r, now = now_](auto& c) { *out = persistence::acquire_slots(c, r, now, caps); },
                        [&, out](const status& s) {
                          if (!s)
                            failed++;
                          else if (out->decision.verdict == acquire_verdict::granted)
                            granted++;
                          else
                            locked++;
                        });
      }
    });
  for (auto& t : threads) t.join();
  ASSERT_TRUE(osprey::testing::wait_until([&] { return granted + locked + failed == requests; }, 60s));
  database->drain_and_stop();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(granted, 3);
  EXPECT_EQ(locked, requests - 3);
  EXPECT_EQ(conn_->query("SELECT active_slots, denied_slots FROM concurrency_limit_v2")[0].integer(0), 3);
  EXPECT_EQ(count_leases(), 3);
}

INSTANTIATE_TEST_SUITE_P(D, ConcurrencyStore, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace

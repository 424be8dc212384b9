// The lease reaper on a moved clock: a lease whose holder stopped renewing gives its slot back once it expired,
// a lease still valid (or renewed) keeps it, and a pass with nothing expired writes nothing.
#include <gtest/gtest.h>

#include "actors/lease_reaper.hpp"
#include "persistence/concurrency_store.hpp"
#include "persistence/migrator.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;

namespace {

class LeaseReaper : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    conn_ = db_.connect();
    persistence::migrator m(*conn_);
    ASSERT_TRUE(m.reset());
    limit_.id = concurrency_limit_id{new_uuid4()};
    limit_.created = limit_.updated = clock_.now();
    limit_.name = "tag:db";
    limit_.limit = 2;
    ASSERT_TRUE(
        persistence::in_write_transaction(*conn_, "seed", [&](auto& c) { persistence::insert_limit(c, limit_); }));
    persistence::database_options options;
    options.target = db_.target();
    database_ = *persistence::database::start(options);
    caf_config_.set("scheduler.max-threads", std::size_t{2});
    system_ = std::make_unique<caf::actor_system>(caf_config_);
  }

  void TearDown() override {
    if (system_) {
      caf::anon_send_exit(reaper_, caf::exit_reason::user_shutdown);
      reaper_ = nullptr;
      system_.reset();
    }
    if (database_) database_->drain_and_stop();
  }

  void start_reaper() {
    actors::lease_reaper_options options{*database_};
    options.time = &clock_;
    options.interval = 1h;  // passes only when asked: the test moves the clock instead of waiting
    reaper_ = actors::spawn_lease_reaper(*system_, options);
    ASSERT_TRUE(osprey::testing::wait_until([&] { return stats().first >= 1; }, 30s));  // its first pass
  }

  concurrency_lease_id take(std::chrono::seconds lease) {
    persistence::acquire_request r{
        {"tag:db"}, 1, acquire_mode::concurrency, lease, lease_holder{"task_run", new_uuid4()}};
    persistence::acquire_outcome out;
    EXPECT_TRUE(persistence::in_write_transaction(
        *conn_, "take", [&](auto& c) { out = persistence::acquire_slots(c, r, clock_.now(), {}); }));
    return *out.lease;
  }

  std::pair<std::uint64_t, std::uint64_t> stats() {
    caf::scoped_actor self{*system_};
    std::pair<std::uint64_t, std::uint64_t> out;
    self->request(reaper_, caf::infinite, actors::stats_atom_v)
        .receive(
            [&](std::uint64_t passes, std::uint64_t leases) {
              out = {passes, leases};
            },
            [](const caf::error&) {});
    return out;
  }
  std::uint64_t reaped() { return stats().second; }

  bool reaped_reaches(std::uint64_t n) {
    caf::anon_send(reaper_, actors::sweep_atom_v);
    return osprey::testing::wait_until([&] { return reaped() >= n; }, 30s);
  }

  std::int64_t active_slots() { return conn_->query("SELECT active_slots FROM concurrency_limit_v2").at(0).integer(0); }

  osprey::testing::scratch_database db_{GetParam()};
  manual_clock clock_{*parse_iso8601("2026-05-01T08:00:00Z")};
  std::unique_ptr<persistence::sql_connection> conn_;
  concurrency_limit limit_;
  std::optional<persistence::database> database_;
  caf::actor_system_config caf_config_;
  std::unique_ptr<caf::actor_system> system_;
  caf::actor reaper_;
};

TEST_P(LeaseReaper, AnExpiredLeaseGivesItsSlotBackAndAValidOneKeepsIt) {
  take(60s);
  clock_.advance(30s);
  take(60s);
  ASSERT_EQ(active_slots(), 2);
  start_reaper();
  clock_.advance(31s);  // the first lease expired a second ago, the second has 29 s left
  ASSERT_TRUE(reaped_reaches(1));
  EXPECT_EQ(active_slots(), 1);
  EXPECT_EQ(conn_->query("SELECT COUNT(*) FROM concurrency_lease").at(0).integer(0), 1);
  clock_.advance(60s);
  ASSERT_TRUE(reaped_reaches(2));
  EXPECT_EQ(active_slots(), 0);
}

TEST_P(LeaseReaper, ARenewedLeaseIsNotReaped) {
  auto lease = take(60s);
  start_reaper();
  clock_.advance(50s);
  ASSERT_TRUE(persistence::in_write_transaction(
      *conn_, "renew", [&](auto& c) { persistence::renew_lease(c, lease, clock_.now() + 60s, clock_.now()); }));
  clock_.advance(50s);  // past the first expiration, inside the renewed one
  const auto writes = database_->stats().transactions;
  const auto passes = stats().first;
  caf::anon_send(reaper_, actors::sweep_atom_v);
  ASSERT_TRUE(osprey::testing::wait_until([&] { return stats().first > passes; }, 30s));
  // The pass read, found nothing expired, and wrote nothing.
  EXPECT_EQ(reaped(), 0u);
  EXPECT_EQ(database_->stats().transactions, writes);
  EXPECT_EQ(active_slots(), 1);
}

INSTANTIATE_TEST_SUITE_P(D, LeaseReaper, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace

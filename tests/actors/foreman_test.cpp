// The foreman on a moved clock: a worker silent past its heartbeat interval × 3 goes OFFLINE and takes its pool
// to NOT_READY, a worker that keeps heartbeating keeps both, a queue not polled for a minute is NOT_READY, and a
// pass with nothing stale writes nothing.
#include <gtest/gtest.h>

#include "actors/foreman.hpp"
#include "persistence/migrator.hpp"
#include "persistence/work_pool_store.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;

namespace {

class Foreman : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    conn_ = db_.connect();
    persistence::migrator m(*conn_);
    ASSERT_TRUE(m.reset());
    pool_.id = work_pool_id{new_uuid4()};
    pool_.created = pool_.updated = clock_.now();
    pool_.name = "P";
    pool_.type = "process";
    ASSERT_TRUE(write([&](auto& c) { persistence::create_pool(c, pool_); }));
    persistence::database_options options;
    options.target = db_.target();
    database_ = *persistence::database::start(options);
    caf_config_.set("scheduler.max-threads", std::size_t{2});
    system_ = std::make_unique<caf::actor_system>(caf_config_);
    actors::foreman_options foreman{*database_};
    foreman.time = &clock_;
    foreman.interval = 1h;  // passes only when asked: the test moves the clock instead of waiting
    foreman_ = actors::spawn_foreman(*system_, foreman);
    ASSERT_TRUE(osprey::testing::wait_until([&] { return stats().first >= 1; }, 30s));  // its first pass
  }

  void TearDown() override {
    if (system_) {
      caf::anon_send_exit(foreman_, caf::exit_reason::user_shutdown);
      foreman_ = nullptr;
      system_.reset();
    }
    if (database_) database_->drain_and_stop();
  }

  template <class Fn>
  bool write(Fn&& fn) {
    return static_cast<bool>(persistence::in_write_transaction(*conn_, "test", std::forward<Fn>(fn)));
  }

  /// A heartbeat as the route records it: the worker ONLINE, a NOT_READY pool READY.
  void heartbeat(const std::string& name, std::optional<std::int64_t> interval) {
    ASSERT_TRUE(write([&](auto& c) {
      persistence::record_heartbeat(c, pool_.id, name, interval, clock_.now());
      auto p = *persistence::find_pool(c, pool_.id);
      p.status = pool_status::ready;
      persistence::update_pool(c, p);
    }));
  }

  std::pair<std::uint64_t, std::uint64_t> stats() {
    caf::scoped_actor self{*system_};
    std::pair<std::uint64_t, std::uint64_t> out;
    self->request(foreman_, caf::infinite, actors::stats_atom_v)
        .receive(
            [&](std::uint64_t passes, std::uint64_t changed) {
              out = {passes, changed};
            },
            [](const caf::error&) {});
    return out;
  }

  /// Asks for a pass and waits for it.
  void sweep() {
    const auto passes = stats().first;
    caf::anon_send(foreman_, actors::sweep_atom_v);
    ASSERT_TRUE(osprey::testing::wait_until([&] { return stats().first > passes; }, 30s));
  }

  std::string column(const std::string& sql) { return conn_->query(sql).at(0).text(0); }
  std::string pool_status_now() { return column("SELECT status FROM work_pool"); }
  std::string worker_status_of(const std::string& name) {
    return conn_->query("SELECT status FROM worker WHERE name = $1", {persistence::text(name)}).at(0).text(0);
  }

  osprey::testing::scratch_database db_{GetParam()};
  manual_clock clock_{*parse_iso8601("2026-05-01T08:00:00Z")};
  std::unique_ptr<persistence::sql_connection> conn_;
  work_pool pool_;
  std::optional<persistence::database> database_;
  caf::actor_system_config caf_config_;
  std::unique_ptr<caf::actor_system> system_;
  caf::actor foreman_;
};

TEST_P(Foreman, ASilentWorkerGoesOfflineAndItsPoolNotReady) {
  heartbeat("w1", 10);
  clock_.advance(30s);  // exactly 3 × 10 s: not yet stale
  sweep();
  EXPECT_EQ(worker_status_of("w1"), "ONLINE");
  EXPECT_EQ(pool_status_now(), "READY");
  clock_.advance(1s);
  sweep();
  EXPECT_EQ(worker_status_of("w1"), "OFFLINE");
  EXPECT_EQ(pool_status_now(), "NOT_READY");
  heartbeat("w1", 10);  // back: the route makes the pool READY again
  EXPECT_EQ(worker_status_of("w1"), "ONLINE");
  EXPECT_EQ(pool_status_now(), "READY");
}

TEST_P(Foreman, APoolStaysReadyWhileOneWorkerHeartbeatsAndWorkersWithoutIntervalGetThirtySeconds) {
  heartbeat("quiet", std::nullopt);
  heartbeat("busy", 5);
  for (int i = 0; i < 10; ++i) {
    clock_.advance(10s);
    heartbeat("busy", 5);
  }
  sweep();
  EXPECT_EQ(worker_status_of("quiet"), "OFFLINE");  // 100 s > 3 × 30 s
  EXPECT_EQ(worker_status_of("busy"), "ONLINE");
  EXPECT_EQ(pool_status_now(), "READY");
}

TEST_P(Foreman, AQueueNotPolledForAMinuteIsNotReadyAndAQuietPassWritesNothing) {
  std::vector<work_queue> queues;
  ASSERT_TRUE(write([&](auto& c) {
    queues = persistence::select_pool_queues(c, pool_.id, {});
    persistence::record_poll(c, queues, clock_.now());
  }));
  EXPECT_EQ(column("SELECT status FROM work_queue"), "READY");
  clock_.advance(60s);
  const auto writes = database_->stats().transactions;
  sweep();
  EXPECT_EQ(database_->stats().transactions, writes);  // looked, found nothing, wrote nothing
  EXPECT_EQ(column("SELECT status FROM work_queue"), "READY");
  clock_.advance(1s);
  sweep();
  EXPECT_EQ(column("SELECT status FROM work_queue"), "NOT_READY");
  EXPECT_EQ(stats().second, 1u);
}

INSTANTIATE_TEST_SUITE_P(D, Foreman, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace

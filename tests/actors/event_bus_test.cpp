// The event bus on SQLite and PostgreSQL: events are stored before they are delivered, each id once; state
// changes still reach actor subscribers and become stored prefect.flow-run.<State> events; unsubscribing stops
// delivery; without a store, recent ids are still de-duplicated; an event the database refuses while it is
// locked is delivered at once and stored once the lock is gone, or handed to the writer at shutdown.
#include <gtest/gtest.h>

#include <mutex>

#include "actors/event_bus.hpp"
#include "persistence/event_store.hpp"
#include "persistence/migrator.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;

namespace {

/// What an event_sink saw, for assertions from the test thread.
struct sink_log {
  std::mutex mutex;
  std::vector<event> events;

  actors::event_sink sink() {
    return [this](const actors::shared_event& e) {
      std::lock_guard lock(mutex);
      events.push_back(*e);
    };
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return events.size();
  }
  std::vector<std::string> names() {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.name);
    return out;
  }
};

actors::state_change_listener_actor::behavior_type state_change_counter(std::shared_ptr<std::atomic<int>> count) {
  return {[count](const state_change&) { ++*count; }};
}

event make_event(const std::string& name) {
  event e;
  e.id = new_uuid4();
  e.occurred = system_clock::instance().now();
  e.name = name;
  e.resource = {{"prefect.resource.id", "test.thing"}};
  return e;
}

class EventBus : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    {
      auto conn = db_.connect();
      persistence::migrator m(*conn);
      auto plan = m.plan_upgrade("head");
      ASSERT_TRUE(plan);
      ASSERT_TRUE(m.apply(*plan));
    }
    persistence::database_options options;
    options.target = db_.target();
    // Short, so a test holding a write lock makes the bus's writes time out quickly.
    options.connection.busy_timeout = 300ms;
    database_ = *persistence::database::start(options);
    caf_config_.set("scheduler.max-threads", std::size_t{2});
    system_ = std::make_unique<caf::actor_system>(caf_config_);
  }

  void TearDown() override {
    if (system_) {
      caf::anon_send_exit(bus_, caf::exit_reason::user_shutdown);
      bus_ = nullptr;
      system_.reset();
    }
    if (database_) database_->drain_and_stop();
  }

  void start_bus(bool with_store, actors::write_retry retry = {}) {
    actors::event_bus_options options;
    if (with_store) options.db = *database_;
    options.retry = retry;
    bus_ = actors::spawn_event_bus(*system_, options);
  }

  /// Holds the write lock of `events` on `conn` (a second connection) until conn->commit(): SQLite's database
  /// write lock, PostgreSQL's table lock. The bus's writes then fail once the lock timeout passes.
  void lock_events(persistence::sql_connection& conn) {
    conn.begin_write();
    if (GetParam() == dialect::postgresql) conn.execute("LOCK TABLE events IN EXCLUSIVE MODE", {});
  }

  /// Waits until the writer has refused `n` jobs.
  bool refused(std::uint64_t n) {
    return osprey::testing::wait_until([&] { return database_->stats().failed_writes >= n; }, 30s);
  }

  /// Publishes and waits until the events are stored.
  void publish(actors::event_batch events) {
    auto done = std::make_shared<std::atomic<int>>(0);
    actors::publish_events(bus_, std::move(events), [done](const status& s) {
      EXPECT_TRUE(s) << s.message();
      *done = 1;
    });
    ASSERT_TRUE(osprey::testing::wait_until([&] { return *done == 1; }, 10s));
  }

  std::int64_t stored(const std::string& name) {
    return db_.connect()
        ->query("SELECT COUNT(*) FROM events WHERE event = $1", {persistence::text(name)})
        .front()
        .integer(0);
  }

  osprey::testing::scratch_database db_{GetParam()};
  std::optional<persistence::database> database_;
  caf::actor_system_config caf_config_;  // must outlive the actor system
  std::unique_ptr<caf::actor_system> system_;
  actors::event_bus_actor bus_;
};

}  // namespace

TEST_P(EventBus, StoresBeforeDeliveringAndDeliversEachIdOnce) {
  start_bus(true);
  sink_log log;
  actors::subscribe_events(bus_, log.sink());
  const event e = make_event("test.once");
  publish({e, e});
  publish({e});
  const event sentinel = make_event("test.sentinel");
  publish({sentinel});
  ASSERT_TRUE(osprey::testing::wait_until([&] { return log.size() == 2; }, 10s));
  EXPECT_EQ(log.names(), (std::vector<std::string>{"test.once", "test.sentinel"}));
  EXPECT_EQ(stored("test.once"), 1);
  std::lock_guard lock(log.mutex);
  EXPECT_TRUE(log.events[0].received);  // stamped by the bus
}

TEST_P(EventBus, StateChangesReachActorsAndBecomeStoredFlowRunEvents) {
  start_bus(true);
  auto count = std::make_shared<std::atomic<int>>(0);
  caf::anon_send(bus_, actors::subscribe_atom_v, system_->spawn(state_change_counter, count));
  sink_log log;
  actors::subscribe_events(bus_, log.sink());
  run_state running;
  running.id = state_id{new_uuid7(system_clock::instance().now())};
  running.type = state_type::running;
  running.name = "Running";
  running.at = system_clock::instance().now();
  caf::anon_send(bus_, actors::publish_atom_v, state_change{flow_run_id{new_uuid4()}, std::nullopt, running});
  ASSERT_TRUE(osprey::testing::wait_until([&] { return log.size() == 1 && *count == 1; }, 10s));
  EXPECT_EQ(log.names(), std::vector<std::string>{"prefect.flow-run.Running"});
  EXPECT_EQ(stored("prefect.flow-run.Running"), 1);
  std::lock_guard lock(log.mutex);
  EXPECT_EQ(log.events[0].id, running.id.value);
}

TEST_P(EventBus, UnsubscribedSinksGetNothingMore) {
  start_bus(true);
  sink_log kept;
  sink_log dropped;
  actors::subscribe_events(bus_, kept.sink());
  const auto token = actors::subscribe_events(bus_, dropped.sink());
  publish({make_event("test.first")});
  ASSERT_TRUE(osprey::testing::wait_until([&] { return kept.size() == 1 && dropped.size() == 1; }, 10s));
  actors::unsubscribe_events(bus_, token);
  publish({make_event("test.second")});
  ASSERT_TRUE(osprey::testing::wait_until([&] { return kept.size() == 2; }, 10s));
  EXPECT_EQ(dropped.size(), 1u);
}

TEST_P(EventBus, WithoutAStoreRecentIdsAreStillDeduplicated) {
  start_bus(false);
  sink_log log;
  actors::subscribe_events(bus_, log.sink());
  const event e = make_event("test.memory");
  publish({e, e});
  publish({e, make_event("test.other")});
  ASSERT_TRUE(osprey::testing::wait_until([&] { return log.size() == 2; }, 10s));
  EXPECT_EQ(log.names(), (std::vector<std::string>{"test.memory", "test.other"}));
  EXPECT_EQ(stored("test.memory"), 0);
}

TEST_P(EventBus, AnEventRefusedWhileTheDatabaseIsLockedIsDeliveredAtOnceAndStoredAfterwards) {
  start_bus(true);
  sink_log log;
  actors::subscribe_events(bus_, log.sink());
  auto locker = db_.connect();
  lock_events(*locker);
  auto done = std::make_shared<std::atomic<int>>(0);
  auto outcome = std::make_shared<status>();
  actors::publish_events(bus_, {make_event("test.locked")}, [done, outcome](const status& s) {
    *outcome = s;
    *done = 1;
  });
  // Refused past the lock timeout, twice (the writer retries a failed batch job by job, then the bus retries).
  ASSERT_TRUE(refused(4)) << "the bus did not retry the refused write";
  EXPECT_TRUE(osprey::testing::wait_until([&] { return log.size() == 1; }, 10s))
      << "the live stream waits for the store";
  EXPECT_EQ(*done, 0) << "a publication is done only once stored";
  locker->commit();
  ASSERT_TRUE(osprey::testing::wait_until([&] { return stored("test.locked") == 1; }, 30s));
  ASSERT_TRUE(osprey::testing::wait_until([&] { return *done == 1; }, 10s));
  EXPECT_TRUE(*outcome) << outcome->message();
  const event sentinel = make_event("test.sentinel");
  publish({sentinel});
  ASSERT_TRUE(osprey::testing::wait_until([&] { return log.size() == 2; }, 10s));
  EXPECT_EQ(log.names(), (std::vector<std::string>{"test.locked", "test.sentinel"})) << "delivered once only";
}

TEST_P(EventBus, EveryPublicationRefusedWhileLockedIsStoredOnceAndDeliveredOnceInOrder) {
  start_bus(true);
  sink_log log;
  actors::subscribe_events(bus_, log.sink());
  auto locker = db_.connect();
  lock_events(*locker);
  constexpr int n = 20;
  std::vector<std::string> names;
  auto done = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < n; ++i) {
    names.push_back("test.burst." + std::to_string(i));
    actors::publish_events(bus_, {make_event(names.back())}, [done](const status& s) {
      EXPECT_TRUE(s) << s.message();
      ++*done;
    });
  }
  ASSERT_TRUE(refused(2));
  ASSERT_TRUE(osprey::testing::wait_until([&] { return log.size() == n; }, 30s));
  locker->commit();
  ASSERT_TRUE(osprey::testing::wait_until([&] { return *done == n; }, 60s));
  for (const auto& name : names) EXPECT_EQ(stored(name), 1) << name;
  EXPECT_EQ(log.names(), names);
}

TEST_P(EventBus, AnEventStillRefusedAtShutdownIsHandedToTheWriterBeforeItDrains) {
  actors::write_retry never_again;  // no retry comes due during the test: only the shutdown can store it
  never_again.first_delay = never_again.max_delay = 1h;
  start_bus(true, never_again);
  auto locker = db_.connect();
  lock_events(*locker);
  actors::publish_events(bus_, {make_event("test.at-shutdown")});
  ASSERT_TRUE(refused(1));
  locker->commit();
  // The server's shutdown: flush, stop the bus, drain the writer.
  {
    caf::scoped_actor self{*system_};
    bool flushed = false;
    self->request(bus_, 10s, actors::flush_atom_v).receive([&] { flushed = true; }, [](const caf::error&) {});
    EXPECT_TRUE(flushed);
  }
  caf::anon_send_exit(bus_, caf::exit_reason::user_shutdown);
  database_->drain_and_stop();
  EXPECT_EQ(stored("test.at-shutdown"), 1);
}

INSTANTIATE_TEST_SUITE_P(D, EventBus, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

// Two event buses on one PostgreSQL database, as two servers sharing it: an event published on either reaches
// the subscribers of both, each exactly once, and a flow-run state change on one reaches the other as its
// prefect.flow-run.<State> event; a bus whose listener was cut off catches up on what was stored meanwhile,
// and one whose listener's backend was terminated hears announcements again.
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>

#include "actors/event_bus.hpp"
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
  std::size_t count(const uuid& id) {
    std::lock_guard lock(mutex);
    return static_cast<std::size_t>(
        std::count_if(events.begin(), events.end(), [&](const event& e) { return e.id == id; }));
  }
  bool saw(const uuid& id) { return count(id) > 0; }
};

event make_event(const std::string& name) {
  event e;
  e.id = new_uuid4();
  e.occurred = system_clock::instance().now();
  e.name = name;
  e.resource = {{"prefect.resource.id", "test.peers"}};
  return e;
}

/// One server's share: its own database threads and bus, named by its origin.
struct server {
  std::optional<persistence::database> db;
  actors::event_bus_actor bus;
  std::string origin;
  sink_log log;
};

class EventBusPeers : public ::testing::Test {
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
    caf_config_.set("scheduler.max-threads", std::size_t{2});
    system_ = std::make_unique<caf::actor_system>(caf_config_);
    // pg_stat_activity is cluster-wide and ctest runs these tests side by side: origins unique to this test keep
    // one test's listener checks (and pg_terminate_backend) off another's.
    const std::string run = new_uuid4().to_string().substr(0, 8);
    start(a_, "server-a-" + run);
    start(b_, "server-b-" + run);
  }

  void TearDown() override {
    for (auto* s : {&a_, &b_})
      if (s->bus) caf::anon_send_exit(s->bus, caf::exit_reason::user_shutdown);
    a_.bus = b_.bus = nullptr;
    system_.reset();
    for (auto* s : {&a_, &b_})
      if (s->db) s->db->drain_and_stop();
  }

  void start(server& s, const std::string& origin) {
    persistence::database_options options;
    options.target = db_.target();
    s.db = *persistence::database::start(options);
    s.origin = origin;
    actors::event_bus_options bus;
    bus.db = *s.db;
    bus.origin = origin;
    bus.peers = persistence::event_listener_options{db_.target()};
    bus.peers->first_retry = 20ms;
    bus.peers->max_retry = 200ms;
    s.bus = actors::spawn_event_bus(*system_, bus);
    actors::subscribe_events(s.bus, s.log.sink());
  }

  /// Publishes on `s` and waits until the events are stored.
  static void publish(server& s, actors::event_batch events) {
    auto done = std::make_shared<std::atomic<int>>(0);
    actors::publish_events(s.bus, std::move(events), [done](const status& st) {
      EXPECT_TRUE(st) << st.message();
      *done = 1;
    });
    ASSERT_TRUE(osprey::testing::wait_until([&] { return *done == 1; }, 10s));
  }

  /// `sql` with one text parameter on the server's maintenance database (the scratch database may refuse
  /// connections); the number of rows it answered.
  static std::size_t admin(const std::string& sql, const std::string& param = {}) {
    auto conn = persistence::open_connection(*persistence::parse_database_url(*osprey::testing::postgres_admin_url()));
    EXPECT_TRUE(conn);
    if (!conn) return 0;
    if (param.empty()) {
      (*conn)->execute_script(sql);
      return 0;
    }
    return (*conn)->query(sql, {persistence::text(param)}).size();
  }

  static std::string listener_name(const server& s) { return "osprey-events-" + s.origin; }

  static bool listening(const server& s) {
    return admin("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'",
                 listener_name(s)) == 1;
  }

  static bool connected(const server& s) {
    return admin("SELECT pid FROM pg_stat_activity WHERE application_name = $1", listener_name(s)) > 0;
  }

  /// Lets new connections into the scratch database, or keeps them out (open ones stay).
  void allow_connections(bool allow) {
    const auto& url = db_.target().postgres_conninfo;
    admin("ALTER DATABASE " + url.substr(url.rfind('/') + 1) + " ALLOW_CONNECTIONS " + (allow ? "true" : "false"));
  }

  static void terminate_listener(const server& s) {
    EXPECT_EQ(
        admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", listener_name(s)),
        1u);
  }

  /// Publishes a last event on `from` and waits until both servers delivered it: whatever either was to
  /// deliver before it (announcements are heard and read in order), it has delivered by then.
  void settle(server& from) {
    const event last = make_event("test.peers.last");
    publish(from, {last});
    ASSERT_TRUE(osprey::testing::wait_until([&] { return a_.log.saw(last.id) && b_.log.saw(last.id); }, 10s));
  }

  osprey::testing::scratch_database db_{dialect::postgresql};
  caf::actor_system_config caf_config_;  // must outlive the actor system
  std::unique_ptr<caf::actor_system> system_;
  server a_;
  server b_;
};

TEST_F(EventBusPeers, AnEventPublishedOnOneServerReachesTheSubscribersOfBothOnce) {
  const event e = make_event("test.peers.one");
  publish(a_, {e, e});
  publish(a_, {e});  // a replay: stored already, announced no more
  ASSERT_TRUE(osprey::testing::wait_until([&] { return b_.log.saw(e.id); }, 10s));
  const event back = make_event("test.peers.back");
  publish(b_, {back});
  ASSERT_TRUE(osprey::testing::wait_until([&] { return a_.log.saw(back.id); }, 10s));
  settle(a_);
  settle(b_);
  EXPECT_EQ(a_.log.count(e.id), 1u);
  EXPECT_EQ(b_.log.count(e.id), 1u);
  EXPECT_EQ(a_.log.count(back.id), 1u);
  EXPECT_EQ(b_.log.count(back.id), 1u);
  std::lock_guard lock(b_.log.mutex);
  EXPECT_TRUE(b_.log.events.front().received);  // read back from the store whole
  EXPECT_EQ(b_.log.events.front().resource, e.resource);
}

TEST_F(EventBusPeers, EventsFromTheOtherServerArriveInTheOrderTheyWerePublished) {
  std::vector<uuid> sent;
  for (int i = 0; i < 30; ++i) {
    const event e = make_event("test.peers.order");
    sent.push_back(e.id);
    actors::publish_events(a_.bus, {e});
  }
  ASSERT_TRUE(osprey::testing::wait_until([&] { return b_.log.saw(sent.back()); }, 10s));
  std::vector<uuid> seen;
  {
    std::lock_guard lock(b_.log.mutex);
    for (const auto& e : b_.log.events) seen.push_back(e.id);
  }
  EXPECT_EQ(seen, sent);
}

TEST_F(EventBusPeers, AFlowRunStateChangeOnOneServerReachesTheOther) {
  run_state running;
  running.id = state_id{new_uuid7(system_clock::instance().now())};
  running.type = state_type::running;
  running.name = "Running";
  running.at = system_clock::instance().now();
  caf::anon_send(a_.bus, actors::publish_atom_v, state_change{flow_run_id{new_uuid4()}, std::nullopt, running});
  ASSERT_TRUE(osprey::testing::wait_until([&] { return b_.log.saw(running.id.value); }, 10s));
  std::lock_guard lock(b_.log.mutex);
  EXPECT_EQ(b_.log.events.front().name, "prefect.flow-run.Running");
}

TEST_F(EventBusPeers, AListenerCutOffCatchesUpOnWhatWasStoredMeanwhile) {
  ASSERT_TRUE(osprey::testing::wait_until([&] { return listening(b_); }, 10s));
  // Keep B's listener from reconnecting (the servers' other connections stay open), then cut it off.
  allow_connections(false);
  terminate_listener(b_);
  ASSERT_TRUE(osprey::testing::wait_until([&] { return !connected(b_); }, 10s));
  const event missed = make_event("test.peers.missed");
  publish(a_, {missed});  // announced while B does not listen
  ASSERT_TRUE(osprey::testing::wait_until([&] { return a_.log.saw(missed.id); }, 10s));
  EXPECT_FALSE(b_.log.saw(missed.id));
  allow_connections(true);
  ASSERT_TRUE(osprey::testing::wait_until([&] { return b_.log.saw(missed.id); }, 10s)) << "not caught up";
  settle(a_);
  EXPECT_EQ(b_.log.count(missed.id), 1u);
  EXPECT_EQ(a_.log.count(missed.id), 1u);
}

TEST_F(EventBusPeers, AListenerWhoseBackendWasTerminatedHearsAgain) {
  ASSERT_TRUE(osprey::testing::wait_until([&] { return listening(b_); }, 10s));
  terminate_listener(b_);
  const event during = make_event("test.peers.during");
  publish(a_, {during});  // B hears it, or catches up on it, depending on how fast it reconnects
  ASSERT_TRUE(osprey::testing::wait_until([&] { return b_.log.saw(during.id); }, 10s));
  ASSERT_TRUE(osprey::testing::wait_until([&] { return listening(b_); }, 10s));
  const event after = make_event("test.peers.after");
  publish(a_, {after});
  ASSERT_TRUE(osprey::testing::wait_until([&] { return b_.log.saw(after.id); }, 10s));
  settle(a_);
  EXPECT_EQ(b_.log.count(during.id), 1u);
  EXPECT_EQ(b_.log.count(after.id), 1u);
}

}  // namespace

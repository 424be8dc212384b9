// Flow-run actors: transitions of one run are serialised and committed before they are answered, every
// committed transition is published in order, and an actor that stopped when idle is rebuilt from the database.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <mutex>

#include "actors/event_bus.hpp"
#include "actors/flow_runs.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/migrator.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;

namespace {

// Collects published state changes, for assertions from the test thread.
struct recorder_state {
  std::shared_ptr<std::mutex> m;
  std::shared_ptr<std::vector<state_change>> seen;
};

actors::state_change_listener_actor::behavior_type recorder(
    actors::state_change_listener_actor::stateful_pointer<recorder_state> self, std::shared_ptr<std::mutex> m,
    std::shared_ptr<std::vector<state_change>> seen) {
  self->state.m = std::move(m);
  self->state.seen = std::move(seen);
  return {[self](const state_change& change) {
    std::lock_guard lock(*self->state.m);
    self->state.seen->push_back(change);
  }};
}

class FlowRunActors : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    auto conn = db_.connect();
    persistence::migrator m(*conn);
    ASSERT_TRUE(m.reset());
    flow f{flow_id{new_uuid4()}, clock_.now(), clock_.now(), "etl", {}, nlohmann::json::object()};
    persistence::upsert_flow(*conn, f);
    persistence::insert_flow_run(*conn, {run_, f.id, "brave-otter", clock_.now()});
    persistence::database_options options;
    options.target = db_.target();
    database_ = *persistence::database::start(options);
    caf_config_.set("scheduler.max-threads", std::size_t{2});
    system_ = std::make_unique<caf::actor_system>(caf_config_);
    bus_ = actors::spawn_event_bus(*system_);
    caf::anon_send(bus_, actors::subscribe_atom_v, system_->spawn(recorder, seen_mutex_, seen_));
  }

  void TearDown() override {
    if (system_) {
      caf::anon_send_exit(registry_, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(bus_, caf::exit_reason::user_shutdown);
      registry_ = nullptr;
      bus_ = nullptr;
      system_.reset();  // waits for every actor
    }
    if (database_) database_->drain_and_stop();
  }

  void start_registry(std::chrono::milliseconds idle = 30s) {
    actors::flow_run_options options{*database_, bus_, orchestrate_flow_transition, idle, &clock_};
    registry_ = actors::spawn_flow_run_registry(*system_, options);
  }

  actors::transition_outcome transition(state_type type) {
    caf::scoped_actor self{*system_};
    actors::transition_outcome out;
    run_state proposed;
    proposed.type = type;
    // Forced: MinimalFlowPolicy accepts any order of states, which is what these tests need.
    self->request(registry_, caf::infinite, actors::transition_atom_v, run_,
                  actors::transition_call{transition_request{proposed, true}, {}})
        .receive([&](const actors::transition_outcome& o) { out = o; },
                 [&](const caf::error& e) { out.error = status(errc::internal, caf::to_string(e)); });
    return out;
  }

  actors::edit_outcome edit(actors::flow_run_edit change) {
    caf::scoped_actor self{*system_};
    actors::edit_outcome out;
    self->request(registry_, caf::infinite, actors::edit_atom_v, run_, std::move(change))
        .receive([&](const actors::edit_outcome& o) { out = o; },
                 [&](const caf::error& e) { out.error = status(errc::internal, caf::to_string(e)); });
    return out;
  }

  std::size_t live_actors() {
    caf::scoped_actor self{*system_};
    std::size_t n = 0;
    self->request(registry_, caf::infinite, actors::count_atom_v)
        .receive([&](std::size_t c) { n = c; }, [](const caf::error&) {});
    return n;
  }

  std::size_t published() {
    std::lock_guard lock(*seen_mutex_);
    return seen_->size();
  }

  osprey::testing::scratch_database db_{GetParam()};
  system_clock clock_;
  flow_run_id run_{new_uuid4()};
  std::optional<persistence::database> database_;
  caf::actor_system_config caf_config_;  // the actor system keeps a reference to it: it must outlive the system
  std::unique_ptr<caf::actor_system> system_;
  actors::event_bus_actor bus_;
  actors::flow_run_registry_actor registry_;
  std::shared_ptr<std::mutex> seen_mutex_ = std::make_shared<std::mutex>();
  std::shared_ptr<std::vector<state_change>> seen_ = std::make_shared<std::vector<state_change>>();
};

TEST_P(FlowRunActors, AnAcceptedTransitionIsCommittedBeforeItIsAnswered) {
  start_registry();
  auto outcome = transition(state_type::running);
  ASSERT_TRUE(outcome.error) << outcome.error.message();
  ASSERT_TRUE(outcome.written);
  auto conn = db_.connect();
  auto stored = persistence::load_flow_run_state(*conn, run_);
  ASSERT_TRUE(stored.current);
  EXPECT_EQ(stored.current->id, outcome.state->id);
  EXPECT_EQ(stored.current->name, "Running");
}

TEST_P(FlowRunActors, ConcurrentTransitionsOfOneRunAreSerialisedAndPublishedInOrder) {
  start_registry();
  constexpr int n = 100;
  std::atomic<int> answered{0};
  for (int i = 0; i < n; ++i) {
    run_state proposed;
    proposed.type = i % 2 == 0 ? state_type::running : state_type::pending;
    actors::propose_transition(registry_, run_, {transition_request{proposed, true}, {}},
                               [&](const actors::transition_outcome& o) {
                                 EXPECT_TRUE(o.error) << o.error.message();
                                 ++answered;
                               });
  }
  ASSERT_TRUE(osprey::testing::wait_until([&] { return answered == n; }, 60s));
  ASSERT_TRUE(osprey::testing::wait_until([&] { return published() == n; }, 30s));
  auto conn = db_.connect();
  auto history = persistence::flow_run_state_history(*conn, run_);
  ASSERT_EQ(history.size(), static_cast<std::size_t>(n));
  std::lock_guard lock(*seen_mutex_);
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ((*seen_)[static_cast<std::size_t>(i)].current.id, history[static_cast<std::size_t>(i)].id);
    if (i > 0) {
      EXPECT_LT(history[static_cast<std::size_t>(i - 1)].at, history[static_cast<std::size_t>(i)].at);
      EXPECT_EQ((*seen_)[static_cast<std::size_t>(i)].previous->id, history[static_cast<std::size_t>(i - 1)].id);
    }
  }
  auto run_row = conn->query("SELECT run_count FROM flow_run WHERE id = $1", {persistence::id(run_)});
  EXPECT_EQ(run_row.front().integer(0), n / 2);
}

TEST_P(FlowRunActors, AnIdleActorStopsAndIsRebuiltFromTheDatabase) {
  start_registry(/*idle=*/50ms);
  auto first = transition(state_type::running);
  ASSERT_TRUE(first.error);
  ASSERT_TRUE(osprey::testing::wait_until([&] { return live_actors() == 0; }, 10s));
  auto second = transition(state_type::completed);
  ASSERT_TRUE(second.error) << second.error.message();
  ASSERT_TRUE(osprey::testing::wait_until([&] { return published() == 2; }, 10s));
  std::lock_guard lock(*seen_mutex_);
  ASSERT_TRUE((*seen_)[1].previous);
  EXPECT_EQ((*seen_)[1].previous->id, first.state->id) << "the rebuilt actor did not reload the current state";
}

TEST_P(FlowRunActors, TheCoreFlowPolicyDecides) {
  start_registry();
  ASSERT_TRUE(transition(state_type::running).written);
  caf::scoped_actor self{*system_};
  run_state pending;
  pending.type = state_type::pending;
  actors::transition_outcome out;
  self->request(registry_, caf::infinite, actors::transition_atom_v, run_,
                actors::transition_call{transition_request{pending, false}, {}})
      .receive([&](const actors::transition_outcome& o) { out = o; }, [](const caf::error&) {});
  ASSERT_TRUE(out.error) << out.error.message();
  EXPECT_EQ(out.decision.kind, decision_kind::abort) << "PreventPendingTransitions: Running -> Pending is aborted";
  EXPECT_FALSE(out.written);
  EXPECT_EQ(out.state->name, "Running");
}

TEST_P(FlowRunActors, AnEditIsAppliedByTheRunsActorInOrderWithItsTransitions) {
  start_registry();
  ASSERT_TRUE(transition(state_type::running).written);
  auto renamed = edit({actors::flow_run_edit::kind::update, {{"name", "calm-heron"}, {"tags", {"x"}}}});
  ASSERT_TRUE(renamed.error) << renamed.error.message();
  EXPECT_TRUE(renamed.found);
  auto labelled = edit({actors::flow_run_edit::kind::merge_labels, {{"team", "data"}}});
  ASSERT_TRUE(labelled.error) << labelled.error.message();
  ASSERT_TRUE(transition(state_type::completed).written);
  auto stored = persistence::find_flow_run(*db_.connect(), run_);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->name, "calm-heron");
  EXPECT_EQ(stored->tags, std::vector<std::string>{"x"});
  EXPECT_EQ(stored->labels["team"], "data");
  EXPECT_EQ(stored->state->name, "Completed");
}

TEST_P(FlowRunActors, ADeletedRunsActorStopsAndTheRunStaysDeleted) {
  start_registry();
  ASSERT_TRUE(transition(state_type::running).written);
  auto deleted = edit({actors::flow_run_edit::kind::remove, nlohmann::json::object()});
  ASSERT_TRUE(deleted.error) << deleted.error.message();
  EXPECT_TRUE(deleted.found);
  ASSERT_TRUE(osprey::testing::wait_until([&] { return live_actors() == 0; }, 10s));
  EXPECT_EQ(transition(state_type::completed).error.code(), errc::not_found);
  auto again = edit({actors::flow_run_edit::kind::remove, nlohmann::json::object()});
  ASSERT_TRUE(again.error) << again.error.message();
  EXPECT_FALSE(again.found);
  auto conn = db_.connect();
  EXPECT_FALSE(persistence::find_flow_run(*conn, run_));
  EXPECT_TRUE(persistence::flow_run_state_history(*conn, run_).empty());
}

// A run's first load fails for a real reason: on PostgreSQL a lock the readers time out on (busy → 503), on
// SQLite (whose WAL readers never wait on a lock) its table briefly hidden. `lift()` removes the cause.
class load_blocker {
 public:
  explicit load_blocker(const osprey::testing::scratch_database& db) : conn_(db.connect()) {
    if (conn_->dialect() == dialect::postgresql) {
      conn_->begin_write();
      conn_->execute("LOCK TABLE flow_run IN ACCESS EXCLUSIVE MODE");
    } else {
      conn_->execute_script("ALTER TABLE flow_run RENAME TO flow_run_hidden");
    }
  }
  ~load_blocker() { lift(); }
  void lift() {
    if (lifted_) return;
    lifted_ = true;
    if (conn_->dialect() == dialect::postgresql)
      conn_->rollback();
    else
      conn_->execute_script("ALTER TABLE flow_run_hidden RENAME TO flow_run");
  }

 private:
  std::unique_ptr<persistence::sql_connection> conn_;
  bool lifted_ = false;
};

TEST_P(FlowRunActors, AnActorWhoseLoadFailedIsRebuiltOnceTheCauseIsGone) {
  // Readers give up on a lock after 300 ms instead of a minute.
  database_->drain_and_stop();
  persistence::database_options options;
  options.target = db_.target();
  options.connection.busy_timeout = 300ms;
  database_ = *persistence::database::start(options);
  start_registry();
  load_blocker blocker(db_);
  auto refused = transition(state_type::running);
  ASSERT_FALSE(refused.error);
  if (GetParam() == dialect::postgresql) {
    EXPECT_EQ(refused.error.code(), errc::unavailable) << refused.error.message();
  }
  blocker.lift();
  actors::transition_outcome accepted;
  EXPECT_TRUE(osprey::testing::wait_until([&] { return (accepted = transition(state_type::running)).written; }, 10s))
      << "still refused: " << accepted.error.message();
}

// Several servers on one PostgreSQL: each has its own database handle and registry, so each may hold an actor
// for the same run. A transition decided from a copy another server has since changed is not written: the
// actor reloads the run and decides again.
class SecondServer {
 public:
  SecondServer(caf::actor_system& system, const osprey::testing::scratch_database& db, actors::event_bus_actor bus,
               const osprey::clock& time) {
    persistence::database_options options;
    options.target = db.target();
    database_ = *persistence::database::start(options);
    registry_ = actors::spawn_flow_run_registry(
        system, actors::flow_run_options{*database_, std::move(bus), orchestrate_flow_transition, 30s, &time});
  }
  ~SecondServer() {
    caf::anon_send_exit(registry_, caf::exit_reason::user_shutdown);
    database_->drain_and_stop();
  }
  const actors::flow_run_registry_actor& registry() const { return registry_; }

 private:
  std::optional<persistence::database> database_;
  actors::flow_run_registry_actor registry_;
};

actors::transition_outcome forced_transition(caf::actor_system& system, const actors::flow_run_registry_actor& registry,
                                             const flow_run_id& run, state_type type) {
  caf::scoped_actor self{system};
  actors::transition_outcome out;
  run_state proposed;
  proposed.type = type;
  self->request(registry, caf::infinite, actors::transition_atom_v, run,
                actors::transition_call{transition_request{proposed, true}, {}})
      .receive([&](const actors::transition_outcome& o) { out = o; },
               [&](const caf::error& e) { out.error = status(errc::internal, caf::to_string(e)); });
  return out;
}

TEST_P(FlowRunActors, ATransitionDecidedFromACopyAnotherServerChangedIsDecidedAgain) {
  if (GetParam() != dialect::postgresql) GTEST_SKIP() << "one server per SQLite file";
  start_registry();
  SecondServer other(*system_, db_, bus_, clock_);
  auto running = transition(state_type::running);  // this server's actor now holds the run as Running
  ASSERT_TRUE(running.written) << running.error.message();
  auto completed = forced_transition(*system_, other.registry(), run_, state_type::completed);
  ASSERT_TRUE(completed.written) << completed.error.message();
  auto pending = transition(state_type::pending);  // decided from Running, then again from Completed
  ASSERT_TRUE(pending.written) << pending.error.message();
  ASSERT_TRUE(osprey::testing::wait_until([&] { return published() == 3; }, 10s));
  {
    std::lock_guard lock(*seen_mutex_);
    ASSERT_TRUE((*seen_)[2].previous);
    EXPECT_EQ((*seen_)[2].previous->id, completed.state->id) << "decided from the stale copy";
  }
  auto conn = db_.connect();
  auto history = persistence::flow_run_state_history(*conn, run_);
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[2].id, pending.state->id);
  EXPECT_EQ(persistence::load_flow_run_state(*conn, run_).current->id, pending.state->id);
}

TEST_P(FlowRunActors, TwoServersWritingOneRunAtOnceKeepItsBookkeepingWhole) {
  if (GetParam() != dialect::postgresql) GTEST_SKIP() << "one server per SQLite file";
  start_registry();
  SecondServer other(*system_, db_, bus_, clock_);
  constexpr int per_server = 40;
  std::atomic<int> answered{0};
  std::atomic<int> written{0};
  for (int i = 0; i < per_server; ++i) {
    const std::array<const actors::flow_run_registry_actor*, 2> servers{&registry_, &other.registry()};
    for (const auto* registry : servers) {
      run_state proposed;
      proposed.type = i % 2 == 0 ? state_type::running : state_type::pending;
      actors::propose_transition(*registry, run_, {transition_request{proposed, true}, {}},
                                 [&](const actors::transition_outcome& o) {
                                   EXPECT_TRUE(o.error) << o.error.message();
                                   if (o.written) ++written;
                                   ++answered;
                                 });
    }
  }
  ASSERT_TRUE(osprey::testing::wait_until([&] { return answered == 2 * per_server; }, 60s));
  EXPECT_EQ(written, 2 * per_server);
  auto conn = db_.connect();
  auto history = persistence::flow_run_state_history(*conn, run_);
  ASSERT_EQ(history.size(), static_cast<std::size_t>(2 * per_server));
  // run_count counts the Running states written; a decision made from a stale copy would miscount it.
  std::int64_t runs = 0;
  for (const auto& state : history)
    if (state.type == state_type::running) ++runs;
  auto row = conn->query("SELECT run_count FROM flow_run WHERE id = $1", {persistence::id(run_)});
  EXPECT_EQ(row.front().integer(0), runs);
  EXPECT_EQ(persistence::load_flow_run_state(*conn, run_).current->id, history.back().id);
}

TEST_P(FlowRunActors, AnUnknownRunIsNotFound) {
  start_registry();
  run_ = flow_run_id{new_uuid4()};
  auto outcome = transition(state_type::running);
  EXPECT_EQ(outcome.error.code(), errc::not_found);
}

INSTANTIATE_TEST_SUITE_P(Dialects, FlowRunActors, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace

// The cancellation cleanup and pause expiration services: the children of a cancelled flow run are cancelled
// (task runs forced Cancelled, subflows Cancelled, or Cancelling when they have a deployment), a cancellation
// that timed out ends Cancelled, and a pause that expired ends Failed; what is not due is left alone.
#include <gtest/gtest.h>

#include "actors/cancellation_cleanup.hpp"
#include "actors/event_bus.hpp"
#include "actors/flow_runs.hpp"
#include "actors/pause_expirations.hpp"
#include "domain/orchestration.hpp"
#include "domain/run_cleanup.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/migrator.hpp"
#include "persistence/task_run_store.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;

namespace {

class RunCleanup : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    auto conn = db_.connect();
    persistence::migrator m(*conn);
    ASSERT_TRUE(m.reset());
    flow_ = flow{flow_id{new_uuid4()}, clock_.now(), clock_.now(), "cleanup", {}, nlohmann::json::object()};
    persistence::upsert_flow(*conn, flow_);
  }

  // Starts the database, the registry and the event bus once the rows are in place (an actor caches its run).
  void start() {
    persistence::database_options options;
    options.target = db_.target();
    database_ = *persistence::database::start(options);
    caf_config_.set("scheduler.max-threads", std::size_t{2});
    system_ = std::make_unique<caf::actor_system>(caf_config_);
    bus_ = actors::spawn_event_bus(*system_);
    actors::flow_run_options run_options{*database_, bus_, orchestrate_flow_transition, 30s, &clock_};
    registry_ = actors::spawn_flow_run_registry(*system_, run_options);
  }

  void TearDown() override {
    if (system_) {
      if (service_) caf::anon_send_exit(service_, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(registry_, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(bus_, caf::exit_reason::user_shutdown);
      service_ = nullptr;
      registry_ = nullptr;
      bus_ = nullptr;
      system_.reset();
    }
    if (database_) database_->drain_and_stop();
  }

  flow_run_id new_run(const std::string& name) {
    flow_run_id run{new_uuid4()};
    auto conn = db_.connect();
    persistence::insert_flow_run(*conn, {run, flow_.id, name, clock_.now()});
    return run;
  }

  uuid new_task_run(const flow_run_id& of, const std::string& key, state_type type) {
    auto conn = db_.connect();
    const auto id = new_uuid4();
    nlohmann::json columns{{"task_key", key}, {"dynamic_key", "0"}, {"name", key + "-0"}};
    persistence::create_task_run(*conn, id, of.value, columns, make_server_state(type, clock_.now()), clock_.now());
    return id;
  }

  // A subflow of `parent`, tracked by a Running task run of the parent (as the engine makes them).
  flow_run_id new_subflow(const flow_run_id& parent, const std::string& name, bool with_deployment) {
    auto sub = new_run(name);
    const auto tracker = new_task_run(parent, name, state_type::running);
    auto conn = db_.connect();
    conn->execute("UPDATE flow_run SET parent_task_run_id = $1, deployment_id = $2 WHERE id = $3",
                  {persistence::id(tracker), with_deployment ? persistence::id(new_uuid4()) : persistence::null_value(),
                   persistence::id(sub)});
    return sub;
  }

  // Forced, so that any state can be set up directly.
  void set_state(const flow_run_id& run, run_state state) {
    caf::scoped_actor self{*system_};
    bool written = false;
    self->request(registry_, caf::infinite, actors::transition_atom_v, run,
                  actors::transition_call{transition_request{std::move(state), true}, {}})
        .receive([&](const actors::transition_outcome& o) { written = o.written; }, [](const caf::error&) {});
    ASSERT_TRUE(written);
  }

  run_state state(state_type type) { return make_server_state(type, clock_.now()); }

  run_state current(const flow_run_id& run) {
    auto conn = db_.connect();
    return persistence::load_flow_run_state(*conn, run).current.value_or(run_state{});
  }

  run_state current_task(const uuid& task_run) {
    auto conn = db_.connect();
    return persistence::find_task_run(*conn, task_run)->state.value_or(run_state{});
  }

  // Waits until the service completed `n` more passes than it had.
  void wait_for_passes(std::uint64_t n) {
    caf::scoped_actor self{*system_};
    std::uint64_t passes = 0, changed = 0;
    auto read = [&] {
      self->request(service_, caf::infinite, actors::stats_atom_v)
          .receive([&](std::uint64_t p, std::uint64_t c) { passes = p, changed = c; }, [](const caf::error&) {});
    };
    read();
    const auto target = passes + n;
    ASSERT_TRUE(osprey::testing::wait_until([&] { return read(), passes >= target; }, 30s));
  }

  void start_cleanup(std::chrono::milliseconds cancelling_timeout) {
    actors::cancellation_cleanup_options options{*database_, registry_};
    options.time = &clock_;
    options.interval = 50ms;
    options.cancelling_timeout = cancelling_timeout;
    service_ = actors::spawn_cancellation_cleanup(*system_, options);
  }

  manual_clock clock_{system_clock::instance().now()};
  osprey::testing::scratch_database db_{GetParam()};
  flow flow_;
  std::optional<persistence::database> database_;
  caf::actor_system_config caf_config_;
  std::unique_ptr<caf::actor_system> system_;
  actors::event_bus_actor bus_;
  actors::flow_run_registry_actor registry_;
  caf::actor service_;
};

TEST_P(RunCleanup, TheChildrenOfACancelledFlowRunAreCancelled) {
  auto parent = new_run("parent");
  auto bystander = new_run("bystander");
  const auto running_task = new_task_run(parent, "running", state_type::running);
  const auto done_task = new_task_run(parent, "done", state_type::completed);
  const auto other_task = new_task_run(bystander, "other", state_type::running);
  auto plain_subflow = new_subflow(parent, "plain-subflow", false);
  auto deployed_subflow = new_subflow(parent, "deployed-subflow", true);
  start();
  for (const auto& run : {parent, bystander, plain_subflow, deployed_subflow})
    set_state(run, state(state_type::running));
  set_state(parent, state(state_type::cancelled));
  start_cleanup(300s);

  ASSERT_TRUE(osprey::testing::wait_until(
      [&] {
        return current_task(running_task).type == state_type::cancelled &&
               current(plain_subflow).type == state_type::cancelled &&
               current(deployed_subflow).type == state_type::cancelling;
      },
      30s))
      << "task " << current_task(running_task).name << ", subflows " << current(plain_subflow).name << " and "
      << current(deployed_subflow).name;
  EXPECT_EQ(current_task(running_task).message, parent_cancelled_message);
  EXPECT_EQ(current(plain_subflow).message, parent_cancelled_message);
  EXPECT_EQ(current(deployed_subflow).message, parent_cancelled_message);

  wait_for_passes(3);  // later passes leave the Cancelling subflow to its worker, and the rest alone
  EXPECT_EQ(current(deployed_subflow).type, state_type::cancelling);
  EXPECT_EQ(current_task(done_task).type, state_type::completed);
  EXPECT_EQ(current_task(other_task).type, state_type::running);
  EXPECT_EQ(current(bystander).type, state_type::running);
}

TEST_P(RunCleanup, ACancellationThatTimedOutEndsCancelled) {
  auto stuck = new_run("stuck");
  start();
  set_state(stuck, state(state_type::running));
  set_state(stuck, state(state_type::cancelling));
  start_cleanup(300s);
  wait_for_passes(3);
  EXPECT_EQ(current(stuck).type, state_type::cancelling) << "not yet past the timeout";

  clock_.advance(301s);
  ASSERT_TRUE(osprey::testing::wait_until([&] { return current(stuck).type == state_type::cancelled; }, 30s))
      << current(stuck).name;
  EXPECT_EQ(current(stuck).message, cancelling_timeout_message);
}

TEST_P(RunCleanup, AnExpiredPauseEndsFailedAndOtherPausesWait) {
  auto expired = new_run("expired");
  auto waiting = new_run("waiting");
  auto open_ended = new_run("open-ended");
  start();
  auto paused_until = [&](std::optional<timestamp> until) {
    auto s = state(state_type::paused);
    if (until) set_detail_time(s, "pause_timeout", *until);
    return s;
  };
  for (const auto& run : {expired, waiting, open_ended}) set_state(run, state(state_type::running));
  set_state(expired, paused_until(clock_.now() + 60s));
  set_state(waiting, paused_until(clock_.now() + 1h));
  set_state(open_ended, paused_until(std::nullopt));
  clock_.advance(61s);

  actors::pause_expirations_options options{*database_, registry_};
  options.time = &clock_;
  options.interval = 50ms;
  service_ = actors::spawn_pause_expirations(*system_, options);
  ASSERT_TRUE(osprey::testing::wait_until([&] { return current(expired).type == state_type::failed; }, 30s))
      << current(expired).name;
  EXPECT_EQ(current(expired).message, pause_expired_message);
  wait_for_passes(3);
  EXPECT_EQ(current(waiting).type, state_type::paused);
  EXPECT_EQ(current(open_ended).type, state_type::paused);
}

TEST_P(RunCleanup, AProposalFromAStateTheRunLeftIsNotDecided) {
  auto run = new_run("moved-on");
  start();
  set_state(run, state(state_type::running));
  const auto read_earlier = current(run).id;
  set_state(run, state(state_type::paused));
  actors::transition_call call{transition_request{pause_expired_state(clock_.now()), true}, {}};
  call.only_from = read_earlier;
  caf::scoped_actor self{*system_};
  actors::transition_outcome outcome;
  self->request(registry_, caf::infinite, actors::transition_atom_v, run, call)
      .receive([&](const actors::transition_outcome& o) { outcome = o; }, [](const caf::error&) {});
  EXPECT_FALSE(outcome.written);
  EXPECT_EQ(outcome.decision.kind, decision_kind::abort);
  EXPECT_EQ(current(run).type, state_type::paused);
}

INSTANTIATE_TEST_SUITE_P(Dialects, RunCleanup, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace

// The late-runs service: a run still Scheduled past its start (by more than `after`) becomes Late, keeping its
// scheduled time; a run not yet due, and one that already left Scheduled, are left alone.
#include <gtest/gtest.h>

#include "actors/event_bus.hpp"
#include "actors/flow_runs.hpp"
#include "actors/late_runs.hpp"
#include "domain/orchestration.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/migrator.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;

namespace {

class LateRuns : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    auto conn = db_.connect();
    persistence::migrator m(*conn);
    ASSERT_TRUE(m.reset());
    flow f{flow_id{new_uuid4()}, clock_.now(), clock_.now(), "nightly", {}, nlohmann::json::object()};
    persistence::upsert_flow(*conn, f);
    for (const auto& [run, name] : {std::pair{overdue_, "overdue"}, {not_due_, "not-due"}, {running_, "running"}})
      persistence::insert_flow_run(*conn, {run, f.id, name, clock_.now()});
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
      if (late_runs_) caf::anon_send_exit(late_runs_, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(registry_, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(bus_, caf::exit_reason::user_shutdown);
      late_runs_ = nullptr;
      registry_ = nullptr;
      bus_ = nullptr;
      system_.reset();
    }
    if (database_) database_->drain_and_stop();
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

  run_state scheduled_at(timestamp when) {
    auto s = make_server_state(state_type::scheduled, clock_.now());
    set_detail_time(s, "scheduled_time", when);
    return s;
  }

  run_state current(const flow_run_id& run) {
    auto conn = db_.connect();
    auto stored = persistence::load_flow_run_state(*conn, run);
    return stored.current.value_or(run_state{});
  }

  system_clock clock_;
  osprey::testing::scratch_database db_{GetParam()};
  std::optional<persistence::database> database_;
  caf::actor_system_config caf_config_;
  std::unique_ptr<caf::actor_system> system_;
  actors::event_bus_actor bus_;
  actors::flow_run_registry_actor registry_;
  caf::actor late_runs_;
  flow_run_id overdue_{new_uuid4()}, not_due_{new_uuid4()}, running_{new_uuid4()};
};

TEST_P(LateRuns, OnlyRunsStillScheduledPastTheirStartBecomeLate) {
  const auto long_ago = clock_.now() - std::chrono::minutes(10);
  set_state(overdue_, scheduled_at(long_ago));
  set_state(not_due_, scheduled_at(clock_.now() + std::chrono::hours(1)));
  set_state(running_, scheduled_at(long_ago));
  set_state(running_, make_server_state(state_type::running, clock_.now()));

  actors::late_runs_options options{*database_, registry_};
  options.interval = 50ms;
  options.after = 15s;
  late_runs_ = actors::spawn_late_runs(*system_, options);

  ASSERT_TRUE(osprey::testing::wait_until([&] { return current(overdue_).name == "Late"; }, 30s))
      << "the overdue run is still " << current(overdue_).name;
  const auto late = current(overdue_);
  EXPECT_EQ(late.type, state_type::scheduled);
  EXPECT_EQ(detail_time(late, "scheduled_time"), long_ago) << "Late keeps the time the run was due";

  // Several more passes find nothing more to do: the Late run is not marked again, the others keep their state.
  caf::scoped_actor self{*system_};
  std::uint64_t passes = 0, marked = 0;
  ASSERT_TRUE(osprey::testing::wait_until(
      [&] {
        self->request(late_runs_, caf::infinite, actors::stats_atom_v)
            .receive([&](std::uint64_t p, std::uint64_t m) { passes = p, marked = m; }, [](const caf::error&) {});
        return passes >= 5;
      },
      30s));
  EXPECT_EQ(marked, 1u);
  EXPECT_EQ(current(not_due_).name, "Scheduled");
  EXPECT_EQ(current(running_).type, state_type::running);
}

INSTANTIATE_TEST_SUITE_P(Dialects, LateRuns, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace

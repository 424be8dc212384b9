// Deployment concurrency limits in the flow-run actor, on SQLite and PostgreSQL: a run proposing Pending takes a
// slot of its deployment's limit under a lease; when the limit is full the next run waits (ENQUEUE: Scheduled
// "AwaitingConcurrencySlot") or is cancelled (CANCEL_NEW); leaving Running gives the slot back.
#include <gtest/gtest.h>

#include "actors/event_bus.hpp"
#include "actors/flow_runs.hpp"
#include "domain/orchestration.hpp"
#include "persistence/concurrency_store.hpp"
#include "persistence/deployment_slots.hpp"
#include "persistence/deployment_store.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/migrator.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;

namespace {

class DeploymentConcurrency : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    auto conn = db_.connect();
    persistence::migrator m(*conn);
    ASSERT_TRUE(m.reset());
    flow f{flow_id{new_uuid4()}, clock_.now(), clock_.now(), "limited", {}, nlohmann::json::object()};
    persistence::upsert_flow(*conn, f);
    flow_ = f.id;
    client_.client_version = parse_release_version("3.9.1");
  }

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
      caf::anon_send_exit(registry_, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(bus_, caf::exit_reason::user_shutdown);
      registry_ = nullptr;
      bus_ = nullptr;
      system_.reset();
    }
    if (database_) database_->drain_and_stop();
  }

  deployment_id new_deployment(std::int64_t limit, const char* strategy) {
    auto conn = db_.connect();
    deployment d;
    d.id = deployment_id{new_uuid4()};
    d.created = d.updated = clock_.now();
    d.name = std::string("limited-") + strategy;
    d.flow = flow_;
    d.concurrency_limit = limit;
    d.concurrency_options = {{"collision_strategy", strategy}, {"grace_period_seconds", nullptr}};
    persistence::sync_deployment_limit(*conn, d, limit, clock_.now());
    persistence::insert_deployment(*conn, d);
    return d.id;
  }

  flow_run_id new_run(const deployment_id& of) {
    flow_run_id run{new_uuid4()};
    auto conn = db_.connect();
    persistence::insert_flow_run(*conn, {run, flow_, "run", clock_.now()});
    conn->execute("UPDATE flow_run SET deployment_id = $1 WHERE id = $2", {persistence::id(of), persistence::id(run)});
    return run;
  }

  actors::transition_outcome propose(const flow_run_id& run, state_type type, bool force = false) {
    caf::scoped_actor self{*system_};
    actors::transition_outcome outcome;
    self->request(registry_, caf::infinite, actors::transition_atom_v, run,
                  actors::transition_call{transition_request{make_server_state(type, clock_.now()), force}, client_})
        .receive([&](const actors::transition_outcome& o) { outcome = o; }, [](const caf::error&) {});
    EXPECT_TRUE(outcome.error) << outcome.error.message();
    return outcome;
  }

  concurrency_limit limit_of(const deployment_id& d) {
    auto conn = db_.connect();
    return *persistence::find_limit_by_name(*conn, persistence::deployment_limit_name(d));
  }

  std::int64_t leases() { return db_.connect()->query("SELECT COUNT(*) FROM concurrency_lease").at(0).integer(0); }

  system_clock clock_;
  osprey::testing::scratch_database db_{GetParam()};
  flow_id flow_;
  client_info client_;
  std::optional<persistence::database> database_;
  caf::actor_system_config caf_config_;
  std::unique_ptr<caf::actor_system> system_;
  actors::event_bus_actor bus_;
  actors::flow_run_registry_actor registry_;
};

TEST_P(DeploymentConcurrency, AFullLimitEnqueuesTheNextRunUntilTheFirstLeavesRunning) {
  const auto d = new_deployment(1, "ENQUEUE");
  const auto first = new_run(d), second = new_run(d);
  start();
  for (const auto& run : {first, second}) propose(run, state_type::scheduled, true);

  auto taken = propose(first, state_type::pending);
  ASSERT_TRUE(taken.written);
  EXPECT_EQ(taken.decision.kind, decision_kind::accept);
  ASSERT_TRUE(detail_string(*taken.state, "deployment_concurrency_lease_id"));
  EXPECT_EQ(limit_of(d).active_slots, 1);
  EXPECT_EQ(leases(), 1);

  auto waiting = propose(second, state_type::pending);
  EXPECT_EQ(waiting.decision.kind, decision_kind::reject);
  EXPECT_EQ(waiting.state->name, "AwaitingConcurrencySlot");
  EXPECT_EQ(waiting.state->type, state_type::scheduled);
  EXPECT_EQ(limit_of(d).active_slots, 1) << "a refused run takes no slot";

  auto running = propose(first, state_type::running);
  EXPECT_EQ(running.decision.kind, decision_kind::accept);
  EXPECT_EQ(detail_string(*running.state, "deployment_concurrency_lease_id"),
            detail_string(*taken.state, "deployment_concurrency_lease_id"))
      << "the lease goes on with the run";
  ASSERT_TRUE(propose(first, state_type::completed).written);
  EXPECT_EQ(limit_of(d).active_slots, 0);
  EXPECT_EQ(leases(), 0);

  auto now_it_runs = propose(second, state_type::pending);
  EXPECT_EQ(now_it_runs.decision.kind, decision_kind::accept);
  EXPECT_EQ(limit_of(d).active_slots, 1);
}

TEST_P(DeploymentConcurrency, CancelNewCancelsARunArrivingAtAFullLimit) {
  const auto d = new_deployment(1, "CANCEL_NEW");
  const auto first = new_run(d), second = new_run(d);
  start();
  for (const auto& run : {first, second}) propose(run, state_type::scheduled, true);
  ASSERT_EQ(propose(first, state_type::pending).decision.kind, decision_kind::accept);
  auto refused = propose(second, state_type::pending);
  EXPECT_EQ(refused.decision.kind, decision_kind::reject);
  EXPECT_EQ(refused.state->type, state_type::cancelled);
  EXPECT_EQ(refused.state->message, "Deployment concurrency limit reached.");
  EXPECT_EQ(limit_of(d).active_slots, 1);
}

TEST_P(DeploymentConcurrency, ARunOfADeploymentWithoutALimitTakesNoSlot) {
  auto conn = db_.connect();
  deployment unlimited;
  unlimited.id = deployment_id{new_uuid4()};
  unlimited.created = unlimited.updated = clock_.now();
  unlimited.name = "free";
  unlimited.flow = flow_;
  persistence::insert_deployment(*conn, unlimited);
  const auto run = new_run(unlimited.id);
  start();
  propose(run, state_type::scheduled, true);
  auto pending = propose(run, state_type::pending);
  EXPECT_EQ(pending.decision.kind, decision_kind::accept);
  EXPECT_FALSE(detail_string(*pending.state, "deployment_concurrency_lease_id"));
  EXPECT_EQ(leases(), 0);
}

INSTANTIATE_TEST_SUITE_P(Dialects, DeploymentConcurrency, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace

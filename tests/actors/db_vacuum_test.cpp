// The database vacuum: events past their retention go (in batches, with their resources) and newer ones stay;
// when run retention is on, top-level finished runs that ended before it go with their task runs and logs,
// their subflows follow in a later batch, and unfinished or recent runs stay. On SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include "actors/db_vacuum.hpp"
#include "actors/event_bus.hpp"
#include "actors/flow_runs.hpp"
#include "actors/periodic_service.hpp"
#include "domain/event.hpp"
#include "domain/orchestration.hpp"
#include "persistence/event_store.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/log_store.hpp"
#include "persistence/migrator.hpp"
#include "persistence/task_run_store.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;

namespace {

constexpr std::chrono::seconds day{86400};

class DbVacuum : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    auto conn = db_.connect();
    persistence::migrator m(*conn);
    ASSERT_TRUE(m.reset());
    flow_ = flow{flow_id{new_uuid4()}, clock_.now(), clock_.now(), "vacuumed", {}, nlohmann::json::object()};
    persistence::upsert_flow(*conn, flow_);
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

  void start_vacuum(std::optional<std::chrono::seconds> run_retention, std::size_t batch = 200) {
    actors::db_vacuum_options options{*database_, registry_};
    options.time = &clock_;
    options.interval = 3600s;  // passes after the first come only from full batches
    options.batch = batch;
    options.flow_run_retention = run_retention;
    service_ = actors::spawn_db_vacuum(*system_, options);
  }

  std::pair<std::uint64_t, std::uint64_t> stats() {
    caf::scoped_actor self{*system_};
    std::pair<std::uint64_t, std::uint64_t> out;
    self->request(service_, caf::infinite, actors::stats_atom_v)
        .receive(
            [&](std::uint64_t passes, std::uint64_t changed) {
              out = {passes, changed};
            },
            [](const caf::error&) {});
    return out;
  }

  void add_event(timestamp occurred) {
    auto parsed = parse_event({{"id", new_uuid4().to_string()},
                               {"occurred", format_iso8601(occurred)},
                               {"event", "test.happened"},
                               {"resource", {{"prefect.resource.id", "test.thing." + new_uuid4().to_string()}}},
                               {"related", {{{"prefect.resource.id", "test.other"}, {"prefect.resource.role", "x"}}}}});
    ASSERT_TRUE(parsed) << parsed.error().message();
    auto conn = db_.connect();
    persistence::insert_events(*conn, {*parsed}, clock_.now());
  }

  std::int64_t count(const std::string& table) {
    auto conn = db_.connect();
    return conn->query("SELECT COUNT(*) FROM " + table).front().integer(0);
  }

  bool exists(const flow_run_id& run) {
    auto conn = db_.connect();
    return persistence::find_flow_run(*conn, run).has_value();
  }

  flow_run_id new_run(const std::string& name) {
    flow_run_id run{new_uuid4()};
    auto conn = db_.connect();
    persistence::insert_flow_run(*conn, {run, flow_.id, name, clock_.now()});
    return run;
  }

  uuid new_task_run(const flow_run_id& of, const std::string& key) {
    auto conn = db_.connect();
    const auto id = new_uuid4();
    nlohmann::json columns{{"task_key", key}, {"dynamic_key", "0"}, {"name", key + "-0"}};
    persistence::create_task_run(*conn, id, of.value, columns, make_server_state(state_type::completed, clock_.now()),
                                 clock_.now());
    return id;
  }

  void add_log(const flow_run_id& run) {
    auto conn = db_.connect();
    persistence::insert_logs(
        *conn, {{new_uuid4(), clock_.now(), "prefect.flow_runs", 20, "hello", clock_.now(), run.value, std::nullopt}});
  }

  void finish(const flow_run_id& run, state_type last = state_type::completed) {
    for (auto type : {state_type::running, last}) {
      caf::scoped_actor self{*system_};
      bool written = false;
      self->request(registry_, caf::infinite, actors::transition_atom_v, run,
                    actors::transition_call{transition_request{make_server_state(type, clock_.now()), true}, {}})
          .receive([&](const actors::transition_outcome& o) { written = o.written; }, [](const caf::error&) {});
      ASSERT_TRUE(written);
    }
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

TEST_P(DbVacuum, EventsPastTheirRetentionGoInBatchesWithTheirResourcesAndNewerOnesStay) {
  for (int i = 0; i < 5; ++i) add_event(clock_.now() - 8 * day);
  for (int i = 0; i < 2; ++i) add_event(clock_.now() - 6 * day);
  ASSERT_EQ(count("events"), 7);
  ASSERT_EQ(count("event_resources"), 14);  // the primary and one related resource each

  start_vacuum(std::nullopt, 2);

  ASSERT_TRUE(osprey::testing::wait_until([&] { return count("events") == 2 && count("event_resources") == 4; }, 30s))
      << count("events") << " events, " << count("event_resources") << " resources";
  ASSERT_TRUE(osprey::testing::wait_until([&] { return stats().second == 15; }, 30s)) << stats().second;
  EXPECT_GE(stats().first, 5u) << "batches of 2: at least five passes for ten resource rows";
}

TEST_P(DbVacuum, FinishedRunsPastTheirRetentionGoWithTheirTaskRunsLogsAndSubflows) {
  auto old_done = new_run("old-done");
  auto old_failed = new_run("old-failed");
  auto old_running = new_run("old-running");
  const auto tracker = new_task_run(old_done, "subflow-tracker");
  auto subflow = new_run("old-subflow");
  {
    auto conn = db_.connect();
    conn->execute("UPDATE flow_run SET parent_task_run_id = $1 WHERE id = $2",
                  {persistence::id(tracker), persistence::id(subflow)});
  }
  add_log(old_done);
  finish(old_done);
  finish(old_failed, state_type::failed);
  finish(subflow);
  {
    caf::scoped_actor self{*system_};
    self->request(
            registry_, caf::infinite, actors::transition_atom_v, old_running,
            actors::transition_call{transition_request{make_server_state(state_type::running, clock_.now()), true}, {}})
        .receive([](const actors::transition_outcome&) {}, [](const caf::error&) {});
  }
  clock_.advance(100 * day);
  auto recent = new_run("recent");
  finish(recent);

  start_vacuum(90 * day);

  ASSERT_TRUE(
      osprey::testing::wait_until([&] { return !exists(old_done) && !exists(old_failed) && !exists(subflow); }, 30s))
      << exists(old_done) << exists(old_failed) << exists(subflow);
  EXPECT_TRUE(exists(old_running)) << "an unfinished run is never vacuumed";
  EXPECT_TRUE(exists(recent));
  EXPECT_EQ(count("task_run"), 0);
  EXPECT_EQ(count("log"), 0);
}

TEST_P(DbVacuum, FinishedRunsStayWhenRunRetentionIsOff) {
  auto old_done = new_run("old-done");
  finish(old_done);
  clock_.advance(400 * day);
  start_vacuum(std::nullopt);
  ASSERT_TRUE(osprey::testing::wait_until([&] { return stats().first >= 1; }, 30s));
  EXPECT_TRUE(exists(old_done));
}

INSTANTIATE_TEST_SUITE_P(D, DbVacuum, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace

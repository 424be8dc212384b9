// The task-run recorder: client task-run events become rows; the newest state wins whatever the arrival
// order; replays are idempotent; every state is kept in the history; an event refused while the database is
// locked is written once the lock is gone, or at the latest when the recorder stops.
#include <gtest/gtest.h>

#include "actors/task_run_recorder.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/migrator.hpp"
#include "persistence/task_run_store.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;

namespace {

class TaskRunRecorder : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    auto conn = db_.connect();
    persistence::migrator m(*conn);
    ASSERT_TRUE(m.reset());
    flow f{flow_id{new_uuid4()}, clock_.now(), clock_.now(), "etl", {}, nlohmann::json::object()};
    persistence::upsert_flow(*conn, f);
    persistence::insert_flow_run(*conn, {flow_run_, f.id, "brave-otter", clock_.now()});
    persistence::database_options options;
    options.target = db_.target();
    // Short, so a test holding a write lock makes the recorder's writes time out quickly.
    options.connection.busy_timeout = 300ms;
    database_ = *persistence::database::start(options);
    caf_config_.set("scheduler.max-threads", std::size_t{2});
    system_ = std::make_unique<caf::actor_system>(caf_config_);
    recorder_ = actors::spawn_task_run_recorder(*system_, *database_);
  }

  void TearDown() override {
    if (system_) {
      caf::anon_send_exit(recorder_, caf::exit_reason::user_shutdown);
      recorder_ = nullptr;
      system_.reset();
    }
    if (database_) database_->drain_and_stop();
  }

  // An event shaped like the Prefect engine's emit_task_run_state_change_event.
  nlohmann::json event(const uuid& task_run, const std::string& state_type, const std::string& state_name, timestamp at,
                       const std::string& dynamic_key = "0") {
    return {{"id", new_uuid7(at).to_string()},
            {"occurred", format_iso8601(at)},
            {"event", "prefect.task-run." + state_name},
            {"resource",
             {{"prefect.resource.id", "prefect.task-run." + task_run.to_string()},
              {"prefect.resource.name", "add-0"},
              {"prefect.state-type", state_type},
              {"prefect.orchestration", "client"}}},
            {"related",
             {{{"prefect.resource.id", "prefect.flow-run." + flow_run_.to_string()},
               {"prefect.resource.role", "flow-run"}}}},
            {"payload",
             {{"intended", {{"from", nullptr}, {"to", state_type}}},
              {"validated_state",
               {{"type", state_type},
                {"name", state_name},
                {"message", ""},
                {"state_details", nlohmann::json::object()},
                {"data", nullptr}}},
              {"task_run",
               {{"name", "add-0"},
                {"task_key", "add-abc"},
                {"dynamic_key", dynamic_key},
                {"tags", {"x"}},
                {"run_count", state_type == "PENDING" ? 0 : 1}}}}}};
  }

  void record(const nlohmann::json& e) { caf::anon_send(recorder_, actors::record_atom_v, e); }

  actors::recorder_stats stats() {
    caf::scoped_actor self{*system_};
    actors::recorder_stats out;
    self->request(recorder_, caf::infinite, actors::stats_atom_v)
        .receive([&](const actors::recorder_stats& s) { out = s; }, [](const caf::error&) {});
    return out;
  }

  /// Holds the write lock of task runs on `conn` (a second connection) until conn->commit(): SQLite's
  /// database write lock, PostgreSQL's table lock. The recorder's writes then fail once the lock timeout passes.
  void lock_task_runs(persistence::sql_connection& conn) {
    conn.begin_write();
    if (GetParam() == dialect::postgresql) conn.execute("LOCK TABLE task_run IN EXCLUSIVE MODE", {});
  }

  bool settled(std::uint64_t n) {
    return osprey::testing::wait_until(
        [&] {
          auto s = stats();
          return s.recorded + s.rejected >= n;
        },
        30s);
  }

  osprey::testing::scratch_database db_{GetParam()};
  system_clock clock_;
  flow_run_id flow_run_{new_uuid4()};
  std::optional<persistence::database> database_;
  caf::actor_system_config caf_config_;
  std::unique_ptr<caf::actor_system> system_;
  caf::actor recorder_;
};

TEST_P(TaskRunRecorder, RecordsEveryStateAndTheLatestWins) {
  const uuid task = new_uuid7(clock_.now());
  const auto t0 = clock_.now();
  record(event(task, "PENDING", "Pending", t0));
  record(event(task, "RUNNING", "Running", t0 + 1ms));
  record(event(task, "COMPLETED", "Completed", t0 + 2ms));
  ASSERT_TRUE(settled(3));
  auto conn = db_.connect();
  auto stored = persistence::find_task_run(*conn, task);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->state->name, "Completed");
  EXPECT_EQ(stored->flow_run_id, flow_run_.value);
  EXPECT_EQ(stored->columns["task_key"], "add-abc");
  EXPECT_EQ(persistence::task_run_state_history(*conn, task).size(), 3u);
}

TEST_P(TaskRunRecorder, AnOlderEventArrivingLateDoesNotOverwriteANewerState) {
  const uuid task = new_uuid7(clock_.now());
  const auto t0 = clock_.now();
  record(event(task, "COMPLETED", "Completed", t0 + 2ms));
  ASSERT_TRUE(settled(1));
  record(event(task, "RUNNING", "Running", t0 + 1ms));
  ASSERT_TRUE(settled(2));
  auto conn = db_.connect();
  EXPECT_EQ(persistence::find_task_run(*conn, task)->state->name, "Completed");
  EXPECT_EQ(persistence::task_run_state_history(*conn, task).size(), 2u) << "the late state is still in the history";
}

TEST_P(TaskRunRecorder, ReplayedEventsAreRecordedOnce) {
  const uuid task = new_uuid7(clock_.now());
  auto e = event(task, "RUNNING", "Running", clock_.now());
  record(e);
  record(e);
  ASSERT_TRUE(settled(2));
  auto conn = db_.connect();
  EXPECT_EQ(persistence::task_run_state_history(*conn, task).size(), 1u);
}

TEST_P(TaskRunRecorder, TheSameNaturalKeyUnderANewIdKeepsTheStoredId) {
  const uuid first = new_uuid7(clock_.now()), second = new_uuid4();
  const auto t0 = clock_.now();
  record(event(first, "PENDING", "Pending", t0));
  ASSERT_TRUE(settled(1));
  record(event(second, "RUNNING", "Running", t0 + 1ms));
  ASSERT_TRUE(settled(2));
  auto conn = db_.connect();
  EXPECT_FALSE(persistence::find_task_run(*conn, second));
  EXPECT_EQ(persistence::find_task_run(*conn, first)->state->name, "Running");
}

TEST_P(TaskRunRecorder, MalformedAndForeignEventsAreIgnored) {
  auto bad = event(new_uuid4(), "RUNNING", "Running", clock_.now());
  bad["payload"].erase("validated_state");
  record(bad);
  auto server_side = event(new_uuid4(), "RUNNING", "Running", clock_.now());
  server_side["resource"]["prefect.orchestration"] = "server";
  record(server_side);
  record({{"event", "prefect.flow-run.Running"}});
  ASSERT_TRUE(settled(1));
  EXPECT_EQ(stats().rejected, 1u);
  auto conn = db_.connect();
  EXPECT_EQ(persistence::count_task_runs(*conn, "", {}), 0);
}

TEST_P(TaskRunRecorder, AnEventRefusedWhileTheDatabaseIsLockedIsWrittenOnceTheLockIsGone) {
  const uuid task = new_uuid7(clock_.now());
  auto locker = db_.connect();
  lock_task_runs(*locker);
  record(event(task, "RUNNING", "Running", clock_.now()));
  ASSERT_TRUE(osprey::testing::wait_until([&] { return stats().refused >= 2; }, 30s)) << "the write was not retried";
  EXPECT_EQ(stats().rejected, 0u);
  locker->commit();
  ASSERT_TRUE(settled(1));
  EXPECT_EQ(stats().rejected, 0u);
  auto conn = db_.connect();
  ASSERT_TRUE(persistence::find_task_run(*conn, task));
  EXPECT_EQ(persistence::find_task_run(*conn, task)->state->name, "Running");
}

TEST_P(TaskRunRecorder, AnEventStillRefusedWhenTheRecorderStopsIsHandedToTheWriterBeforeItDrains) {
  const uuid task = new_uuid7(clock_.now());
  actors::write_retry never_again;  // no retry comes due during the test: only the shutdown can write it
  never_again.first_delay = never_again.max_delay = 1h;
  caf::anon_send_exit(recorder_, caf::exit_reason::user_shutdown);
  recorder_ = actors::spawn_task_run_recorder(*system_, *database_, &clock_, never_again);
  auto locker = db_.connect();
  lock_task_runs(*locker);
  record(event(task, "RUNNING", "Running", clock_.now()));
  ASSERT_TRUE(osprey::testing::wait_until([&] { return stats().refused >= 1; }, 30s));
  locker->commit();
  {
    caf::scoped_actor self{*system_};
    self->monitor(recorder_);
    caf::anon_send_exit(recorder_, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {});
  }
  database_->drain_and_stop();
  auto conn = db_.connect();
  EXPECT_TRUE(persistence::find_task_run(*conn, task));
}

INSTANTIATE_TEST_SUITE_P(Dialects, TaskRunRecorder, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace

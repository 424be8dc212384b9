// The task-run recorder's batched write (statements prepared ahead, state rows as multi-row INSERTs) stores exactly
// what recording the events one by one stores, on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include "domain/task_run.hpp"
#include "persistence/migrator.hpp"
#include "persistence/task_run_store.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;

namespace {

const timestamp t0 = *parse_iso8601("2026-03-01T12:00:00Z");
const uuid flow_id = new_uuid4();
const uuid flow_run = new_uuid4();

task_run_event make_event(const uuid& task_run, const std::string& key, state_type type, const std::string& name,
                          timestamp at) {
  task_run_event e;
  e.task_run_id = task_run;
  e.flow_run_id = flow_run;
  e.state.id = state_id{new_uuid4()};
  e.state.type = type;
  e.state.name = name;
  e.state.at = at;
  e.columns = {{"name", key + "-name"}, {"task_key", key}, {"dynamic_key", "0"}, {"tags", {"a", "b"}}};
  return e;
}

/// 50 runs × Pending, Running, Completed (more state rows than one statement holds), oldest first, with an
/// event in the middle for a run already stored under another id (same natural key), a run with two events at the
/// same time (the first one wins), and a run stored with a state newer than its first event in the batch.
std::vector<task_run_event> batch(const uuid& other_id_run, const uuid& newer_stored_run) {
  std::vector<task_run_event> out;
  std::vector<uuid> runs;
  for (int i = 0; i < 50; ++i) runs.push_back(new_uuid4());
  const std::pair<state_type, const char*> states[] = {
      {state_type::pending, "Pending"}, {state_type::running, "Running"}, {state_type::completed, "Completed"}};
  int tick = 0;
  for (const auto& [type, name] : states)
    for (int i = 0; i < 50; ++i) {
      out.push_back(make_event(runs[static_cast<std::size_t>(i)], "task-" + std::to_string(i), type, name,
                               t0 + std::chrono::milliseconds(++tick)));
      if (tick == 70)
        out.push_back(make_event(other_id_run, "stored-elsewhere", state_type::running, "Running",
                                 t0 + std::chrono::milliseconds(tick)));
      if (tick == 5)
        out.push_back(make_event(newer_stored_run, "newer-stored", state_type::pending, "Pending",
                                 t0 + std::chrono::milliseconds(tick)));
      if (tick == 120)
        out.push_back(make_event(newer_stored_run, "newer-stored", state_type::completed, "Completed",
                                 t0 + std::chrono::milliseconds(tick)));
    }
  const uuid same_time = new_uuid4();
  out.push_back(make_event(same_time, "same-time", state_type::running, "Running", t0 + 1s));
  out.push_back(make_event(same_time, "same-time", state_type::running, "AwaitingRetry", t0 + 1s));
  out.back().columns["name"] = "renamed-by-the-second";
  return out;
}

class TaskRunStore : public ::testing::TestWithParam<dialect> {
 protected:
  std::unique_ptr<persistence::sql_connection> open(const osprey::testing::scratch_database& db) {
    auto conn = db.connect();
    persistence::migrator m(*conn);
    auto plan = m.plan_upgrade("head");
    EXPECT_TRUE(plan);
    EXPECT_TRUE(m.apply(*plan));
    conn->execute("INSERT INTO flow (id, name) VALUES ($1, 'f')", {persistence::id(flow_id)});
    conn->execute("INSERT INTO flow_run (id, name, flow_id) VALUES ($1, 'r', $2)",
                  {persistence::id(flow_run), persistence::id(flow_id)});
    // The run the odd event's natural key finds, under an id of its own.
    conn->begin_write();
    persistence::record_task_run_event(*conn, stored_, t0);
    persistence::record_task_run_event(*conn, newer_, t0);
    conn->commit();
    return conn;
  }

  static std::vector<std::string> dump(persistence::sql_connection& c) {
    std::vector<std::string> out;
    for (const auto& r : c.query("SELECT id, state_id, state_type, state_name, state_timestamp, task_key, name, tags "
                                 "FROM task_run ORDER BY id"))
      out.push_back(r.text(0) + " " + r.text(1) + " " + r.text(2) + " " + r.text(3) + " " + format_iso8601(r.time(4)) +
                    " " + r.text(5) + " " + r.text(6) + " " + r.text(7));
    for (const auto& r : c.query("SELECT id, task_run_id, type, name, timestamp, state_details FROM task_run_state "
                                 "ORDER BY id"))
      out.push_back(r.text(0) + " " + r.text(1) + " " + r.text(2) + " " + r.text(3) + " " + format_iso8601(r.time(4)) +
                    " " + nlohmann::json::parse(r.text(5)).dump());
    return out;
  }

  uuid stored_id_ = new_uuid4();
  task_run_event stored_ = make_event(stored_id_, "stored-elsewhere", state_type::pending, "Pending", t0);
  uuid newer_id_ = new_uuid4();
  task_run_event newer_ =
      make_event(newer_id_, "newer-stored", state_type::running, "Running", t0 + std::chrono::milliseconds(60));
  osprey::testing::scratch_database one_by_one_{GetParam()};
  osprey::testing::scratch_database batched_{GetParam()};
};

}  // namespace

TEST_P(TaskRunStore, BatchedWriteStoresWhatOneByOneStores) {
  OSPREY_SKIP_IF_UNAVAILABLE(one_by_one_);
  OSPREY_SKIP_IF_UNAVAILABLE(batched_);
  const auto events = batch(new_uuid4(), newer_id_);
  const timestamp now = t0 + 1h;

  auto a = open(one_by_one_);
  a->begin_write();
  for (const auto& e : events) persistence::record_task_run_event(*a, e, now);
  a->commit();

  auto b = open(batched_);
  const auto rows = persistence::prepare_task_run_events(events, now);
  for (int run = 0; run < 2; ++run) {  // a rolled-back batch is written again from the same rows
    b->begin_write();
    persistence::record_prepared_task_run_events(*b, events, rows);
    if (run == 0)
      b->rollback();
    else
      b->commit();
  }

  const auto expected = dump(*a);
  // Runs (50, the stored pair, the same-time one), then states (the odd one filed under the stored id; the newer
  // stored run's three; one of the two at the same time).
  EXPECT_EQ(expected.size(), 53u + 150u + 2u + 3u + 1u);
  EXPECT_EQ(dump(*b), expected);
  EXPECT_EQ(rows.runs.size(), 53u);  // one upsert per run of the batch, not one per event
  const auto same_time = b->query("SELECT state_name, name FROM task_run WHERE task_key = 'same-time'");
  ASSERT_EQ(same_time.size(), 1u);
  EXPECT_EQ(same_time.front().text(0), "Running");
  EXPECT_EQ(same_time.front().text(1), "same-time-name");
  EXPECT_EQ(b->query("SELECT state_name FROM task_run WHERE id = $1", {persistence::id(newer_id_)}).front().text(0),
            "Completed");
  EXPECT_EQ(b->query("SELECT COUNT(*) FROM task_run_state WHERE task_run_id = $1", {persistence::id(stored_id_)})
                .front()
                .integer(0),
            2);
}

INSTANTIATE_TEST_SUITE_P(D, TaskRunStore, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

// The UI's aggregates summed in SQL (persistence/ui_store) give what domain/run_history's reference functions give
// from the same runs read out one by one, on SQLite and PostgreSQL: runs on interval edges, microsecond offsets,
// running and unstarted late runs whose estimates move with the clock, runs outside the window.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>

#include "domain/run_history.hpp"
#include "persistence/ui_store.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;

namespace {

const timestamp start = *parse_iso8601("2026-03-01T12:00:00Z");
const auto interval = std::chrono::microseconds(15min);
constexpr std::int64_t intervals = 8;  // two hours
const timestamp now = start + 100min;  // inside the window: some runs are still due, some in the future
const uuid flow_id = new_uuid4();

struct state_kind {
  state_type type;
  const char* name;
};
constexpr state_kind kinds[] = {{state_type::completed, "Completed"}, {state_type::failed, "Failed"},
                                {state_type::crashed, "Crashed"},     {state_type::running, "Running"},
                                {state_type::scheduled, "Late"},      {state_type::scheduled, "Scheduled"},
                                {state_type::pending, "Pending"},     {state_type::cancelled, "Cancelled"}};

/// 400 runs around the window: a quarter exactly on an interval edge, the rest at microsecond offsets; started
/// early, late or not at all.
std::vector<history_run> make_runs() {
  std::mt19937_64 random(42);
  std::vector<history_run> out;
  for (int i = 0; i < 400; ++i) {
    history_run r;
    const auto edge = static_cast<std::int64_t>(random() % (intervals + 2)) - 1;
    const auto offset = i % 4 == 0 ? std::chrono::microseconds(0)
                                   : std::chrono::microseconds(static_cast<std::int64_t>(random() % interval.count()));
    r.expected_start_time = start + edge * interval + offset;
    const auto& kind = kinds[random() % std::size(kinds)];
    r.type = kind.type;
    r.state_name = kind.name;
    const bool started = kind.type != state_type::scheduled && kind.type != state_type::pending;
    if (started)
      r.start_time =
          *r.expected_start_time + std::chrono::microseconds(static_cast<std::int64_t>(random() % 600'000'000)) - 120s;
    r.state_timestamp =
        *r.expected_start_time + std::chrono::microseconds(static_cast<std::int64_t>(random() % 300'000'000));
    r.total_run_time = started ? static_cast<double>(random() % 100'000) / 1000.0 : 0;
    if (i % 50 == 0) r.expected_start_time.reset();  // never had one: not in any history
    out.push_back(std::move(r));
  }
  return out;
}

persistence::sql_value optional_ts(const std::optional<timestamp>& t) {
  return t ? persistence::ts(*t) : persistence::null_value();
}

class UiStore : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    conn_ = db_.connect_at_head();
    ASSERT_TRUE(conn_);
    conn_->execute("INSERT INTO flow (id, name) VALUES ($1, 'f')", {persistence::id(flow_id)});
    const auto parent = new_uuid4();
    conn_->execute("INSERT INTO flow_run (id, name, flow_id) VALUES ($1, 'parent', $2)",
                   {persistence::id(parent), persistence::id(flow_id)});
    int n = 0;
    conn_->begin_write();
    for (const auto& r : runs_) {
      const persistence::sql_params columns{
          persistence::id(new_uuid4()),          persistence::text("run-" + std::to_string(n++)),
          optional_ts(r.expected_start_time),    optional_ts(r.start_time),
          persistence::text(to_string(*r.type)), persistence::text(r.state_name),
          optional_ts(r.state_timestamp),        r.total_run_time};
      auto flow_run = columns;
      flow_run.push_back(persistence::id(flow_id));
      conn_->execute(
          "INSERT INTO flow_run (id, name, expected_start_time, start_time, state_type, state_name, "
          "state_timestamp, total_run_time, flow_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
          flow_run);
      auto task_run = columns;
      task_run.push_back(persistence::id(parent));
      conn_->execute(
          "INSERT INTO task_run (id, name, expected_start_time, start_time, state_type, state_name, "
          "state_timestamp, total_run_time, flow_run_id, task_key, dynamic_key) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'k', $2)",
          task_run);
    }
    conn_->commit();
  }

  static void expect_same(const std::vector<history_interval>& got, const std::vector<history_interval>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      SCOPED_TRACE("interval " + std::to_string(i));
      EXPECT_EQ(got[i].start, want[i].start);
      EXPECT_EQ(got[i].end, want[i].end);
      auto sorted = [](std::vector<history_state> states) {
        std::sort(states.begin(), states.end(),
                  [](const auto& a, const auto& b) { return std::tie(a.type, a.name) < std::tie(b.type, b.name); });
        return states;
      };
      const auto g = sorted(got[i].states), w = sorted(want[i].states);
      ASSERT_EQ(g.size(), w.size());
      for (std::size_t s = 0; s < w.size(); ++s) {
        EXPECT_EQ(g[s].type, w[s].type);
        EXPECT_EQ(g[s].name, w[s].name);
        EXPECT_EQ(g[s].count, w[s].count) << w[s].name;
        EXPECT_NEAR(g[s].sum_estimated_run_time, w[s].sum_estimated_run_time, 1e-6) << w[s].name;
        EXPECT_NEAR(g[s].sum_estimated_lateness, w[s].sum_estimated_lateness, 1e-6) << w[s].name;
      }
    }
  }

  std::vector<history_run> runs_ = make_runs();
  osprey::testing::scratch_database db_{GetParam()};
  std::unique_ptr<persistence::sql_connection> conn_;
};

}  // namespace

TEST_P(UiStore, FlowAndTaskRunHistoriesSumWhatTheReferenceSums) {
  const auto end = start + intervals * interval;
  const auto want = run_history(start, end, interval, runs_, now);
  std::int64_t counted = 0;
  for (const auto& i : want)
    for (const auto& s : i.states) counted += s.count;
  ASSERT_GT(counted, 200);  // most runs are inside the window
  const filters::filter_set none;
  {
    SCOPED_TRACE("flow runs");
    const auto groups = persistence::sum_flow_run_history(*conn_, persistence::flow_run_where(conn_->dialect(), none),
                                                          start, interval, intervals, now);
    expect_same(history_intervals(start, end, interval, groups), want);
  }
  {
    SCOPED_TRACE("task runs");
    const auto groups = persistence::sum_task_run_history(*conn_, persistence::task_run_where(conn_->dialect(), none),
                                                          start, interval, intervals, now);
    expect_same(history_intervals(start, end, interval, groups), want);
  }
}

TEST_P(UiStore, LatenessSumsWhatTheReferenceSums) {
  double want = 0;
  for (const auto& r : runs_) want += estimated_lateness_seconds(r, now);
  const auto got = persistence::sum_flow_run_lateness(*conn_, persistence::flow_run_where(conn_->dialect(), {}), now);
  EXPECT_EQ(got.runs, static_cast<std::int64_t>(runs_.size()) + 1);  // and the parent, never late
  EXPECT_NEAR(got.seconds, want, 1e-6);
  EXPECT_GT(want, 0);
}

TEST_P(UiStore, DashboardTaskRunCountsCountWhatTheReferenceCounts) {
  const auto after = start + 10min + 17s;   // seconds are dropped
  const auto before = start + 95min + 30s;  // to the end of that minute
  std::vector<finished_task_run> finished;
  for (const auto& r : runs_)
    if (r.start_time && r.type && is_terminal(*r.type)) finished.push_back({*r.start_time, *r.type});
  const auto want = dashboard_task_run_counts(after, before, finished, now);
  const auto got = persistence::count_finished_task_runs(*conn_, persistence::task_run_where(conn_->dialect(), {}),
                                                         dashboard_task_run_span(after, before, now));
  ASSERT_EQ(got.size(), want.size());
  std::int64_t total = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].completed, want[i].completed) << "bucket " << i;
    EXPECT_EQ(got[i].failed, want[i].failed) << "bucket " << i;
    total += want[i].completed + want[i].failed;
  }
  EXPECT_GT(total, 50);
}

INSTANTIATE_TEST_SUITE_P(D, UiStore, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

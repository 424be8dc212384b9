// Prefect's JSON shapes for runs: the estimates computed at read time (FlowRun/TaskRun.estimated_run_time and
// estimated_start_time_delta, prefect/server/database/orm_models.py Run) as tables.
#include "http/shapes.hpp"

#include <gtest/gtest.h>

namespace osprey::http {
namespace {

using namespace std::chrono_literals;

const timestamp t0 = *parse_iso8601("2026-01-01T00:00:00Z");

run_state state(state_type type, timestamp at) {
  run_state s;
  s.id = state_id{new_uuid7(at)};
  s.type = type;
  s.name = default_state_name(type);
  s.at = at;
  return s;
}

struct estimate_row {
  const char* label;
  state_type current;
  timestamp current_since;
  std::optional<timestamp> expected_start;
  std::optional<timestamp> start;
  double total_run_time;
  double estimated_run_time;          ///< read at t0 + 10 s
  double estimated_start_time_delta;  ///< read at t0 + 10 s
};

const std::vector<estimate_row> estimate_rows = {
    {"running: the current run counts", state_type::running, t0 + 4s, t0, t0 + 1s, 3.0, 9.0, 1.0},
    {"completed: only what was counted", state_type::completed, t0 + 8s, t0, t0 + 1s, 7.0, 7.0, 1.0},
    {"started early: not late", state_type::running, t0 + 2s, t0 + 5s, t0 + 2s, 0.0, 8.0, 0.0},
    {"not started, overdue: late until now", state_type::scheduled, t0, t0 + 4s, std::nullopt, 0.0, 0.0, 6.0},
    {"not started, not due yet", state_type::scheduled, t0, t0 + 60s, std::nullopt, 0.0, 0.0, 0.0},
    // Regression: a run that ended without starting was reported late for ever after.
    {"not started but cancelled: not late", state_type::cancelled, t0 + 1s, t0, std::nullopt, 0.0, 0.0, 0.0},
    {"not started but crashed: not late", state_type::crashed, t0 + 1s, t0, std::nullopt, 0.0, 0.0, 0.0},
};

TEST(RunShapes, FlowRunEstimatesTable) {
  for (const auto& r : estimate_rows) {
    SCOPED_TRACE(r.label);
    flow_run run;
    run.id = flow_run_id{new_uuid4()};
    run.state = state(r.current, r.current_since);
    run.expected_start_time = r.expected_start;
    run.start_time = r.start;
    run.total_run_time = r.total_run_time;
    const auto j = to_json(run, t0 + 10s);
    EXPECT_DOUBLE_EQ(j["estimated_run_time"].get<double>(), r.estimated_run_time);
    EXPECT_DOUBLE_EQ(j["estimated_start_time_delta"].get<double>(), r.estimated_start_time_delta);
    EXPECT_DOUBLE_EQ(j["total_run_time"].get<double>(), r.total_run_time);
  }
}

TEST(RunShapes, TaskRunEstimatesTable) {
  for (const auto& r : estimate_rows) {
    SCOPED_TRACE(r.label);
    task_run run;
    run.id = task_run_id{new_uuid4()};
    run.state = state(r.current, r.current_since);
    if (r.expected_start) run.columns["expected_start_time"] = format_iso8601(*r.expected_start);
    if (r.start) run.columns["start_time"] = format_iso8601(*r.start);
    run.columns["total_run_time"] = r.total_run_time;
    const auto j = to_json(run, t0 + 10s);
    EXPECT_DOUBLE_EQ(j["estimated_run_time"].get<double>(), r.estimated_run_time);
    EXPECT_DOUBLE_EQ(j["estimated_start_time_delta"].get<double>(), r.estimated_start_time_delta);
  }
}

TEST(RunShapes, TaskRunWithoutBookkeepingColumnsReadsAsNothingRun) {
  task_run run;
  run.id = task_run_id{new_uuid4()};
  run.columns = {{"total_run_time", "soon"}, {"run_count", nullptr}};
  const auto j = to_json(run, t0);
  EXPECT_EQ(j["total_run_time"], 0.0);
  EXPECT_EQ(j["run_count"], 0);
  EXPECT_EQ(j["estimated_run_time"], 0.0);
  EXPECT_EQ(j["estimated_start_time_delta"], 0.0);
}

}  // namespace
}  // namespace osprey::http

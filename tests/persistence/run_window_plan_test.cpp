// The dashboard counts a day of runs of each flow, work pool and deployment (about 70 counts per load). On a
// 1 M-run database such a count must read only its owner's runs of that day, through an index that starts with
// the owner and goes on with expected_start_time (migration ded23ee05fa0), not every run of the day (20-40 ms
// each on SQLite). SQLite's plan is checked here on an empty database: its choice between indexes does not
// depend on statistics for an equality plus a range. The UI's other big reads (a run's subflows, a week's task
// runs and runs) are checked against the statistics ANALYZE gave on that database, loaded into the empty one.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/filters.hpp"
#include "persistence/filter_sql.hpp"
#include "persistence/planner_statistics.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using persistence::dialect;

namespace {

constexpr const char* day =
    R"("expected_start_time": {"after_": "2026-12-06T03:53:00Z", "before_": "2026-12-07T03:53:00Z"})";
constexpr const char* some_id = "00000001-0000-4000-8000-000000000049";

class RunWindowPlan : public ::testing::Test {
 protected:
  /// SQLite's plan of counting the flow runs that `body` (a flow_runs/count body) selects, one line per step.
  std::string count_plan(const std::string& body) {
    filters::filter_error error;
    auto q = filters::parse_flow_run_query(nlohmann::json::parse(body), filters::body_kind::count, error);
    EXPECT_TRUE(q) << body << " → " << error.describe();
    if (!q) return {};
    const auto where = persistence::flow_run_where(dialect::sqlite, q->filters);
    std::string plan;
    for (const auto& row :
         conn_->query("EXPLAIN QUERY PLAN SELECT count(*) FROM flow_run r WHERE " + where.sql, where.params))
      plan += row.text(3) + "\n";
    return plan;
  }

  /// SQLite's plan of choosing a page of the flow runs that `body` (a flow_runs/paginate body) selects, as
  /// select_flow_runs does before it joins their states.
  std::string page_plan(const std::string& body) {
    filters::filter_error error;
    auto q = filters::parse_flow_run_query(nlohmann::json::parse(body), filters::body_kind::paginate, error);
    EXPECT_TRUE(q) << body << " → " << error.describe();
    if (!q) return {};
    const auto where = persistence::flow_run_where(dialect::sqlite, q->filters);
    std::string plan;
    for (const auto& row : conn_->query("EXPLAIN QUERY PLAN SELECT r.id FROM flow_run r WHERE " + where.sql +
                                            " ORDER BY " + persistence::order_by(q->sort) + " LIMIT 100",
                                        where.params))
      plan += row.text(3) + "\n";
    return plan;
  }

  /// The same for counting the task runs that `body` (a task_runs/count body) selects.
  std::string task_count_plan(const std::string& body) {
    filters::filter_error error;
    auto q = filters::parse_task_run_query(nlohmann::json::parse(body), filters::body_kind::count, error);
    EXPECT_TRUE(q) << body << " → " << error.describe();
    if (!q) return {};
    const auto where = persistence::task_run_count_where(dialect::sqlite, q->filters);
    std::string plan;
    for (const auto& row : conn_->query("EXPLAIN QUERY PLAN SELECT count(*) FROM task_run t " + where.joins +
                                            (where.sql.empty() ? "" : " WHERE " + where.sql),
                                        where.params))
      plan += row.text(3) + "\n";
    return plan;
  }

  /// The statistics Osprey installs at start (persistence/planner_statistics): a full ANALYZE of the generated
  /// 1 M-run database (bench/generate_big_db.py). Among them, parent_task_run_id looks like one value shared by
  /// every run (NULL), which once made SQLite scan every run rather than use its index.
  void load_big_database_statistics() {
    ASSERT_TRUE(persistence::install_planner_statistics(*conn_));
    conn_->execute("ANALYZE sqlite_schema");  // SQLite reads the statistics again
  }

  static std::string with_day(const std::string& owner) {
    return std::string(R"({"flow_runs": {"operator": "and_", )") + day +
           R"(, "state": {"type": {"any_": ["FAILED", "CRASHED"]}}}, )" + owner + "}";
  }

  osprey::testing::scratch_database db_{dialect::sqlite};
  std::unique_ptr<persistence::sql_connection> conn_ = db_.connect_at_head();
};

TEST_F(RunWindowPlan, AFlowsDayOfRunsIsSearchedByFlowAndTime) {
  const auto plan = count_plan(with_day(std::string(R"("flows": {"id": {"any_": [")") + some_id + "\"]}}"));
  EXPECT_NE(plan.find("ix_flow_run__flow_id_expected_start_time_id_start_time (flow_id=? AND expected_start_time>"),
            std::string::npos)
      << plan;
}

TEST_F(RunWindowPlan, AWorkPoolsDayOfRunsIsSearchedByQueueAndTime) {
  const auto plan = count_plan(with_day(std::string(R"("work_pools": {"id": {"any_": [")") + some_id + "\"]}}"));
  EXPECT_NE(
      plan.find(
          "ix_flow_run__work_queue_id_expected_start_time_id_start_time (work_queue_id=? AND expected_start_time>"),
      std::string::npos)
      << plan;
}

TEST_F(RunWindowPlan, ADeploymentsDayOfRunsIsSearchedByDeploymentAndTime) {
  const auto plan = count_plan(with_day(std::string(R"("deployments": {"id": {"any_": [")") + some_id + "\"]}}"));
  EXPECT_NE(
      plan.find(
          "ix_flow_run__deployment_id_expected_start_time_id_start_time (deployment_id=? AND expected_start_time>"),
      std::string::npos)
      << plan;
}

// The flow-run page counts a run's subflows (flow_runs.parent_flow_run_id): the run's task runs are listed and the
// parent_task_run_id index finds the flow runs under them. A correlated EXISTS visited every flow run (188 ms).
TEST_F(RunWindowPlan, ASubflowCountSearchesTheParentIndex) {
  load_big_database_statistics();
  const auto plan = count_plan(std::string(R"({"flow_runs": {"parent_flow_run_id": {"operator": "and_", "any_": [")") +
                               some_id + "\"]}}}");
  EXPECT_NE(plan.find("ix_flow_run__parent_task_run_id (parent_task_run_id=?)"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("SCAN r "), std::string::npos) << plan;
}

// The runs page counts the task runs of a week's flow runs (1.1 M of 5 M): from the window's runs, whose ids the
// expected_start_time index carries (migration 75283aa33814), to each run's task runs by the unique key's prefix,
// reading indexes only.
TEST_F(RunWindowPlan, AWeeksTaskRunCountGoesFromTheRunsWindowToTheirTaskRuns) {
  load_big_database_statistics();
  const auto plan = task_count_plan(
      R"({"flow_runs": {"operator": "and_", "expected_start_time": {"after_": "2026-11-30T03:53:20Z", "before_": "2026-12-07T03:53:20Z"}}})");
  const auto runs =
      plan.find("USING COVERING INDEX ix_flow_run__expected_start_time_desc_id_start_time (expected_start_time>");
  const auto tasks = plan.find("USING COVERING INDEX uq_task_run__flow_run_id_task_key_dynamic_key (flow_run_id=?)");
  EXPECT_NE(runs, std::string::npos) << plan;
  EXPECT_NE(tasks, std::string::npos) << plan;
  EXPECT_LT(runs, tasks) << plan;
  EXPECT_EQ(plan.find("LIST SUBQUERY"), std::string::npos) << plan;
}

// The flow page counts a flow's task runs by state (51,000 task runs of 10,000 runs on 1 M runs): the flow's
// runs come from the (flow_id, expected_start_time, id) index and their task runs' states from the (flow_run_id,
// state_type, ...) index, without reading a row of either table (migration bf05c75cfb45: 127 → 34-44 ms).
TEST_F(RunWindowPlan, AFlowsTaskRunsByStateAreCountedFromIndexesOnly) {
  load_big_database_statistics();
  const auto plan = task_count_plan(
      std::string(
          R"({"task_runs": {"operator": "and_", "subflow_runs": {"exists_": false}, "state": {"operator": "and_", "type": {"any_": ["COMPLETED", "FAILED", "CRASHED", "RUNNING"]}}}, "flows": {"operator": "and_", "id": {"any_": [")") +
      some_id + "\"]}}}");
  EXPECT_NE(plan.find("USING COVERING INDEX ix_flow_run__flow_id_expected_start_time_id_start_time (flow_id=?)"),
            std::string::npos)
      << plan;
  EXPECT_NE(plan.find("USING COVERING INDEX ix_task_run__flow_run_id_state_type_history (flow_run_id=? AND "
                      "state_type=?)"),
            std::string::npos)
      << plan;
}

// The runs page reads a page of a week's flow runs, newest start first: the week's 233,000 runs are sorted by
// COALESCE(start_time, expected_start_time), and the expected_start_time index carries start_time (migration
// 75283aa33814), so they come from the index, not from the table (93 ms against 22 ms on 1 M runs).
TEST_F(RunWindowPlan, AWeeksPageOfRunsByStartTimeReadsOnlyTheWindowsIndex) {
  load_big_database_statistics();
  const auto plan = page_plan(
      R"({"page": 1, "limit": 100, "sort": "START_TIME_DESC", "flow_runs": {"operator": "and_", "expected_start_time": {"after_": "2026-11-30T03:53:20Z", "before_": "2026-12-07T03:53:20Z"}}})");
  EXPECT_NE(
      plan.find(
          "SEARCH r USING COVERING INDEX ix_flow_run__expected_start_time_desc_id_start_time (expected_start_time>"),
      std::string::npos)
      << plan;
}

}  // namespace

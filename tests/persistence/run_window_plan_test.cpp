// The dashboard counts a day of runs of each flow, work pool and deployment (about 70 counts per load). On a
// 1 M-run database such a count must read only its owner's runs of that day, through an index that starts with
// the owner and goes on with expected_start_time (migration ded23ee05fa0), not every run of the day (20-40 ms
// each on SQLite). SQLite's plan is checked here on an empty database: its choice between indexes does not
// depend on statistics for an equality plus a range.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "domain/filters.hpp"
#include "persistence/filter_sql.hpp"
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

  static std::string with_day(const std::string& owner) {
    return std::string(R"({"flow_runs": {"operator": "and_", )") + day +
           R"(, "state": {"type": {"any_": ["FAILED", "CRASHED"]}}}, )" + owner + "}";
  }

  osprey::testing::scratch_database db_{dialect::sqlite};
  std::unique_ptr<persistence::sql_connection> conn_ = db_.connect_at_head();
};

TEST_F(RunWindowPlan, AFlowsDayOfRunsIsSearchedByFlowAndTime) {
  const auto plan = count_plan(with_day(std::string(R"("flows": {"id": {"any_": [")") + some_id + "\"]}}"));
  EXPECT_NE(plan.find("ix_flow_run__flow_id_expected_start_time (flow_id=? AND expected_start_time>"),
            std::string::npos)
      << plan;
}

TEST_F(RunWindowPlan, AWorkPoolsDayOfRunsIsSearchedByQueueAndTime) {
  const auto plan = count_plan(with_day(std::string(R"("work_pools": {"id": {"any_": [")") + some_id + "\"]}}"));
  EXPECT_NE(plan.find("ix_flow_run__work_queue_id_expected_start_time (work_queue_id=? AND expected_start_time>"),
            std::string::npos)
      << plan;
}

TEST_F(RunWindowPlan, ADeploymentsDayOfRunsIsSearchedByDeploymentAndTime) {
  const auto plan = count_plan(with_day(std::string(R"("deployments": {"id": {"any_": [")") + some_id + "\"]}}"));
  EXPECT_NE(plan.find("ix_flow_run__deployment_id_expected_start_time (deployment_id=? AND expected_start_time>"),
            std::string::npos)
      << plan;
}

}  // namespace

// SQLite plans the UI's reads of a large database by the fixed statistics Osprey writes at start
// (persistence/planner_statistics.hpp). They must name every index of the tables they cover: an index left out
// would be judged by SQLite's defaults beside its neighbours' figures, which once planned a flow page of 9 s.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "persistence/planner_statistics.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using persistence::dialect;

namespace {

std::set<std::string> rows_of(persistence::sql_connection& conn, const std::string& table) {
  std::set<std::string> out;
  for (const auto& row : conn.query("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = $1", {persistence::text(table)}))
    out.insert(row.text(0) + " " + row.text(1));
  return out;
}

TEST(PlannerStatistics, CoverEveryIndexOfThePlannedTables) {
  osprey::testing::scratch_database db{dialect::sqlite};
  auto conn = db.connect_at_head();
  std::set<std::string> planned;
  for (const auto& t : persistence::planned_tables) planned.insert(std::string(t));
  std::set<std::string> want;
  for (const auto& row : conn->query("SELECT tbl_name, name FROM sqlite_master WHERE type = 'index'"))
    if (planned.count(row.text(0))) want.insert(row.text(0) + "." + row.text(1));
  std::set<std::string> have;
  for (const auto& s : persistence::planner_statistics()) {
    EXPECT_TRUE(planned.count(std::string(s.tbl))) << s.tbl << " is not a planned table";
    EXPECT_TRUE(have.insert(std::string(s.tbl) + "." + std::string(s.idx)).second) << s.idx << " twice";
  }
  EXPECT_EQ(have, want);
}

TEST(PlannerStatistics, ReplaceThePlannedTablesRowsAndLeaveTheOthers) {
  osprey::testing::scratch_database db{dialect::sqlite};
  auto conn = db.connect_at_head();
  conn->execute("INSERT INTO flow (id, name) VALUES ('00000000-0000-4000-8000-000000000001', 'f')");
  conn->execute("ANALYZE");  // an ANALYZE of the user's own: flow gets rows, the empty tables none
  const auto flow_rows = rows_of(*conn, "flow");
  ASSERT_FALSE(flow_rows.empty());
  conn->execute("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('task_run', 'ix_task_run__name', '3 3')");

  ASSERT_TRUE(persistence::install_planner_statistics(*conn));
  ASSERT_TRUE(persistence::install_planner_statistics(*conn));  // again: the same rows, not twice as many

  std::set<std::string> task_run;
  for (const auto& s : persistence::planner_statistics())
    if (s.tbl == "task_run") task_run.insert(std::string(s.idx) + " " + std::string(s.stat));
  EXPECT_EQ(rows_of(*conn, "task_run"), task_run);
  EXPECT_EQ(rows_of(*conn, "flow"), flow_rows);
  EXPECT_EQ(conn->query("SELECT count(*) FROM sqlite_stat1 WHERE tbl IN ('flow_run', 'flow_run_state', "
                        "'task_run', 'task_run_state', 'log')")
                .front()
                .integer(0),
            static_cast<std::int64_t>(persistence::planner_statistics().size()));
}

TEST(PlannerStatistics, AFreshFileGetsThemToo) {
  osprey::testing::scratch_database db{dialect::sqlite};
  auto conn = db.connect_at_head();
  ASSERT_TRUE(persistence::install_planner_statistics(*conn));  // no sqlite_stat1 yet: it is created
  EXPECT_EQ(rows_of(*conn, "log").size(), 6u);
}

}  // namespace

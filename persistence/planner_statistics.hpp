#pragma once
// SQLite chooses its indexes by the statistics in sqlite_stat1, which only ANALYZE writes. Osprey never ran it,
// so a user's file was planned by SQLite's defaults: on the 1 M-run benchmark database the UI's flow page then
// took 11 s, where it takes 0.25 s with statistics. A full ANALYZE of such a file holds the write lock for most
// of a minute, and a sampled one (PRAGMA analysis_limit) planned the flow page as badly. So Osprey writes fixed
// statistics for its big tables instead: those a full ANALYZE gave on bench/generate_big_db.py's 1 M-run
// database, at the schema's head. Every file, small or large, is then planned as the one measured, and the plan
// tests (tests/persistence/run_window_plan_test.cpp) check the plans under the same figures.

#include <array>
#include <span>
#include <string_view>

#include "domain/status.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// One row of sqlite_stat1: the index `idx` of table `tbl` and SQLite's figures for it (rows, then the average
/// rows per distinct value of each leading column prefix).
struct planner_statistic {
  std::string_view tbl;
  std::string_view idx;
  std::string_view stat;
};

/// The tables whose statistics are fixed. Every index of each has a row below (a test holds this to the schema):
/// an index of a table with statistics but without its own row would be judged by defaults, and chosen wrongly.
inline constexpr std::array<std::string_view, 5> planned_tables = {"flow_run", "flow_run_state", "task_run",
                                                                   "task_run_state", "log"};

/// The fixed statistics of planned_tables.
std::span<const planner_statistic> planner_statistics();

/// SQLite: replaces sqlite_stat1's rows of planned_tables with planner_statistics() (creating the table if
/// missing), in one write transaction. Connections opened afterwards plan by them. PostgreSQL: nothing (its
/// autovacuum keeps sampled statistics, which plan these queries well).
status install_planner_statistics(sql_connection& conn);

}  // namespace osprey::persistence

// The UI's aggregates as Prefect computes them: run histories, the dashboard's task-run buckets, event counts per
// time span and per value, and the flow-run graph's nodes and edges.
#include <gtest/gtest.h>

#include "domain/event_counts.hpp"
#include "domain/run_graph.hpp"
#include "domain/run_history.hpp"

namespace osprey {
namespace {

using namespace std::chrono_literals;

timestamp at(const char* iso) { return *parse_iso8601(iso); }

TEST(RunHistory, BucketsRunsByExpectedStartWithRunTimeAndLateness) {
  const auto start = at("2026-01-01T00:00:00Z");
  history_run late_done{at("2026-01-01T00:10:00Z"), at("2026-01-01T00:12:00Z"),
                        state_type::completed,      "Completed",
                        at("2026-01-01T00:13:00Z"), 60};
  history_run running{at("2026-01-01T00:20:00Z"), at("2026-01-01T00:20:00Z"),
                      state_type::running,        "Running",
                      at("2026-01-01T00:50:00Z"), 5};
  history_run outside{at("2026-01-01T02:00:00Z"), std::nullopt, state_type::scheduled, "Scheduled", std::nullopt, 0};
  const auto now = at("2026-01-01T01:00:00Z");
  const auto h = run_history(start, at("2026-01-01T00:59:00Z"), 30min, {late_done, running, outside}, now);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].start, at("2026-01-01T00:30:00Z"));
  ASSERT_EQ(h[0].states.size(), 2u);
  EXPECT_EQ(h[0].states[0].name, "Completed");
  EXPECT_DOUBLE_EQ(h[0].states[0].sum_estimated_run_time, 60);
  EXPECT_DOUBLE_EQ(h[0].states[0].sum_estimated_lateness, 120);
  EXPECT_DOUBLE_EQ(h[0].states[1].sum_estimated_run_time, 5 + 600);  // the current stretch counts
  EXPECT_TRUE(h[1].states.empty());
  EXPECT_EQ(history_interval_count(start, start + 1000 * 1h, 1h), max_history_intervals);
  EXPECT_EQ(history_interval_count(start, start, 1h), 0);
}

TEST(RunHistory, UnstartedUnfinishedRunsAreLateByNow) {
  history_run waiting{at("2026-01-01T00:00:00Z"), std::nullopt, state_type::scheduled, "Late", std::nullopt, 0};
  EXPECT_DOUBLE_EQ(estimated_lateness_seconds(waiting, at("2026-01-01T00:01:00Z")), 60);
  waiting.type = state_type::cancelled;
  EXPECT_DOUBLE_EQ(estimated_lateness_seconds(waiting, at("2026-01-01T00:01:00Z")), 0);
}

TEST(DashboardTaskRunCounts, TwentyBucketsFromTheMinuteOfAfter) {
  const auto b = dashboard_task_run_counts(at("2026-01-01T00:00:30Z"), at("2026-01-01T00:19:10Z"),
                                           {{at("2026-01-01T00:00:05Z"), state_type::completed},
                                            {at("2026-01-01T00:19:59Z"), state_type::crashed},
                                            {at("2026-01-01T00:25:00Z"), state_type::failed}},
                                           at("2026-01-02T00:00:00Z"));
  ASSERT_EQ(b.size(), 20u);
  EXPECT_EQ(b[0].completed, 1);
  EXPECT_EQ(b[19].failed, 1);
  EXPECT_EQ(b[19].completed, 0);
}

TEST(EventCounts, TimeSpansStartAtThePivotGridAndRefuseTooMany) {
  const auto counts =
      count_events_by_time(at("2026-01-01T00:30:00Z"), at("2026-01-01T02:00:00Z"), time_unit::hour, 1,
                           {at("2026-01-01T00:45:00Z"), at("2026-01-01T01:05:00Z")}, at("2026-02-01T00:00:00Z"));
  ASSERT_TRUE(counts);
  ASSERT_EQ(counts->size(), 2u);
  EXPECT_EQ((*counts)[0].label, "2026-01-01T00:00:00+00:00");
  EXPECT_EQ((*counts)[0].end_time, at("2026-01-01T00:59:59.999999Z"));
  EXPECT_EQ((*counts)[1].value, "1");
  EXPECT_EQ((*counts)[1].count, 1);
  EXPECT_FALSE(count_events_by_time(at("2026-01-01T00:00:00Z"), at("2026-01-02T00:00:00Z"), time_unit::second, 1, {},
                                    at("2026-02-01T00:00:00Z")));
}

TEST(EventCounts, ValuesTakeTheirLatestLabelAndSortByCount) {
  const auto rows = merge_event_groups({{"r1", "old name", 1, at("2026-01-01T00:00:00Z"), at("2026-01-01T00:00:00Z")},
                                        {"r1", "new name", 2, at("2026-01-02T00:00:00Z"), at("2026-01-03T00:00:00Z")},
                                        {"r2", "b", 1, at("2026-01-01T00:00:00Z"), at("2026-01-01T00:00:00Z")}});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].label, "new name");
  EXPECT_EQ(rows[0].count, 3);
  EXPECT_EQ(rows[0].start_time, at("2026-01-01T00:00:00Z"));
}

TEST(FlowRunGraph, TaskInputsMakeEdgesAndSubflowsStandForTheirTask) {
  const auto a = *uuid::parse("00000000-0000-4000-8000-00000000000a");
  const auto b = *uuid::parse("00000000-0000-4000-8000-00000000000b");
  const auto sub = *uuid::parse("00000000-0000-4000-8000-0000000000cc");
  graph_row first{a,
                  "extract",
                  state_type::completed,
                  at("2026-01-01T00:00:00Z"),
                  std::nullopt,
                  at("2026-01-01T00:01:00Z"),
                  nlohmann::json::object(),
                  std::nullopt,
                  "",
                  {},
                  {},
                  {},
                  {}};
  graph_row second{b,
                   "load",
                   state_type::completed,
                   at("2026-01-01T00:02:00Z"),
                   std::nullopt,
                   at("2026-01-01T00:03:00Z"),
                   {{"rows", {{{"input_type", "task_run"}, {"id", a.to_string()}}}}},
                   sub,
                   "child / run-1",
                   state_type::completed,
                   at("2026-01-01T00:02:05Z"),
                   std::nullopt,
                   at("2026-01-01T00:02:50Z")};
  const auto nodes = flow_run_graph_nodes({second, first}, timestamp{});
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0].id, a);
  EXPECT_EQ(nodes[0].children, std::vector<uuid>{sub});
  EXPECT_EQ(nodes[1].kind, "flow-run");
  EXPECT_EQ(nodes[1].label, "child / run-1");
  EXPECT_EQ(nodes[1].parents, std::vector<uuid>{a});
  EXPECT_EQ(flow_run_graph_nodes({first}, at("2026-01-01T00:05:00Z")).size(), 0u);  // ended before `since`
}

}  // namespace
}  // namespace osprey

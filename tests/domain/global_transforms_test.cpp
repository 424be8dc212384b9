// Prefect's global transforms: the run bookkeeping applied to every written state.
#include <gtest/gtest.h>

#include "domain/global_transforms.hpp"
#include "domain/orchestration.hpp"

using namespace osprey;
using namespace std::chrono_literals;

namespace {

const timestamp t0 = *parse_iso8601("2026-01-01T00:00:00Z");
const flow_run_id flow{*uuid::parse("5f6c2a4e-0000-4000-8000-0000000000aa")};
const task_run_id task{*uuid::parse("5f6c2a4e-0000-4000-8000-0000000000bb")};

run_state at(state_type type, timestamp when, std::optional<timestamp> scheduled = std::nullopt) {
  run_state s;
  s.type = type;
  s.name = default_state_name(type);
  s.at = when;
  if (scheduled) set_detail_time(s, "scheduled_time", *scheduled);
  return s;
}

}  // namespace

TEST(GlobalTransforms, UniqueTimestampsFollowTheCurrentState) {
  EXPECT_EQ(unique_state_timestamp(std::nullopt, t0), t0);
  EXPECT_EQ(unique_state_timestamp(at(state_type::running, t0 - 1s), t0), t0);
  EXPECT_EQ(unique_state_timestamp(at(state_type::running, t0), t0), t0 + 1us);
  EXPECT_EQ(unique_state_timestamp(at(state_type::running, t0 + 5s), t0), t0 + 5s + 1us);  // clock went back
}

TEST(GlobalTransforms, CommonBookkeepingTable) {
  struct row {
    const char* label;
    run_bookkeeping before;
    std::optional<run_state> current;
    run_state written;
    run_bookkeeping after;
  };
  const auto scheduled = at(state_type::scheduled, t0, t0 + 60s);
  const std::vector<row> rows = {
      {"first state, scheduled: expected start is the schedule",
       {},
       std::nullopt,
       scheduled,
       {0, {}, {}, 0us, t0 + 60s, t0 + 60s}},
      {"first state, pending: expected start is now",
       {},
       std::nullopt,
       at(state_type::pending, t0),
       {0, {}, {}, 0us, t0, {}}},
      {"leaving scheduled clears the next start",
       {0, {}, {}, 0us, t0 + 60s, t0 + 60s},
       scheduled,
       at(state_type::pending, t0 + 61s),
       {0, {}, {}, 0us, t0 + 60s, {}}},
      {"first running sets start_time",
       {0, {}, {}, 0us, t0, {}},
       at(state_type::pending, t0),
       at(state_type::running, t0 + 2s),
       {0, t0 + 2s, {}, 0us, t0, {}}},
      {"a later running keeps it",
       {1, t0, {}, 3s, t0, {}},
       at(state_type::scheduled, t0 + 5s, t0 + 5s),
       at(state_type::running, t0 + 6s),
       {1, t0, {}, 3s, t0, {}}},
      {"leaving running adds run time",
       {1, t0, {}, 3s, t0, {}},
       at(state_type::running, t0 + 10s),
       at(state_type::completed, t0 + 14s),
       {1, t0, t0 + 14s, 7s, t0, {}}},
      {"failing before running sets start and end",
       {0, {}, {}, 0us, t0, {}},
       at(state_type::pending, t0),
       at(state_type::crashed, t0 + 1s),
       {0, t0 + 1s, t0 + 1s, 0us, t0, {}}},
      {"terminal to terminal keeps the first end",
       {1, t0, t0 + 5s, 5s, t0, {}},
       at(state_type::completed, t0 + 5s),
       at(state_type::failed, t0 + 9s),
       {1, t0, t0 + 5s, 5s, t0, {}}},
      {"leaving terminal clears end_time",
       {1, t0, t0 + 5s, 5s, t0, {}},
       at(state_type::failed, t0 + 5s),
       at(state_type::scheduled, t0 + 9s, t0 + 20s),
       {1, t0, {}, 5s, t0, t0 + 20s}},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.label);
    auto run = r.before;
    apply_common_transforms(run, r.current, r.written);
    EXPECT_EQ(run.run_count, r.after.run_count);
    EXPECT_EQ(run.start_time, r.after.start_time);
    EXPECT_EQ(run.end_time, r.after.end_time);
    EXPECT_EQ(run.total_run_time, r.after.total_run_time);
    EXPECT_EQ(run.expected_start_time, r.after.expected_start_time);
    EXPECT_EQ(run.next_scheduled_start_time, r.after.next_scheduled_start_time);
  }
}

TEST(GlobalTransforms, FlowRunCountSkipsResumes) {
  struct row {
    const char* label;
    state_type written;
    bool resuming;
    std::optional<release_version> api;
    int run_count_after;
    bool resuming_after;
  };
  const auto old_api = parse_api_version("0.8.3");
  for (const auto& r : std::vector<row>{
           {"running counts", state_type::running, false, std::nullopt, 1, false},
           {"resuming does not count, and ends", state_type::running, true, std::nullopt, 0, false},
           {"old API ignores resuming", state_type::running, true, old_api, 1, true},
           {"terminal ends resuming", state_type::completed, true, std::nullopt, 0, false},
           {"scheduled keeps resuming", state_type::scheduled, true, std::nullopt, 0, true},
       }) {
    SCOPED_TRACE(r.label);
    run_bookkeeping run;
    bool resuming = r.resuming;
    apply_flow_run_count(run, resuming, at(r.written, t0), client_info{std::nullopt, r.api});
    EXPECT_EQ(run.run_count, r.run_count_after);
    EXPECT_EQ(resuming, r.resuming_after);
  }
}

TEST(GlobalTransforms, TaskRunCount) {
  run_bookkeeping run;
  apply_task_run_count(run, at(state_type::running, t0));
  apply_task_run_count(run, at(state_type::completed, t0));
  EXPECT_EQ(run.run_count, 1);
}

TEST(GlobalTransforms, StateDetailsPointAtTheRun) {
  auto s = at(state_type::running, t0);
  update_flow_state_details(s, flow, std::nullopt);
  EXPECT_EQ(s.details["flow_run_id"], flow.to_string());
  EXPECT_FALSE(s.details.contains("task_run_id"));
  update_flow_state_details(s, flow, task);  // a subflow: its parent's tracking task
  EXPECT_EQ(s.details["task_run_id"], task.to_string());

  auto t = at(state_type::running, t0);
  update_task_state_details(t, task, flow);
  EXPECT_EQ(t.details["task_run_id"], task.to_string());
  EXPECT_EQ(t.details["flow_run_id"], flow.to_string());
  update_task_state_details(t, task, std::nullopt);
  EXPECT_TRUE(t.details["flow_run_id"].is_null());
}

TEST(GlobalTransforms, SubflowParentTaskGetsAFreshCopy) {
  auto written = at(state_type::completed, t0);
  written.id = state_id{new_uuid7(t0)};
  written.message = "done";
  written.data = {{"storage_key", "k"}};
  auto copy = subflow_parent_task_state(written, flow, t0 + 1s);
  EXPECT_NE(copy.id, written.id);
  EXPECT_EQ(copy.at, t0 + 1s);
  EXPECT_EQ(copy.type, state_type::completed);
  EXPECT_EQ(copy.message, "done");
  EXPECT_EQ(copy.data, written.data);
  EXPECT_EQ(copy.details["child_flow_run_id"], flow.to_string());
}

TEST(GlobalTransforms, EstimatedRunTimeIncludesTheCurrentRun) {
  run_bookkeeping run{1, t0, {}, 5s, t0, {}};
  EXPECT_EQ(estimated_run_time(run, at(state_type::running, t0 + 10s), t0 + 13s), 8s);
  EXPECT_EQ(estimated_run_time(run, at(state_type::completed, t0 + 10s), t0 + 13s), 5s);
  EXPECT_EQ(estimated_run_time(run, std::nullopt, t0 + 13s), 5s);
}

TEST(GlobalTransforms, EstimatedLateness) {
  // Started 4 s late.
  EXPECT_EQ(estimated_start_time_delta({1, t0 + 4s, {}, 0us, t0, {}}, at(state_type::running, t0 + 4s), t0 + 9s), 4s);
  // Started early: not late.
  EXPECT_EQ(estimated_start_time_delta({1, t0, {}, 0us, t0 + 4s, {}}, at(state_type::running, t0), t0 + 9s), 0us);
  // Not started and overdue: late by now − expected.
  EXPECT_EQ(estimated_start_time_delta({0, {}, {}, 0us, t0, t0}, at(state_type::scheduled, t0, t0), t0 + 9s), 9s);
  // Not started but cancelled: not late.
  EXPECT_EQ(estimated_start_time_delta({0, {}, {}, 0us, t0, {}}, at(state_type::cancelled, t0 + 1s), t0 + 9s), 0us);
  // Not yet due.
  EXPECT_EQ(estimated_start_time_delta({0, {}, {}, 0us, t0 + 60s, t0 + 60s}, at(state_type::scheduled, t0, t0 + 60s),
                                       t0 + 9s),
            0us);
}

#pragma once
// The aggregates behind the UI's charts, as Prefect computes them (src/prefect/server/api/run_history.py and
// api/ui/task_runs.py): runs bucketed by expected start time with their state counts, run time and lateness;
// terminal task runs bucketed by start time into completed and failed. Pure: rows in, buckets out.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/state.hpp"
#include "domain/time.hpp"

namespace osprey {

/// The columns of one flow or task run a history needs.
struct history_run {
  std::optional<timestamp> expected_start_time;
  std::optional<timestamp> start_time;
  std::optional<state_type> type;
  std::string state_name;
  std::optional<timestamp> state_timestamp;
  double total_run_time = 0;  ///< seconds
};

struct history_state {
  state_type type = state_type::pending;
  std::string name;
  std::int64_t count = 0;
  double sum_estimated_run_time = 0;  ///< seconds, each run's counted when positive
  double sum_estimated_lateness = 0;  ///< seconds, each run's counted when positive
};

struct history_interval {
  timestamp start;
  timestamp end;
  std::vector<history_state> states;  ///< in the order first met
};

/// Why a history cannot be computed (Prefect answers it 422).
inline constexpr const char* history_interval_too_small = "History interval must not be less than 1 second.";

/// At most this many intervals (Prefect's cap).
inline constexpr std::int64_t max_history_intervals = 500;

/// How many intervals cover [start, end): ceil((end - start) / interval), at most 500; 0 when end <= start.
std::int64_t history_interval_count(timestamp start, timestamp end, std::chrono::microseconds interval);

/// The runs of one interval, state type and state name, with their estimates summed at some `now`. The database
/// computes these (persistence/ui_store) by the rules run_history states below; run_history is their reference.
struct history_group {
  std::int64_t interval = 0;  ///< position of the interval from the history's start
  state_type type = state_type::pending;
  std::string name;
  std::int64_t count = 0;
  double sum_estimated_run_time = 0;  ///< seconds
  double sum_estimated_lateness = 0;  ///< seconds
};

/// Every interval of [start, end) (at most 500), with `groups` placed in theirs in the order given; groups of
/// intervals outside are dropped.
std::vector<history_interval> history_intervals(timestamp start, timestamp end, std::chrono::microseconds interval,
                                                const std::vector<history_group>& groups);

/// Prefect's run_history: `runs` (those with expected_start_time in [start, start + count * interval)) grouped
/// by interval, state type and state name. Every interval is listed, empty ones with no states. Run time and
/// lateness are Prefect's estimates at `now` (a RUNNING run's current stretch counts; an unstarted, unfinished
/// run that should have started is late by now - expected).
std::vector<history_interval> run_history(timestamp start, timestamp end, std::chrono::microseconds interval,
                                          const std::vector<history_run>& runs, timestamp now);

/// Prefect's FlowRun.estimated_run_time and estimated_start_time_delta, in seconds.
double estimated_run_time_seconds(const history_run& run, timestamp now);
double estimated_lateness_seconds(const history_run& run, timestamp now);

/// The span the dashboard's task-run counts cover: from `after` with seconds and below dropped to the end of the
/// minute of `before` (or of `now` without one), cut into dashboard_task_run_buckets equal buckets. A run at
/// `t` in [start, end) is in bucket (t - start) * buckets / (end - start), in whole microseconds.
struct dashboard_span {
  timestamp start;
  timestamp end;
};
inline constexpr std::int64_t dashboard_task_run_buckets = 20;
dashboard_span dashboard_task_run_span(timestamp after, std::optional<timestamp> before, timestamp now);

/// One terminal task run for the dashboard's counts.
struct finished_task_run {
  timestamp start_time;
  state_type type = state_type::completed;
};

struct task_run_bucket {
  std::int64_t completed = 0;  ///< terminal and neither FAILED nor CRASHED
  std::int64_t failed = 0;     ///< FAILED or CRASHED
};

/// Prefect's /ui/task_runs/dashboard/counts: the runs counted into the buckets of dashboard_task_run_span; runs
/// outside are not counted.
std::vector<task_run_bucket> dashboard_task_run_counts(timestamp after, std::optional<timestamp> before,
                                                       const std::vector<finished_task_run>& runs, timestamp now);

}  // namespace osprey

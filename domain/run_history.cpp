#include "domain/run_history.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

namespace osprey {
namespace {

using std::chrono::microseconds;

double seconds(microseconds d) { return static_cast<double>(d.count()) / 1e6; }

}  // namespace

std::int64_t history_interval_count(timestamp start, timestamp end, microseconds interval) {
  if (end <= start || interval.count() <= 0) return 0;
  const auto elapsed = (end - start).count();
  const auto n = (elapsed + interval.count() - 1) / interval.count();
  return std::min<std::int64_t>(n, max_history_intervals);
}

double estimated_run_time_seconds(const history_run& run, timestamp now) {
  double total = run.total_run_time;
  if (run.type == state_type::running && run.state_timestamp) total += seconds(now - *run.state_timestamp);
  return total;
}

double estimated_lateness_seconds(const history_run& run, timestamp now) {
  if (run.start_time && run.expected_start_time && *run.start_time > *run.expected_start_time)
    return seconds(*run.start_time - *run.expected_start_time);
  if (!run.start_time && run.expected_start_time && *run.expected_start_time < now &&
      !(run.type && is_terminal(*run.type)))
    return seconds(now - *run.expected_start_time);
  return 0;
}

std::vector<history_interval> history_intervals(timestamp start, timestamp end, microseconds interval,
                                                const std::vector<history_group>& groups) {
  const auto count = history_interval_count(start, end, interval);
  std::vector<history_interval> out;
  out.reserve(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) out.push_back({start + i * interval, start + (i + 1) * interval, {}});
  for (const auto& g : groups)
    if (g.interval >= 0 && g.interval < count)
      out[static_cast<std::size_t>(g.interval)].states.push_back(
          {g.type, g.name, g.count, g.sum_estimated_run_time, g.sum_estimated_lateness});
  return out;
}

std::vector<history_interval> run_history(timestamp start, timestamp end, microseconds interval,
                                          const std::vector<history_run>& runs, timestamp now) {
  const auto count = history_interval_count(start, end, interval);
  std::vector<history_group> groups;
  // (bucket, type, name) → position in groups, so states keep the order first met.
  std::map<std::tuple<std::int64_t, state_type, std::string>, std::size_t> at;
  for (const auto& run : runs) {
    if (!run.expected_start_time || !run.type || *run.expected_start_time < start) continue;
    const auto bucket = static_cast<std::int64_t>((*run.expected_start_time - start) / interval);
    if (bucket >= count) continue;
    const auto key = std::make_tuple(bucket, *run.type, run.state_name);
    auto [it, fresh] = at.try_emplace(key, groups.size());
    if (fresh) groups.push_back({bucket, *run.type, run.state_name, 0, 0, 0});
    auto& group = groups[it->second];
    ++group.count;
    group.sum_estimated_run_time += std::max(0.0, estimated_run_time_seconds(run, now));
    group.sum_estimated_lateness += std::max(0.0, estimated_lateness_seconds(run, now));
  }
  return history_intervals(start, end, interval, groups);
}

dashboard_span dashboard_task_run_span(timestamp after, std::optional<timestamp> before, timestamp now) {
  using std::chrono::floor;
  using std::chrono::minutes;
  // end_of_period(t, "minute"): the last microsecond of t's minute.
  return {floor<minutes>(after), floor<minutes>(before.value_or(now)) + minutes(1) - microseconds(1)};
}

std::vector<task_run_bucket> dashboard_task_run_counts(timestamp after, std::optional<timestamp> before,
                                                       const std::vector<finished_task_run>& runs, timestamp now) {
  const auto span = dashboard_task_run_span(after, before, now);
  std::vector<task_run_bucket> out(dashboard_task_run_buckets);
  if (span.end <= span.start) return out;
  const auto width = (span.end - span.start).count();
  for (const auto& run : runs) {
    if (run.start_time < span.start || run.start_time >= span.end) continue;
    const auto index = (run.start_time - span.start).count() * dashboard_task_run_buckets / width;
    auto& bucket = out[static_cast<std::size_t>(index)];
    if (run.type == state_type::failed || run.type == state_type::crashed)
      ++bucket.failed;
    else
      ++bucket.completed;
  }
  return out;
}

}  // namespace osprey

#pragma once
// Prefect's POST /events/count-by/{countable} (src/prefect/server/events/counting.py): events counted per
// event name, per resource, or per time span. Spans are counted from Prefect's pivot, 2024-04-01T00:00:00Z,
// so the same interval always cuts time at the same instants. Pure.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/status.hpp"
#include "domain/time.hpp"

namespace osprey {

enum class time_unit { week, day, hour, minute, second };
std::optional<time_unit> parse_time_unit(std::string_view name);

/// One row of the answer (Prefect's EventCount).
struct event_count {
  std::string value;
  std::string label;
  std::int64_t count = 0;
  timestamp start_time;
  timestamp end_time;
};

/// Events grouped by (value, label) in the database, with their oldest and latest occurrence.
struct event_group {
  std::string value;
  std::string label;
  std::int64_t count = 0;
  timestamp oldest;
  timestamp latest;
};

/// Countable event/resource: one row per value, labelled with the label of its latest group, ordered by count
/// (descending) then label.
std::vector<event_count> merge_event_groups(const std::vector<event_group>& groups);

/// Countable time/day: one row per span of `interval` units from the span holding `since` to `until` (or to the
/// end of the current unit when `until` is in the future), each counting the `occurred` instants inside it.
/// Refused (errc::invalid_argument, Prefect's message) when that would be more than 1000 spans.
result<std::vector<event_count>> count_events_by_time(timestamp since, timestamp until, time_unit unit, double interval,
                                                      const std::vector<timestamp>& occurred, timestamp now);

}  // namespace osprey

#include "domain/event_counts.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace osprey {
namespace {

using std::chrono::microseconds;

constexpr std::int64_t max_buckets = 1000;

/// 2024-04-01T00:00:00Z, Prefect's PIVOT_DATETIME.
timestamp pivot() {
  using namespace std::chrono;
  return sys_days{year{2024} / April / 1};
}

microseconds unit_length(time_unit unit) {
  using namespace std::chrono;
  switch (unit) {
    case time_unit::week: return duration_cast<microseconds>(days(7));
    case time_unit::day: return duration_cast<microseconds>(days(1));
    case time_unit::hour: return duration_cast<microseconds>(hours(1));
    case time_unit::minute: return duration_cast<microseconds>(minutes(1));
    case time_unit::second: return duration_cast<microseconds>(seconds(1));
  }
  return microseconds(0);
}

/// The last microsecond of the unit holding `t` (weeks start on Monday, as pendulum's end_of("week")).
timestamp end_of_period(timestamp t, time_unit unit) {
  using namespace std::chrono;
  if (unit == time_unit::week) {
    const auto day = floor<days>(t);
    const weekday wd{day};
    const auto since_monday = days((wd.c_encoding() + 6) % 7);
    return day - since_monday + days(7) - microseconds(1);
  }
  const auto length = unit_length(unit);
  return t - (t.time_since_epoch() % length) + length - microseconds(1);
}

/// Python's datetime.isoformat() of a UTC instant: "2024-04-01T00:00:00+00:00", with ".ffffff" when non-zero.
std::string python_isoformat(timestamp t) {
  std::string text = format_iso8601(t);  // "…T00:00:00.000000Z"
  text.pop_back();
  if (text.ends_with(".000000")) text.resize(text.size() - 7);
  return text + "+00:00";
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

std::optional<time_unit> parse_time_unit(std::string_view name) {
  if (name == "week") return time_unit::week;
  if (name == "day") return time_unit::day;
  if (name == "hour") return time_unit::hour;
  if (name == "minute") return time_unit::minute;
  if (name == "second") return time_unit::second;
  return std::nullopt;
}

std::vector<event_count> merge_event_groups(const std::vector<event_group>& groups) {
  std::map<std::string, event_count> by_value;
  std::map<std::string, timestamp> label_seen_at;
  for (const auto& g : groups) {
    auto [it, fresh] = by_value.try_emplace(g.value, event_count{g.value, g.label, 0, g.oldest, g.latest});
    auto& row = it->second;
    row.count += g.count;
    row.start_time = std::min(row.start_time, g.oldest);
    row.end_time = std::max(row.end_time, g.latest);
    auto& seen = label_seen_at.try_emplace(g.value, g.latest).first->second;
    if (!fresh && g.latest > seen) {
      row.label = g.label;
      seen = g.latest;
    }
  }
  std::vector<event_count> out;
  for (auto& [value, row] : by_value) out.push_back(std::move(row));
  std::stable_sort(out.begin(), out.end(), [](const event_count& a, const event_count& b) {
    return a.count != b.count ? a.count > b.count : a.label < b.label;
  });
  return out;
}

result<std::vector<event_count>> count_events_by_time(timestamp since, timestamp until, time_unit unit, double interval,
                                                      const std::vector<timestamp>& occurred, timestamp now) {
  const auto delta =
      microseconds(static_cast<std::int64_t>(std::llround(static_cast<double>(unit_length(unit).count()) * interval)));
  if (delta.count() <= 0) return {errc::invalid_argument, "The minimum interval is 0.01"};
  const auto wanted = (until - since).count();
  const auto buckets = wanted <= 0 ? 0 : (wanted + delta.count() - 1) / delta.count();
  if (buckets > max_buckets)
    return {errc::invalid_argument, "The given interval would create " + std::to_string(buckets) +
                                        " buckets, which is too many. Please increase the interval or reduce the "
                                        "time range to produce " +
                                        std::to_string(max_buckets) + " buckets or fewer."};
  const timestamp end = until > now ? end_of_period(now, unit) : until;
  const auto first = floor_div((since - pivot()).count(), delta.count());
  std::vector<event_count> out;
  for (auto start = pivot() + first * delta; start < end; start += delta)
    out.push_back({std::to_string(out.size()), python_isoformat(start), 0, start, start + delta - microseconds(1)});
  for (const auto t : occurred) {
    const auto index = floor_div((t - pivot()).count(), delta.count()) - first;
    if (index >= 0 && index < static_cast<std::int64_t>(out.size())) ++out[static_cast<std::size_t>(index)].count;
  }
  return out;
}

}  // namespace osprey

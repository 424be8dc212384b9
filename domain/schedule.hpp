#pragma once
// Deployment schedules as Prefect 3.9.1 models them (IntervalSchedule, CronSchedule, RRuleSchedule) and the
// dates they give.
// Time zones come from the system's IANA database (tzdata, through Howard Hinnant's date/tz library).
//
// Interval: `anchor_date + k * interval` for whole k. The interval's whole days are calendar days in the
// schedule's time zone (a daily 09:00 stays at 09:00 across DST), the rest is elapsed time (an hourly schedule
// fires every real hour). A local time that falls in a DST gap moves forward by the gap; a repeated one takes
// its first occurrence ("compatible", as Prefect). Each date is resolved on its own: unlike Prefect, a date
// that fell into a gap does not shift the rest of the series.
// Cron: wall-clock minutes matching the expression (domain/cron.hpp) in the schedule's zone, with the same
// gap/fold resolution; an hourly cron therefore fires once at 01:00 when clocks go back, and the gap's
// minutes collapse onto the first minute after it (deduplicated), as Prefect's CronSchedule documents.
// RRule: the recurrence set's wall-clock dates (domain/rrule.hpp) in the schedule's zone, with the same gap/fold
// resolution and deduplication.
//
// Pure and thread-safe.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/cron.hpp"
#include "domain/field_problem.hpp"
#include "domain/rrule.hpp"
#include "domain/time.hpp"

namespace osprey {

struct interval_schedule {
  std::chrono::microseconds interval{0};  ///< > 0
  timestamp anchor_date{};
  std::string timezone = "UTC";  ///< IANA name
};

struct cron_schedule {
  std::string cron;
  std::string timezone = "UTC";
  bool day_or = true;
  cron_expression expression;  ///< parsed `cron`
};

struct rrule_schedule {
  std::string rrule;  ///< as given (Prefect stores and renders the text)
  std::string timezone = "UTC";
  rrule_set set;  ///< parsed `rrule`
};

using schedule = std::variant<interval_schedule, cron_schedule, rrule_schedule>;

/// Whether `name` is a time zone of the system database ("UTC", "America/New_York").
bool known_timezone(const std::string& name);

/// Parses Prefect's SCHEDULE_TYPES JSON ({"interval", "anchor_date", "timezone"}, {"cron", "timezone",
/// "day_or"} or {"rrule", "timezone"}); `now` is the anchor when none is given. The interval is seconds (a number) or
/// an ISO 8601 duration ("PT1H", "P1DT2H"). Refusals come back as a field_problem with pydantic's wording where Prefect
/// has one ('Invalid cron string: "..."', 'Invalid timezone: "..." (specify in IANA tzdata format, ...)').
std::variant<schedule, field_problem> parse_schedule(const nlohmann::json& j, timestamp now);

/// The schedule as Prefect renders it (interval in seconds, anchor_date ISO 8601 UTC).
nlohmann::json to_json(const schedule& s);

/// Prefect's class name for the schedule ("IntervalSchedule", "CronSchedule"): a run's created_by
/// display_value when its schedule has no slug.
const char* schedule_kind(const schedule& s);

/// Up to `n` dates of the schedule in [start, end], ascending (at most 1,000 candidates are examined after
/// start, as Prefect's MAX_ITERATIONS).
std::vector<timestamp> schedule_dates(const schedule& s, timestamp start, timestamp end, std::size_t n);

/// How many runs the scheduler keeps ahead (PREFECT_API_SERVICES_SCHEDULER_*; defaults are Prefect's).
struct scheduling_window {
  std::size_t min_runs = 3;
  std::size_t max_runs = 100;
  std::chrono::seconds min_time{std::chrono::hours(1)};
  std::chrono::seconds max_time{std::chrono::hours(24 * 100)};
};

/// The dates to schedule from `now`, by Prefect's rule: dates from `now` on, no more than max_runs, none past
/// now + max_time; stop as soon as there are at least min_runs AND the last one is at or past now + min_time.
std::vector<timestamp> dates_to_schedule(const schedule& s, timestamp now, const scheduling_window& w);

}  // namespace osprey

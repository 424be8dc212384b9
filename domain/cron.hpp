#pragma once
// Cron expressions as Prefect's CronSchedule accepts them (croniter's five-field grammar): minute, hour,
// day of month, month, day of week; each field a list of `*`, values, ranges `a-b` and steps `/n`; month and
// weekday names (jan..dec, sun..sat, case-insensitive); weekday 7 is Sunday; `?` is `*`; `L` in the
// day-of-month field is the month's last day; the macros @yearly, @annually, @monthly, @weekly, @daily,
// @midnight and @hourly. Not accepted (refused with a message saying so): seconds fields, croniter's random
// and hashed forms (R, H, as Prefect refuses them) and the `#` / `L` weekday forms.
//
// Matching works on wall-clock minutes (no time zone): domain/schedule.hpp turns them into instants.
// Pure and thread-safe.

#include <bitset>
#include <chrono>
#include <optional>
#include <string>

namespace osprey {

/// A wall-clock minute: a local date and time without a zone (date::local_time in minutes).
using wall_minutes = std::chrono::duration<std::int64_t, std::ratio<60>>;
struct wall_time {
  std::chrono::sys_time<wall_minutes> t;  ///< read as local time; sys_time only to reuse the calendar maths
};

class cron_expression {
 public:
  /// Parses `text`; nullopt and a message in `error` when it is not a valid expression.
  static std::optional<cron_expression> parse(const std::string& text, std::string& error);

  /// The first matching wall minute strictly after `after`, searching at most `horizon_years` ahead (an
  /// expression such as "0 0 30 2 *" never matches: nullopt).
  [[nodiscard]] std::optional<wall_time> next_after(wall_time after, int horizon_years = 5) const;

  /// Whether `t` (a whole minute) matches.
  [[nodiscard]] bool matches(wall_time t) const;

  /// day_or: how a restricted day of month and a restricted day of week combine (true: either matches, as
  /// cron does; false: both must, as fcron does). Prefect's CronSchedule.day_or, default true.
  void set_day_or(bool day_or) { day_or_ = day_or; }

 private:
  [[nodiscard]] bool day_matches(std::chrono::year_month_day ymd, std::chrono::weekday wd) const;

  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;       ///< 1..31
  bool last_day_ = false;      ///< `L` in the day-of-month field
  std::bitset<13> months_;     ///< 1..12
  std::bitset<7> weekdays_;    ///< 0 = Sunday
  bool days_star_ = true;      ///< the day-of-month field was `*` (or `?`)
  bool weekdays_star_ = true;  ///< the day-of-week field was `*` (or `?`)
  bool day_or_ = true;
};

}  // namespace osprey

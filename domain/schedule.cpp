// Deployment schedules and their dates (see the header).
#include "domain/schedule.hpp"

#include <date/tz.h>

#include <cmath>
#include <set>

namespace osprey {
namespace {

namespace chr = std::chrono;
using local_us = date::local_time<chr::microseconds>;

/// Prefect's MAX_ITERATIONS: candidates examined after the start.
constexpr std::size_t max_iterations = 1000;

const date::time_zone* zone_named(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return nullptr;  // unknown name, or no time zone database: the name is refused either way
  }
}

/// The zone of a parsed schedule; parse_schedule checked the name, so only a database removed since can fail,
/// and then UTC is the honest fallback.
const date::time_zone* zone_of(const std::string& name) {
  if (const auto* z = zone_named(name)) return z;
  return zone_named("UTC");
}

local_us to_local(const date::time_zone* z, timestamp t) {
  if (!z) return local_us(t.time_since_epoch());
  const auto info = z->get_info(t);
  return local_us(t.time_since_epoch() + chr::duration_cast<chr::microseconds>(info.offset));
}

/// A local time as an instant, "compatible": a time in a DST gap moves forward by the gap (read with the
/// offset before it), a repeated time takes its first occurrence.
timestamp to_instant(const date::time_zone* z, local_us t) {
  if (!z) return timestamp(t.time_since_epoch());
  const auto info = z->get_info(t);
  // unique: first is the only offset; ambiguous: first is the earlier occurrence; nonexistent: first is the
  // offset before the gap, which lands the instant past the transition.
  return timestamp(t.time_since_epoch() - chr::duration_cast<chr::microseconds>(info.first.offset));
}

/// "P1DT2H3M4.5S", "PT3S", "P2W" → microseconds; nullopt when malformed.
std::optional<chr::microseconds> parse_iso_duration(const std::string& text) {
  if (text.size() < 2 || text[0] != 'P') return std::nullopt;
  double total = 0;
  bool in_time = false, any = false;
  std::size_t i = 1;
  while (i < text.size()) {
    if (text[i] == 'T') {
      if (in_time) return std::nullopt;
      in_time = true;
      ++i;
      continue;
    }
    std::size_t used = 0;
    double value = 0;
    try {
      value = std::stod(text.substr(i), &used);
    } catch (const std::exception&) {
      return std::nullopt;
    }
    if (used == 0 || i + used >= text.size() || !(value >= 0)) return std::nullopt;
    const char unit = text[i + used];
    double seconds = 0;
    if (!in_time && unit == 'W')
      seconds = 7 * 86400.0;
    else if (!in_time && unit == 'D')
      seconds = 86400.0;
    else if (in_time && unit == 'H')
      seconds = 3600.0;
    else if (in_time && unit == 'M')
      seconds = 60.0;
    else if (in_time && unit == 'S')
      seconds = 1.0;
    else
      return std::nullopt;
    total += value * seconds;
    any = true;
    i += used + 1;
  }
  if (!any || total > 1e15) return std::nullopt;
  return chr::microseconds(std::llround(total * 1e6));
}

field_problem problem(std::string field, std::string message, std::string type = "value_error") {
  return {std::move(field), std::move(message), std::move(type)};
}

std::optional<field_problem> read_timezone(const nlohmann::json& j, std::string& out) {
  if (!j.contains("timezone") || j["timezone"].is_null()) return std::nullopt;
  if (!j["timezone"].is_string()) return problem("timezone", "Input should be a valid string", "string_type");
  const auto& name = j["timezone"].get_ref<const std::string&>();
  if (!name.empty() && !zone_named(name))
    return problem("timezone", "Value error, Invalid timezone: \"" + name +
                                   "\" (specify in IANA tzdata format, for example, America/New_York)");
  if (!name.empty()) out = name;
  return std::nullopt;
}

std::variant<schedule, field_problem> parse_interval(const nlohmann::json& j, timestamp now) {
  interval_schedule s;
  s.anchor_date = now;
  for (const auto& [key, value] : j.items())
    if (key != "interval" && key != "anchor_date" && key != "timezone")
      return problem(key, "Extra inputs are not permitted", "extra_forbidden");
  const auto& iv = j["interval"];
  if (iv.is_number()) {
    const double seconds = iv.get<double>();
    if (!std::isfinite(seconds) || seconds > 1e15)
      return problem("interval", "Input should be a valid timedelta", "time_delta_parsing");
    s.interval = chr::microseconds(std::llround(seconds * 1e6));
  } else if (iv.is_string()) {
    auto parsed = parse_iso_duration(iv.get<std::string>());
    if (!parsed) return problem("interval", "Input should be a valid timedelta", "time_delta_parsing");
    s.interval = *parsed;
  } else {
    return problem("interval", "Input should be a valid timedelta", "time_delta_type");
  }
  if (s.interval <= chr::microseconds(0)) return problem("interval", "Value error, The interval must be positive");
  if (j.contains("anchor_date") && !j["anchor_date"].is_null()) {
    const auto& a = j["anchor_date"];
    auto t = a.is_string() ? parse_iso8601(a.get<std::string>()) : std::nullopt;
    if (!t) return problem("anchor_date", "Input should be a valid datetime", "datetime_parsing");
    s.anchor_date = *t;
  }
  if (auto p = read_timezone(j, s.timezone)) return *p;
  return schedule{s};
}

std::variant<schedule, field_problem> parse_cron(const nlohmann::json& j) {
  cron_schedule s;
  for (const auto& [key, value] : j.items())
    if (key != "cron" && key != "timezone" && key != "day_or")
      return problem(key, "Extra inputs are not permitted", "extra_forbidden");
  if (!j["cron"].is_string()) return problem("cron", "Input should be a valid string", "string_type");
  s.cron = j["cron"].get<std::string>();
  std::string why;
  auto parsed = cron_expression::parse(s.cron, why);
  if (!parsed) return problem("cron", "Value error, Invalid cron string: \"" + s.cron + "\" (" + why + ")");
  if (j.contains("day_or") && !j["day_or"].is_null()) {
    if (!j["day_or"].is_boolean()) return problem("day_or", "Input should be a valid boolean", "bool_type");
    s.day_or = j["day_or"].get<bool>();
  }
  parsed->set_day_or(s.day_or);
  s.expression = *parsed;
  if (auto p = read_timezone(j, s.timezone)) return *p;
  return schedule{s};
}

std::variant<schedule, field_problem> parse_rrule(const nlohmann::json& j) {
  rrule_schedule s;
  for (const auto& [key, value] : j.items())
    if (key != "rrule" && key != "timezone") return problem(key, "Extra inputs are not permitted", "extra_forbidden");
  if (!j["rrule"].is_string()) return problem("rrule", "Input should be a valid string", "string_type");
  s.rrule = j["rrule"].get<std::string>();
  auto parsed = parse_rrule_set(s.rrule);
  if (const auto* why = std::get_if<std::string>(&parsed))
    return problem("rrule", "Value error, Invalid RRule string \"" + s.rrule + "\": " + *why);
  if (s.rrule.size() > max_rrule_length)
    return problem("rrule", "Value error, Invalid RRule string \"" + s.rrule.substr(0, 40) + "...\"\nMax length is " +
                                std::to_string(max_rrule_length) + ", got " + std::to_string(s.rrule.size()));
  s.set = std::get<rrule_set>(std::move(parsed));
  if (auto p = read_timezone(j, s.timezone)) return *p;
  return schedule{s};
}

void insert_within(std::set<timestamp>& dates, timestamp t, timestamp start) {
  if (t >= start) dates.insert(t);
}

std::vector<timestamp> interval_dates(const interval_schedule& s, timestamp start, timestamp end, std::size_t n) {
  const auto* z = zone_of(s.timezone);
  const auto day = chr::microseconds(chr::hours(24));
  const auto whole_days = s.interval / day;
  const auto rest = s.interval % day;
  std::set<timestamp> dates;
  if (whole_days == 0 || (rest.count() != 0)) {
    // Elapsed time (with whole local days added first when the interval has both): jump close to the start,
    // then step.
    const auto step = [&](timestamp t) {
      if (whole_days == 0) return t + s.interval;
      return to_instant(z, to_local(z, t) + chr::days(whole_days)) + rest;
    };
    std::int64_t k = (start - s.anchor_date) / s.interval;
    auto t = s.anchor_date + s.interval * k;
    while (t > start) t -= s.interval;
    for (std::size_t i = 0; t <= end && dates.size() < n && i <= max_iterations + 2; ++i) {
      while (t < start) t = step(t);
      if (t > end) break;
      dates.insert(t);
      t = step(t);
    }
  } else {
    // Whole local days: the anchor's wall time repeats every `whole_days` days in the zone.
    const auto anchor_local = to_local(z, s.anchor_date);
    const auto span = chr::microseconds(chr::days(whole_days));
    std::int64_t k = (to_local(z, start) - anchor_local) / span - 1;
    for (std::size_t i = 0; dates.size() < n && i <= max_iterations + 2; ++k) {
      const auto t = to_instant(z, anchor_local + span * k);
      if (t > end) break;
      if (t >= start) ++i;
      insert_within(dates, t, start);
    }
  }
  std::vector<timestamp> out(dates.begin(), dates.end());
  if (out.size() > n) out.resize(n);
  return out;
}

std::vector<timestamp> cron_dates(const cron_schedule& s, timestamp start, timestamp end, std::size_t n) {
  const auto* z = zone_of(s.timezone);
  // Start two hours early in wall time, so no matching minute is missed around a DST change; what resolves
  // before `start` is dropped.
  const auto from = to_local(z, start - chr::hours(2));
  wall_time cursor{chr::sys_time<wall_minutes>(chr::floor<wall_minutes>(from.time_since_epoch()) - wall_minutes(1))};
  std::set<timestamp> dates;
  std::size_t examined = 0;
  while (dates.size() < n && examined <= max_iterations + 2) {
    auto next = s.expression.next_after(cursor);
    if (!next) break;
    cursor = *next;
    const auto t = to_instant(z, local_us(chr::duration_cast<chr::microseconds>(next->t.time_since_epoch())));
    if (t > end) break;
    if (t >= start) ++examined;
    insert_within(dates, t, start);
  }
  std::vector<timestamp> out(dates.begin(), dates.end());
  if (out.size() > n) out.resize(n);
  return out;
}

std::vector<timestamp> rrule_schedule_dates(const rrule_schedule& s, timestamp start, timestamp end, std::size_t n) {
  const auto* z = zone_of(s.timezone);
  // Wall times two hours either side, so no date is missed around a DST change; what resolves outside
  // [start, end] is dropped.
  const auto wall = [](local_us t) { return wall_seconds(chr::floor<chr::seconds>(t.time_since_epoch())); };
  const auto from = wall(to_local(z, start - chr::hours(2)));
  const auto to = wall(to_local(z, end + chr::hours(2)));
  std::set<timestamp> dates;
  for (auto w : rrule_dates(s.set, from, to, n + max_iterations)) {
    const auto t = to_instant(z, local_us(chr::duration_cast<chr::microseconds>(w.time_since_epoch())));
    if (t > end) continue;
    insert_within(dates, t, start);
    if (dates.size() >= n) break;
  }
  std::vector<timestamp> out(dates.begin(), dates.end());
  if (out.size() > n) out.resize(n);
  return out;
}

}  // namespace

bool known_timezone(const std::string& name) { return zone_named(name) != nullptr; }

std::variant<schedule, field_problem> parse_schedule(const nlohmann::json& j, timestamp now) {
  if (!j.is_object()) return problem("", "Input should be a valid dictionary or object", "model_type");
  if (j.contains("interval")) return parse_interval(j, now);
  if (j.contains("cron")) return parse_cron(j);
  if (j.contains("rrule")) return parse_rrule(j);
  return problem("", "Input should be an interval, cron or rrule schedule", "union_tag_not_found");
}

nlohmann::json to_json(const schedule& s) {
  if (const auto* i = std::get_if<interval_schedule>(&s))
    return {{"interval", static_cast<double>(i->interval.count()) / 1e6},
            {"anchor_date", format_iso8601(i->anchor_date)},
            {"timezone", i->timezone}};
  if (const auto* r = std::get_if<rrule_schedule>(&s)) return {{"rrule", r->rrule}, {"timezone", r->timezone}};
  const auto& c = std::get<cron_schedule>(s);
  return {{"cron", c.cron}, {"timezone", c.timezone}, {"day_or", c.day_or}};
}

const char* schedule_kind(const schedule& s) {
  if (std::holds_alternative<interval_schedule>(s)) return "IntervalSchedule";
  return std::holds_alternative<rrule_schedule>(s) ? "RRuleSchedule" : "CronSchedule";
}

std::vector<timestamp> schedule_dates(const schedule& s, timestamp start, timestamp end, std::size_t n) {
  if (n == 0 || end < start) return {};
  if (const auto* i = std::get_if<interval_schedule>(&s)) return interval_dates(*i, start, end, n);
  if (const auto* r = std::get_if<rrule_schedule>(&s)) return rrule_schedule_dates(*r, start, end, n);
  return cron_dates(std::get<cron_schedule>(s), start, end, n);
}

std::vector<timestamp> dates_to_schedule(const schedule& s, timestamp now, const scheduling_window& w) {
  auto dates = schedule_dates(s, now, now + w.max_time, w.max_runs);
  const auto enough_time = now + w.min_time;
  for (std::size_t i = 0; i < dates.size(); ++i)
    if (i + 1 >= w.min_runs && dates[i] >= enough_time) {
      dates.resize(i + 1);
      break;
    }
  return dates;
}

}  // namespace osprey

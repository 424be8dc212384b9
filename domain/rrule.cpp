// RRule recurrence sets (see the header).
#include "domain/rrule.hpp"

#include <libical/ical.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <set>

namespace osprey {
namespace {

namespace chr = std::chrono;

/// Prefect's MAX_ITERATIONS: candidates examined after the start.
constexpr std::size_t max_iterations = 1000;
/// A rule with COUNT is expanded from its DTSTART; this bounds the work a huge COUNT can ask for.
constexpr std::size_t max_steps = 1'000'000;

const wall_seconds default_dtstart = chr::sys_days(chr::year(2020) / 1 / 1);

icaltimetype to_ical(wall_seconds t) {
  const auto day = chr::floor<chr::days>(t);
  const chr::year_month_day ymd{day};
  const chr::hh_mm_ss hms{t - day};
  icaltimetype out = icaltime_null_time();
  out.year = static_cast<int>(ymd.year());
  out.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  out.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  out.hour = static_cast<int>(hms.hours().count());
  out.minute = static_cast<int>(hms.minutes().count());
  out.second = static_cast<int>(hms.seconds().count());
  out.is_date = 0;
  out.zone = nullptr;  // floating: the fields are the wall clock
  return out;
}

wall_seconds from_ical(const icaltimetype& t) {
  const chr::year_month_day ymd{chr::year(t.year), chr::month(static_cast<unsigned>(t.month)),
                                chr::day(static_cast<unsigned>(t.day))};
  return chr::sys_days(ymd) + chr::hours(t.hour) + chr::minutes(t.minute) + chr::seconds(t.second);
}

/// "YYYYMMDD" or "YYYYMMDDTHHMMSS", optionally ending in "Z" (ignored: the zone is the schedule's).
std::optional<wall_seconds> parse_date(std::string v) {
  if (!v.empty() && v.back() == 'Z') v.pop_back();
  const bool with_time = v.size() == 15 && v[8] == 'T';
  if (v.size() != 8 && !with_time) return std::nullopt;
  for (std::size_t i = 0; i < v.size(); ++i)
    if (i != 8 && !std::isdigit(static_cast<unsigned char>(v[i]))) return std::nullopt;
  auto num = [&](std::size_t at, std::size_t len) { return std::stoi(v.substr(at, len)); };
  const chr::year_month_day ymd{chr::year(num(0, 4)), chr::month(static_cast<unsigned>(num(4, 2))),
                                chr::day(static_cast<unsigned>(num(6, 2)))};
  if (!ymd.ok()) return std::nullopt;
  wall_seconds t = chr::sys_days(ymd);
  if (with_time) {
    const int h = num(9, 2), m = num(11, 2), s = num(13, 2);
    if (h > 23 || m > 59 || s > 60) return std::nullopt;
    t += chr::hours(h) + chr::minutes(m) + chr::seconds(s);
  }
  return t;
}

bool valid_rule(const std::string& value) {
  const auto r = icalrecurrencetype_from_string(value.c_str());
  return r.freq != ICAL_NO_RECURRENCE;
}

std::vector<std::string> split(const std::string& s, char by) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (true) {
    const auto next = s.find(by, at);
    out.push_back(s.substr(at, next == std::string::npos ? std::string::npos : next - at));
    if (next == std::string::npos) return out;
    at = next + 1;
  }
}

struct iterator_deleter {
  void operator()(icalrecur_iterator* it) const { icalrecur_iterator_free(it); }
};

chr::seconds period_of(const icalrecurrencetype& r) {
  const auto interval = std::max<short>(r.interval, 1);
  switch (r.freq) {
    case ICAL_SECONDLY_RECURRENCE: return chr::seconds(interval);
    case ICAL_MINUTELY_RECURRENCE: return chr::minutes(interval);
    case ICAL_HOURLY_RECURRENCE: return chr::hours(interval);
    default: return chr::seconds(0);
  }
}

/// The occurrences of one rule in [from, to], at most `cap` of them.
std::vector<wall_seconds> expand(const std::string& rule, wall_seconds dtstart, wall_seconds from, wall_seconds to,
                                 std::size_t cap) {
  const auto r = icalrecurrencetype_from_string(rule.c_str());
  if (r.freq == ICAL_NO_RECURRENCE) return {};
  const bool counted = r.count > 0;
  const auto period = period_of(r);
  auto start = dtstart;
  // A sub-daily rule repeats every `period` from DTSTART: starting a whole number of periods later, just
  // before `from`, gives the same dates (libical's own skip-ahead misplaces sub-daily phases). COUNT counts
  // from DTSTART, so a counted rule cannot skip.
  if (!counted && period.count() > 0 && dtstart < from) {
    const auto k = (from - dtstart) / period - 1;
    if (k > 0) start = dtstart + period * k;
  }
  std::unique_ptr<icalrecur_iterator, iterator_deleter> it(icalrecur_iterator_new(r, to_ical(start)));
  if (!it) return {};
  if (!counted && period.count() == 0 && dtstart < from) icalrecur_iterator_set_start(it.get(), to_ical(from));
  std::vector<wall_seconds> out;
  for (std::size_t step = 0; step < max_steps && out.size() < cap; ++step) {
    const auto next = icalrecur_iterator_next(it.get());
    if (icaltime_is_null_time(next)) break;
    const auto t = from_ical(next);
    if (t > to) break;
    if (t >= from) out.push_back(t);
  }
  return out;
}

}  // namespace

std::variant<rrule_set, std::string> parse_rrule_set(const std::string& text) {
  std::string s = text;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  std::vector<std::string> lines;
  std::string word;
  for (char c : s + " ") {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!word.empty()) lines.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (lines.empty()) return std::string("empty string");
  rrule_set set;
  set.dtstart = default_dtstart;
  if (lines.size() == 1 && (lines[0].find(':') == std::string::npos || lines[0].rfind("RRULE:", 0) == 0)) {
    auto value = lines[0].rfind("RRULE:", 0) == 0 ? lines[0].substr(6) : lines[0];
    if (!valid_rule(value)) return "invalid rule \"" + value + "\"";
    set.rules.push_back(std::move(value));
    return set;
  }
  for (const auto& line : lines) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) return "missing \":\" in \"" + line + "\"";
    auto head = split(line.substr(0, colon), ';');
    const auto name = head.front();
    const auto value = line.substr(colon + 1);
    if (name == "RRULE" || name == "EXRULE") {
      if (head.size() > 1) return "unsupported " + name + " parameter: " + head[1];
      if (!valid_rule(value)) return "invalid rule \"" + value + "\"";
      (name == "RRULE" ? set.rules : set.exrules).push_back(value);
    } else if (name == "RDATE" || name == "EXDATE" || name == "DTSTART") {
      for (std::size_t i = 1; i < head.size(); ++i)
        if (head[i].rfind("TZID=", 0) != 0 && head[i] != "VALUE=DATE-TIME" && head[i] != "VALUE=DATE")
          return "unsupported " + name + " parameter: " + head[i];
      std::vector<wall_seconds> dates;
      for (const auto& v : split(value, ',')) {
        auto t = parse_date(v);
        if (!t) return "invalid date \"" + v + "\" in " + name;
        dates.push_back(*t);
      }
      if (name == "DTSTART") {
        if (dates.size() != 1) return "DTSTART takes one date";
        set.dtstart = dates.front();
      } else {
        auto& into = name == "RDATE" ? set.rdates : set.exdates;
        into.insert(into.end(), dates.begin(), dates.end());
      }
    } else {
      return "unsupported property: " + name;
    }
  }
  if (set.rules.empty() && set.rdates.empty()) return std::string("no RRULE or RDATE: the schedule has no dates");
  return set;
}

std::vector<wall_seconds> rrule_dates(const rrule_set& set, wall_seconds from, wall_seconds to, std::size_t n) {
  if (n == 0 || to < from) return {};
  const auto cap = std::max(n, max_iterations) + 2;
  std::set<wall_seconds> dates, excluded(set.exdates.begin(), set.exdates.end());
  for (const auto& rule : set.rules)
    for (auto t : expand(rule, set.dtstart, from, to, cap)) dates.insert(t);
  for (auto t : set.rdates)
    if (t >= from && t <= to) dates.insert(t);
  for (const auto& rule : set.exrules)
    for (auto t : expand(rule, set.dtstart, from, to, max_steps)) excluded.insert(t);
  std::vector<wall_seconds> out;
  for (auto t : dates) {
    if (excluded.count(t)) continue;
    out.push_back(t);
    if (out.size() >= n) break;
  }
  return out;
}

}  // namespace osprey

// Cron expressions (see the header).
#include "domain/cron.hpp"

#include <array>
#include <cctype>
#include <sstream>
#include <vector>

namespace osprey {
namespace {

using namespace std::chrono;

struct field_spec {
  const char* name;
  int low;
  int high;
  const std::array<const char*, 12>* names = nullptr;  ///< names[i] stands for low + i
};

constexpr std::array<const char*, 12> month_names{"jan", "feb", "mar", "apr", "may", "jun",
                                                  "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<const char*, 12> weekday_names{"sun", "mon", "tue", "wed", "thu", "fri",
                                                    "sat", "",    "",    "",    "",    ""};

std::vector<std::string> split(const std::string& text, char by) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, by)) parts.push_back(part);
  if (!text.empty() && text.back() == by) parts.emplace_back();
  return parts;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool read_number(const std::string& text, const field_spec& spec, int& out) {
  if (text.empty() || text.size() > 4) return false;
  if (spec.names) {
    const auto name = lower(text);
    for (std::size_t i = 0; i < spec.names->size(); ++i)
      if (*(*spec.names)[i] && name == (*spec.names)[i]) {
        out = spec.low + static_cast<int>(i);
        return true;
      }
  }
  for (char c : text)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  out = std::stoi(text);
  return true;
}

/// Sets the bits `spec` allows for one field; false with `error` on a malformed or out-of-range part.
template <std::size_t N>
bool parse_field(const std::string& text, const field_spec& spec, std::bitset<N>& bits, bool& star, std::string& error,
                 bool* last_day = nullptr) {
  star = text == "*" || text == "?";
  const int high = spec.high;
  for (const auto& part : split(text, ',')) {
    auto bad = [&](const std::string& why) {
      error = "invalid " + std::string(spec.name) + " field '" + text + "': " + why;
      return false;
    };
    if (part.empty()) return bad("empty list item");
    if (last_day && (part == "L" || part == "l")) {
      *last_day = true;
      continue;
    }
    std::string range = part;
    int step = 1;
    if (const auto slash = part.find('/'); slash != std::string::npos) {
      range = part.substr(0, slash);
      const auto step_text = part.substr(slash + 1);
      int s = 0;
      field_spec plain{spec.name, 0, 0};
      if (!read_number(step_text, plain, s) || s < 1) return bad("step must be a positive number");
      step = s;
    }
    int from = spec.low, to = high;
    if (range == "*" || range == "?") {
      // the whole range
    } else if (const auto dash = range.find('-'); dash != std::string::npos) {
      if (!read_number(range.substr(0, dash), spec, from) || !read_number(range.substr(dash + 1), spec, to))
        return bad("'" + part + "' is not a range");
    } else {
      if (!read_number(range, spec, from)) return bad("'" + part + "' is not a value");
      // "5/15" runs from 5 to the end of the range, as in croniter.
      to = part.find('/') != std::string::npos ? high : from;
    }
    const int max_allowed = spec.names == &weekday_names ? 7 : high;  // weekday 7 is Sunday
    if (from < spec.low || to > max_allowed || from > max_allowed)
      return bad("values must be between " + std::to_string(spec.low) + " and " + std::to_string(high));
    if (from > to) return bad("range '" + range + "' runs backwards");
    for (int v = from; v <= to; v += step) bits.set(static_cast<std::size_t>(spec.names == &weekday_names ? v % 7 : v));
  }
  return true;
}

}  // namespace

std::optional<cron_expression> cron_expression::parse(const std::string& raw, std::string& error) {
  std::string text = raw;
  const auto trimmed_start = text.find_first_not_of(" \t");
  if (trimmed_start == std::string::npos) {
    error = "empty cron expression";
    return std::nullopt;
  }
  static const std::array<std::pair<const char*, const char*>, 7> macros{{{"@yearly", "0 0 1 1 *"},
                                                                          {"@annually", "0 0 1 1 *"},
                                                                          {"@monthly", "0 0 1 * *"},
                                                                          {"@weekly", "0 0 * * 0"},
                                                                          {"@daily", "0 0 * * *"},
                                                                          {"@midnight", "0 0 * * *"},
                                                                          {"@hourly", "0 * * * *"}}};
  const auto key = lower(text.substr(trimmed_start));
  for (const auto& [name, expansion] : macros)
    if (key.rfind(name, 0) == 0 && key.find_first_not_of(" \t", std::string(name).size()) == std::string::npos)
      text = expansion;
  std::vector<std::string> fields;
  std::istringstream words(text);
  for (std::string w; words >> w;) fields.push_back(w);
  if (fields.size() != 5) {
    error = "expected 5 fields (minute hour day-of-month month day-of-week), got " + std::to_string(fields.size());
    return std::nullopt;
  }
  for (const auto& f : fields)
    for (char c : f)
      if (c == 'R' || c == 'r' || c == 'H' || c == 'h' || c == '#') {
        const bool is_name_letter = std::isalpha(static_cast<unsigned char>(c)) && f.size() > 1 &&
                                    f.find_first_of("0123456789*") == std::string::npos;
        if (!is_name_letter) {
          error = c == '#' ? "the '#' weekday form is not supported" : "Random and Hashed expressions are unsupported";
          return std::nullopt;
        }
      }
  cron_expression e;
  bool star = false;
  static const field_spec minute{"minute", 0, 59}, hour{"hour", 0, 23}, day{"day-of-month", 1, 31},
      month{"month", 1, 12, &month_names}, weekday{"day-of-week", 0, 6, &weekday_names};
  if (!parse_field(fields[0], minute, e.minutes_, star, error) ||
      !parse_field(fields[1], hour, e.hours_, star, error) ||
      !parse_field(fields[2], day, e.days_, e.days_star_, error, &e.last_day_) ||
      !parse_field(fields[3], month, e.months_, star, error) ||
      !parse_field(fields[4], weekday, e.weekdays_, e.weekdays_star_, error))
    return std::nullopt;
  return e;
}

bool cron_expression::day_matches(year_month_day ymd, weekday wd) const {
  const unsigned d = static_cast<unsigned>(ymd.day());
  const bool last = last_day_ && ymd.day() == year_month_day_last(ymd.year(), month_day_last(ymd.month())).day();
  const bool dom = days_[d] || last;
  const bool dow = weekdays_[wd.c_encoding()];
  if (days_star_ || weekdays_star_) return dom && dow;
  return day_or_ ? (dom || dow) : (dom && dow);
}

bool cron_expression::matches(wall_time t) const {
  const auto day = floor<days>(t.t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t.t - day};
  return months_[static_cast<unsigned>(ymd.month())] && day_matches(ymd, weekday{day}) &&
         hours_[static_cast<std::size_t>(hms.hours().count())] &&
         minutes_[static_cast<std::size_t>(hms.minutes().count())];
}

std::optional<wall_time> cron_expression::next_after(wall_time after, int horizon_years) const {
  auto t = after.t + wall_minutes(1);
  const auto limit = after.t + duration_cast<wall_minutes>(years(horizon_years));
  // Field by field, coarsest first: a month that cannot match skips to the next month, a day to the next
  // day, an hour to the next hour; only the minute is stepped one at a time (at most 59 times per hour).
  while (t <= limit) {
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    if (!months_[static_cast<unsigned>(ymd.month())]) {
      const auto next_month = year_month_day{ymd.year() / ymd.month() / 1} + months(1);
      t = sys_days(next_month);
      continue;
    }
    if (!day_matches(ymd, weekday{day})) {
      t = day + days(1);
      continue;
    }
    const hh_mm_ss hms{t - day};
    if (!hours_[static_cast<std::size_t>(hms.hours().count())]) {
      t = floor<hours>(t) + hours(1);
      continue;
    }
    if (!minutes_[static_cast<std::size_t>(hms.minutes().count())]) {
      t += wall_minutes(1);
      continue;
    }
    return wall_time{t};
  }
  return std::nullopt;
}

}  // namespace osprey

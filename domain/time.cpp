#include "domain/time.hpp"

#include <cstdio>

namespace osprey {
namespace {

bool read_digits(std::string_view s, std::size_t& pos, std::size_t count, int& out) {
  if (pos + count > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < count; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += count;
  out = v;
  return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

/// Writes `value` as exactly `count` decimal digits ending just before `end`; returns where they start.
char* write_digits(char* end, long long value, int count) {
  for (int i = 0; i < count; ++i) {
    *--end = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return end;
}

}  // namespace

std::string format_iso8601(timestamp t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<microseconds> hms{t - day};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {  // not a Python datetime; only printf's widening needs to be kept
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06lldZ", year, static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                  static_cast<long long>(hms.subseconds().count()));
    return buf;
  }
  // By hand: snprintf's format parsing made this a visible share of the server's CPU (every row and answer
  // holds several timestamps).
  std::string out(27, ' ');  // YYYY-MM-DDTHH:MM:SS.ffffffZ
  char* p = out.data() + out.size();
  *--p = 'Z';
  p = write_digits(p, hms.subseconds().count(), 6);
  *--p = '.';
  p = write_digits(p, hms.seconds().count(), 2);
  *--p = ':';
  p = write_digits(p, hms.minutes().count(), 2);
  *--p = ':';
  p = write_digits(p, hms.hours().count(), 2);
  *--p = 'T';
  p = write_digits(p, static_cast<unsigned>(ymd.day()), 2);
  *--p = '-';
  p = write_digits(p, static_cast<unsigned>(ymd.month()), 2);
  *--p = '-';
  write_digits(p, year, 4);
  return out;
}

std::optional<timestamp> parse_iso8601(std::string_view s) {
  using namespace std::chrono;
  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!read_digits(s, pos, 4, y) || !expect(s, pos, '-') || !read_digits(s, pos, 2, mo) || !expect(s, pos, '-') ||
      !read_digits(s, pos, 2, d))
    return std::nullopt;
  year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  timestamp result = time_point_cast<microseconds>(sys_days(ymd));
  if (pos == s.size()) return result;
  if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
  ++pos;
  if (!read_digits(s, pos, 2, h) || !expect(s, pos, ':') || !read_digits(s, pos, 2, mi)) return std::nullopt;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!read_digits(s, pos, 2, sec)) return std::nullopt;
  }
  if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
  long long micros = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    std::size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 6) micros = micros * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (std::size_t i = digits; i < 6; ++i) micros *= 10;
  }
  long long offset_minutes = 0;
  if (pos < s.size()) {
    char c = s[pos];
    if (c == 'Z' || c == 'z') {
      ++pos;
    } else if (c == '+' || c == '-') {
      ++pos;
      int oh = 0, om = 0;
      if (!read_digits(s, pos, 2, oh)) return std::nullopt;
      if (pos < s.size() && s[pos] == ':') ++pos;
      if (pos < s.size() && !read_digits(s, pos, 2, om)) return std::nullopt;
      if (oh > 23 || om > 59) return std::nullopt;
      offset_minutes = (c == '+' ? 1 : -1) * (oh * 60 + om);
    } else {
      return std::nullopt;
    }
  }
  if (pos != s.size()) return std::nullopt;
  result += hours(h) + minutes(mi) + seconds(sec) + microseconds(micros) - minutes(offset_minutes);
  // Years 1..9999 in UTC only: an offset could carry "0001-01-01T00:00+01:00" or "9999-12-31T23:00-05:00" out of
  // them, and format_iso8601 would then write text this function (and PostgreSQL) cannot read back.
  static const timestamp earliest = time_point_cast<microseconds>(sys_days(year(1) / January / 1));
  static const timestamp latest = time_point_cast<microseconds>(sys_days(year(10000) / January / 1)) - microseconds(1);
  if (result < earliest || result > latest) return std::nullopt;
  return result;
}

timestamp system_clock::now() const {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

const system_clock& system_clock::instance() {
  static const system_clock clock;
  return clock;
}

}  // namespace osprey

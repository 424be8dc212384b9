#include "domain/automation_reading.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace osprey::automation_reading {

path at(const path& where, std::string key) {
  auto out = where;
  out.push_back(std::move(key));
  return out;
}

bool fail(automation_problem& problem, path where, std::string message, std::string type) {
  problem = automation_problem{std::move(where), std::move(message), std::move(type), false};
  return false;
}

bool read_string(const json& v, const path& where, std::string& out, automation_problem& problem) {
  if (!v.is_string()) return fail(problem, where, "Input should be a valid string", "string_type");
  out = v.get<std::string>();
  return true;
}

bool read_optional_string(const json& v, const path& where, std::optional<std::string>& out,
                          automation_problem& problem) {
  if (v.is_null()) {
    out.reset();
    return true;
  }
  std::string s;
  if (!read_string(v, where, s, problem)) return false;
  out = std::move(s);
  return true;
}

bool read_bool(const json& v, const path& where, bool& out, automation_problem& problem) {
  if (v.is_boolean()) {
    out = v.get<bool>();
    return true;
  }
  // pydantic's lax booleans: 0/1 and the usual words.
  if (v.is_number_integer() && (v.get<std::int64_t>() == 0 || v.get<std::int64_t>() == 1)) {
    out = v.get<std::int64_t>() == 1;
    return true;
  }
  if (v.is_string()) {
    auto s = v.get<std::string>();
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const char* yes : {"true", "1", "yes", "on", "t", "y"})
      if (s == yes) return out = true, true;
    for (const char* no : {"false", "0", "no", "off", "f", "n"})
      if (s == no) return out = false, true;
    return fail(problem, where, "Input should be a valid boolean, unable to interpret input", "bool_parsing");
  }
  return fail(problem, where, "Input should be a valid boolean", "bool_type");
}

bool read_uuid(const json& v, const path& where, uuid& out, automation_problem& problem) {
  if (!v.is_string()) return fail(problem, where, "UUID input should be a string, bytes or UUID object", "uuid_type");
  auto parsed = uuid::parse(v.get<std::string>());
  if (!parsed)
    return fail(problem, where, "Input should be a valid UUID, unable to parse string as a UUID", "uuid_parsing");
  out = *parsed;
  return true;
}

bool read_int(const json& v, const path& where, std::int64_t& out, automation_problem& problem) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() &&
        v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return fail(problem, where, "Input should be a valid integer, the number is too large", "int_parsing_size");
    out = v.get<std::int64_t>();
    return true;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d))
      return fail(problem, where, "Input should be a valid integer, got a number with a fractional part",
                  "int_from_float");
    if (std::fabs(d) > 9.2e18)
      return fail(problem, where, "Input should be a valid integer, the number is too large", "int_parsing_size");
    out = static_cast<std::int64_t>(d);
    return true;
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    std::int64_t parsed = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
    if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) return out = parsed, true;
    return fail(problem, where, "Input should be a valid integer, unable to parse string as an integer", "int_parsing");
  }
  return fail(problem, where, "Input should be a valid integer", "int_type");
}

namespace {

/// A non-negative decimal number at the front of `s` (digits, optional fraction); advances `s`.
std::optional<double> leading_number(std::string_view& s) {
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + i, value);
  if (ec != std::errc() || end != s.data() + i) return std::nullopt;
  s.remove_prefix(i);
  return value;
}

/// ISO 8601 "P[nW][nD][T[nH][nM][nS]]" (fractions allowed on any part).
std::optional<double> iso_duration(std::string_view s) {
  if (s.empty() || s.front() != 'P') return std::nullopt;
  s.remove_prefix(1);
  double total = 0;
  bool time = false;
  bool any = false;
  while (!s.empty()) {
    if (s.front() == 'T') {
      if (time) return std::nullopt;
      time = true;
      s.remove_prefix(1);
      continue;
    }
    auto n = leading_number(s);
    if (!n || s.empty()) return std::nullopt;
    const char unit = s.front();
    s.remove_prefix(1);
    any = true;
    if (!time && unit == 'W')
      total += *n * 604800;
    else if (!time && unit == 'D')
      total += *n * 86400;
    else if (!time && unit == 'Y')
      total += *n * 365 * 86400;
    else if (time && unit == 'H')
      total += *n * 3600;
    else if (time && unit == 'M')
      total += *n * 60;
    else if (time && unit == 'S')
      total += *n;
    else
      return std::nullopt;
  }
  if (!any) return std::nullopt;
  return total;
}

/// "HH:MM:SS[.f]" or "MM:SS" style clock durations.
std::optional<double> clock_duration(std::string_view s) {
  double total = 0;
  int parts = 0;
  while (true) {
    auto n = leading_number(s);
    if (!n) return std::nullopt;
    total = total * 60 + *n;
    ++parts;
    if (s.empty()) break;
    if (s.front() != ':' || parts == 3) return std::nullopt;
    s.remove_prefix(1);
  }
  if (parts < 2) return std::nullopt;
  return total;
}

}  // namespace

bool read_duration(const json& v, const path& where, double& seconds, automation_problem& problem) {
  if (v.is_number() && !v.is_boolean()) {
    seconds = v.get<double>();
    if (!std::isfinite(seconds)) return fail(problem, where, "Input should be a valid timedelta", "time_delta_type");
    return true;
  }
  if (!v.is_string()) return fail(problem, where, "Input should be a valid timedelta", "time_delta_type");
  std::string_view s = v.get_ref<const std::string&>();
  const bool negative = !s.empty() && s.front() == '-';
  if (negative || (!s.empty() && s.front() == '+')) s.remove_prefix(1);
  std::optional<double> parsed;
  std::string_view plain = s;
  if (auto n = leading_number(plain); n && plain.empty()) parsed = n;
  if (!parsed) parsed = iso_duration(s);
  if (!parsed) parsed = clock_duration(s);
  if (!parsed)
    return fail(problem, where, "Input should be a valid timedelta, invalid digit in duration", "time_delta_parsing");
  seconds = negative ? -*parsed : *parsed;
  return true;
}

bool read_string_list(const json& v, const path& where, std::vector<std::string>& out, automation_problem& problem) {
  if (!v.is_array()) return fail(problem, where, "Input should be a valid list", "list_type");
  out.clear();
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::string s;
    if (!read_string(v[i], at(where, std::to_string(i)), s, problem)) return false;
    out.push_back(std::move(s));
  }
  return true;
}

bool read_string_set(const json& v, const path& where, std::vector<std::string>& out, automation_problem& problem) {
  if (!v.is_array()) return fail(problem, where, "Input should be a valid set", "set_type");
  out.clear();
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::string s;
    if (!read_string(v[i], at(where, std::to_string(i)), s, problem)) return false;
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
  }
  return true;
}

}  // namespace osprey::automation_reading

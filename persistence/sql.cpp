#include "persistence/sql.hpp"

#include <charconv>
#include <cstdlib>

#include "persistence/postgres/postgres_connection.hpp"
#include "persistence/sqlite/sqlite_connection.hpp"

namespace osprey::persistence {

const char* to_string(dialect d) noexcept { return d == dialect::sqlite ? "sqlite" : "postgresql"; }

bool sql_row::is_null(std::size_t i) const { return std::holds_alternative<std::monostate>(columns_.at(i)); }

std::string sql_row::text(std::size_t i) const {
  const auto& v = columns_.at(i);
  if (auto s = std::get_if<std::string>(&v)) return *s;
  if (auto n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  if (auto d = std::get_if<double>(&v)) return std::to_string(*d);
  if (auto b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  return {};
}

std::int64_t sql_row::integer(std::size_t i) const {
  const auto& v = columns_.at(i);
  if (auto n = std::get_if<std::int64_t>(&v)) return *n;
  if (auto b = std::get_if<bool>(&v)) return *b ? 1 : 0;
  if (auto d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  if (auto s = std::get_if<std::string>(&v)) {
    std::int64_t out = 0;
    auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
    if (ec == std::errc() && ptr == s->data() + s->size()) return out;
  }
  throw sql_error(sql_error::kind::other, "column " + std::to_string(i) + " is not an integer");
}

double sql_row::real(std::size_t i) const {
  const auto& v = columns_.at(i);
  if (auto d = std::get_if<double>(&v)) return *d;
  if (auto n = std::get_if<std::int64_t>(&v)) return static_cast<double>(*n);
  if (auto s = std::get_if<std::string>(&v)) {
    char* end = nullptr;
    double out = std::strtod(s->c_str(), &end);
    if (end != s->c_str() && *end == '\0') return out;
  }
  throw sql_error(sql_error::kind::other, "column " + std::to_string(i) + " is not a number");
}

bool sql_row::boolean(std::size_t i) const {
  const auto& v = columns_.at(i);
  if (auto b = std::get_if<bool>(&v)) return *b;
  if (auto n = std::get_if<std::int64_t>(&v)) return *n != 0;
  if (auto s = std::get_if<std::string>(&v)) {
    if (*s == "t" || *s == "true" || *s == "1") return true;
    if (*s == "f" || *s == "false" || *s == "0") return false;
  }
  throw sql_error(sql_error::kind::other, "column " + std::to_string(i) + " is not a boolean");
}

timestamp sql_row::time(std::size_t i) const {
  auto t = optional_time(i);
  if (!t) throw sql_error(sql_error::kind::other, "column " + std::to_string(i) + " is not a timestamp");
  return *t;
}

std::optional<timestamp> sql_row::optional_time(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  auto t = parse_iso8601(text(i));
  if (!t) throw sql_error(sql_error::kind::other, "column " + std::to_string(i) + " is not a timestamp");
  return t;
}

uuid sql_row::id(std::size_t i) const {
  auto u = uuid::parse(text(i));
  if (!u) throw sql_error(sql_error::kind::other, "column " + std::to_string(i) + " is not a UUID");
  return *u;
}

status to_status(const sql_error& e, const std::string& context) {
  switch (e.what_kind()) {
    case sql_error::kind::constraint: return {errc::conflict, context + ": " + e.what()};
    case sql_error::kind::busy: return {errc::unavailable, context + ": " + e.what()};
    case sql_error::kind::disk_full: return {errc::unavailable, std::string(disk_full_message) + " (" + e.what() + ")"};
    case sql_error::kind::other: break;
  }
  return {errc::internal, context + ": " + e.what()};
}

bool is_disk_full(const status& s) {
  return s.code() == errc::unavailable && s.message().starts_with(disk_full_message);
}

namespace {

std::string redact_password(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  std::string out = url;
  // user:password@host — the password may itself contain '@', so the host starts after the last '@'
  // of the authority (which ends at the first '/' or '?').
  const auto authority_start = scheme_end + 3;
  auto authority_end = out.find_first_of("/?", authority_start);
  if (authority_end == std::string::npos) authority_end = out.size();
  const auto at = out.rfind('@', authority_end);
  if (at != std::string::npos && at > authority_start) {
    const auto colon = out.find(':', authority_start);
    if (colon != std::string::npos && colon < at) out = out.substr(0, colon + 1) + "***" + out.substr(at);
  }
  // ...?password=secret&...
  for (auto p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    if (p > 0 && out[p - 1] != '?' && out[p - 1] != '&') continue;
    const auto value_start = p + 9;
    const auto value_end = out.find('&', value_start);
    out = out.substr(0, value_start) + "***" + (value_end == std::string::npos ? "" : out.substr(value_end));
  }
  return out;
}

}  // namespace

result<database_target> parse_database_url(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    return status(errc::invalid_argument,
                  "database URL '" + redact_password(url) +
                      "' has no scheme; use sqlite:///path/to/osprey.db or postgresql://user:pass@host:5432/db");
  std::string scheme = url.substr(0, scheme_end);
  if (auto plus = scheme.find('+'); plus != std::string::npos) scheme.resize(plus);  // SQLAlchemy driver suffix
  std::string rest = url.substr(scheme_end + 3);
  database_target target;
  target.display = redact_password(url);
  if (scheme == "sqlite") {
    // sqlite:///relative.db -> "relative.db"; sqlite:////abs.db -> "/abs.db" (SQLAlchemy's convention).
    if (rest.empty() || rest[0] != '/')
      return status(errc::invalid_argument, "SQLite URL '" + url + "' must look like sqlite:///path/to/file.db");
    target.dialect = dialect::sqlite;
    target.sqlite_path = rest.substr(1);
    if (auto q = target.sqlite_path.find('?'); q != std::string::npos) target.sqlite_path.resize(q);
    if (target.sqlite_path.empty()) return status(errc::invalid_argument, "SQLite URL '" + url + "' names no file");
    return target;
  }
  if (scheme == "postgresql" || scheme == "postgres") {
    target.dialect = dialect::postgresql;
    target.postgres_conninfo = "postgresql://" + rest;
    return target;
  }
  return status(errc::invalid_argument,
                "unsupported database URL scheme '" + scheme +
                    "'; use sqlite:///path/to/osprey.db or postgresql://user:pass@host:5432/db");
}

result<std::unique_ptr<sql_connection>> open_connection(const database_target& target,
                                                        const connection_options& options) {
  if (target.dialect == dialect::sqlite) return open_sqlite(target, options);
  return open_postgres(target, options);
}

}  // namespace osprey::persistence

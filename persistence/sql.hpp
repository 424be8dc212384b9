#pragma once
// The one storage interface with two drivers (sqlite/, postgres/). Queries are written once with
// numbered placeholders `$1, $2, ...`; each driver adapts them to its dialect.
//
// Errors: driver methods throw `sql_error` (already converted from SQLiteCpp/libpqxx exceptions, with the
// statement's context). Code outside persistence/ never sees exceptions: the writer and readers catch
// `sql_error` and hand on a `status` (see to_status()).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/status.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey::persistence {

enum class dialect { sqlite, postgresql };
const char* to_string(dialect d) noexcept;

/// A bound parameter or a column value. Timestamps and UUIDs travel as their canonical text
/// (see bind helpers below); JSON travels as text.
using sql_value = std::variant<std::monostate, std::int64_t, double, std::string, bool>;

/// Helpers so call sites read naturally: params{text(name), ts(now), id(x)}.
inline sql_value null_value() { return std::monostate{}; }
inline sql_value text(std::string s) { return sql_value(std::move(s)); }
inline sql_value integer(std::int64_t v) { return sql_value(v); }
inline sql_value boolean(bool v) { return sql_value(v); }
inline sql_value ts(timestamp t) { return sql_value(format_iso8601(t)); }
inline sql_value id(const uuid& u) { return sql_value(u.to_string()); }
template <class Tag>
sql_value id(const typed_id<Tag>& u) {
  return id(u.value);
}

using sql_params = std::vector<sql_value>;

/// One result row; columns in SELECT order. Accessors throw sql_error on a type mismatch.
class sql_row {
 public:
  explicit sql_row(std::vector<sql_value> columns) : columns_(std::move(columns)) {}
  [[nodiscard]] std::size_t size() const { return columns_.size(); }
  [[nodiscard]] bool is_null(std::size_t i) const;
  [[nodiscard]] std::string text(std::size_t i) const;      ///< NULL → ""
  [[nodiscard]] std::int64_t integer(std::size_t i) const;  ///< accepts numeric text (PostgreSQL)
  [[nodiscard]] double real(std::size_t i) const;
  [[nodiscard]] bool boolean(std::size_t i) const;    ///< 0/1, t/f, true/false
  [[nodiscard]] timestamp time(std::size_t i) const;  ///< parses either dialect's text form
  [[nodiscard]] std::optional<timestamp> optional_time(std::size_t i) const;
  [[nodiscard]] uuid id(std::size_t i) const;
  [[nodiscard]] const sql_value& raw(std::size_t i) const { return columns_.at(i); }

 private:
  std::vector<sql_value> columns_;
};

/// Thrown by drivers only; converted to `status` at the persistence boundary.
class sql_error : public std::runtime_error {
 public:
  enum class kind {
    constraint,  ///< unique / foreign key / check violated → errc::conflict
    busy,        ///< lock timeout, serialization failure, connection lost, other lack of resources
                 ///< (PostgreSQL class 53) → errc::unavailable
    disk_full,   ///< no room to write: SQLite SQLITE_FULL (also past database.sqlite_max_size_mb) or an I/O
                 ///< error with ENOSPC, PostgreSQL 53100 → errc::unavailable with disk_full_message
    other,       ///< syntax, type, anything else → errc::internal
  };
  sql_error(kind k, const std::string& message) : std::runtime_error(message), kind_(k) {}
  [[nodiscard]] kind what_kind() const noexcept { return kind_; }

 private:
  kind kind_;
};

/// Maps a caught sql_error to the project's status vocabulary, with `context` prepended; a disk_full error
/// becomes errc::unavailable with disk_full_message and the driver's words in parentheses instead.
status to_status(const sql_error& e, const std::string& context);

/// How a write refused for lack of disk space is answered (HTTP 503) and reported.
inline constexpr std::string_view disk_full_message =
    "The database is out of disk space; writes are refused until space is freed";

/// True for a status to_status() made of a disk_full sql_error.
bool is_disk_full(const status& s);

/// One database connection. Not thread-safe: each connection is owned by one thread/actor at a time.
class sql_connection {
 public:
  virtual ~sql_connection() = default;

  [[nodiscard]] virtual persistence::dialect dialect() const noexcept = 0;

  /// Runs a script of one or more statements without parameters (DDL, migrations).
  virtual void execute_script(const std::string& sql) = 0;
  /// Runs one statement; returns the number of rows changed.
  virtual std::int64_t execute(std::string_view sql, const sql_params& params = {}) = 0;
  /// Runs one statement and returns all its rows.
  virtual std::vector<sql_row> query(std::string_view sql, const sql_params& params = {}) = 0;
  /// Runs one statement and hands each row to `each` as it is read: for results the caller sums that are too many
  /// rows to hold at once (a day of the UI's task-run history, 156,000 rows). A row lives for its call only. This
  /// default reads them all first; SQLite's driver reads them one at a time.
  virtual void for_each_row(std::string_view sql, const sql_params& params,
                            const std::function<void(const sql_row&)>& each) {
    for (const auto& row : query(sql, params)) each(row);
  }

  /// Explicit transactions. `begin_write` takes the write lock up front on SQLite (BEGIN IMMEDIATE) so a
  /// writer never fails half-way on a lock upgrade.
  virtual void begin_write() = 0;
  virtual void begin_read() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;

  /// Cheap liveness check (SELECT 1); false when the connection is unusable.
  virtual bool ping() noexcept = 0;
};

/// How to reach a database, parsed from a URL.
struct database_target {
  persistence::dialect dialect = dialect::sqlite;
  std::string sqlite_path;        ///< SQLite: file path or ":memory:"
  std::string postgres_conninfo;  ///< PostgreSQL: libpq URL as given (postgres:// normalised)
  std::string display;            ///< URL with the password redacted, for logs and messages
};

/// Accepts sqlite:///relative.db, sqlite:////abs/path.db, sqlite:///:memory:, postgresql://..., postgres://...
/// and SQLAlchemy-style driver suffixes (postgresql+asyncpg://, sqlite+aiosqlite://).
result<database_target> parse_database_url(const std::string& url);

struct connection_options {
  std::chrono::milliseconds busy_timeout{60000};
  std::string sqlite_synchronous = "FULL";  ///< FULL: each commit is durable on power loss
  /// SQLite: the database file may grow to this many MiB (PRAGMA max_page_count); a write that needs more
  /// fails as on a full disk (sql_error::kind::disk_full). 0: no cap. A file already larger keeps its size.
  std::uint64_t sqlite_max_size_mb = 0;
};

/// Opens a connection (creating the SQLite file and its directory when missing). Errors name the target.
result<std::unique_ptr<sql_connection>> open_connection(const database_target& target,
                                                        const connection_options& options = {});

enum class transaction_kind { read, write };

/// Runs `body(conn)` inside one transaction; commits on return, rolls back on throw. Converts sql_error (and any
/// other exception) into a status prefixed with `context`.
template <class Fn>
status in_transaction(sql_connection& conn, transaction_kind kind, const std::string& context, Fn&& body) {
  try {
    kind == transaction_kind::write ? conn.begin_write() : conn.begin_read();
    try {
      body(conn);
      conn.commit();
    } catch (...) {
      conn.rollback();
      throw;
    }
    return status::ok();
  } catch (const sql_error& e) {
    return to_status(e, context);
  } catch (const std::exception& e) {
    return {errc::internal, context + ": " + e.what()};
  }
}

template <class Fn>
status in_write_transaction(sql_connection& conn, const std::string& context, Fn&& body) {
  return in_transaction(conn, transaction_kind::write, context, std::forward<Fn>(body));
}

}  // namespace osprey::persistence

#include "persistence/sqlite/sqlite_connection.hpp"

#include "domain/json_text.hpp"
#include "domain/time.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace osprey::persistence {
namespace {

sql_error convert(const SQLite::Exception& e, std::string_view sql, sqlite3* handle) {
  auto k = sql_error::kind::other;
  switch (e.getErrorCode() & 0xFF) {  // the primary code, should extended codes be on
    case SQLITE_CONSTRAINT: k = sql_error::kind::constraint; break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: k = sql_error::kind::busy; break;
    case SQLITE_FULL: return sql_error(sql_error::kind::disk_full, e.what());
    case SQLITE_IOERR:  // a failed write of the WAL or the shared-memory index on a full file system
      if (handle && sqlite3_system_errno(handle) == ENOSPC)
        return sql_error(sql_error::kind::disk_full, std::string(e.what()) + ": No space left on device");
      break;
    default: break;
  }
  std::string msg = e.what();
  if (!sql.empty()) msg += " (in: " + std::string(utf8_prefix(sql, 120)) + ")";
  return sql_error(k, msg);
}

/// Called before the first connection opens. SQLite's memory statistics take a process-wide mutex on every
/// allocation it makes; nothing reads them. (After SQLite initialised, sqlite3_config refuses: harmless.)
bool configure_sqlite_once() {
  static const bool configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  return configured;
}

/// A connection is used by one thread at a time (sql.hpp), so SQLite's per-connection mutex (its "serialized"
/// mode, taken on every call) only costs: it was about 3% of the server's instructions per flow run.
int open_flags() {
  configure_sqlite_once();
  return SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX;
}

/// osprey_micros(text): a stored timestamp as whole microseconds since the epoch (domain parse_iso8601; NULL for
/// NULL and for text it cannot read). The UI's histories evaluate it several times per run over a day's 156,000
/// task runs; the SQL it replaces, `unixepoch(x) * 1000000 + CAST(substr(x, 21, 6) AS INTEGER)`, went through
/// SQLite's general date parser and two more functions each time: a third of the history's CPU time, 100 ms of
/// 275, where this costs 40.
void micros_function(sqlite3_context* context, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  if (text == nullptr) return;
  const auto parsed = parse_iso8601(std::string_view(text, static_cast<std::size_t>(sqlite3_value_bytes(argv[0]))));
  if (parsed) sqlite3_result_int64(context, parsed->time_since_epoch().count());
}

class sqlite_connection final : public sql_connection {
 public:
  sqlite_connection(const std::string& path, const connection_options& options)
      : db_(path, open_flags(), static_cast<int>(options.busy_timeout.count())) {
    if (path != ":memory:") db_.execAndGet("PRAGMA journal_mode=WAL");
    db_.exec("PRAGMA foreign_keys=ON");
    // A statement that writes several rows (a multi-row INSERT) keeps a statement journal, to undo itself alone
    // on an error; past 64 KiB SQLite spills it to a temporary file, one pwrite per page. Keep it in memory.
    db_.exec("PRAGMA temp_store=MEMORY");
    db_.exec("PRAGMA synchronous=" + options.sqlite_synchronous);
    if (sqlite3_create_function_v2(db_.getHandle(), "osprey_micros", 1,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr, &micros_function,
                                   nullptr, nullptr, nullptr) != SQLITE_OK)
      throw sql_error(sql_error::kind::other, std::string("osprey_micros: ") + sqlite3_errmsg(db_.getHandle()));
    if (options.sqlite_max_size_mb > 0) {
      const auto page_size = static_cast<std::uint64_t>(db_.execAndGet("PRAGMA page_size").getInt64());
      const auto pages = (options.sqlite_max_size_mb << 20) / std::max<std::uint64_t>(page_size, 512);
      db_.execAndGet("PRAGMA max_page_count=" + std::to_string(pages));
    }
  }

  persistence::dialect dialect() const noexcept override { return dialect::sqlite; }

  void execute_script(const std::string& sql) override {
    try {
      db_.exec(sql);
    } catch (const SQLite::Exception& e) {
      throw convert(e, sql, db_.getHandle());
    }
  }

  std::int64_t execute(std::string_view sql, const sql_params& params) override {
    try {
      auto& st = prepare(sql, params);
      st.exec();
      auto changes = static_cast<std::int64_t>(db_.getChanges());
      st.reset();
      return changes;
    } catch (const SQLite::Exception& e) {
      discard(sql);
      throw convert(e, sql, db_.getHandle());
    }
  }

  std::vector<sql_row> query(std::string_view sql, const sql_params& params) override {
    std::vector<sql_row> rows;
    read_rows(sql, params, [&rows](std::vector<sql_value>&& values) { rows.emplace_back(std::move(values)); });
    return rows;
  }

  void for_each_row(std::string_view sql, const sql_params& params,
                    const std::function<void(const sql_row&)>& each) override {
    read_rows(sql, params, [&each](std::vector<sql_value>&& values) { each(sql_row(std::move(values))); });
  }

  void begin_write() override { execute_script("BEGIN IMMEDIATE"); }
  void begin_read() override { execute_script("BEGIN"); }
  void commit() override { execute_script("COMMIT"); }
  void rollback() noexcept override {
    try {
      if (!db_.getHandle() || sqlite3_get_autocommit(db_.getHandle())) return;
      db_.exec("ROLLBACK");
    } catch (...) {
      // Nothing to undo if the transaction is already gone.
    }
  }

  bool ping() noexcept override {
    try {
      return db_.execAndGet("SELECT 1").getInt() == 1;
    } catch (...) {
      return false;
    }
  }

 private:
  /// Steps the statement to its end, handing each row's values to `take`.
  template <class Take>
  void read_rows(std::string_view sql, const sql_params& params, Take&& take) {
    try {
      auto& st = prepare(sql, params);
      const int columns = st.getColumnCount();
      while (st.executeStep()) {
        std::vector<sql_value> values;
        values.reserve(static_cast<std::size_t>(columns));
        for (int c = 0; c < columns; ++c) {
          auto col = st.getColumn(c);
          switch (col.getType()) {
            case SQLITE_INTEGER: values.emplace_back(static_cast<std::int64_t>(col.getInt64())); break;
            case SQLITE_FLOAT: values.emplace_back(col.getDouble()); break;
            case SQLITE_NULL: values.emplace_back(std::monostate{}); break;
            default: values.emplace_back(col.getString()); break;
          }
        }
        take(std::move(values));
      }
      st.reset();
    } catch (const SQLite::Exception& e) {
      discard(sql);
      throw convert(e, sql, db_.getHandle());
    }
  }

  // Statements are cached by their text: the hot paths run the same few queries millions of times.
  // Text is bound without a copy: `params` outlives every step of the statement (execute and query step it to
  // the end before they return), and the next use clears the bindings before it binds again.
  SQLite::Statement& prepare(std::string_view sql, const sql_params& params) {
    auto it = cache_.find(sql);  // no key copy: a multi-row INSERT's text runs to kilobytes
    if (it == cache_.end())
      it =
          cache_.emplace(std::string(sql), std::make_unique<SQLite::Statement>(db_, to_sqlite_placeholders(sql))).first;
    auto& st = *it->second;
    st.reset();
    st.clearBindings();
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i + 1);
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>)
              st.bind(index);
            else if constexpr (std::is_same_v<T, std::int64_t>)
              st.bind(index, static_cast<int64_t>(v));
            else if constexpr (std::is_same_v<T, double>)
              st.bind(index, v);
            else if constexpr (std::is_same_v<T, bool>)
              st.bind(index, v ? 1 : 0);
            else
              st.bindNoCopy(index, v);
          },
          params[i]);
    }
    return st;
  }

  void discard(std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) cache_.erase(it);
  }

  /// Hashes std::string and std::string_view alike, so that lookups by a view copy nothing.
  struct text_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
  };

  SQLite::Database db_;
  std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>, text_hash, std::equal_to<>> cache_;
};

}  // namespace

std::string to_sqlite_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      c = '?';
    }
    out.push_back(c);
  }
  return out;
}

result<std::unique_ptr<sql_connection>> open_sqlite(const database_target& target, const connection_options& options) {
  try {
    if (target.sqlite_path != ":memory:") {
      auto parent = std::filesystem::path(target.sqlite_path).parent_path();
      std::error_code ec;
      if (!parent.empty()) std::filesystem::create_directories(parent, ec);
      if (ec) return status(errc::unavailable, "cannot create directory '" + parent.string() + "': " + ec.message());
    }
    return std::unique_ptr<sql_connection>(std::make_unique<sqlite_connection>(target.sqlite_path, options));
  } catch (const SQLite::Exception& e) {
    return status(errc::unavailable, "cannot open SQLite database '" + target.sqlite_path + "': " + e.what());
  }
}

}  // namespace osprey::persistence

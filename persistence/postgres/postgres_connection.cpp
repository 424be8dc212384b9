#include "persistence/postgres/postgres_connection.hpp"

#include "domain/json_text.hpp"

#include <pqxx/pqxx>

#include <algorithm>

#include <unordered_map>

namespace osprey::persistence {
namespace {

// SQLSTATE classes decide what the caller should do: 23 = integrity (conflict), 53100 = disk full (retry once
// space is freed), 40 = rollback (serialization/deadlock), 08 = connection, 53 = other insufficient resources
// (memory, connections), 57 = operator intervention, 55P03 = lock timeout: retry later.
sql_error::kind classify(const std::string& sqlstate) {
  if (sqlstate.rfind("23", 0) == 0) return sql_error::kind::constraint;
  if (sqlstate == "53100") return sql_error::kind::disk_full;
  if (sqlstate.rfind("40", 0) == 0 || sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("53", 0) == 0 ||
      sqlstate.rfind("57", 0) == 0 || sqlstate == "55P03")
    return sql_error::kind::busy;
  return sql_error::kind::other;
}

std::string first_line(const char* what) {
  std::string s = what;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class postgres_connection final : public sql_connection {
 public:
  postgres_connection(const std::string& conninfo, const connection_options& options) : conn_(conninfo) {
    pqxx::nontransaction tx(conn_);
    tx.exec("SET TIME ZONE 'UTC'");
    tx.exec("SET lock_timeout = " + std::to_string(options.busy_timeout.count()));
    tx.exec("SET client_min_messages = warning");
    // Osprey's queries are short index lookups and aggregates; a large estimate made PostgreSQL JIT-compile
    // dozens of functions per UI count (tens of ms each, every call), more than the queries themselves cost.
    tx.exec("SET jit = off");
  }

  persistence::dialect dialect() const noexcept override { return dialect::postgresql; }

  void execute_script(const std::string& sql) override {
    run(sql, [&](pqxx::nontransaction& tx) { return tx.exec(sql); });
  }

  std::int64_t execute(std::string_view sql, const sql_params& params) override {
    auto r = run(sql, [&](pqxx::nontransaction& tx) { return exec_prepared(tx, sql, params); });
    return static_cast<std::int64_t>(r.affected_rows());
  }

  std::vector<sql_row> query(std::string_view sql, const sql_params& params) override {
    auto r = run(sql, [&](pqxx::nontransaction& tx) { return exec_prepared(tx, sql, params); });
    std::vector<sql_row> rows;
    rows.reserve(r.size());
    for (const auto& row : r) {
      std::vector<sql_value> values;
      values.reserve(row.size());
      for (const auto& field : row) {
        if (field.is_null())
          values.emplace_back(std::monostate{});
        else
          values.emplace_back(std::string(field.c_str(), field.size()));
      }
      rows.emplace_back(std::move(values));
    }
    return rows;
  }

  void begin_write() override { execute_script("BEGIN"); }
  void begin_read() override { execute_script("BEGIN READ ONLY"); }
  void commit() override { execute_script("COMMIT"); }
  void rollback() noexcept override {
    try {
      pqxx::nontransaction tx(conn_);
      tx.exec("ROLLBACK");
    } catch (...) {
      // A broken connection has no transaction left to roll back.
    }
  }

  bool ping() noexcept override {
    try {
      pqxx::nontransaction tx(conn_);
      tx.exec("SELECT 1");
      return true;
    } catch (...) {
      return false;
    }
  }

 private:
  template <class Fn>
  pqxx::result run(std::string_view sql, Fn&& fn) {
    try {
      pqxx::nontransaction tx(conn_);
      return fn(tx);
    } catch (const pqxx::sql_error& e) {
      const auto kind = classify(e.sqlstate());
      if (kind == sql_error::kind::disk_full) {
        // This text reaches clients (in the 503's detail): the server's first line only, no SQL.
        std::string text = first_line(e.what());
        text.resize(std::min(text.find('\n'), text.size()));
        throw sql_error(kind, text);
      }
      throw sql_error(kind, first_line(e.what()) + " (in: " + std::string(utf8_prefix(sql, 120)) + ")");
    } catch (const pqxx::broken_connection& e) {
      prepared_.clear();
      throw sql_error(sql_error::kind::busy, "connection lost: " + first_line(e.what()));
    } catch (const pqxx::in_doubt_error& e) {
      throw sql_error(sql_error::kind::busy, "commit outcome unknown: " + first_line(e.what()));
    } catch (const std::exception& e) {
      throw sql_error(sql_error::kind::other, first_line(e.what()));
    }
  }

  // Prepared once per connection, keyed by text: planning is skipped on every later call.
  pqxx::result exec_prepared(pqxx::nontransaction& tx, std::string_view sql, const sql_params& params) {
    auto key = std::string(sql);
    auto it = prepared_.find(key);
    if (it == prepared_.end()) {
      std::string name = "s" + std::to_string(prepared_.size());
      conn_.prepare(name, key);
      it = prepared_.emplace(std::move(key), std::move(name)).first;
    }
    std::vector<std::string> storage(params.size());
    std::vector<const char*> args(params.size(), nullptr);
    for (std::size_t i = 0; i < params.size(); ++i) {
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>)
              return;
            else if constexpr (std::is_same_v<T, std::string>) {
              args[i] = v.c_str();  // text is most parameters: passed as it is, not copied
              return;
            } else if constexpr (std::is_same_v<T, bool>)
              storage[i] = v ? "true" : "false";
            else if constexpr (std::is_same_v<T, double>)
              storage[i] = pqxx::to_string(v);
            else
              storage[i] = std::to_string(v);
            args[i] = storage[i].c_str();
          },
          params[i]);
    }
    return tx.exec_prepared(it->second, pqxx::prepare::make_dynamic_params(args));
  }

  pqxx::connection conn_;
  std::unordered_map<std::string, std::string> prepared_;
};

}  // namespace

result<std::unique_ptr<sql_connection>> open_postgres(const database_target& target,
                                                      const connection_options& options) {
  try {
    return std::unique_ptr<sql_connection>(std::make_unique<postgres_connection>(target.postgres_conninfo, options));
  } catch (const std::exception& e) {
    return status(errc::unavailable, "cannot connect to PostgreSQL at " + target.display + ": " + first_line(e.what()));
  }
}

}  // namespace osprey::persistence

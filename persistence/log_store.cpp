#include "persistence/log_store.hpp"

namespace osprey::persistence {
namespace {

constexpr std::size_t rows_per_statement = 100;  // 9 parameters each: far below SQLite's and libpq's limits
constexpr const char* insert_head =
    "INSERT INTO log (id, created, updated, name, level, flow_run_id, task_run_id, message, timestamp) VALUES ";

sql_value optional_id(const std::optional<uuid>& u) { return u ? id(*u) : null_value(); }

}  // namespace

void insert_logs(sql_connection& conn, const std::vector<log_record>& logs) {
  for (std::size_t start = 0; start < logs.size(); start += rows_per_statement) {
    const std::size_t end = std::min(logs.size(), start + rows_per_statement);
    std::string sql = insert_head;
    sql_params params;
    params.reserve((end - start) * 8);
    for (std::size_t i = start; i < end; ++i) {
      const auto& l = logs[i];
      const std::size_t base = params.size();
      if (i > start) sql += ", ";
      sql += "($" + std::to_string(base + 1) + ", $" + std::to_string(base + 2) + ", $" + std::to_string(base + 2) +
             ", $" + std::to_string(base + 3) + ", $" + std::to_string(base + 4) + ", $" + std::to_string(base + 5) +
             ", $" + std::to_string(base + 6) + ", $" + std::to_string(base + 7) + ", $" + std::to_string(base + 8) +
             ")";
      params.insert(params.end(), {id(l.id), ts(l.created), text(l.name), integer(l.level), optional_id(l.flow_run_id),
                                   optional_id(l.task_run_id), text(l.message), ts(l.at)});
    }
    conn.execute(sql, params);
  }
}

std::vector<log_record> select_logs(sql_connection& conn, const std::string& where, const sql_params& params,
                                    const std::string& order_by, std::int64_t limit, std::int64_t offset) {
  std::string sql =
      "SELECT l.id, l.created, l.name, l.level, l.message, l.timestamp, l.flow_run_id, l.task_run_id FROM log l";
  if (!where.empty()) sql += " WHERE " + where;
  sql += " ORDER BY " + order_by + " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(offset);
  std::vector<log_record> out;
  for (const auto& row : conn.query(sql, params)) {
    log_record l;
    l.id = row.id(0);
    l.created = row.time(1);
    l.name = row.text(2);
    l.level = row.integer(3);
    l.message = row.text(4);
    l.at = row.time(5);
    if (!row.is_null(6)) l.flow_run_id = row.id(6);
    if (!row.is_null(7)) l.task_run_id = row.id(7);
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace osprey::persistence

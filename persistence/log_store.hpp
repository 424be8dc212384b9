#pragma once
// Named queries for run logs. No foreign keys: logs may arrive before the task runs they name.

#include <string>
#include <vector>

#include "domain/log_record.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// Inserts all records (multi-row statements, so a batch costs few round trips).
void insert_logs(sql_connection& conn, const std::vector<log_record>& logs);

/// Logs matching `where` (SQL over table alias `l`, with $1.. params), ordered by `order_by`.
std::vector<log_record> select_logs(sql_connection& conn, const std::string& where, const sql_params& params,
                                    const std::string& order_by, std::int64_t limit, std::int64_t offset);

}  // namespace osprey::persistence

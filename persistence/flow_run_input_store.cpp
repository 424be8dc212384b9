#include "persistence/flow_run_input_store.hpp"

namespace osprey::persistence {
namespace {

constexpr const char* columns = "i.id, i.created, i.updated, i.flow_run_id, i.key, i.value, i.sender";

flow_run_input input_from(const sql_row& row) {
  flow_run_input in;
  in.id = flow_run_input_id{row.id(0)};
  in.created = row.time(1);
  in.updated = row.time(2);
  in.flow_run = flow_run_id{row.id(3)};
  in.key = row.text(4);
  in.value = row.text(5);
  if (!row.is_null(6)) in.sender = row.text(6);
  return in;
}

}  // namespace

bool input_owner_exists(sql_connection& conn, const flow_run_id& run) {
  return !conn.query("SELECT 1 FROM flow_run WHERE id = $1", {id(run)}).empty();
}

void insert_flow_run_input(sql_connection& conn, const flow_run_input& in) {
  conn.execute(
      "INSERT INTO flow_run_input (id, created, updated, flow_run_id, key, value, sender) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {id(in.id), ts(in.created), ts(in.updated), id(in.flow_run), text(in.key), text(in.value),
       in.sender ? text(*in.sender) : null_value()});
}

std::optional<flow_run_input> find_flow_run_input(sql_connection& conn, const flow_run_id& run,
                                                  const std::string& key) {
  auto rows =
      conn.query(std::string("SELECT ") + columns + " FROM flow_run_input i WHERE i.flow_run_id = $1 AND i.key = $2",
                 {id(run), text(key)});
  if (rows.empty()) return std::nullopt;
  return input_from(rows.front());
}

std::vector<flow_run_input> filter_flow_run_inputs(sql_connection& conn, const flow_run_id& run,
                                                   const std::string& prefix, std::int64_t limit,
                                                   const std::vector<std::string>& exclude_keys) {
  // A prefix compared as text rather than Prefect's unescaped LIKE: keys hold only a-z, 0-9 and '-', so the two
  // agree on every key Prefect accepts, and this one reads the same on both dialects (SQLite's LIKE ignores case).
  std::string sql = std::string("SELECT ") + columns +
                    " FROM flow_run_input i WHERE i.flow_run_id = $1"
                    " AND substr(i.key, 1, length(CAST($2 AS TEXT))) = CAST($2 AS TEXT)";
  sql_params params{id(run), text(prefix)};
  if (!exclude_keys.empty()) {
    sql += " AND i.key NOT IN (";
    for (std::size_t n = 0; n < exclude_keys.size(); ++n) {
      params.push_back(text(exclude_keys[n]));
      sql += (n ? ", $" : "$") + std::to_string(params.size());
    }
    sql += ")";
  }
  sql += " ORDER BY i.created, i.id";
  if (limit >= 0) sql += " LIMIT " + std::to_string(limit);
  std::vector<flow_run_input> out;
  for (const auto& row : conn.query(sql, params)) out.push_back(input_from(row));
  return out;
}

bool delete_flow_run_input(sql_connection& conn, const flow_run_id& run, const std::string& key) {
  return conn.execute("DELETE FROM flow_run_input WHERE flow_run_id = $1 AND key = $2", {id(run), text(key)}) > 0;
}

}  // namespace osprey::persistence

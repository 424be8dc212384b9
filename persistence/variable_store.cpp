#include "persistence/variable_store.hpp"

#include <nlohmann/json.hpp>

namespace osprey::persistence {
namespace {

constexpr const char* columns = "v.id, v.created, v.updated, v.name, v.value, v.tags";

variable variable_from(const sql_row& row) {
  variable v;
  v.id = variable_id{row.id(0)};
  v.created = row.time(1);
  v.updated = row.time(2);
  v.name = row.text(3);
  // A NULL column and JSON null both read as null (SQLAlchemy stores None as JSON 'null').
  v.value = row.is_null(4) ? nlohmann::json() : nlohmann::json::parse(row.text(4), nullptr, false);
  if (v.value.is_discarded()) v.value = nullptr;
  const auto tags = nlohmann::json::parse(row.is_null(5) ? "[]" : row.text(5), nullptr, false);
  if (tags.is_array())
    for (const auto& t : tags)
      if (t.is_string()) v.tags.push_back(t.get<std::string>());
  return v;
}

std::optional<variable> first(const std::vector<sql_row>& rows) {
  if (rows.empty()) return std::nullopt;
  return variable_from(rows.front());
}

}  // namespace

void insert_variable(sql_connection& conn, const variable& v) {
  conn.execute("INSERT INTO variable (id, created, updated, name, value, tags) VALUES ($1, $2, $3, $4, $5, $6)",
               {id(v.id), ts(v.created), ts(v.updated), text(v.name), text(v.value.dump()),
                text(nlohmann::json(v.tags).dump())});
}

std::optional<variable> find_variable(sql_connection& conn, const variable_id& vid) {
  return first(conn.query(std::string("SELECT ") + columns + " FROM variable v WHERE v.id = $1", {id(vid)}));
}

std::optional<variable> find_variable_by_name(sql_connection& conn, const std::string& name) {
  return first(conn.query(std::string("SELECT ") + columns + " FROM variable v WHERE v.name = $1", {text(name)}));
}

bool update_variable(sql_connection& conn, const variable& v) {
  return conn.execute(
             "UPDATE variable SET updated = $2, name = $3, value = $4, tags = $5 WHERE id = $1",
             {id(v.id), ts(v.updated), text(v.name), text(v.value.dump()), text(nlohmann::json(v.tags).dump())}) > 0;
}

bool delete_variable(sql_connection& conn, const variable_id& vid) {
  return conn.execute("DELETE FROM variable WHERE id = $1", {id(vid)}) > 0;
}

std::vector<variable> select_variables(sql_connection& conn, const sql_where& where, const std::string& order_by,
                                       std::int64_t limit, std::int64_t offset) {
  std::string sql = std::string("SELECT ") + columns + " FROM variable v";
  if (!where.sql.empty()) sql += " WHERE " + where.sql;
  sql += " ORDER BY " + order_by + " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(offset);
  std::vector<variable> out;
  for (const auto& row : conn.query(sql, where.params)) out.push_back(variable_from(row));
  return out;
}

std::int64_t count_variables(sql_connection& conn, const sql_where& where) {
  std::string sql = "SELECT count(*) FROM variable v";
  if (!where.sql.empty()) sql += " WHERE " + where.sql;
  return conn.query(sql, where.params).front().integer(0);
}

}  // namespace osprey::persistence

#include "persistence/saved_search_store.hpp"

namespace osprey::persistence {
namespace {

constexpr const char* columns = "id, created, updated, name, filters";

saved_search search_from(const sql_row& row) {
  saved_search s;
  s.id = saved_search_id{row.id(0)};
  s.created = row.time(1);
  s.updated = row.time(2);
  s.name = row.text(3);
  s.filters = nlohmann::json::parse(row.is_null(4) ? "[]" : row.text(4), nullptr, false);
  if (!s.filters.is_array()) s.filters = nlohmann::json::array();
  return s;
}

std::optional<saved_search> first(const std::vector<sql_row>& rows) {
  if (rows.empty()) return std::nullopt;
  return search_from(rows.front());
}

}  // namespace

saved_search_put put_saved_search(sql_connection& conn, const saved_search& s) {
  auto known =
      first(conn.query(std::string("SELECT ") + columns + " FROM saved_search WHERE name = $1", {text(s.name)}));
  if (!known) {
    conn.execute("INSERT INTO saved_search (id, created, updated, name, filters) VALUES ($1, $2, $3, $4, $5)",
                 {id(s.id), ts(s.created), ts(s.updated), text(s.name), text(s.filters.dump())});
    return {s, true};
  }
  // Prefect's upsert sets only `filters`: the row keeps its id, created and updated.
  conn.execute("UPDATE saved_search SET filters = $2 WHERE id = $1", {id(known->id), text(s.filters.dump())});
  known->filters = s.filters;
  return {*known, false};
}

std::optional<saved_search> find_saved_search(sql_connection& conn, const saved_search_id& sid) {
  return first(conn.query(std::string("SELECT ") + columns + " FROM saved_search WHERE id = $1", {id(sid)}));
}

std::vector<saved_search> list_saved_searches(sql_connection& conn, std::int64_t limit, std::int64_t offset) {
  std::vector<saved_search> out;
  for (const auto& row :
       conn.query(std::string("SELECT ") + columns + " FROM saved_search ORDER BY name LIMIT $1 OFFSET $2",
                  {integer(limit), integer(offset)}))
    out.push_back(search_from(row));
  return out;
}

bool delete_saved_search(sql_connection& conn, const saved_search_id& sid) {
  return conn.execute("DELETE FROM saved_search WHERE id = $1", {id(sid)}) > 0;
}

}  // namespace osprey::persistence

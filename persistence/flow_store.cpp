#include "persistence/flow_store.hpp"

#include <nlohmann/json.hpp>

namespace osprey::persistence {
namespace {

constexpr const char* insert_flow_sql =
    "INSERT INTO flow (id, created, updated, name, tags, labels) VALUES ($1, $2, $3, $4, $5, $6) "
    "ON CONFLICT (name) DO NOTHING";
constexpr const char* select_flow_by_id_sql = "SELECT id, created, updated, name, tags, labels FROM flow WHERE id = $1";
constexpr const char* select_flow_by_name_sql =
    "SELECT id, created, updated, name, tags, labels FROM flow WHERE name = $1";

flow flow_from_row(const sql_row& row) {
  flow f;
  f.id = flow_id{row.id(0)};
  f.created = row.time(1);
  f.updated = row.time(2);
  f.name = row.text(3);
  auto tags = nlohmann::json::parse(row.is_null(4) ? "[]" : row.text(4), nullptr, false);
  if (tags.is_array())
    for (const auto& t : tags)
      if (t.is_string()) f.tags.push_back(t.get<std::string>());
  auto labels = nlohmann::json::parse(row.is_null(5) ? "{}" : row.text(5), nullptr, false);
  f.labels = labels.is_object() ? labels : nlohmann::json::object();
  return f;
}

std::optional<flow> first_flow(const std::vector<sql_row>& rows) {
  if (rows.empty()) return std::nullopt;
  return flow_from_row(rows.front());
}

}  // namespace

flow_upsert upsert_flow(sql_connection& conn, const flow& candidate) {
  const auto inserted = conn.execute(
      insert_flow_sql, {id(candidate.id), ts(candidate.created), ts(candidate.updated), text(candidate.name),
                        text(nlohmann::json(candidate.tags).dump()), text(candidate.labels.dump())});
  auto stored = find_flow_by_name(conn, candidate.name);
  if (!stored) throw sql_error(sql_error::kind::other, "flow '" + candidate.name + "' vanished after upsert");
  return {std::move(*stored), inserted > 0};
}

bool update_flow_tags(sql_connection& conn, const flow& f) {
  return conn.execute("UPDATE flow SET tags = $2, updated = $3 WHERE id = $1",
                      {id(f.id), text(nlohmann::json(f.tags).dump()), ts(f.updated)}) > 0;
}

std::optional<flow> find_flow(sql_connection& conn, const flow_id& fid) {
  return first_flow(conn.query(select_flow_by_id_sql, {id(fid)}));
}

std::vector<flow> select_flows(sql_connection& conn, const std::string& where, const sql_params& params,
                               const std::string& order_by, std::int64_t limit, std::int64_t offset) {
  std::string sql = "SELECT f.id, f.created, f.updated, f.name, f.tags, f.labels FROM flow f";
  if (!where.empty()) sql += " WHERE " + where;
  sql += " ORDER BY " + order_by + " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(offset);
  std::vector<flow> out;
  for (const auto& row : conn.query(sql, params)) out.push_back(flow_from_row(row));
  return out;
}

std::int64_t count_flows(sql_connection& conn, const std::string& where, const sql_params& params) {
  std::string sql = "SELECT count(*) FROM flow f";
  if (!where.empty()) sql += " WHERE " + where;
  return conn.query(sql, params).front().integer(0);
}

std::optional<flow> find_flow_by_name(sql_connection& conn, const std::string& name) {
  return first_flow(conn.query(select_flow_by_name_sql, {text(name)}));
}

std::vector<flow_run_id> flow_run_ids_of_flow(sql_connection& conn, const flow_id& f) {
  std::vector<flow_run_id> out;
  for (const auto& row : conn.query("SELECT id FROM flow_run WHERE flow_id = $1 ORDER BY created, id", {id(f)}))
    out.push_back(flow_run_id{row.id(0)});
  return out;
}

bool delete_flow(sql_connection& conn, const flow_id& f) {
  return conn.execute("DELETE FROM flow WHERE id = $1", {id(f)}) > 0;
}

}  // namespace osprey::persistence

#include "persistence/artifact_store.hpp"

#include <nlohmann/json.hpp>

namespace osprey::persistence {
namespace {

// The shared columns, in artifact_fields order, after the row's own (see fields_from).
constexpr const char* artifact_columns =
    "a.id, a.created, a.updated, a.key, a.type, a.description, a.data, a.metadata_, a.flow_run_id, a.task_run_id";
constexpr const char* collection_columns =
    "a.id, a.created, a.updated, a.key, a.type, a.description, a.data, a.metadata_, a.flow_run_id, a.task_run_id, "
    "a.latest_id";

nlohmann::json json_column(const sql_row& row, std::size_t i) {
  if (row.is_null(i)) return nullptr;
  auto parsed = nlohmann::json::parse(row.text(i), nullptr, false);
  return parsed.is_discarded() ? nlohmann::json() : parsed;
}

std::optional<std::string> optional_text(const sql_row& row, std::size_t i) {
  if (row.is_null(i)) return std::nullopt;
  return row.text(i);
}

std::optional<uuid> optional_id(const sql_row& row, std::size_t i) {
  if (row.is_null(i)) return std::nullopt;
  return row.id(i);
}

/// Columns 4..9 of either select.
artifact_fields fields_from(const sql_row& row) {
  artifact_fields f;
  f.type = optional_text(row, 4);
  f.description = optional_text(row, 5);
  f.data = json_column(row, 6);
  f.metadata = json_column(row, 7);
  f.flow_run_id = optional_id(row, 8);
  f.task_run_id = optional_id(row, 9);
  return f;
}

artifact artifact_from(const sql_row& row) {
  artifact a;
  a.id = artifact_id{row.id(0)};
  a.created = row.time(1);
  a.updated = row.time(2);
  a.key = optional_text(row, 3);
  a.fields = fields_from(row);
  return a;
}

artifact_collection collection_from(const sql_row& row) {
  artifact_collection c;
  c.id = row.id(0);
  c.created = row.time(1);
  c.updated = row.time(2);
  c.key = row.text(3);
  c.fields = fields_from(row);
  c.latest_id = artifact_id{row.id(10)};
  return c;
}

sql_value optional_value(const std::optional<std::string>& s) { return s ? text(*s) : null_value(); }
sql_value optional_value(const std::optional<uuid>& u) { return u ? id(*u) : null_value(); }
/// JSON null is stored as SQL NULL: what Prefect's JSON columns (none_as_null) hold for "no data".
sql_value json_value(const nlohmann::json& j) { return j.is_null() ? null_value() : text(j.dump()); }

/// Points the collection of `a.key` at `a`, copying its fields and times (the repair after a delete).
void point_collection_at(sql_connection& conn, const artifact& a) {
  conn.execute(
      "UPDATE artifact_collection SET latest_id = $2, created = $3, updated = $4, type = $5, description = $6, "
      "data = $7, metadata_ = $8, flow_run_id = $9, task_run_id = $10 WHERE key = $1",
      {text(*a.key), id(a.id), ts(a.created), ts(a.updated), optional_value(a.fields.type),
       optional_value(a.fields.description), json_value(a.fields.data), json_value(a.fields.metadata),
       optional_value(a.fields.flow_run_id), optional_value(a.fields.task_run_id)});
}

}  // namespace

void insert_artifact(sql_connection& conn, const artifact& a, const uuid& collection_id) {
  const auto& f = a.fields;
  if (a.key) {
    // Both dialects have the same upsert; the collection keeps its id and `created`, the rest follows `a`.
    conn.execute(
        "INSERT INTO artifact_collection (id, created, updated, key, latest_id, type, description, data, metadata_, "
        "flow_run_id, task_run_id) VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
        "ON CONFLICT (key) DO UPDATE SET latest_id = excluded.latest_id, updated = excluded.updated, "
        "type = excluded.type, description = excluded.description, data = excluded.data, "
        "metadata_ = excluded.metadata_, flow_run_id = excluded.flow_run_id, task_run_id = excluded.task_run_id",
        {id(collection_id), ts(a.created), text(*a.key), id(a.id), optional_value(f.type),
         optional_value(f.description), json_value(f.data), json_value(f.metadata), optional_value(f.flow_run_id),
         optional_value(f.task_run_id)});
  }
  conn.execute(
      "INSERT INTO artifact (id, created, updated, key, type, description, data, metadata_, flow_run_id, task_run_id) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
      {id(a.id), ts(a.created), ts(a.updated), optional_value(a.key), optional_value(f.type),
       optional_value(f.description), json_value(f.data), json_value(f.metadata), optional_value(f.flow_run_id),
       optional_value(f.task_run_id)});
}

std::optional<artifact> find_artifact(sql_connection& conn, const artifact_id& aid) {
  auto rows = conn.query(std::string("SELECT ") + artifact_columns + " FROM artifact a WHERE a.id = $1", {id(aid)});
  if (rows.empty()) return std::nullopt;
  return artifact_from(rows.front());
}

std::optional<artifact_collection> find_latest_artifact(sql_connection& conn, const std::string& key) {
  auto rows = conn.query(std::string("SELECT ") + collection_columns + " FROM artifact_collection a WHERE a.key = $1",
                         {text(key)});
  if (rows.empty()) return std::nullopt;
  return collection_from(rows.front());
}

bool update_artifact(sql_connection& conn, const artifact_id& aid, const artifact_update& change, timestamp now) {
  std::string set = "updated = $2";
  sql_params params{id(aid), ts(now)};
  auto assign = [&](const char* column, sql_value v) {
    params.push_back(std::move(v));
    set += std::string(", ") + column + " = $" + std::to_string(params.size());
  };
  if (change.data) assign("data", json_value(*change.data));
  if (change.description) assign("description", optional_value(*change.description));
  if (change.metadata) assign("metadata_", json_value(*change.metadata));
  const auto artifacts = conn.execute("UPDATE artifact SET " + set + " WHERE id = $1", params);
  const auto collections = conn.execute("UPDATE artifact_collection SET " + set + " WHERE latest_id = $1", params);
  return artifacts + collections > 0;
}

bool delete_artifact(sql_connection& conn, const artifact_id& aid) {
  auto found = find_artifact(conn, aid);
  if (!found) return false;
  if (found->key) {
    const bool latest =
        !conn.query("SELECT 1 FROM artifact_collection WHERE key = $1 AND latest_id = $2", {text(*found->key), id(aid)})
             .empty();
    if (latest) {
      auto next = conn.query(std::string("SELECT ") + artifact_columns +
                                 " FROM artifact a WHERE a.key = $1 AND a.id <> $2 "
                                 "ORDER BY a.created DESC, a.id DESC LIMIT 1",
                             {text(*found->key), id(aid)});
      if (next.empty())
        conn.execute("DELETE FROM artifact_collection WHERE key = $1 AND latest_id = $2", {text(*found->key), id(aid)});
      else
        point_collection_at(conn, artifact_from(next.front()));
    }
  }
  return conn.execute("DELETE FROM artifact WHERE id = $1", {id(aid)}) > 0;
}

std::vector<artifact> select_artifacts(sql_connection& conn, const sql_where& where, const std::string& order_by,
                                       std::int64_t limit, std::int64_t offset) {
  std::string sql = std::string("SELECT ") + artifact_columns + " FROM artifact a";
  if (!where.sql.empty()) sql += " WHERE " + where.sql;
  sql += " ORDER BY " + order_by + " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(offset);
  std::vector<artifact> out;
  for (const auto& row : conn.query(sql, where.params)) out.push_back(artifact_from(row));
  return out;
}

std::int64_t count_artifacts(sql_connection& conn, const sql_where& where) {
  std::string sql = "SELECT count(*) FROM artifact a";
  if (!where.sql.empty()) sql += " WHERE " + where.sql;
  return conn.query(sql, where.params).front().integer(0);
}

std::vector<artifact_collection> select_artifact_collections(sql_connection& conn, const sql_where& where,
                                                             const std::string& order_by, std::int64_t limit,
                                                             std::int64_t offset) {
  std::string sql = std::string("SELECT ") + collection_columns + " FROM artifact_collection a";
  if (!where.sql.empty()) sql += " WHERE " + where.sql;
  sql += " ORDER BY " + order_by + " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(offset);
  std::vector<artifact_collection> out;
  for (const auto& row : conn.query(sql, where.params)) out.push_back(collection_from(row));
  return out;
}

std::int64_t count_artifact_collections(sql_connection& conn, const sql_where& where) {
  std::string sql = "SELECT count(*) FROM artifact_collection a";
  if (!where.sql.empty()) sql += " WHERE " + where.sql;
  return conn.query(sql, where.params).front().integer(0);
}

}  // namespace osprey::persistence

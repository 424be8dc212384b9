#include "persistence/automation_store.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace osprey::persistence {
namespace {

constexpr const char* columns =
    "a.id, a.created, a.updated, a.name, a.description, a.enabled, a.tags, a.trigger, a.actions, "
    "a.actions_on_trigger, a.actions_on_resolve";

nlohmann::json json_column(const sql_row& row, std::size_t i, nlohmann::json fallback) {
  if (row.is_null(i)) return fallback;
  auto parsed = nlohmann::json::parse(row.text(i), nullptr, false);
  return parsed.is_discarded() ? fallback : parsed;
}

automation automation_from(const sql_row& row) {
  automation a;
  a.id = automation_id{row.id(0)};
  a.created = row.time(1);
  a.updated = row.time(2);
  a.name = row.text(3);
  a.description = row.is_null(4) ? "" : row.text(4);
  a.enabled = row.boolean(5);
  for (const auto& t : json_column(row, 6, nlohmann::json::array()))
    if (t.is_string()) a.tags.push_back(t.get<std::string>());
  a.trigger = json_column(row, 7, nlohmann::json::object());
  a.actions = json_column(row, 8, nlohmann::json::array());
  a.actions_on_trigger = json_column(row, 9, nlohmann::json::array());
  a.actions_on_resolve = json_column(row, 10, nlohmann::json::array());
  return a;
}

std::vector<automation> all(const std::vector<sql_row>& rows) {
  std::vector<automation> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(automation_from(row));
  return out;
}

}  // namespace

void insert_automation(sql_connection& conn, const automation& a) {
  conn.execute(
      "INSERT INTO automation (id, created, updated, name, description, enabled, tags, trigger, actions, "
      "actions_on_trigger, actions_on_resolve) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
      {id(a.id), ts(a.created), ts(a.updated), text(a.name), text(a.description), boolean(a.enabled),
       text(nlohmann::json(a.tags).dump()), text(a.trigger.dump()), text(a.actions.dump()),
       text(a.actions_on_trigger.dump()), text(a.actions_on_resolve.dump())});
}

std::optional<automation> find_automation(sql_connection& conn, const automation_id& aid) {
  auto rows = conn.query(std::string("SELECT ") + columns + " FROM automation a WHERE a.id = $1", {id(aid)});
  if (rows.empty()) return std::nullopt;
  return automation_from(rows.front());
}

bool update_automation(sql_connection& conn, const automation& a) {
  return conn.execute(
             "UPDATE automation SET updated = $2, name = $3, description = $4, enabled = $5, tags = $6, trigger = $7, "
             "actions = $8, actions_on_trigger = $9, actions_on_resolve = $10 WHERE id = $1",
             {id(a.id), ts(a.updated), text(a.name), text(a.description), boolean(a.enabled),
              text(nlohmann::json(a.tags).dump()), text(a.trigger.dump()), text(a.actions.dump()),
              text(a.actions_on_trigger.dump()), text(a.actions_on_resolve.dump())}) > 0;
}

bool delete_automation(sql_connection& conn, const automation_id& aid) {
  // Children first, in one order for every deleter, so that concurrent deletes cannot deadlock (Prefect's order).
  for (const char* child :
       {"automation_bucket", "automation_held_event", "automation_related_resource", "composite_trigger_child_firing"})
    conn.execute(std::string("DELETE FROM ") + child + " WHERE automation_id = $1", {id(aid)});
  return conn.execute("DELETE FROM automation WHERE id = $1", {id(aid)}) > 0;
}

std::vector<automation> select_automations(sql_connection& conn, const sql_where& where, const std::string& order_by,
                                           std::int64_t limit, std::int64_t offset) {
  std::string sql = std::string("SELECT ") + columns + " FROM automation a";
  if (!where.sql.empty()) sql += " WHERE " + where.sql;
  sql += " ORDER BY " + order_by + " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(offset);
  return all(conn.query(sql, where.params));
}

std::int64_t count_automations(sql_connection& conn, const sql_where& where) {
  std::string sql = "SELECT count(*) FROM automation a";
  if (!where.sql.empty()) sql += " WHERE " + where.sql;
  return conn.query(sql, where.params).front().integer(0);
}

void relate_automation(sql_connection& conn, const automation_id& aid, const std::string& resource_id, bool owned,
                       timestamp now) {
  conn.execute(
      "INSERT INTO automation_related_resource (id, created, updated, automation_id, resource_id, "
      "automation_owned_by_resource) VALUES ($1, $2, $2, $3, $4, $5) "
      "ON CONFLICT (automation_id, resource_id) DO UPDATE SET updated = $2, automation_owned_by_resource = "
      "automation_related_resource.automation_owned_by_resource OR excluded.automation_owned_by_resource",
      {id(new_uuid4()), ts(now), id(aid), text(resource_id), boolean(owned)});
}

void sync_automation_deployments(sql_connection& conn, const automation_id& aid,
                                 const std::vector<std::string>& deployment_resources, timestamp now) {
  conn.execute(
      "DELETE FROM automation_related_resource WHERE automation_id = $1 AND resource_id LIKE 'prefect.deployment.%' "
      "AND NOT automation_owned_by_resource",
      {id(aid)});
  for (const auto& resource : deployment_resources) relate_automation(conn, aid, resource, false, now);
}

std::vector<automation> automations_related_to(sql_connection& conn, const std::string& resource_id, bool owned_only,
                                               std::optional<timestamp> created_before) {
  std::string sql = std::string("SELECT ") + columns +
                    " FROM automation a JOIN automation_related_resource r ON r.automation_id = a.id"
                    " WHERE r.resource_id = $1";
  sql_params params{text(resource_id)};
  if (owned_only) sql += " AND r.automation_owned_by_resource";
  if (created_before) {
    params.push_back(ts(*created_before));
    sql += " AND a.created <= $2";
  }
  sql += " ORDER BY a.name, a.id";
  return all(conn.query(sql, params));
}

file_automation_changes sync_file_automations(sql_connection& conn, const std::vector<automation>& declared,
                                              timestamp now) {
  file_automation_changes out;
  std::vector<automation_id> kept;
  for (auto a : declared) {
    kept.push_back(a.id);
    const auto stored = find_automation(conn, a.id);
    a.updated = now;
    if (!stored) {
      a.created = now;
      insert_automation(conn, a);
      out.created.push_back(a);
    } else {
      a.created = stored->created;
      auto unchanged = *stored;
      unchanged.updated = now;
      if (automation_json(unchanged) == automation_json(a)) continue;
      update_automation(conn, a);
      out.updated.push_back(a);
    }
    sync_automation_deployments(conn, a.id, automation_related_deployments(a), now);
  }
  const auto tagged = select_automations(conn, sql_where{}, "a.id", count_automations(conn, sql_where{}), 0);
  for (const auto& a : tagged) {
    if (!declared_in_config_file(a) || std::find(kept.begin(), kept.end(), a.id) != kept.end()) continue;
    delete_automation(conn, a.id);
    out.deleted.push_back(a);
  }
  return out;
}

}  // namespace osprey::persistence

#include "persistence/deployment_store.hpp"

#include <nlohmann/json.hpp>

#include "persistence/concurrency_store.hpp"

namespace osprey::persistence {
namespace {

using nlohmann::json;

constexpr const char* deployment_columns =
    "SELECT d.id, d.created, d.updated, d.name, d.flow_id, d.version, d.description, d.paused, d.concurrency_limit, "
    "d.concurrency_options, d.concurrency_limit_id, d.infra_overrides, d.parameters, d.tags, d.labels, "
    "d.work_queue_name, d.work_queue_id, d.last_polled, d.parameter_openapi_schema, d.enforce_parameter_schema, "
    "d.path, d.entrypoint, d.pull_steps, d.storage_document_id, d.infrastructure_document_id, d.created_by, "
    "d.updated_by, d.status, "
    "(SELECT p.name FROM work_queue q JOIN work_pool p ON p.id = q.work_pool_id WHERE q.id = d.work_queue_id) "
    "FROM deployment d ";

constexpr const char* insert_deployment_sql =
    "INSERT INTO deployment (id, created, updated, name, flow_id, version, description, paused, concurrency_limit, "
    "concurrency_options, concurrency_limit_id, infra_overrides, parameters, tags, labels, work_queue_name, "
    "work_queue_id, parameter_openapi_schema, enforce_parameter_schema, path, entrypoint, pull_steps, "
    "storage_document_id, infrastructure_document_id, created_by, updated_by, status) VALUES ($1, $2, $3, $4, $5, $6, "
    "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)";

constexpr const char* schedule_columns =
    "SELECT id, created, updated, deployment_id, schedule, active, max_scheduled_runs, parameters, slug "
    "FROM deployment_schedule ";

sql_value optional_id(const std::optional<uuid>& u) { return u ? id(*u) : null_value(); }
sql_value optional_text(const std::optional<std::string>& s) { return s ? text(*s) : null_value(); }
sql_value optional_json(const json& j) { return j.is_null() ? null_value() : text(j.dump()); }
sql_value optional_int(const std::optional<std::int64_t>& v) { return v ? integer(*v) : null_value(); }

std::optional<uuid> optional_uuid(const sql_row& row, std::size_t i) {
  if (row.is_null(i)) return std::nullopt;
  return row.id(i);
}
std::optional<std::string> optional_string(const sql_row& row, std::size_t i) {
  if (row.is_null(i)) return std::nullopt;
  return row.text(i);
}
json json_column(const sql_row& row, std::size_t i, json fallback) {
  if (row.is_null(i)) return fallback;
  auto j = json::parse(row.text(i), nullptr, false);
  return j.is_discarded() ? fallback : j;
}

std::optional<deployment_schedule> schedule_from_row(const sql_row& row) {
  deployment_schedule s;
  s.id = deployment_schedule_id{row.id(0)};
  s.created = row.time(1);
  s.updated = row.time(2);
  s.deployment = deployment_id{row.id(3)};
  auto when = parse_schedule(json_column(row, 4, json::object()), s.created);
  if (!std::holds_alternative<schedule>(when)) return std::nullopt;
  s.when = std::get<schedule>(std::move(when));
  s.active = row.boolean(5);
  if (!row.is_null(6)) s.max_scheduled_runs = row.integer(6);
  s.parameters = json_column(row, 7, json::object());
  s.slug = optional_string(row, 8);
  return s;
}

deployment deployment_from_row(const sql_row& row) {
  deployment d;
  d.id = deployment_id{row.id(0)};
  d.created = row.time(1);
  d.updated = row.time(2);
  d.name = row.text(3);
  d.flow = flow_id{row.id(4)};
  d.version = optional_string(row, 5);
  d.description = optional_string(row, 6);
  d.paused = row.boolean(7);
  if (!row.is_null(8)) d.concurrency_limit = row.integer(8);
  d.concurrency_options = json_column(row, 9, nullptr);
  d.concurrency_limit_id = optional_uuid(row, 10);
  d.job_variables = json_column(row, 11, json::object());
  d.parameters = json_column(row, 12, json::object());
  for (const auto& t : json_column(row, 13, json::array()))
    if (t.is_string()) d.tags.push_back(t.get<std::string>());
  d.labels = json_column(row, 14, json::object());
  d.work_queue_name = optional_string(row, 15);
  d.work_queue_id = optional_uuid(row, 16);
  d.last_polled = row.optional_time(17);
  d.parameter_openapi_schema = json_column(row, 18, nullptr);
  d.enforce_parameter_schema = row.boolean(19);
  d.path = optional_string(row, 20);
  d.entrypoint = optional_string(row, 21);
  d.pull_steps = json_column(row, 22, nullptr);
  d.storage_document_id = optional_uuid(row, 23);
  d.infrastructure_document_id = optional_uuid(row, 24);
  d.created_by = json_column(row, 25, nullptr);
  d.updated_by = json_column(row, 26, nullptr);
  d.status = row.text(27);
  d.work_pool_name = optional_string(row, 28);
  return d;
}

/// A deployment as read, with its schedules and its global concurrency limit.
deployment with_related(sql_connection& conn, const sql_row& row) {
  auto d = deployment_from_row(row);
  d.schedules = schedules_of(conn, d.id);
  if (d.concurrency_limit_id)
    d.global_concurrency_limit = find_limit(conn, concurrency_limit_id{*d.concurrency_limit_id});
  return d;
}

std::optional<deployment> first_with_schedules(sql_connection& conn, const std::vector<sql_row>& rows) {
  if (rows.empty()) return std::nullopt;
  return with_related(conn, rows.front());
}

sql_params deployment_params(const deployment& d) {
  return {id(d.id),
          ts(d.created),
          ts(d.updated),
          text(d.name),
          id(d.flow),
          optional_text(d.version),
          optional_text(d.description),
          boolean(d.paused),
          optional_int(d.concurrency_limit),
          optional_json(d.concurrency_options),
          optional_id(d.concurrency_limit_id),
          text(d.job_variables.dump()),
          text(d.parameters.dump()),
          text(json(d.tags).dump()),
          text(d.labels.dump()),
          optional_text(d.work_queue_name),
          optional_id(d.work_queue_id),
          optional_json(d.parameter_openapi_schema),
          boolean(d.enforce_parameter_schema),
          optional_text(d.path),
          optional_text(d.entrypoint),
          optional_json(d.pull_steps),
          optional_id(d.storage_document_id),
          optional_id(d.infrastructure_document_id),
          optional_json(d.created_by),
          optional_json(d.updated_by),
          text(d.status)};
}

/// The id a flow run's created_by names, and a schedule's id as text, in the connection's dialect.
std::string created_by_id(dialect d) {
  return d == dialect::postgresql ? "r.created_by->>'id'" : "json_extract(r.created_by, '$.id')";
}
std::string id_text(dialect d, const std::string& column) {
  return d == dialect::postgresql ? column + "::text" : column;
}

}  // namespace

std::optional<std::string> find_deployment_name(sql_connection& conn, const uuid& deployment) {
  auto rows = conn.query("SELECT name FROM deployment WHERE id = $1", {id(deployment)});
  if (rows.empty()) return std::nullopt;
  return rows[0].text(0);
}

std::optional<deployment> find_deployment(sql_connection& conn, const deployment_id& d) {
  return first_with_schedules(conn, conn.query(std::string(deployment_columns) + "WHERE d.id = $1", {id(d)}));
}

std::optional<deployment> find_deployment_by_name(sql_connection& conn, const flow_id& flow, const std::string& name) {
  return first_with_schedules(conn, conn.query(std::string(deployment_columns) + "WHERE d.flow_id = $1 AND d.name = $2",
                                               {id(flow), text(name)}));
}

std::optional<deployment> find_deployment_by_names(sql_connection& conn, const std::string& flow_name,
                                                   const std::string& name) {
  return first_with_schedules(conn, conn.query(std::string(deployment_columns) +
                                                   "JOIN flow f ON f.id = d.flow_id WHERE f.name = $1 AND d.name = $2",
                                               {text(flow_name), text(name)}));
}

std::vector<deployment> select_deployments(sql_connection& conn, const std::string& where, const sql_params& params,
                                           const std::string& order_by, std::int64_t limit, std::int64_t offset) {
  std::string sql = deployment_columns;
  if (!where.empty()) sql += "WHERE " + where;
  sql += " ORDER BY " + order_by + " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(offset);
  std::vector<deployment> out;
  for (const auto& row : conn.query(sql, params)) out.push_back(with_related(conn, row));
  return out;
}

std::int64_t count_deployments(sql_connection& conn, const std::string& where, const sql_params& params) {
  std::string sql = "SELECT count(*) FROM deployment d";
  if (!where.empty()) sql += " WHERE " + where;
  return conn.query(sql, params).front().integer(0);
}

void insert_deployment(sql_connection& conn, const deployment& d) {
  conn.execute(insert_deployment_sql, deployment_params(d));
}

bool update_deployment(sql_connection& conn, const deployment& d) {
  // The insert's parameters, less the columns an update keeps (id is the key; created, name, flow_id,
  // created_by, status stay).
  auto params = deployment_params(d);
  std::string sql =
      "UPDATE deployment SET updated = $2, version = $3, description = $4, paused = $5, concurrency_limit = $6, "
      "concurrency_options = $7, concurrency_limit_id = $8, infra_overrides = $9, parameters = $10, tags = $11, "
      "labels = $12, work_queue_name = $13, work_queue_id = $14, parameter_openapi_schema = $15, "
      "enforce_parameter_schema = $16, path = $17, entrypoint = $18, pull_steps = $19, storage_document_id = $20, "
      "infrastructure_document_id = $21, updated_by = $22 WHERE id = $1";
  return conn.execute(sql,
                      {params[0],  params[2],  params[5],  params[6],  params[7],  params[8],  params[9],  params[10],
                       params[11], params[12], params[13], params[14], params[15], params[16], params[17], params[18],
                       params[19], params[20], params[21], params[22], params[23], params[25]}) > 0;
}

bool delete_deployment(sql_connection& conn, const deployment_id& d) {
  return conn.execute("DELETE FROM deployment WHERE id = $1", {id(d)}) > 0;
}

std::vector<deployment_id> deployment_ids_of_flow(sql_connection& conn, const flow_id& f) {
  std::vector<deployment_id> out;
  for (const auto& row : conn.query("SELECT id FROM deployment WHERE flow_id = $1", {id(f)}))
    out.push_back(deployment_id{row.id(0)});
  return out;
}

bool set_deployment_paused(sql_connection& conn, const deployment_id& d, bool paused, timestamp now) {
  return conn.execute("UPDATE deployment SET paused = $2, updated = $3 WHERE id = $1",
                      {id(d), boolean(paused), ts(now)}) > 0;
}

status pause_deployment(sql_connection& conn, const deployment_id& d, bool paused, timestamp now) {
  if (!set_deployment_paused(conn, d, paused, now)) return status(errc::not_found, "Deployment not found");
  if (paused) delete_scheduled_runs(conn, d, true, false, now);
  return status::ok();
}

void mark_deployments_polled(sql_connection& conn, const std::vector<uuid>& ids, timestamp now) {
  for (const auto& d : ids)
    conn.execute("UPDATE deployment SET status = 'READY', last_polled = $2 WHERE id = $1", {id(d), ts(now)});
}

void insert_schedule(sql_connection& conn, const deployment_schedule& s) {
  conn.execute(
      "INSERT INTO deployment_schedule (id, created, updated, deployment_id, schedule, active, max_scheduled_runs, "
      "parameters, slug) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
      {id(s.id), ts(s.created), ts(s.updated), id(s.deployment), text(to_json(s.when).dump()), boolean(s.active),
       optional_int(s.max_scheduled_runs), text(s.parameters.dump()), optional_text(s.slug)});
}

bool update_schedule(sql_connection& conn, const deployment_schedule& s) {
  return conn.execute(
             "UPDATE deployment_schedule SET updated = $3, schedule = $4, active = $5, max_scheduled_runs = $6, "
             "parameters = $7, slug = $8 WHERE id = $1 AND deployment_id = $2",
             {id(s.id), id(s.deployment), ts(s.updated), text(to_json(s.when).dump()), boolean(s.active),
              optional_int(s.max_scheduled_runs), text(s.parameters.dump()), optional_text(s.slug)}) > 0;
}

bool delete_schedule(sql_connection& conn, const deployment_id& d, const deployment_schedule_id& s) {
  return conn.execute("DELETE FROM deployment_schedule WHERE id = $1 AND deployment_id = $2", {id(s), id(d)}) > 0;
}

void delete_schedules(sql_connection& conn, const deployment_id& d) {
  conn.execute("DELETE FROM deployment_schedule WHERE deployment_id = $1", {id(d)});
}

std::vector<deployment_schedule> schedules_of(sql_connection& conn, const deployment_id& d) {
  std::vector<deployment_schedule> out;
  for (const auto& row :
       conn.query(std::string(schedule_columns) + "WHERE deployment_id = $1 ORDER BY updated DESC, id", {id(d)}))
    if (auto s = schedule_from_row(row)) out.push_back(std::move(*s));
  return out;
}

std::int64_t delete_scheduled_runs(sql_connection& conn, const deployment_id& d, bool auto_only, bool future_only,
                                   timestamp now) {
  std::string sql =
      "DELETE FROM flow_run WHERE deployment_id = $1 AND state_type = 'SCHEDULED' AND run_count = 0 "
      "AND (state_name IS NULL OR state_name <> 'AwaitingConcurrencySlot')";
  sql_params params{id(d)};
  if (auto_only) sql += " AND auto_scheduled = true";
  if (future_only) {
    sql += " AND next_scheduled_start_time > $2";
    params.push_back(ts(now));
  }
  return conn.execute(sql, params);
}

std::vector<deployment_id> deployments_to_schedule(sql_connection& conn, timestamp now, const scheduling_window& w,
                                                   std::size_t batch, const std::optional<deployment_id>& after) {
  const auto dia = conn.dialect();
  const std::string runs_of_schedule =
      "FROM flow_run r WHERE r.deployment_id = s.deployment_id AND r.state_type = 'SCHEDULED' "
      "AND r.next_scheduled_start_time >= $1 AND r.auto_scheduled = true AND " +
      created_by_id(dia) + " = " + id_text(dia, "s.id");
  std::string sql =
      "SELECT d.id FROM deployment d WHERE d.paused = false AND EXISTS (SELECT 1 FROM deployment_schedule s "
      "WHERE s.deployment_id = d.id AND s.active = true AND ((SELECT count(*) " +
      runs_of_schedule +
      ") < $2 "
      "OR COALESCE((SELECT max(r.next_scheduled_start_time) " +
      runs_of_schedule + "), $1) < $3))";
  sql_params params{ts(now), integer(static_cast<std::int64_t>(w.min_runs)), ts(now + w.min_time)};
  if (after) {
    sql += " AND d.id > $4";
    params.push_back(id(*after));
  }
  sql += " ORDER BY d.id LIMIT " + std::to_string(batch);
  std::vector<deployment_id> out;
  for (const auto& row : conn.query(sql, params)) out.push_back(deployment_id{row.id(0)});
  return out;
}

std::vector<std::string> scheduled_run_keys(sql_connection& conn, const deployment_id& d, timestamp from) {
  std::vector<std::string> keys;
  for (const auto& row :
       conn.query("SELECT idempotency_key FROM flow_run WHERE deployment_id = $1 AND auto_scheduled = true "
                  "AND next_scheduled_start_time >= $2 AND idempotency_key IS NOT NULL",
                  {id(d), ts(from)}))
    keys.push_back(row.text(0));
  return keys;
}

work_queue_lookup find_work_queue(sql_connection& conn, const std::string& pool,
                                  const std::optional<std::string>& queue) {
  work_queue_lookup out;
  auto pools = conn.query("SELECT id, default_queue_id FROM work_pool WHERE name = $1", {text(pool)});
  if (pools.empty()) return out;
  out.pool_found = true;
  auto rows = queue ? conn.query("SELECT id, name FROM work_queue WHERE work_pool_id = $1 AND name = $2",
                                 {id(pools.front().id(0)), text(*queue)})
                    : (pools.front().is_null(1)
                           ? std::vector<sql_row>{}
                           : conn.query("SELECT id, name FROM work_queue WHERE id = $1", {id(pools.front().id(1))}));
  if (!rows.empty()) out.queue = work_queue_ref{rows.front().id(0), rows.front().text(1)};
  return out;
}

}  // namespace osprey::persistence

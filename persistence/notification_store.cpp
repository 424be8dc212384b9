#include "persistence/notification_store.hpp"

#include <algorithm>

namespace osprey::persistence {
namespace {

constexpr const char* job_columns =
    "id, created, policy_name, channel_name, flow_run_id, state_id, state_name, dedup_key, kind, payload, status, "
    "attempts, next_attempt_at, lease_owner, lease_expires_at, last_error, delivered_at";

sql_value optional_text(const std::optional<std::string>& s) { return s ? text(*s) : null_value(); }

constexpr const char* group_wait_key = "group_wait_ms";
constexpr const char* parts_done_key = "parts_done";

/// The payload column: the notifier's payload plus the job's group_wait and parts_done (see the header).
std::string stored_payload(const outbox_job& j) {
  auto stored = j.payload.is_object() ? j.payload : nlohmann::json::object();
  stored[group_wait_key] = j.group_wait.count();
  if (!j.parts_done.empty()) stored[parts_done_key] = j.parts_done;
  return stored.dump();
}

/// Splits a stored payload column into the job's payload, group_wait and parts_done. Anything unreadable
/// counts as absent: a job is better sent plainly than not at all.
void read_payload(const std::string& column, outbox_job& j) {
  j.payload = nlohmann::json::parse(column, nullptr, false);
  if (!j.payload.is_object()) j.payload = nlohmann::json::object();
  if (auto it = j.payload.find(group_wait_key); it != j.payload.end()) {
    if (it->is_number_integer()) j.group_wait = std::chrono::milliseconds(it->get<std::int64_t>());
    j.payload.erase(it);
  }
  if (auto it = j.payload.find(parts_done_key); it != j.payload.end()) {
    if (it->is_array())
      for (const auto& p : *it)
        if (p.is_number_integer()) j.parts_done.push_back(p.get<int>());
    j.payload.erase(it);
  }
}
sql_value optional_time(const std::optional<timestamp>& t) { return t ? ts(*t) : null_value(); }

outbox_job job_from(const sql_row& row) {
  outbox_job j;
  j.id = row.id(0);
  j.created = row.time(1);
  j.policy_name = row.text(2);
  j.channel_name = row.text(3);
  if (!row.is_null(4)) j.flow_run = flow_run_id{row.id(4)};
  if (!row.is_null(5)) j.state = state_id{row.id(5)};
  j.state_name = row.text(6);
  j.dedup_key = row.text(7);
  // The CHECK constraints admit no other kind or status.
  j.kind = parse_notification_kind(row.text(8)).value_or(notification_kind::trigger);
  read_payload(row.text(9), j);
  j.status = parse_outbox_status(row.text(10)).value_or(outbox_status::pending);
  j.attempts = row.integer(11);
  j.next_attempt_at = row.time(12);
  if (!row.is_null(13)) j.lease_owner = row.text(13);
  j.lease_expires_at = row.optional_time(14);
  if (!row.is_null(15)) j.last_error = row.text(15);
  j.delivered_at = row.optional_time(16);
  return j;
}

std::vector<outbox_job> jobs_from(const std::vector<sql_row>& rows) {
  std::vector<outbox_job> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(job_from(r));
  return out;
}

nlohmann::json policy_spec(const notification_policy& p) {
  return {{"state_names", p.match.state_names},
          {"state_types", p.match.state_types},
          {"tags_any", p.match.tags_any},
          {"tags_none", p.match.tags_none},
          {"flows", p.match.flows},
          {"deployments", p.match.deployments},
          {"resolve_on", p.resolve_on},
          {"dedup_scope", p.scope == dedup_scope::deployment ? "deployment" : "flow_run"},
          {"send_resolved", p.send_resolved},
          {"group_wait_ms", p.group_wait.count()}};
}

std::vector<std::string> strings(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (auto it = j.find(key); it != j.end() && it->is_array())
    for (const auto& v : *it)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

notification_policy policy_from(const sql_row& row) {
  notification_policy p;
  p.id = row.id(0);
  p.name = row.text(1);
  p.is_active = row.boolean(2);
  p.source = row.text(3);
  auto spec = nlohmann::json::parse(row.text(4), nullptr, false);
  if (!spec.is_object()) spec = nlohmann::json::object();
  p.match.state_names = strings(spec, "state_names");
  p.match.state_types = strings(spec, "state_types");
  p.match.tags_any = strings(spec, "tags_any");
  p.match.tags_none = strings(spec, "tags_none");
  p.match.flows = strings(spec, "flows");
  p.match.deployments = strings(spec, "deployments");
  if (spec.contains("resolve_on")) p.resolve_on = strings(spec, "resolve_on");
  p.scope = spec.value("dedup_scope", "flow_run") == "deployment" ? dedup_scope::deployment : dedup_scope::flow_run;
  p.send_resolved = spec.value("send_resolved", false);
  p.group_wait = std::chrono::milliseconds(spec.value("group_wait_ms", std::int64_t{0}));
  auto channels = nlohmann::json::parse(row.text(5), nullptr, false);
  if (channels.is_array())
    for (const auto& c : channels)
      if (c.is_string()) p.channels.push_back(c.get<std::string>());
  if (!row.is_null(6)) p.message_template = row.text(6);
  return p;
}

constexpr const char* policy_columns = "id, name, is_active, source, match, channels, message_template";

sql_params policy_params(const notification_policy& p, timestamp now) {
  return {id(*p.id),
          ts(now),
          text(p.name),
          boolean(p.is_active),
          text(p.source),
          text(nlohmann::json(p.match.state_names).dump()),
          text(policy_spec(p).dump()),
          text(nlohmann::json(p.channels).dump()),
          optional_text(p.message_template)};
}

}  // namespace

const char* to_string(outbox_status status) noexcept {
  switch (status) {
    case outbox_status::pending: return "pending";
    case outbox_status::delivered: return "delivered";
    case outbox_status::dead: return "dead";
  }
  return "pending";  // unreachable: every enumerator is handled above
}

std::optional<outbox_status> parse_outbox_status(std::string_view text) {
  for (auto status : {outbox_status::pending, outbox_status::delivered, outbox_status::dead})
    if (text == to_string(status)) return status;
  return std::nullopt;
}

std::vector<outbox_job> insert_outbox_jobs(sql_connection& conn, const std::vector<outbox_job>& jobs) {
  std::vector<outbox_job> inserted;
  for (const auto& j : jobs) {
    const auto changed = conn.execute(
        "INSERT INTO notification_outbox (id, created, updated, policy_name, channel_name, flow_run_id, state_id, "
        "state_name, dedup_key, kind, payload, status, attempts, next_attempt_at, lease_owner, lease_expires_at) "
        "VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', 0, $11, $12, $13) ON CONFLICT DO NOTHING",
        {id(j.id), ts(j.created), text(j.policy_name), text(j.channel_name),
         j.flow_run ? id(*j.flow_run) : null_value(), j.state ? id(*j.state) : null_value(), text(j.state_name),
         text(j.dedup_key), text(to_string(j.kind)), text(stored_payload(j)), ts(j.next_attempt_at),
         optional_text(j.lease_owner), optional_time(j.lease_expires_at)});
    if (changed > 0) inserted.push_back(j);
  }
  return inserted;
}

std::vector<outbox_job> open_alerts(sql_connection& conn, const std::string& dedup_key) {
  return jobs_from(
      conn.query(std::string("SELECT ") + job_columns +
                     " FROM notification_outbox t WHERE t.dedup_key = $1 AND t.kind = 'trigger' AND NOT EXISTS ("
                     "SELECT 1 FROM notification_outbox r WHERE r.dedup_key = t.dedup_key AND r.kind = 'resolve' "
                     "AND r.channel_name = t.channel_name AND r.created >= t.created) ORDER BY t.created",
                 {text(dedup_key)}));
}

std::int64_t release_all_leases(sql_connection& conn) {
  return conn.execute(
      "UPDATE notification_outbox SET lease_owner = NULL, lease_expires_at = NULL "
      "WHERE status = 'pending' AND lease_owner IS NOT NULL");
}

std::vector<outbox_job> lease_due_jobs(sql_connection& conn, const std::string& owner, timestamp now,
                                       timestamp lease_until, std::int64_t limit) {
  const std::string due =
      "SELECT id FROM notification_outbox WHERE status = 'pending' AND next_attempt_at <= $3 "
      "AND (lease_expires_at IS NULL OR lease_expires_at < $3) ORDER BY next_attempt_at LIMIT " +
      std::to_string(limit);
  const std::string lock = conn.dialect() == dialect::postgresql ? " FOR UPDATE SKIP LOCKED" : "";
  return jobs_from(conn.query("UPDATE notification_outbox SET lease_owner = $1, lease_expires_at = $2 WHERE id IN (" +
                                  due + lock + ") RETURNING " + job_columns,
                              {text(owner), ts(lease_until), ts(now)}));
}

std::optional<timestamp> next_due_time(sql_connection& conn) {
  auto rows = conn.query(
      "SELECT MIN(next_attempt_at) FROM notification_outbox WHERE status = 'pending' AND lease_owner IS NULL");
  if (rows.empty() || rows[0].is_null(0)) return std::nullopt;
  return rows[0].time(0);
}

void mark_delivered(sql_connection& conn, const uuid& job, std::int64_t attempts, timestamp now) {
  conn.execute(
      "UPDATE notification_outbox SET status = 'delivered', attempts = $2, delivered_at = $3, updated = $3, "
      "lease_owner = NULL, lease_expires_at = NULL WHERE id = $1",
      {id(job), integer(attempts), ts(now)});
}

void mark_retry(sql_connection& conn, const outbox_job& job, std::int64_t attempts, timestamp next_attempt,
                const std::string& error, timestamp now) {
  conn.execute(
      "UPDATE notification_outbox SET attempts = $2, next_attempt_at = $3, last_error = $4, payload = $5, "
      "updated = $6, lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND status = 'pending'",
      {id(job.id), integer(attempts), ts(next_attempt), text(error), text(stored_payload(job)), ts(now)});
}

void mark_dead(sql_connection& conn, const uuid& job, std::int64_t attempts, const std::string& error, timestamp now) {
  conn.execute(
      "UPDATE notification_outbox SET status = 'dead', attempts = $2, last_error = $3, updated = $4, "
      "lease_owner = NULL, lease_expires_at = NULL WHERE id = $1",
      {id(job), integer(attempts), text(error), ts(now)});
}

bool requeue_job(sql_connection& conn, const uuid& job, timestamp now) {
  return conn.execute(
             "UPDATE notification_outbox SET status = 'pending', attempts = 0, next_attempt_at = $2, updated = $2, "
             "created = $2, lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND status <> 'delivered'",
             {id(job), ts(now)}) > 0;
}

std::vector<outbox_job> list_outbox(sql_connection& conn, std::optional<outbox_status> status, std::int64_t limit) {
  std::string sql = std::string("SELECT ") + job_columns + " FROM notification_outbox";
  sql_params params;
  if (status) {
    sql += " WHERE status = $1";
    params.push_back(text(to_string(*status)));
  }
  sql += " ORDER BY created DESC, id LIMIT " + std::to_string(limit);
  return jobs_from(conn.query(sql, params));
}

std::optional<outbox_job> find_outbox_job(sql_connection& conn, const uuid& job) {
  auto rows = conn.query(std::string("SELECT ") + job_columns + " FROM notification_outbox WHERE id = $1", {id(job)});
  if (rows.empty()) return std::nullopt;
  return job_from(rows[0]);
}

outbox_counts count_outbox(sql_connection& conn) {
  outbox_counts c;
  for (const auto& row : conn.query("SELECT status, COUNT(*) FROM notification_outbox GROUP BY status")) {
    const auto status = parse_outbox_status(row.text(0));
    if (!status) continue;  // the CHECK constraint admits no other
    const auto n = row.integer(1);
    switch (*status) {
      case outbox_status::pending: c.pending = n; break;
      case outbox_status::delivered: c.delivered = n; break;
      case outbox_status::dead: c.dead = n; break;
    }
  }
  return c;
}

std::string policies_fingerprint(sql_connection& conn) {
  const auto rows = conn.query("SELECT count(*), max(updated) FROM notification_policy");
  return std::to_string(rows[0].integer(0)) + "/" + (rows[0].is_null(1) ? "" : format_iso8601(rows[0].time(1)));
}

std::vector<notification_policy> list_policies(sql_connection& conn) {
  std::vector<notification_policy> out;
  for (const auto& row :
       conn.query(std::string("SELECT ") + policy_columns + " FROM notification_policy ORDER BY name"))
    out.push_back(policy_from(row));
  return out;
}

std::optional<notification_policy> find_policy(sql_connection& conn, const uuid& policy) {
  auto rows =
      conn.query(std::string("SELECT ") + policy_columns + " FROM notification_policy WHERE id = $1", {id(policy)});
  if (rows.empty()) return std::nullopt;
  return policy_from(rows[0]);
}

void insert_policy(sql_connection& conn, const notification_policy& policy, timestamp now) {
  conn.execute(
      "INSERT INTO notification_policy (id, created, updated, name, is_active, source, state_names, match, "
      "channels, message_template) VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9)",
      policy_params(policy, now));
}

bool update_policy(sql_connection& conn, const notification_policy& policy, timestamp now) {
  return conn.execute(
             "UPDATE notification_policy SET updated = $2, name = $3, is_active = $4, source = $5, state_names = $6, "
             "match = $7, channels = $8, message_template = $9 WHERE id = $1",
             policy_params(policy, now)) > 0;
}

bool delete_policy(sql_connection& conn, const uuid& policy) {
  return conn.execute("DELETE FROM notification_policy WHERE id = $1", {id(policy)}) > 0;
}

void sync_file_policies(sql_connection& conn, const std::vector<notification_policy>& policies, timestamp now) {
  std::vector<notification_policy> stored = list_policies(conn);
  for (const auto& s : stored) {
    const bool keep = std::any_of(policies.begin(), policies.end(), [&](const auto& p) { return p.name == s.name; });
    if (s.source == "file" && !keep) delete_policy(conn, *s.id);
  }
  for (auto p : policies) {
    p.source = "file";
    auto existing = std::find_if(stored.begin(), stored.end(), [&](const auto& s) { return s.name == p.name; });
    if (existing != stored.end()) {
      p.id = existing->id;
      update_policy(conn, p, now);
    } else {
      if (!p.id) p.id = new_uuid4();
      insert_policy(conn, p, now);
    }
  }
}

}  // namespace osprey::persistence

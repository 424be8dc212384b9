#include "persistence/automation_bucket_store.hpp"

#include <nlohmann/json.hpp>

#include "persistence/automation_store.hpp"

namespace osprey::persistence {
namespace {

constexpr const char* bucket_columns = "bucketing_key, start, \"end\", count, last_event";

trigger_bucket bucket_from(const sql_row& row) {
  trigger_bucket b;
  const auto key = nlohmann::json::parse(row.text(0), nullptr, false);
  if (key.is_array())
    for (const auto& v : key) b.key.push_back(v.is_string() ? v.get<std::string>() : std::string());
  b.start = row.time(1);
  b.end = row.time(2);
  b.count = row.integer(3);
  if (!row.is_null(4)) {
    const auto doc = nlohmann::json::parse(row.text(4), nullptr, false);
    if (!doc.is_discarded() && !doc.is_null()) {
      auto e = parse_received_event(doc);
      if (e) b.last_event = std::move(*e);
    }
  }
  return b;
}

std::string key_text(const std::vector<std::string>& key) { return nlohmann::json(key).dump(); }

}  // namespace

std::vector<automation> enabled_automations(sql_connection& conn) {
  const auto count = count_automations(conn, sql_where{"a.enabled", {}});
  return select_automations(conn, sql_where{"a.enabled", {}}, "a.id", count, 0);
}

std::string automations_fingerprint(sql_connection& conn) {
  const auto rows = conn.query("SELECT count(*), max(updated) FROM automation");
  const auto& row = rows.front();
  return std::to_string(row.integer(0)) + "/" + (row.is_null(1) ? "" : format_iso8601(row.time(1)));
}

std::optional<trigger_bucket> find_bucket(sql_connection& conn, const automation_id& automation, const uuid& trigger,
                                          const std::vector<std::string>& key) {
  auto rows =
      conn.query(std::string("SELECT ") + bucket_columns +
                     " FROM automation_bucket WHERE automation_id = $1 AND trigger_id = $2 AND bucketing_key = $3",
                 {id(automation), id(trigger), text(key_text(key))});
  if (rows.empty()) return std::nullopt;
  return bucket_from(rows.front());
}

void store_bucket(sql_connection& conn, const automation_id& automation, const uuid& trigger,
                  const std::vector<std::string>& key, const std::optional<trigger_bucket>& bucket, timestamp now) {
  if (!bucket) {
    conn.execute("DELETE FROM automation_bucket WHERE automation_id = $1 AND trigger_id = $2 AND bucketing_key = $3",
                 {id(automation), id(trigger), text(key_text(key))});
    return;
  }
  conn.execute(
      "INSERT INTO automation_bucket (id, created, updated, automation_id, trigger_id, bucketing_key, last_event, "
      "start, \"end\", count, last_operation) VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, 'evaluate') "
      "ON CONFLICT (automation_id, trigger_id, bucketing_key) DO UPDATE SET updated = $2, last_event = $6, "
      "start = $7, \"end\" = $8, count = $9, last_operation = 'evaluate'",
      {id(new_uuid4()), ts(now), id(automation), id(trigger), text(key_text(key)),
       bucket->last_event ? text(to_json(*bucket->last_event).dump()) : null_value(), ts(bucket->start),
       ts(bucket->end), integer(bucket->count)});
}

std::vector<trigger_bucket> trigger_buckets(sql_connection& conn, const automation_id& automation,
                                            const uuid& trigger) {
  std::vector<trigger_bucket> out;
  for (const auto& row :
       conn.query(std::string("SELECT ") + bucket_columns +
                      " FROM automation_bucket WHERE automation_id = $1 AND trigger_id = $2 ORDER BY \"end\"",
                  {id(automation), id(trigger)}))
    out.push_back(bucket_from(row));
  return out;
}

void sweep_closed_buckets(sql_connection& conn, timestamp older_than) {
  conn.execute("DELETE FROM automation_bucket WHERE \"end\" <= $1", {ts(older_than)});
}

void forget_other_triggers(sql_connection& conn, const automation_id& automation, const std::vector<uuid>& keep) {
  std::string sql = "DELETE FROM automation_bucket WHERE automation_id = $1";
  sql_params params{id(automation)};
  for (const auto& t : keep) {
    params.push_back(id(t));
    sql += " AND trigger_id <> $" + std::to_string(params.size());
  }
  conn.execute(sql, params);
}

void keep_child_firing(sql_connection& conn, const automation_id& automation, const uuid& parent, const child_firing& f,
                       timestamp now) {
  conn.execute(
      "INSERT INTO composite_trigger_child_firing (id, created, updated, automation_id, parent_trigger_id, "
      "child_trigger_id, child_firing_id, child_fired_at, child_firing) VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8) "
      "ON CONFLICT (automation_id, parent_trigger_id, child_trigger_id) DO UPDATE SET updated = $2, "
      "child_firing_id = $6, child_fired_at = $7, child_firing = $8",
      {id(new_uuid4()), ts(now), id(automation), id(parent), id(f.child), id(f.firing), ts(f.fired),
       text(child_firing_document(f.what).dump())});
}

std::vector<child_firing> kept_child_firings(sql_connection& conn, const automation_id& automation,
                                             const uuid& parent) {
  std::vector<child_firing> out;
  for (const auto& row : conn.query("SELECT child_trigger_id, child_firing_id, child_fired_at, child_firing "
                                    "FROM composite_trigger_child_firing WHERE automation_id = $1 AND "
                                    "parent_trigger_id = $2 ORDER BY child_fired_at",
                                    {id(automation), id(parent)})) {
    auto what = child_firing_from_document(nlohmann::json::parse(row.text(3), nullptr, false));
    if (!what || row.is_null(2)) continue;  // unreadable: it cannot satisfy the parent
    out.push_back({row.id(0), row.id(1), row.time(2), std::move(*what)});
  }
  return out;
}

void forget_child_firings(sql_connection& conn, const automation_id& automation, const uuid& parent,
                          std::optional<timestamp> before) {
  if (before)
    conn.execute(
        "DELETE FROM composite_trigger_child_firing WHERE automation_id = $1 AND parent_trigger_id = $2 "
        "AND child_fired_at < $3",
        {id(automation), id(parent), ts(*before)});
  else
    conn.execute("DELETE FROM composite_trigger_child_firing WHERE automation_id = $1 AND parent_trigger_id = $2",
                 {id(automation), id(parent)});
}

bool mark_event_evaluated(sql_connection& conn, const uuid& event, timestamp received) {
  return conn.execute(
             "INSERT INTO automation_evaluated_event (event_id, received) VALUES ($1, $2) "
             "ON CONFLICT (event_id) DO NOTHING",
             {id(event), ts(received)}) > 0;
}

std::optional<timestamp> evaluation_progress(sql_connection& conn) {
  const auto rows = conn.query("SELECT handled_through FROM automation_evaluation_progress WHERE id = 1");
  if (rows.empty()) return std::nullopt;
  return rows.front().time(0);
}

void record_evaluation_progress(sql_connection& conn, timestamp handled_through, timestamp now) {
  // Never backwards: two servers handing the lease over may record out of order.
  conn.execute(
      "INSERT INTO automation_evaluation_progress (id, handled_through, updated) VALUES (1, $1, $2) "
      "ON CONFLICT (id) DO UPDATE SET handled_through = $1, updated = $2 "
      "WHERE automation_evaluation_progress.handled_through < $1",
      {ts(handled_through), ts(now)});
}

void forget_evaluated_events(sql_connection& conn, timestamp before) {
  conn.execute("DELETE FROM automation_evaluated_event WHERE received < $1", {ts(before)});
}

}  // namespace osprey::persistence

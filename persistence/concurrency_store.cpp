#include "persistence/concurrency_store.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace osprey::persistence {
namespace {

constexpr const char* limit_columns =
    "id, created, updated, active, name, \"limit\", active_slots, denied_slots, slot_decay_per_second, "
    "avg_slot_occupancy_seconds";
constexpr const char* lease_columns = "id, created, expiration, resource_ids, slots, holder";

concurrency_limit limit_from(const sql_row& row) {
  concurrency_limit l;
  l.id = concurrency_limit_id{row.id(0)};
  l.created = row.time(1);
  l.updated = row.time(2);
  l.active = row.boolean(3);
  l.name = row.text(4);
  l.limit = row.integer(5);
  l.active_slots = row.integer(6);
  l.denied_slots = row.integer(7);
  l.slot_decay_per_second = row.real(8);
  l.avg_slot_occupancy_seconds = row.real(9);
  return l;
}

std::vector<concurrency_limit> limits_from(const std::vector<sql_row>& rows) {
  std::vector<concurrency_limit> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(limit_from(r));
  return out;
}

concurrency_lease lease_from(const sql_row& row) {
  concurrency_lease lease;
  lease.id = concurrency_lease_id{row.id(0)};
  lease.created = row.time(1);
  lease.expiration = row.time(2);
  const auto ids = nlohmann::json::parse(row.text(3), nullptr, false);
  if (ids.is_array())
    for (const auto& v : ids)
      if (auto u = v.is_string() ? uuid::parse(v.get<std::string>()) : std::nullopt)
        lease.resource_ids.push_back(concurrency_limit_id{*u});
  lease.slots = row.integer(4);
  if (!row.is_null(5)) {
    const auto holder = nlohmann::json::parse(row.text(5), nullptr, false);
    if (holder.is_object() && holder.contains("type") && holder["type"].is_string() && holder.contains("id") &&
        holder["id"].is_string())
      if (auto u = uuid::parse(holder["id"].get<std::string>()))
        lease.holder = lease_holder{holder["type"].get<std::string>(), *u};
  }
  return lease;
}

std::vector<concurrency_lease> leases_from(const std::vector<sql_row>& rows) {
  std::vector<concurrency_lease> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(lease_from(r));
  return out;
}

// A JSON list as one parameter, unpacked in SQL: one statement text whatever the list's length (PostgreSQL
// prepares each text once per connection).
std::string json_list(const std::vector<std::string>& items) { return nlohmann::json(items).dump(); }

std::string unpacked_texts(dialect d, const char* param) {
  return d == dialect::postgresql ? std::string("SELECT jsonb_array_elements_text(") + param + "::jsonb)"
                                  : std::string("SELECT value FROM json_each(") + param + ")";
}

std::string unpacked_ids(dialect d, const char* param) {
  return d == dialect::postgresql ? std::string("SELECT (jsonb_array_elements_text(") + param + "::jsonb))::uuid"
                                  : std::string("SELECT value FROM json_each(") + param + ")";
}

std::string lock_clause(const sql_connection& conn) {
  return conn.dialect() == dialect::postgresql ? " FOR UPDATE" : "";
}

/// The limits with these ids, locked for this transaction, in id order.
std::vector<concurrency_limit> lock_limits(sql_connection& conn, const std::vector<concurrency_limit_id>& ids) {
  std::vector<std::string> texts;
  for (const auto& i : ids) texts.push_back(i.to_string());
  return limits_from(conn.query(std::string("SELECT ") + limit_columns + " FROM concurrency_limit_v2 WHERE id IN (" +
                                    unpacked_ids(conn.dialect(), "$1") + ") ORDER BY id" + lock_clause(conn),
                                {text(json_list(texts))}));
}

void store_counts(sql_connection& conn, const concurrency_limit& l) {
  conn.execute(
      "UPDATE concurrency_limit_v2 SET active_slots = $2, denied_slots = $3, avg_slot_occupancy_seconds = $4, "
      "updated = $5 WHERE id = $1",
      {id(l.id), integer(l.active_slots), integer(l.denied_slots), sql_value(l.avg_slot_occupancy_seconds),
       ts(l.updated)});
}

/// Gives `slots` back to the active limits among `ids` (Prefect's bulk_decrement_active_slots).
void release_ids(sql_connection& conn, const std::vector<concurrency_limit_id>& ids, std::int64_t slots,
                 std::optional<double> occupancy_seconds, timestamp now, const slot_wait_caps& caps) {
  if (ids.empty()) return;
  for (const auto& l : lock_limits(conn, ids))
    if (l.active) store_counts(conn, released(l, slots, occupancy_seconds, now, caps));
}

sql_params lease_params(const concurrency_lease& lease) {
  std::vector<std::string> ids;
  for (const auto& r : lease.resource_ids) ids.push_back(r.to_string());
  return {id(lease.id),
          ts(lease.created),
          text(json_list(ids)),
          integer(lease.slots),
          lease.holder ? text(nlohmann::json{{"type", lease.holder->type}, {"id", lease.holder->id.to_string()}}.dump())
                       : null_value(),
          ts(lease.expiration)};
}

}  // namespace

void insert_limit(sql_connection& conn, const concurrency_limit& l) {
  conn.execute(
      "INSERT INTO concurrency_limit_v2 (id, created, updated, active, name, \"limit\", active_slots, denied_slots, "
      "slot_decay_per_second, avg_slot_occupancy_seconds) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
      {id(l.id), ts(l.created), ts(l.updated), boolean(l.active), text(l.name), integer(l.limit),
       integer(l.active_slots), integer(l.denied_slots), sql_value(l.slot_decay_per_second),
       sql_value(l.avg_slot_occupancy_seconds)});
}

std::optional<concurrency_limit> find_limit(sql_connection& conn, const concurrency_limit_id& limit) {
  auto rows =
      conn.query(std::string("SELECT ") + limit_columns + " FROM concurrency_limit_v2 WHERE id = $1", {id(limit)});
  if (rows.empty()) return std::nullopt;
  return limit_from(rows[0]);
}

std::optional<concurrency_limit> find_limit_by_name(sql_connection& conn, const std::string& name) {
  auto rows =
      conn.query(std::string("SELECT ") + limit_columns + " FROM concurrency_limit_v2 WHERE name = $1", {text(name)});
  if (rows.empty()) return std::nullopt;
  return limit_from(rows[0]);
}

std::vector<concurrency_limit> limits_named(sql_connection& conn, const std::vector<std::string>& names) {
  return limits_from(conn.query(std::string("SELECT ") + limit_columns + " FROM concurrency_limit_v2 WHERE name IN (" +
                                    unpacked_texts(conn.dialect(), "$1") + ") ORDER BY name",
                                {text(json_list(names))}));
}

std::vector<concurrency_limit> list_limits(sql_connection& conn, std::int64_t limit, std::int64_t offset) {
  return limits_from(
      conn.query(std::string("SELECT ") + limit_columns + " FROM concurrency_limit_v2 ORDER BY name LIMIT $1 OFFSET $2",
                 {integer(limit), integer(offset)}));
}

bool update_limit(sql_connection& conn, const concurrency_limit& l) {
  return conn.execute(
             "UPDATE concurrency_limit_v2 SET updated = $2, active = $3, name = $4, \"limit\" = $5, "
             "active_slots = $6, denied_slots = $7, slot_decay_per_second = $8, "
             "avg_slot_occupancy_seconds = $9 WHERE id = $1",
             {id(l.id), ts(l.updated), boolean(l.active), text(l.name), integer(l.limit), integer(l.active_slots),
              integer(l.denied_slots), sql_value(l.slot_decay_per_second), sql_value(l.avg_slot_occupancy_seconds)}) >
         0;
}

bool delete_limit(sql_connection& conn, const concurrency_limit_id& limit) {
  return conn.execute("DELETE FROM concurrency_limit_v2 WHERE id = $1", {id(limit)}) > 0;
}

void insert_lease(sql_connection& conn, const concurrency_lease& lease) {
  conn.execute(
      "INSERT INTO concurrency_lease (id, created, updated, resource_ids, slots, holder, expiration) "
      "VALUES ($1, $2, $2, $3, $4, $5, $6)",
      lease_params(lease));
}

std::optional<concurrency_lease> find_lease(sql_connection& conn, const concurrency_lease_id& lease) {
  auto rows = conn.query(std::string("SELECT ") + lease_columns + " FROM concurrency_lease WHERE id = $1", {id(lease)});
  if (rows.empty()) return std::nullopt;
  return lease_from(rows[0]);
}

bool renew_lease(sql_connection& conn, const concurrency_lease_id& lease, timestamp expiration, timestamp now) {
  return conn.execute("UPDATE concurrency_lease SET expiration = $2, updated = $3 WHERE id = $1",
                      {id(lease), ts(expiration), ts(now)}) > 0;
}

bool any_expired_lease(sql_connection& conn, timestamp now) {
  return !conn.query("SELECT 1 FROM concurrency_lease WHERE expiration < $1 LIMIT 1", {ts(now)}).empty();
}

std::vector<concurrency_lease> leases_holding(sql_connection& conn, const concurrency_limit_id& limit, timestamp now) {
  // resource_ids is a short JSON list of canonical ids: a substring match finds the limit's id in it.
  return leases_from(conn.query(std::string("SELECT ") + lease_columns +
                                    " FROM concurrency_lease WHERE CAST(resource_ids AS TEXT) LIKE $1 "
                                    "AND expiration > $2 ORDER BY created, id",
                                {text("%" + limit.to_string() + "%"), ts(now)}));
}

acquire_outcome acquire_slots(sql_connection& conn, const acquire_request& request, timestamp now,
                              const slot_wait_caps& caps) {
  acquire_outcome out;
  // Locked in id order (PostgreSQL), decided and answered in name order.
  out.limits =
      limits_from(conn.query(std::string("SELECT ") + limit_columns + " FROM concurrency_limit_v2 WHERE name IN (" +
                                 unpacked_texts(conn.dialect(), "$1") + ") ORDER BY id" + lock_clause(conn),
                             {text(json_list(request.names))}));
  std::sort(out.limits.begin(), out.limits.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::vector<concurrency_limit_id> ids;
  for (const auto& l : out.limits) ids.push_back(l.id);
  out.decision = decide_acquire(out.limits, request.slots, request.mode, now, caps);
  for (const auto& changed : out.decision.changed) store_counts(conn, changed);
  if (out.decision.verdict == acquire_verdict::granted && request.lease_duration && !out.limits.empty()) {
    concurrency_lease lease;
    lease.id = concurrency_lease_id{new_uuid4()};
    lease.created = now;
    lease.expiration = now + *request.lease_duration;
    lease.resource_ids = ids;
    lease.slots = request.slots;
    lease.holder = request.holder;
    insert_lease(conn, lease);
    out.lease = lease.id;
  }
  return out;
}

std::vector<concurrency_limit> release_named(sql_connection& conn, const std::vector<std::string>& names,
                                             std::int64_t slots, std::optional<double> occupancy_seconds, timestamp now,
                                             const slot_wait_caps& caps) {
  auto limits = limits_named(conn, names);
  std::vector<concurrency_limit_id> ids;
  for (const auto& l : limits) ids.push_back(l.id);
  release_ids(conn, ids, slots, occupancy_seconds, now, caps);
  return limits;
}

std::optional<concurrency_lease> release_lease(sql_connection& conn, const concurrency_lease_id& lease, timestamp now,
                                               const slot_wait_caps& caps) {
  // DELETE ... RETURNING claims the lease: of two concurrent releases (or a release and the reaper) one wins.
  auto rows =
      conn.query(std::string("DELETE FROM concurrency_lease WHERE id = $1 RETURNING ") + lease_columns, {id(lease)});
  if (rows.empty()) return std::nullopt;
  auto released_lease = lease_from(rows[0]);
  release_ids(conn, released_lease.resource_ids, released_lease.slots, seconds_between(released_lease.created, now),
              now, caps);
  return released_lease;
}

std::size_t reap_expired_leases(sql_connection& conn, timestamp now, const slot_wait_caps& caps, std::size_t max) {
  const std::string skip_locked = conn.dialect() == dialect::postgresql ? " FOR UPDATE SKIP LOCKED" : "";
  auto expired = leases_from(conn.query(
      std::string("DELETE FROM concurrency_lease WHERE id IN (SELECT id FROM concurrency_lease WHERE expiration < $1 "
                  "ORDER BY expiration LIMIT $2") +
          skip_locked + ") RETURNING " + lease_columns,
      {ts(now), integer(static_cast<std::int64_t>(max))}));
  for (const auto& lease : expired)
    release_ids(conn, lease.resource_ids, lease.slots, seconds_between(lease.created, now), now, caps);
  return expired.size();
}

bool revoke_lease(sql_connection& conn, const concurrency_lease_id& lease) {
  return !conn.query("DELETE FROM concurrency_lease WHERE id = $1 RETURNING id", {id(lease)}).empty();
}

std::size_t drop_leases_on(sql_connection& conn, const concurrency_limit_id& limit) {
  return static_cast<std::size_t>(conn.execute("DELETE FROM concurrency_lease WHERE CAST(resource_ids AS TEXT) LIKE $1",
                                               {text("%" + limit.to_string() + "%")}));
}

}  // namespace osprey::persistence

namespace osprey::persistence {
namespace {

std::vector<std::string> tag_names(const std::vector<std::string>& tags) {
  std::vector<std::string> names;
  for (const auto& t : tags) names.push_back("tag:" + t);
  return names;
}

concurrency_lease v1_lease(std::vector<concurrency_limit_id> ids, const uuid& task_run, timestamp now) {
  concurrency_lease lease;
  lease.id = concurrency_lease_id{new_uuid4()};
  lease.created = now;
  lease.expiration = now + v1_lease_ttl;
  lease.resource_ids = std::move(ids);
  lease.slots = 1;
  lease.holder = lease_holder{"task_run", task_run};
  return lease;
}

}  // namespace

tag_acquire_outcome acquire_tag_slots(sql_connection& conn, const std::vector<std::string>& tags, const uuid& task_run,
                                      timestamp now, const slot_wait_caps& caps) {
  tag_acquire_outcome out;
  std::vector<concurrency_limit> found = limits_named(conn, tag_names(tags));
  std::vector<concurrency_limit_id> ids;
  for (const auto& l : found) ids.push_back(l.id);
  auto locked = lock_limits(conn, ids);
  const auto limit_of = [&](const std::string& tag) -> const concurrency_limit* {
    for (const auto& l : locked)
      if (l.name == "tag:" + tag) return &l;
    return nullptr;
  };
  // A zero limit anywhere refuses first: the task would wait forever.
  for (const auto& tag : tags)
    if (const auto* l = limit_of(tag); l && l->limit <= 0) {
      out.result = tag_acquire_outcome::verdict::zero_limit;
      out.tag = tag;
      return out;
    }
  std::vector<concurrency_limit> wanted;
  std::vector<std::string> wanted_tags;
  for (const auto& tag : tags)
    if (const auto* l = limit_of(tag);
        l && l->active && std::find(wanted_tags.begin(), wanted_tags.end(), tag) == wanted_tags.end()) {
      wanted.push_back(*l);
      wanted_tags.push_back(tag);
    }
  if (wanted.empty()) return out;
  auto decision = decide_acquire(wanted, 1, acquire_mode::concurrency, now, caps);
  if (decision.verdict != acquire_verdict::granted) {
    out.result = tag_acquire_outcome::verdict::full;
    out.tag = wanted_tags.front();
    return out;
  }
  for (const auto& changed : decision.changed) store_counts(conn, changed);
  std::vector<concurrency_limit_id> held;
  for (const auto& l : wanted) held.push_back(l.id);
  insert_lease(conn, v1_lease(held, task_run, now));
  out.limits = std::move(wanted);
  return out;
}

std::vector<concurrency_limit> release_tag_slots(sql_connection& conn, const std::vector<std::string>& tags,
                                                 const uuid& task_run, timestamp now, const slot_wait_caps& caps) {
  auto limits = limits_named(conn, tag_names(tags));
  std::vector<concurrency_lease_id> held;
  for (const auto& l : limits)
    for (const auto& lease : leases_holding(conn, l.id, now))
      if (lease.holder && lease.holder->id == task_run && std::find(held.begin(), held.end(), lease.id) == held.end())
        held.push_back(lease.id);
  for (const auto& lease : held) release_lease(conn, lease, now, caps);
  return limits;
}

void reset_tag_limit(sql_connection& conn, const concurrency_limit& l, const std::vector<uuid>& holders,
                     timestamp now) {
  drop_leases_on(conn, l.id);
  auto reset = l;
  reset.active_slots = 0;
  reset.updated = now;
  for (const auto& task_run : holders) {
    if (reset.active_slots >= reset.limit) break;
    ++reset.active_slots;
    insert_lease(conn, v1_lease({l.id}, task_run, now));
  }
  store_counts(conn, reset);
}

}  // namespace osprey::persistence

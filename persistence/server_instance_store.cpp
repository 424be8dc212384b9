#include "persistence/server_instance_store.hpp"

namespace osprey::persistence {

void beat_server_instance(sql_connection& conn, const server_instance& s) {
  const char* session = conn.dialect() == dialect::postgresql ? "pg_backend_pid()" : "NULL";
  conn.execute(
      std::string("INSERT INTO server_instance (id, host, pid, version, listen, started, heartbeat, db_session) "
                  "VALUES ($1, $2, $3, $4, $5, $6, $7, ") +
          session + ") ON CONFLICT (id) DO UPDATE SET heartbeat = excluded.heartbeat, db_session = excluded.db_session",
      {text(s.id), text(s.host), integer(s.pid), text(s.version), text(s.listen), ts(s.started), ts(s.heartbeat)});
}

void remove_server_instance(sql_connection& conn, const std::string& id) {
  conn.execute("DELETE FROM server_instance WHERE id = $1", {text(id)});
}

std::vector<server_instance> list_server_instances(sql_connection& conn) {
  std::vector<server_instance> out;
  for (const auto& row : conn.query("SELECT id, host, pid, version, listen, started, heartbeat, db_session "
                                    "FROM server_instance ORDER BY heartbeat DESC, id")) {
    server_instance s{row.text(0), row.text(1), row.integer(2), row.text(3),
                      row.text(4), row.time(5), row.time(6),    std::nullopt};
    if (!row.is_null(7)) s.db_session = row.integer(7);
    out.push_back(std::move(s));
  }
  return out;
}

std::int64_t reap_dead_servers(sql_connection& conn, timestamp dead_before) {
  // A killed server's session ends with it (its socket closes), so PostgreSQL tells at once what a heartbeat
  // would tell only after `dead_before`.
  const std::string session_gone = conn.dialect() == dialect::postgresql
                                       ? " OR (db_session IS NOT NULL AND db_session NOT IN (SELECT pid FROM "
                                         "pg_stat_activity WHERE pid IS NOT NULL))"
                                       : "";
  const auto removed =
      conn.execute("DELETE FROM server_instance WHERE heartbeat < $1" + session_gone, {ts(dead_before)});
  // Owners without a row: the servers just removed, and any that died before rows existed (an older version).
  conn.execute(
      "UPDATE notification_outbox SET lease_owner = NULL, lease_expires_at = NULL WHERE status = 'pending' "
      "AND lease_owner IS NOT NULL AND lease_owner NOT IN (SELECT id FROM server_instance)");
  return removed;
}

bool acquire_service_lease(sql_connection& conn, const std::string& name, const std::string& owner, timestamp now,
                           timestamp until) {
  // One statement, so two servers racing for it cannot both win: the row's lock (PostgreSQL) or the single
  // writer (SQLite) orders them, and the loser's WHERE no longer holds.
  return conn.execute(
             "INSERT INTO service_lease (name, owner, acquired, expires) VALUES ($1, $2, $3, $4) "
             "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires, "
             "acquired = CASE WHEN service_lease.owner = excluded.owner THEN service_lease.acquired "
             "ELSE excluded.acquired END "
             "WHERE service_lease.owner = excluded.owner OR service_lease.expires < $3 "
             "OR service_lease.owner NOT IN (SELECT id FROM server_instance)",
             {text(name), text(owner), ts(now), ts(until)}) == 1;
}

void release_service_lease(sql_connection& conn, const std::string& name, const std::string& owner) {
  conn.execute("DELETE FROM service_lease WHERE name = $1 AND owner = $2", {text(name), text(owner)});
}

std::optional<service_lease> find_service_lease(sql_connection& conn, const std::string& name) {
  auto rows = conn.query("SELECT owner, acquired, expires FROM service_lease WHERE name = $1", {text(name)});
  if (rows.empty()) return std::nullopt;
  return service_lease{rows[0].text(0), rows[0].time(1), rows[0].time(2)};
}

}  // namespace osprey::persistence

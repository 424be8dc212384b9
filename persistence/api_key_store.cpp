#include "persistence/api_key_store.hpp"

namespace osprey::persistence {
namespace {

constexpr const char* columns = "id, name, key_id, secret_hash, scope, created, expires, revoked, last_used";

api_key key_from(const sql_row& row) {
  api_key k;
  k.id = api_key_id{row.id(0)};
  k.name = row.text(1);
  k.key_id = row.text(2);
  k.secret_hash = row.text(3);
  // The table's CHECK allows only the three names; anything else reads as the narrowest scope.
  k.scope = parse_api_scope(row.text(4)).value_or(api_scope::read);
  k.created = row.time(5);
  k.expires = row.optional_time(6);
  k.revoked = row.optional_time(7);
  k.last_used = row.optional_time(8);
  return k;
}

sql_value optional_ts(const std::optional<timestamp>& t) { return t ? ts(*t) : null_value(); }

}  // namespace

void insert_api_key(sql_connection& conn, const api_key& k) {
  conn.execute(
      "INSERT INTO api_key (id, created, updated, name, key_id, secret_hash, scope, expires) "
      "VALUES ($1, $2, $2, $3, $4, $5, $6, $7)",
      {id(k.id), ts(k.created), text(k.name), text(k.key_id), text(k.secret_hash),
       text(std::string(to_string(k.scope))), optional_ts(k.expires)});
}

std::vector<api_key> list_api_keys(sql_connection& conn) {
  std::vector<api_key> out;
  for (const auto& row : conn.query(std::string("SELECT ") + columns + " FROM api_key ORDER BY created, name", {}))
    out.push_back(key_from(row));
  return out;
}

std::optional<api_key> find_api_key_by_key_id(sql_connection& conn, const std::string& key_id) {
  auto rows = conn.query(std::string("SELECT ") + columns + " FROM api_key WHERE key_id = $1", {text(key_id)});
  if (rows.empty()) return std::nullopt;
  return key_from(rows.front());
}

std::optional<api_key> revoke_api_key(sql_connection& conn, const std::string& name_or_id, timestamp now) {
  // The row id is compared as text: a name that is not a UUID must not make PostgreSQL fail the cast.
  auto rows = conn.query(
      std::string("SELECT ") + columns + " FROM api_key WHERE name = $1 OR key_id = $1 OR CAST(id AS VARCHAR) = $1",
      {text(name_or_id)});
  if (rows.empty()) return std::nullopt;
  auto k = key_from(rows.front());
  if (!k.revoked) {
    conn.execute("UPDATE api_key SET revoked = $2, updated = $2 WHERE id = $1", {id(k.id), ts(now)});
    k.revoked = now;
  }
  return k;
}

void touch_api_key(sql_connection& conn, const api_key_id& key, timestamp now) {
  conn.execute("UPDATE api_key SET last_used = $2 WHERE id = $1", {id(key), ts(now)});
}

}  // namespace osprey::persistence

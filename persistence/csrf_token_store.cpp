#include "persistence/csrf_token_store.hpp"

namespace osprey::persistence {
namespace {

constexpr const char* columns = "id, created, updated, token, client, expiration";

csrf_token token_from(const sql_row& row) {
  csrf_token t;
  t.id = csrf_token_id{row.id(0)};
  t.created = row.time(1);
  t.updated = row.time(2);
  t.token = row.text(3);
  t.client = row.text(4);
  t.expiration = row.time(5);
  return t;
}

}  // namespace

csrf_token put_csrf_token(sql_connection& conn, const csrf_token& t) {
  conn.execute(
      "INSERT INTO csrf_token (id, created, updated, token, client, expiration) VALUES ($1, $2, $3, $4, $5, $6) "
      "ON CONFLICT (client) DO UPDATE SET token = excluded.token, expiration = excluded.expiration, "
      "updated = excluded.updated",
      {id(t.id), ts(t.created), ts(t.updated), text(t.token), text(t.client), ts(t.expiration)});
  conn.execute("DELETE FROM csrf_token WHERE expiration < $1", {ts(t.updated)});
  auto rows = conn.query(std::string("SELECT ") + columns + " FROM csrf_token WHERE client = $1", {text(t.client)});
  return rows.empty() ? t : token_from(rows.front());
}

std::optional<csrf_token> find_csrf_token(sql_connection& conn, const std::string& client, timestamp now) {
  auto rows = conn.query(std::string("SELECT ") + columns + " FROM csrf_token WHERE client = $1 AND expiration > $2",
                         {text(client), ts(now)});
  if (rows.empty()) return std::nullopt;
  return token_from(rows.front());
}

}  // namespace osprey::persistence

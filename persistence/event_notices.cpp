#include "persistence/event_notices.hpp"

#include <nlohmann/json.hpp>

#include <utility>

#include "domain/json_text.hpp"

#include "persistence/postgres/postgres_listener.hpp"

namespace osprey::persistence {
namespace {

using nlohmann::json;

constexpr const char* notify_sql = "SELECT pg_notify($1, $2)";
/// One id in a payload's list: 36 characters, two quotes and a comma.
constexpr std::size_t id_bytes = 36 + 3;

json notice_json(std::string_view origin) {
  return json{{"origin", std::string(utf8_prefix(origin, max_origin_bytes))}, {"ids", json::array()}};
}

/// Invalid UTF-8 in an origin becomes U+FFFD rather than an exception in the writer's job.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::vector<std::string> event_notice_payloads(std::string_view origin, const std::vector<uuid>& ids) {
  std::vector<std::string> out;
  // The origin is dumped once without ids; each id then adds a fixed size, so a payload is filled by counting.
  const std::size_t empty_size = dump(notice_json(origin)).size();
  json current = notice_json(origin);
  std::size_t size = empty_size;
  for (const auto& id : ids) {
    if (size + id_bytes >= max_notice_bytes && !current["ids"].empty()) {
      out.push_back(dump(current));
      current = notice_json(origin);
      size = empty_size;
    }
    current["ids"].push_back(id.to_string());
    size += id_bytes;
  }
  if (!current["ids"].empty()) out.push_back(dump(current));
  return out;
}

std::optional<event_notice> parse_event_notice(std::string_view payload) {
  const auto j = json::parse(payload, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  const auto origin = j.find("origin");
  const auto ids = j.find("ids");
  if (origin == j.end() || !origin->is_string() || ids == j.end() || !ids->is_array()) return std::nullopt;
  event_notice notice{origin->get<std::string>(), {}};
  notice.ids.reserve(ids->size());
  for (const auto& id : *ids) {
    if (!id.is_string()) return std::nullopt;
    auto parsed = uuid::parse(id.get<std::string>());
    if (!parsed) return std::nullopt;
    notice.ids.push_back(*parsed);
  }
  return notice;
}

void announce_events(sql_connection& conn, std::string_view origin, const std::vector<uuid>& ids) {
  if (conn.dialect() != dialect::postgresql) return;
  for (auto& payload : event_notice_payloads(origin, ids))
    conn.query(notify_sql, {text(std::string(event_channel)), text(std::move(payload))});
}

result<std::unique_ptr<event_listener>> start_event_listener(const event_listener_options& options, std::string origin,
                                                             event_listener_callbacks callbacks) {
  if (options.target.dialect != dialect::postgresql)
    return status(errc::invalid_argument, "only PostgreSQL databases announce events to other servers");
  return start_postgres_listener(options, std::move(origin), std::move(callbacks));
}

}  // namespace osprey::persistence

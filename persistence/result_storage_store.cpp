#include "persistence/result_storage_store.hpp"

#include <nlohmann/json.hpp>

#include "domain/uuid.hpp"

namespace osprey::persistence {
namespace {

constexpr const char* storage_key = "server-default-result-storage";

}  // namespace

std::optional<block_document_id> default_result_storage(sql_connection& conn) {
  auto rows = conn.query("SELECT value FROM configuration WHERE key = $1", {text(storage_key)});
  if (rows.empty()) return std::nullopt;
  auto value = nlohmann::json::parse(rows.front().text(0), nullptr, false);
  if (!value.is_object() || !value.contains("default_result_storage_block_id") ||
      !value["default_result_storage_block_id"].is_string())
    return std::nullopt;
  auto id = uuid::parse(value["default_result_storage_block_id"].get<std::string>());
  if (!id) return std::nullopt;
  return block_document_id{*id};
}

status check_result_storage_block(sql_connection& conn, const block_document_id& document) {
  auto rows = conn.query(
      "SELECT bs.capabilities FROM block_document bd LEFT JOIN block_schema bs ON bs.id = bd.block_schema_id "
      "WHERE bd.id = $1",
      {id(document)});
  if (rows.empty()) return status(errc::not_found, "Block document " + document.to_string() + " not found.");
  bool writes = false;
  if (!rows.front().is_null(0)) {
    auto capabilities = nlohmann::json::parse(rows.front().text(0), nullptr, false);
    if (capabilities.is_array())
      for (const auto& c : capabilities) writes = writes || c == "write-path";
  }
  if (!writes)
    return status(errc::invalid_argument,
                  "Block document " + document.to_string() + " cannot be used for result storage.");
  return status::ok();
}

void set_default_result_storage(sql_connection& conn, const block_document_id& document, timestamp now) {
  const auto value = nlohmann::json{{"default_result_storage_block_id", document.to_string()}}.dump();
  conn.execute(
      "INSERT INTO configuration (id, created, updated, key, value) VALUES ($1, $2, $2, $3, $4) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
      {id(new_uuid4()), ts(now), text(storage_key), text(value)});
}

void clear_default_result_storage(sql_connection& conn) {
  conn.execute("DELETE FROM configuration WHERE key = $1", {text(storage_key)});
}

void clear_default_result_storage_for(sql_connection& conn, const block_document_id& document) {
  if (default_result_storage(conn) == document) clear_default_result_storage(conn);
}

void clear_default_result_storage_for(sql_connection& conn, const block_schema_id& schema) {
  auto current = default_result_storage(conn);
  if (!current) return;
  if (!conn.query("SELECT 1 FROM block_document WHERE id = $1 AND block_schema_id = $2", {id(*current), id(schema)})
           .empty())
    clear_default_result_storage(conn);
}

void clear_default_result_storage_for(sql_connection& conn, const block_type_id& type) {
  auto current = default_result_storage(conn);
  if (!current) return;
  if (!conn.query("SELECT 1 FROM block_document WHERE id = $1 AND block_type_id = $2", {id(*current), id(type)})
           .empty())
    clear_default_result_storage(conn);
}

}  // namespace osprey::persistence

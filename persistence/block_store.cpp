// Block types and block schemas (block_document_store.cpp holds the documents).
#include "persistence/block_store.hpp"

#include <functional>

#include "domain/block_checksum.hpp"
#include "persistence/block_sql.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/result_storage_store.hpp"

namespace osprey::persistence {
namespace {

using nlohmann::json;
using namespace block_sql;

sql_value optional_value(const std::optional<std::string>& s) { return s ? text(*s) : null_value(); }

std::string schema_columns(const std::string& a) {
  return a + ".id, " + a + ".created, " + a + ".updated, " + a + ".checksum, " + a + ".fields, " + a +
         ".capabilities, " + a + ".version, " + a + ".block_type_id";
}

/// Reads a row of schema_columns("bs") followed by type_columns("bt").
stored_block_schema schema_from(const sql_row& row) {
  stored_block_schema out;
  auto& s = out.schema;
  s.id = block_schema_id{row.id(0)};
  s.created = row.time(1);
  s.updated = row.time(2);
  s.checksum = row.text(3);
  s.fields = json::parse(row.text(4), nullptr, false);
  if (s.fields.is_discarded()) s.fields = json::object();
  const auto caps = json::parse(row.text(5), nullptr, false);
  if (caps.is_array())
    for (const auto& c : caps)
      if (c.is_string()) s.capabilities.push_back(c.get<std::string>());
  s.version = row.text(6);
  s.type = block_type_id{row.id(7)};
  out.type = type_from(row, 8);
  return out;
}

std::string schema_select() {
  return "SELECT " + schema_columns("bs") + ", " + type_columns("bt") +
         " FROM block_schema bs JOIN block_type bt ON bt.id = bs.block_type_id";
}

std::optional<stored_block_schema> first_schema(const std::vector<sql_row>& rows) {
  if (rows.empty()) return std::nullopt;
  return schema_from(rows[0]);
}

/// Prefect's _get_fields_for_child_schema: the definition the parent's property `name` refers to (the one of
/// `slug` when it refers to several).
std::optional<json> child_definition(const json& fields, const json& definitions, const std::string& name,
                                     const std::string& slug) {
  const auto props = fields.find("properties");
  if (props == fields.end() || !props->is_object() || !props->contains(name)) return std::nullopt;
  std::vector<std::string> keys;
  std::function<void(const json&)> collect = [&](const json& v) {
    if (v.is_object()) {
      if (auto r = v.find("$ref"); r != v.end() && r->is_string()) {
        auto key = r->get<std::string>();
        if (key.starts_with("#/definitions/")) key.erase(0, 14);
        keys.push_back(key);
      }
      for (const auto& [k, child] : v.items()) collect(child);
    } else if (v.is_array()) {
      for (const auto& child : v) collect(child);
    }
  };
  collect((*props)[name]);
  for (const auto& key : keys) {
    auto def = definitions.find(key);
    if (def == definitions.end() || !def->is_object()) continue;
    if (keys.size() == 1 || def->value("block_type_slug", json()) == json(slug)) return *def;
  }
  return std::nullopt;
}

created_block_schema create_schema(sql_connection& conn, const block_schema_input& input, timestamp now,
                                   const json& inherited_definitions);

void register_reference(sql_connection& conn, const block_schema_id& parent, const std::string& name, const json& ref,
                        const json& fields, const json& definitions, timestamp now) {
  const auto slug = ref.value("block_type_slug", std::string());
  const auto checksum = ref.value("block_schema_checksum", std::string());
  auto type = find_block_type_by_slug(conn, slug);
  if (!type)
    throw refusal(errc::conflict, "Cannot create block schema because block type '" + slug +
                                      "' was not found.Did you forget to register the block type?");
  auto child = find_block_schema_by_checksum(conn, checksum, std::nullopt);
  if (!child) {
    if (!definitions.is_object() || definitions.empty())
      throw refusal(errc::invalid_argument,
                    "Unable to create nested block schema due to missing definitions in root block schema fields");
    auto child_fields = child_definition(fields, definitions, name, slug);
    if (!child_fields)
      throw refusal(errc::invalid_argument, "Unable to create nested block schema for block type '" + type->name +
                                                "' due to missing definition.");
    block_schema_input nested;
    nested.fields = *child_fields;
    nested.type = type->id;
    child = create_schema(conn, nested, now, definitions).stored;
  }
  const auto exists = conn.query(
      "SELECT 1 FROM block_schema_reference WHERE name = $1 AND parent_block_schema_id = $2 AND "
      "reference_block_schema_id = $3",
      {text(name), id(parent), id(child->schema.id)});
  if (!exists.empty()) return;
  conn.execute(
      "INSERT INTO block_schema_reference (id, created, updated, name, parent_block_schema_id, "
      "reference_block_schema_id) VALUES ($1, $2, $2, $3, $4, $5)",
      {id(new_uuid4()), ts(now), text(name), id(parent), id(child->schema.id)});
}

created_block_schema create_schema(sql_connection& conn, const block_schema_input& input, timestamp now,
                                   const json& inherited_definitions) {
  json fields = input.fields.is_object() ? input.fields : json::object();
  json definitions = inherited_definitions;
  if (!definitions.is_object() || definitions.empty()) definitions = fields.value("definitions", json::object());
  json for_checksum = fields;
  if (definitions.is_object() && !definitions.empty()) for_checksum["definitions"] = definitions;
  const auto checksum = block_schema_checksum(for_checksum);
  if (auto existing = find_block_schema_by_checksum(conn, checksum, input.version))
    return {std::move(*existing), false};

  // Stored: the fields with the definitions they refer to (the nested blocks' too), as Prefect reads them back.
  fields.erase("definitions");
  if (definitions.is_object() && !definitions.empty()) {
    auto used = referenced_definitions(fields, definitions);
    if (!used.empty()) fields["definitions"] = std::move(used);
  }
  block_schema s;
  s.id = block_schema_id{new_uuid4()};
  s.created = s.updated = now;
  s.checksum = checksum;
  s.fields = fields;
  s.type = input.type;
  s.capabilities = input.capabilities;
  s.version = input.version;
  conn.execute(
      "INSERT INTO block_schema (id, created, updated, checksum, fields, capabilities, version, block_type_id) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      {id(s.id), ts(s.created), ts(s.updated), text(s.checksum), text(s.fields.dump()),
       text(json(s.capabilities).dump()), text(s.version), id(s.type)});
  if (auto refs = fields.find("block_schema_references"); refs != fields.end() && refs->is_object()) {
    for (const auto& [name, value] : refs->items()) {
      if (value.is_array()) {
        for (const auto& ref : value)
          if (ref.is_object()) register_reference(conn, s.id, name, ref, fields, definitions, now);
      } else if (value.is_object()) {
        register_reference(conn, s.id, name, value, fields, definitions, now);
      }
    }
  }
  auto stored = find_block_schema(conn, s.id);
  // Cannot be missing: inserted above in this transaction.
  if (!stored) throw refusal(errc::internal, "a block schema vanished while it was created");
  return {std::move(*stored), true};
}

}  // namespace

// ---- block types ----

void insert_block_type(sql_connection& conn, const block_type& t) {
  conn.execute(
      "INSERT INTO block_type (id, created, updated, name, slug, logo_url, documentation_url, description, "
      "code_example, is_protected) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
      {id(t.id), ts(t.created), ts(t.updated), text(t.name), text(t.slug), optional_value(t.logo_url),
       optional_value(t.documentation_url), optional_value(t.description), optional_value(t.code_example),
       boolean(t.is_protected)});
}

std::optional<block_type> find_block_type(sql_connection& conn, const block_type_id& type) {
  auto rows = conn.query("SELECT " + type_columns("bt") + " FROM block_type bt WHERE bt.id = $1", {id(type)});
  if (rows.empty()) return std::nullopt;
  return type_from(rows[0], 0);
}

std::optional<block_type> find_block_type_by_slug(sql_connection& conn, const std::string& slug) {
  auto rows = conn.query("SELECT " + type_columns("bt") + " FROM block_type bt WHERE bt.slug = $1", {text(slug)});
  if (rows.empty()) return std::nullopt;
  return type_from(rows[0], 0);
}

std::vector<block_type> list_block_types(sql_connection& conn, const block_type_filter& types,
                                         const std::optional<block_schema_filter>& schemas, std::int64_t limit,
                                         std::int64_t offset) {
  sql_params params;
  std::string sql = "SELECT " + type_columns("bt") + " FROM block_type bt WHERE " +
                    type_condition(conn.dialect(), types, "bt", params);
  if (schemas)
    sql += " AND EXISTS (SELECT 1 FROM block_schema bs WHERE bs.block_type_id = bt.id AND " +
           schema_condition(conn.dialect(), *schemas, "bs", params) + ")";
  sql += " ORDER BY bt.name, bt.id LIMIT " + bind(params, integer(limit)) + " OFFSET " + bind(params, integer(offset));
  std::vector<block_type> out;
  for (const auto& row : conn.query(sql, params)) out.push_back(type_from(row, 0));
  return out;
}

void update_block_type(sql_connection& conn, const block_type& t) {
  conn.execute(
      "UPDATE block_type SET logo_url = $2, documentation_url = $3, description = $4, code_example = $5, "
      "is_protected = $6, updated = $7 WHERE id = $1",
      {id(t.id), optional_value(t.logo_url), optional_value(t.documentation_url), optional_value(t.description),
       optional_value(t.code_example), boolean(t.is_protected), ts(t.updated)});
}

void delete_block_type(sql_connection& conn, const block_type_id& type) {
  clear_default_result_storage_for(conn, type);
  conn.execute("DELETE FROM block_type WHERE id = $1", {id(type)});
}

// ---- block schemas ----

std::optional<stored_block_schema> find_block_schema(sql_connection& conn, const block_schema_id& schema) {
  return first_schema(conn.query(schema_select() + " WHERE bs.id = $1", {id(schema)}));
}

std::optional<stored_block_schema> find_block_schema_by_checksum(sql_connection& conn, const std::string& checksum,
                                                                 const std::optional<std::string>& version) {
  if (version)
    return first_schema(conn.query(schema_select() + " WHERE bs.checksum = $1 AND bs.version = $2 "
                                                     "ORDER BY bs.created DESC LIMIT 1",
                                   {text(checksum), text(*version)}));
  return first_schema(
      conn.query(schema_select() + " WHERE bs.checksum = $1 ORDER BY bs.created DESC LIMIT 1", {text(checksum)}));
}

created_block_schema create_block_schema(sql_connection& conn, const block_schema_input& input, timestamp now) {
  return create_schema(conn, input, now, json());
}

std::vector<stored_block_schema> list_block_schemas(sql_connection& conn, const block_schema_filter& filter,
                                                    std::int64_t limit, std::int64_t offset) {
  sql_params params;
  std::string sql = schema_select() + " WHERE " + schema_condition(conn.dialect(), filter, "bs", params) +
                    " ORDER BY bs.created DESC, bs.id LIMIT " + bind(params, integer(limit)) + " OFFSET " +
                    bind(params, integer(offset));
  std::vector<stored_block_schema> out;
  for (const auto& row : conn.query(sql, params)) out.push_back(schema_from(row));
  return out;
}

void delete_block_schema(sql_connection& conn, const block_schema_id& schema) {
  clear_default_result_storage_for(conn, schema);
  conn.execute("DELETE FROM block_schema WHERE id = $1", {id(schema)});
}

std::vector<std::string> block_capabilities(sql_connection& conn) {
  const auto sql =
      conn.dialect() == dialect::postgresql
          ? "SELECT DISTINCT jsonb_array_elements_text(capabilities) FROM block_schema ORDER BY 1"
          : "SELECT DISTINCT c.value FROM block_schema, json_each(block_schema.capabilities) AS c ORDER BY 1";
  std::vector<std::string> out;
  for (const auto& row : conn.query(sql)) out.push_back(row.text(0));
  return out;
}

}  // namespace osprey::persistence

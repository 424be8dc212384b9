#pragma once
// Block types, block schemas and block documents (tables block_type, block_schema, block_schema_reference,
// block_document, block_document_reference). Run on a connection the caller owns, inside the caller's
// transaction; throw sql_error, and `refusal` for outcomes that must undo what the job wrote.
//
// Schemas are stored with their fields as the client sent them (block_schema_references and the definitions
// their fields refer to included), so a read answers what Prefect reconstructs from its reference rows; the
// nested schemas and block_schema_reference rows are still created as Prefect does, since they are what ties
// a schema to the types it embeds.
//
// Documents: secret values (domain/block_secrets.hpp secret_roots of the document's schema) are sealed with the
// secret_box before they are written and opened after they are read; nothing else in this file sees them in
// plain text, and no error message carries a value.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/block.hpp"
#include "persistence/secret_box.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

// ---- filters (Prefect's BlockTypeFilter, BlockSchemaFilter, BlockDocumentFilter) ----

struct block_type_filter {
  std::optional<std::string> name_like;  ///< case-insensitive substring
  std::optional<std::vector<std::string>> slug_any;
};

struct block_schema_filter {
  bool any_of = false;  ///< operator or_ (default and_)
  std::optional<std::vector<uuid>> block_type_id_any;
  std::optional<std::vector<std::string>> capabilities_all;
  std::optional<std::vector<uuid>> id_any;
  std::optional<std::vector<std::string>> version_any;
};

struct block_document_filter {
  bool any_of = false;
  std::optional<std::vector<uuid>> id_any;
  std::optional<bool> is_anonymous = false;  ///< Prefect's default hides anonymous documents; nullopt: both
  std::optional<std::vector<uuid>> block_type_id_any;
  std::optional<std::vector<std::string>> name_any;
  std::optional<std::string> name_like;  ///< SQL wildcards % and _ allowed, as Prefect
};

enum class block_document_sort { name_asc, name_desc, block_type_and_name_asc };

// ---- block types ----

/// Throws sql_error kind constraint when the slug is taken.
void insert_block_type(sql_connection& conn, const block_type& t);
std::optional<block_type> find_block_type(sql_connection& conn, const block_type_id& id);
std::optional<block_type> find_block_type_by_slug(sql_connection& conn, const std::string& slug);
/// By name; the types having a schema that matches `schemas` when given.
std::vector<block_type> list_block_types(sql_connection& conn, const block_type_filter& types,
                                         const std::optional<block_schema_filter>& schemas, std::int64_t limit,
                                         std::int64_t offset);
/// Writes the metadata columns (logo_url, documentation_url, description, code_example, is_protected, updated).
void update_block_type(sql_connection& conn, const block_type& t);
void delete_block_type(sql_connection& conn, const block_type_id& id);

// ---- block schemas ----

/// A schema with the type it belongs to (Prefect answers both).
struct stored_block_schema {
  block_schema schema;
  block_type type;
};

std::optional<stored_block_schema> find_block_schema(sql_connection& conn, const block_schema_id& id);
/// The newest schema with this checksum (and version, when given).
std::optional<stored_block_schema> find_block_schema_by_checksum(sql_connection& conn, const std::string& checksum,
                                                                 const std::optional<std::string>& version);

struct block_schema_input {
  nlohmann::json fields = nlohmann::json::object();
  block_type_id type;
  std::vector<std::string> capabilities;
  std::string version = default_block_schema_version;
};

struct created_block_schema {
  stored_block_schema stored;
  bool created = false;  ///< false: a schema with the same checksum and version was there already
};

/// Creates the schema (checksum computed from its fields) and the nested schemas its block_schema_references
/// name, or returns the stored one with the same checksum and version. The type must exist. Throws refusal:
/// conflict when a referenced block type is missing, invalid_argument when a nested schema has no definition.
created_block_schema create_block_schema(sql_connection& conn, const block_schema_input& input, timestamp now);
/// Newest first.
std::vector<stored_block_schema> list_block_schemas(sql_connection& conn, const block_schema_filter& filter,
                                                    std::int64_t limit, std::int64_t offset);
void delete_block_schema(sql_connection& conn, const block_schema_id& id);
/// Every capability some schema declares, each once.
std::vector<std::string> block_capabilities(sql_connection& conn);

/// Registers the system block types and schemas of catalog.json (persistence/system_blocks.hpp): types by slug
/// (inserted, or their metadata brought up to date), then their schemas by checksum and version. Idempotent;
/// returns how many types and schemas it wrote.
std::pair<std::size_t, std::size_t> register_system_blocks(sql_connection& conn, const nlohmann::json& catalog,
                                                           timestamp now);

// ---- block documents ----

/// A document as answered: data with its references' data nested in (obfuscated unless secrets were asked
/// for), its schema and type, and Prefect's block_document_references record.
struct full_block_document {
  block_document doc;
  stored_block_schema schema;
  nlohmann::json references = nlohmann::json::object();
};

struct block_document_query {
  block_document_filter documents;
  std::optional<block_type_filter> types;
  std::optional<block_schema_filter> schemas;
  bool include_secrets = false;
  block_document_sort sort = block_document_sort::name_asc;
  std::optional<std::int64_t> limit;
  std::int64_t offset = 0;
};

std::vector<full_block_document> read_block_documents(sql_connection& conn, const secret_box& box,
                                                      const block_document_query& q);
std::int64_t count_block_documents(sql_connection& conn, const block_document_query& q);
std::optional<full_block_document> find_block_document(sql_connection& conn, const secret_box& box,
                                                       const block_document_id& id, bool include_secrets);
/// True when a document of this type has this name.
bool block_document_name_taken(sql_connection& conn, const block_type_id& type, const std::string& name);

/// Inserts `d` (data without references, in plain text: sealed here) and its references. Throws refusal
/// invalid_argument when a reference names no document or would form a cycle.
void insert_block_document(sql_connection& conn, const secret_box& box, const block_document& d,
                           const std::vector<block_reference>& refs, timestamp now);

struct block_document_update {
  std::optional<block_schema_id> schema;  ///< move the document to this schema (same type)
  std::optional<nlohmann::json> data;     ///< nullopt: data and references stay as they are
  bool merge_existing_data = true;
};

/// Prefect's update_block_document: obfuscated secrets sent back keep their stored value, data merges into the
/// stored data (top-level keys) unless merge_existing_data is false, references are replaced by those in the
/// data. False when there is no such document. Throws refusal invalid_argument (schema of another type,
/// unknown schema or reference, cycle).
bool update_block_document(sql_connection& conn, const secret_box& box, const block_document_id& id,
                           const block_document_update& change, timestamp now);
bool delete_block_document(sql_connection& conn, const block_document_id& id);

}  // namespace osprey::persistence

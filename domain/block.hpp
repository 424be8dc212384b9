#pragma once
// Prefect's blocks as pure data and rules: block types (a kind of configuration, e.g. "secret"), block schemas
// (the JSON schema of one version of a type, identified by checksum) and block documents (saved configuration
// values, possibly referencing other documents). Name rules and reference extraction follow Prefect 3.9.1
// (prefect/types/names.py, server/models/block_documents.py). No I/O.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/field_problem.hpp"
#include "domain/status.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

using block_type_id = typed_id<struct block_type_tag>;
using block_schema_id = typed_id<struct block_schema_tag>;
using block_document_id = typed_id<struct block_document_tag>;

/// The version a schema gets when its create request names none (Prefect's DEFAULT_BLOCK_SCHEMA_VERSION).
inline constexpr const char* default_block_schema_version = "non-versioned";

struct block_type {
  block_type_id id;
  timestamp created;
  timestamp updated;
  std::string name;
  std::string slug;
  std::optional<std::string> logo_url;
  std::optional<std::string> documentation_url;
  std::optional<std::string> description;   ///< stored HTML-escaped, as Prefect inserts it
  std::optional<std::string> code_example;  ///< stored HTML-escaped
  bool is_protected = false;                ///< system types: neither they nor their schemas can be deleted
};

struct block_schema {
  block_schema_id id;
  timestamp created;
  timestamp updated;
  std::string checksum;                              ///< "sha256:<hex>" of the fields (domain/block_checksum.hpp)
  nlohmann::json fields = nlohmann::json::object();  ///< the JSON schema, with block_schema_references
  block_type_id type;
  std::vector<std::string> capabilities;
  std::string version = default_block_schema_version;
};

/// A saved block. `data` never holds references: those are their own rows (block_document_reference).
struct block_document {
  block_document_id id;
  timestamp created;
  timestamp updated;
  std::string name;
  nlohmann::json data = nlohmann::json::object();
  bool is_anonymous = false;
  std::optional<std::string> block_type_name;
  block_type_id type;
  block_schema_id schema;
};

/// A field of a document's data that names another document: {"key": {"$ref": {"block_document_id": id}}}.
struct block_reference {
  std::string name;
  block_document_id target;
};

/// Prefect's Name: not empty and none of / % & > <. nullopt when valid.
std::optional<field_problem> check_name(const std::string& field, const std::string& value);
/// A block type slug: lowercase letters, digits and dashes only (may be empty, as Prefect allows).
std::optional<field_problem> check_block_type_slug(const std::string& value);
/// A block document name: a Name of lowercase letters, digits and dashes.
std::optional<field_problem> check_block_document_name(const std::string& value);

/// True for names reserved to system types: those beginning with "prefect", in any case.
bool is_reserved_block_type_name(const std::string& name);

/// Python's html.escape(s, quote=False): & < > become entities (Prefect escapes description and code_example
/// when it creates a block type).
std::string html_escape(const std::string& s);

/// The schema's secret_fields ("value", "child.password", "headers.*"); empty when it declares none.
std::vector<std::string> secret_fields_of(const nlohmann::json& schema_fields);

/// Splits document data into its plain part and its references (Prefect's
/// _separate_block_references_from_data: only top-level keys whose value is an object with "$ref"). A
/// reference without a block_document_id UUID is refused (invalid_argument, Prefect's message).
result<std::pair<nlohmann::json, std::vector<block_reference>>> split_references(const nlohmann::json& data);

}  // namespace osprey

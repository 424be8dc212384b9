#pragma once
// The checksum that identifies a block schema, computed as Prefect 3.9.1's Block._calculate_schema_checksum
// does, so a client looking its class's schema up by checksum finds what Osprey stored:
//   fields without any "secret_fields" key (at any depth of objects), "definitions" cut down to the
//   non-block definitions the fields refer to (dropped when none), serialised as Python's
//   json.dumps([[fields], {}], sort_keys=True) and hashed with SHA-256 → "sha256:<hex>".

#include <string>

#include <nlohmann/json.hpp>

namespace osprey {

/// Python's json.dumps(value, sort_keys=True) with its default separators (", ", ": ") and ensure_ascii:
/// non-ASCII as \uXXXX (surrogate pairs above U+FFFF), floats as Python's repr.
std::string python_json_text(const nlohmann::json& value);

/// The definitions `object` refers to ("$ref": "#/definitions/<key>", transitively) that are not blocks (no
/// block_type_slug) and not empty (Prefect's _get_non_block_reference_definitions).
nlohmann::json non_block_definitions(const nlohmann::json& object, const nlohmann::json& definitions);

/// The definitions `object` refers to, transitively, blocks included.
nlohmann::json referenced_definitions(const nlohmann::json& object, const nlohmann::json& definitions);

/// "sha256:<hex>" of a block schema's fields.
std::string block_schema_checksum(const nlohmann::json& fields);

}  // namespace osprey

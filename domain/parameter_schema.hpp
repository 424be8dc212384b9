#pragma once
// Checks a flow run's parameters against its deployment's parameter_openapi_schema, the JSON Schema Prefect's
// client builds from the flow's signature. What is checked: `required`, `type` (string, integer, number,
// boolean, array, object, null; a list of types), `enum`, `const`, `properties`, `items`, `anyOf` / `oneOf` /
// `allOf` and local `$ref`s (#/definitions/..., #/$defs/...). What is not: formats (date-time, uuid, ...),
// string/number bounds (minLength, maximum, pattern, ...), additionalProperties, and anything else; a schema
// part Osprey does not understand accepts the value. The messages follow Prefect's ("Validation failed for
// field 'x'. Failure reason: 'a' is not of type 'integer'"; a quoted value is cut after 1000 bytes, with
// "..."). The work is bounded (32 levels of nesting and $ref, 100,000 steps): what lies beyond is accepted
// unchecked, so no schema can make a check slow. Pure and thread-safe.

#include <nlohmann/json.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace osprey {

/// nullopt when `parameters` satisfy `schema`; else Prefect's message for the first failure found.
/// `ignore_required`: skip `required` everywhere (Prefect does so when a deployment's default parameters
/// are checked on update).
std::optional<std::string> check_parameters(const nlohmann::json& parameters, const nlohmann::json& schema,
                                            bool ignore_required = false);

/// A step from a value's root: an object key or an array index.
using schema_path_part = std::variant<std::string, std::size_t>;

/// One failure as Python's jsonschema reports it: where (from the checked value's root), the keyword that
/// failed ("type", "required", "enum", "const", "anyOf", "oneOf"; "_placeholders" for a value that could not be
/// hydrated) and jsonschema's message ("'a' is not of type 'integer'").
struct schema_failure {
  std::vector<schema_path_part> path;
  std::string validator;
  std::string message;
};

/// Every failure of `values` against `schema` (what `check_parameters` stops at the first of), in the order the
/// schema's keywords are checked. Same coverage and bounds as check_parameters.
std::vector<schema_failure> schema_failures(const nlohmann::json& values, const nlohmann::json& schema);

/// Prefect's preprocess_schema, which the UI's form validation applies first: an optional property (not in its
/// object's `required`) with a `type` other than "null" and no `default` also accepts null (its `type` becomes
/// anyOf [type, null]); a list-valued `items` becomes `prefixItems`; nested properties and `definitions` are
/// treated the same. A definition of a block type (with `block_type_slug`) may also be given as a reference
/// object {"$ref": ...}.
nlohmann::json preprocess_parameter_schema(nlohmann::json schema);

/// Prefect's answer to POST /ui/schemas/validate (build_error_obj): {"errors": [...], "valid": bool}, where an
/// error at the root is its message, and one below it is nested as {"property": key, "errors": [...]} or
/// {"index": i, "errors": [...]}; a `required` failure sits under the missing property. Where a path has a
/// "_placeholders" failure, only those are kept for it.
nlohmann::json validation_report(const std::vector<schema_failure>& failures);

}  // namespace osprey

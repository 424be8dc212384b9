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
#include <optional>
#include <string>

namespace osprey {

/// nullopt when `parameters` satisfy `schema`; else Prefect's message for the first failure found.
/// `ignore_required`: skip `required` everywhere (Prefect does so when a deployment's default parameters
/// are checked on update).
std::optional<std::string> check_parameters(const nlohmann::json& parameters, const nlohmann::json& schema,
                                            bool ignore_required = false);

}  // namespace osprey

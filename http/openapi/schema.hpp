#pragma once
// Small builders for the JSON Schemas of GET /api/openapi.json (OpenAPI 3.1 uses JSON Schema 2020-12), so the
// component tables read as field lists. Every helper returns a fresh nlohmann::json; none throws.

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace osprey::http::openapi {

using nlohmann::json;

inline json of_type(const char* type) { return {{"type", type}}; }
inline json text() { return of_type("string"); }
inline json integer() { return of_type("integer"); }
inline json number() { return of_type("number"); }
inline json boolean() { return of_type("boolean"); }
/// Any JSON object (its keys are the caller's: parameters, job variables, payloads).
inline json any_object() { return of_type("object"); }
/// Any JSON value at all.
inline json anything() { return json::object(); }
inline json uuid() { return {{"type", "string"}, {"format", "uuid"}}; }
inline json date_time() { return {{"type", "string"}, {"format", "date-time"}}; }
inline json ref_to(const std::string& component) { return {{"$ref", "#/components/schemas/" + component}}; }
inline json array_of(json items) { return {{"type", "array"}, {"items", std::move(items)}}; }
inline json map_of(json values) { return {{"type", "object"}, {"additionalProperties", std::move(values)}}; }
inline json one_of_strings(std::initializer_list<const char*> values) { return {{"type", "string"}, {"enum", values}}; }
/// `schema` or JSON null.
inline json nullable(json schema) { return {{"anyOf", {std::move(schema), {{"type", "null"}}}}}; }

/// An object with these properties, of which `required` must be present. Other keys are allowed unless
/// `closed`: the answers carry what Prefect's carry, and a newer field must not break a reader.
inline json object_of(std::initializer_list<std::pair<const char*, json>> properties,
                      std::vector<std::string> required = {}, bool closed = false) {
  json props = json::object();
  for (const auto& [name, schema] : properties) props[name] = schema;
  json schema = {{"type", "object"}, {"properties", std::move(props)}};
  if (!required.empty()) schema["required"] = std::move(required);
  if (closed) schema["additionalProperties"] = false;
  return schema;
}

/// Adds `more` properties (and required names) to an object schema built by object_of.
inline json extended(json base, std::initializer_list<std::pair<const char*, json>> more,
                     std::vector<std::string> required = {}) {
  for (const auto& [name, schema] : more) base["properties"][name] = schema;
  for (auto& name : required) base["required"].push_back(std::move(name));
  return base;
}

/// The components of the document: every schema an operation refers to by name (component_schemas()).
/// Each part of the API fills its own section; document.cpp calls them all.
void add_run_schemas(json& schemas);         // schemas_runs.cpp
void add_deployment_schemas(json& schemas);  // schemas_deployments.cpp
void add_block_schemas(json& schemas);       // schemas_blocks.cpp
void add_other_schemas(json& schemas);       // schemas_other.cpp

/// Every component schema, keyed by name ("Flow", "FlowRun", ...) (document.cpp).
[[nodiscard]] json component_schemas();

}  // namespace osprey::http::openapi

#include "http/openapi/document.hpp"

#include <cctype>
#include <string>

#include "domain/version.hpp"
#include "http/openapi/operations.hpp"
#include "http/openapi/schema.hpp"

namespace osprey::http::openapi {

json component_schemas() {
  json schemas = json::object();
  add_run_schemas(schemas);
  add_deployment_schemas(schemas);
  add_block_schemas(schemas);
  add_other_schemas(schemas);
  return schemas;
}

namespace {

// A path parameter's schema: ids are UUIDs (Prefect's routes declare them so), the rest strings.
json path_parameter(const std::string& name) {
  return {{"name", name},
          {"in", "path"},
          {"required", true},
          {"schema", name == "id" || name.ends_with("_id") ? uuid() : text()}};
}

/// Splits "a b c" on single spaces.
std::vector<std::string_view> words(std::string_view list) {
  std::vector<std::string_view> out;
  while (!list.empty()) {
    const auto space = list.find(' ');
    out.push_back(list.substr(0, space));
    if (space == std::string_view::npos) break;
    list.remove_prefix(space + 1);
  }
  return out;
}

json query_parameter(std::string_view declared) {
  const auto colon = declared.find(':');
  std::string_view name = declared.substr(0, colon);
  const bool required = name.ends_with('!');
  if (required) name.remove_suffix(1);
  return {{"name", std::string(name)},
          {"in", "query"},
          {"required", required},
          {"schema", schema_of(declared.substr(colon + 1))}};
}

json success_response(std::string_view status, const operation_doc& doc) {
  if (status == "101") return {{"description", "A WebSocket upgrade (a plain GET is refused with 426)"}};
  json response = {{"description", status == "201" ? "Created" : status == "204" ? "No content" : "Success"}};
  if (doc.response.empty() || status == "204") return response;
  const bool is_json = doc.response.find('/') == std::string_view::npos;
  response["content"] = {
      {is_json ? "application/json" : std::string(doc.response), {{"schema", schema_of(doc.response)}}}};
  return response;
}

json describe_operation(const router::route& r) {
  json op = {{"summary", r.summary}, {"operationId", r.method + " " + r.path_template}};
  json parameters = json::array();
  for (const auto& segment : r.segments)
    if (segment.size() > 2 && segment.front() == '{' && segment.back() == '}')
      parameters.push_back(path_parameter(segment.substr(1, segment.size() - 2)));
  const operation_doc* doc = find_operation(r.method, r.path_template);
  if (doc != nullptr)
    for (const auto declared : words(doc->query)) parameters.push_back(query_parameter(declared));
  if (!parameters.empty()) op["parameters"] = parameters;
  json responses = json::object();
  if (doc != nullptr) {
    if (!doc->body.empty())
      op["requestBody"] = {{"required", false},
                           {"content", {{"application/json", {{"schema", schema_of(doc->body)}}}}}};
    for (const auto status : words(doc->success)) responses[std::string(status)] = success_response(status, *doc);
  } else {
    responses["2XX"] = {{"description", "Success"}};
  }
  const json error_body = {{"application/json", {{"schema", ref_to("Error")}}}};
  responses["4XX"] = {{"description", "Refused: the detail says why"}, {"content", error_body}};
  responses["5XX"] = {{"description", "The server could not answer (503: database unavailable)"},
                      {"content", error_body}};
  op["responses"] = std::move(responses);
  return op;
}

}  // namespace

json describe(const router& routes) {
  json paths = json::object();
  for (const auto& r : routes.routes()) {
    std::string method = r.method;
    for (auto& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    paths[r.path_template][method] = describe_operation(r);
  }
  return {{"openapi", "3.1.0"},
          {"info", {{"title", "Osprey"}, {"version", osprey_version}, {"x-prefect-api-version", prefect_api_version}}},
          {"paths", std::move(paths)},
          {"components", {{"schemas", component_schemas()}}}};
}

}  // namespace osprey::http::openapi

#include "http/openapi/document.hpp"

#include <algorithm>
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
  // Prefect serializes these answers whole (Pydantic writes every field, null or not), and clients read fields
  // without checking they exist: every property listed is required.
  for (const char* name : {"Flow",
                           "FlowRun",
                           "TaskRun",
                           "UITaskRun",
                           "State",
                           "StateDetails",
                           "Log",
                           "DeploymentResponse",
                           "DeploymentSchedule",
                           "WorkPool",
                           "WorkQueue",
                           "Worker",
                           "BlockType",
                           "BlockSchema",
                           "BlockDocument",
                           "Variable",
                           "Artifact",
                           "ArtifactCollection",
                           "ConcurrencyLimit",
                           "GlobalConcurrencyLimitResponse",
                           "ConcurrencyLimitV2",
                           "SavedSearch",
                           "Automation",
                           "ReceivedEvent",
                           "FlowRunInput",
                           "WorkQueueStatusDetail"}) {
    json& schema = schemas[name];
    schema["required"] = json::array();
    for (const auto& [property, ignored] : schema["properties"].items()) schema["required"].push_back(property);
  }
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

/// The field of a created object that fills `capture` in the routes under its collection.
std::string_view field_for(std::string_view capture) {
  if (capture == "id" || capture == "id_or_name") return "id";
  if (capture == "name" || capture == "queue" || capture == "worker_name") return "name";
  if (capture == "key") return "key";
  return {};
}

/// OpenAPI links from a route that creates an object (POST or PUT on a collection, answering one component) to
/// the routes under that collection, whose first capture the created object's field fills (the rest of the
/// creating route's own captures carry over): how schemathesis's stateful phase reads, updates and deletes
/// what it created instead of guessing ids.
json links_of(const router& routes, const router::route& creator) {
  json links = json::object();
  const operation_doc* doc = find_operation(creator.method, creator.path_template);
  if ((creator.method != "POST" && creator.method != "PUT") || doc == nullptr || doc->response.empty() ||
      doc->response.find_first_of("[?/") != std::string_view::npos || !std::isupper(doc->response.front()))
    return links;
  const auto& base = creator.segments;
  for (const auto& r : routes.routes()) {
    if (r.segments.size() <= base.size() || !std::equal(base.begin(), base.end(), r.segments.begin())) continue;
    const std::string& first = r.segments[base.size()];
    if (first.size() < 3 || first.front() != '{') continue;
    const auto field = field_for(std::string_view(first).substr(1, first.size() - 2));
    if (field.empty()) continue;
    json parameters = {{first.substr(1, first.size() - 2), "$response.body#/" + std::string(field)}};
    for (const auto& segment : base)
      if (segment.size() > 2 && segment.front() == '{')
        parameters[segment.substr(1, segment.size() - 2)] = "$request.path." + segment.substr(1, segment.size() - 2);
    std::string name = r.method + r.path_template;
    for (auto& ch : name)
      if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    links[name] = {{"operationId", r.method + " " + r.path_template}, {"parameters", std::move(parameters)}};
  }
  return links;
}

}  // namespace

json describe(const router& routes) {
  json paths = json::object();
  for (const auto& r : routes.routes()) {
    std::string method = r.method;
    for (auto& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    json op = describe_operation(r);
    if (json links = links_of(routes, r); !links.empty())
      for (const auto status : {"201", "200"})
        if (op["responses"].contains(status)) op["responses"][status]["links"] = links;
    paths[r.path_template][method] = std::move(op);
  }
  return {{"openapi", "3.1.0"},
          {"info", {{"title", "Osprey"}, {"version", osprey_version}, {"x-prefect-api-version", prefect_api_version}}},
          {"paths", std::move(paths)},
          {"components", {{"schemas", component_schemas()}}}};
}

}  // namespace osprey::http::openapi

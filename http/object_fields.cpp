#include "http/object_fields.hpp"

#include "http/api_support.hpp"
#include "http/concurrency_fields.hpp"

namespace osprey::http::object_fields {
namespace {

using nlohmann::json;

/// A request-validation 422 with one pydantic error.
response validation_422(const std::string& detail, json loc, const std::string& message, const std::string& type) {
  json error = {{"loc", std::move(loc)}, {"msg", message}, {"type", type}};
  return response::json(422, dump_lenient({{"detail", detail},
                                           {"exception_message", "Invalid request received."},
                                           {"exception_detail", json::array({std::move(error)})}}));
}

/// A location part as pydantic writes it: list positions are numbers.
json location_part(const std::string& part) {
  const bool index = !part.empty() && part.size() <= 9 && part.find_first_not_of("0123456789") == std::string::npos;
  return index ? json(std::stoll(part)) : json(part);
}

json optional_text(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }
json optional_id(const std::optional<uuid>& u) { return u ? json(u->to_string()) : json(nullptr); }

void put_fields(json& out, const artifact_fields& f) {
  out["type"] = optional_text(f.type);
  out["description"] = optional_text(f.description);
  out["data"] = f.data;
  out["metadata_"] = f.metadata;
  out["flow_run_id"] = optional_id(f.flow_run_id);
  out["task_run_id"] = optional_id(f.task_run_id);
}

}  // namespace

std::optional<json> optional_body(const request& req, response& error) {
  return concurrency_fields::optional_object_body(req, error);
}

response filter_refusal(const filters::filter_error& e) {
  if (e.plain_detail) return response::detail(422, e.message);
  json loc = json::array({"body"});
  for (const auto& part : e.location) loc.push_back(location_part(part));
  return validation_422(e.describe(), std::move(loc), e.message, e.type);
}

response field_refusal(const field_problem& p, std::size_t splits) {
  json loc = json::array({"body"});
  std::string rest = p.field;
  for (std::size_t dot; splits > 0 && (dot = rest.find('.')) != std::string::npos; --splits) {
    loc.push_back(location_part(rest.substr(0, dot)));
    rest.erase(0, dot + 1);
  }
  if (!rest.empty()) loc.push_back(rest);
  return validation_422(p.message, std::move(loc), p.message, p.type);
}

std::optional<uuid> path_id(request& req, const char* name, const responder& respond) {
  auto id = uuid::parse(req.path_params[name]);
  if (!id) respond(response::detail(404, "Not Found"));
  return id;
}

json variable_json(const variable& v) {
  return {{"id", v.id.to_string()},
          {"created", format_iso8601(v.created)},
          {"updated", format_iso8601(v.updated)},
          {"name", v.name},
          {"value", v.value},
          {"tags", v.tags}};
}

json artifact_json(const artifact& a) {
  json out = {{"id", a.id.to_string()},
              {"created", format_iso8601(a.created)},
              {"updated", format_iso8601(a.updated)},
              {"key", optional_text(a.key)}};
  put_fields(out, a.fields);
  return out;
}

json latest_json(const artifact_collection& c) {
  json out = {{"id", c.id.to_string()},
              {"created", format_iso8601(c.created)},
              {"updated", format_iso8601(c.updated)},
              {"key", c.key}};
  put_fields(out, c.fields);
  return out;
}

json collection_json(const artifact_collection& c) {
  json out = latest_json(c);
  out["latest_id"] = c.latest_id.to_string();
  return out;
}

}  // namespace osprey::http::object_fields

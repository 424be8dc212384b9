#include "http/object_fields.hpp"

#include "http/api_support.hpp"
#include "http/concurrency_fields.hpp"

namespace osprey::http::object_fields {
namespace {

using nlohmann::json;

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
  for (const auto& part : e.location) {
    const bool index = !part.empty() && part.size() <= 9 && part.find_first_not_of("0123456789") == std::string::npos;
    loc.push_back(index ? json(std::stoll(part)) : json(part));
  }
  return response::json(422, dump_lenient({{"detail", e.describe()},
                                           {"exception_message", "Invalid request received."},
                                           {"exception_detail", json::array({{{"loc", loc}, {"msg", e.message}, {"type", e.type}}})}}));
}

response field_refusal(const field_problem& p, std::size_t splits) {
  json loc = json::array({"body"});
  std::string rest = p.field;
  for (std::size_t dot; splits > 0 && (dot = rest.find('.')) != std::string::npos; --splits) {
    const auto part = rest.substr(0, dot);
    const bool index = !part.empty() && part.size() <= 9 && part.find_first_not_of("0123456789") == std::string::npos;
    loc.push_back(index ? json(std::stoll(part)) : json(part));
    rest.erase(0, dot + 1);
  }
  if (!rest.empty()) loc.push_back(rest);
  return response::json(422, dump_lenient({{"detail", p.message},
                                           {"exception_message", "Invalid request received."},
                                           {"exception_detail", json::array({{{"loc", loc}, {"msg", p.message}, {"type", p.type}}})}}));
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

#include "http/api_support.hpp"

#include "domain/json_text.hpp"

#include <algorithm>
#include <cctype>

#include "domain/time.hpp"
#include "logging/log.hpp"

namespace osprey::http {

int http_status_for(errc code) {
  switch (code) {
    case errc::ok: return 200;
    case errc::invalid_argument: return 422;
    case errc::not_found: return 404;
    case errc::conflict: return 409;
    case errc::unavailable: return 503;
    case errc::timeout: return 504;
    case errc::failed_precondition: return 409;
    case errc::internal: return 500;
  }
  return 500;
}

std::string dump_lenient(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

response error_response(const status& s) {
  const int code = http_status_for(s.code());
  if (code == 500) {
    log::line(log::level::error, "http", "internal error: ", s.message());
    return response::json(500, R"({"exception_message":"Internal Server Error"})");
  }
  if (code == 503) {
    // Prefect's clients retry 503s; this body matches the real server's.
    auto r = response::json(503, dump_lenient({{"exception_message", "Service Unavailable"}, {"detail", s.message()}}));
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  return response::detail(code, s.message());
}

response query_validation_error(const std::string& name, const std::string& message, const std::string& type,
                                const std::string& detail) {
  nlohmann::json body = {
      {"detail", detail.empty() ? message : detail},
      {"exception_message", "Invalid request received."},
      {"exception_detail", nlohmann::json::array({{{"loc", {"query", name}}, {"msg", message}, {"type", type}}})}};
  return response::json(422, dump_lenient(body));
}

response validation_error(const std::string& location, const std::string& message, const std::string& type) {
  nlohmann::json loc = nlohmann::json::array({"body"});
  if (!location.empty()) loc.push_back(location);
  nlohmann::json body = {
      {"detail", message},
      {"exception_message", "Invalid request received."},
      {"exception_detail", nlohmann::json::array({{{"loc", loc}, {"msg", message}, {"type", type}}})}};
  return response::json(422, dump_lenient(body));
}

std::optional<std::int64_t> bulk_limit(const nlohmann::json& body, response& error) {
  auto it = body.find("limit");
  if (it == body.end() || it->is_null()) return bulk_operation_limit;
  if (!it->is_number_integer()) {
    error = validation_error("limit", "Input should be a valid integer", "int_type");
    return std::nullopt;
  }
  const auto limit = it->get<std::int64_t>();
  if (limit < 1) {
    error = validation_error("limit", "Input should be greater than or equal to 1", "greater_than_equal");
    return std::nullopt;
  }
  if (limit > bulk_operation_limit) {
    error = validation_error("limit", "Input should be less than or equal to " + std::to_string(bulk_operation_limit),
                             "less_than_equal");
    return std::nullopt;
  }
  return limit;
}

std::optional<uuid> path_uuid(request& req, const char* name, const responder& respond) {
  auto id = uuid::parse(req.path_params[name]);
  if (!id) {
    nlohmann::json body = {
        {"detail", "Input should be a valid UUID"},
        {"exception_message", "Invalid request received."},
        {"exception_detail",
         {{{"loc", {"path", name}}, {"msg", "Input should be a valid UUID"}, {"type", "uuid_parsing"}}}}};
    respond(response::json(422, dump_lenient(body)));
  }
  return id;
}

std::optional<response> refuse_non_json_body(const request& req) {
  if (req.body.empty()) return std::nullopt;
  std::string type = req.header("content-type");
  type.resize(std::min(type.find(';'), type.size()));
  const auto first = type.find_first_not_of(" \t");
  type = first == std::string::npos ? std::string() : type.substr(first, type.find_last_not_of(" \t") - first + 1);
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (type == "application/json" || (type.starts_with("application/") && type.ends_with("+json"))) return std::nullopt;
  return response::detail(415,
                          "Unsupported Media Type: a request body must be JSON (Content-Type: application/json), " +
                              (type.empty() ? std::string("but none was declared") : "not '" + type + "'"));
}

std::optional<nlohmann::json> parse_json_body(const request& req, response& error) {
  auto parsed = parse_json(req.body, req.json_max_depth);
  switch (parsed.error) {
    case parsed_json::problem::none: return std::move(parsed.value);
    case parsed_json::problem::syntax:
      error = validation_error("", "Request body is not valid JSON", "json_invalid");
      return std::nullopt;
    case parsed_json::problem::too_deep:
      // pydantic's JSON parser reports its recursion limit with this type too.
      error = validation_error("", "Request body is not valid JSON: " + too_deep_message(req.json_max_depth),
                               "json_invalid");
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<nlohmann::json> object_body(nlohmann::json body, response& error) {
  if (!body.is_object()) {
    error = validation_error("", "Request body must be a JSON object", "model_type");
    return std::nullopt;
  }
  if (holds_nul(body)) {
    error = validation_error("", "Strings must not contain the NUL character (\\u0000)", "string_nul");
    return std::nullopt;
  }
  return body;
}

std::optional<nlohmann::json> parse_object_body(const request& req, response& error) {
  auto body = parse_json_body(req, error);
  if (!body) return std::nullopt;
  return object_body(std::move(*body), error);
}

const nlohmann::json* body_reader::find(const char* key) {
  seen_.emplace_back(key);
  auto it = body_.find(key);
  return it == body_.end() ? nullptr : &*it;
}

bool body_reader::fail(const char* key, const std::string& message, const std::string& type) {
  error_ = validation_error(location_.empty() ? key : location_ + "." + key, message, type);
  return false;
}

bool body_reader::required_uuid(const char* key, uuid& out) {
  auto* v = find(key);
  if (!v) return fail(key, "Field required", "missing");
  auto u = v->is_string() ? uuid::parse(v->get<std::string>()) : std::nullopt;
  if (!u) return fail(key, "Input should be a valid UUID", "uuid_parsing");
  out = *u;
  return true;
}

bool body_reader::optional_uuid(const char* key, std::optional<uuid>& out) {
  auto* v = find(key);
  if (!v || v->is_null()) return true;
  auto u = v->is_string() ? uuid::parse(v->get<std::string>()) : std::nullopt;
  if (!u) return fail(key, "Input should be a valid UUID", "uuid_parsing");
  out = *u;
  return true;
}

bool body_reader::optional_string(const char* key, std::optional<std::string>& out) {
  auto* v = find(key);
  if (!v || v->is_null()) return true;
  if (!v->is_string()) return fail(key, "Input should be a valid string", "string_type");
  out = v->get<std::string>();
  return true;
}

bool body_reader::optional_bool(const char* key, std::optional<bool>& out) {
  auto* v = find(key);
  if (!v || v->is_null()) return true;
  if (!v->is_boolean()) return fail(key, "Input should be a valid boolean", "bool_type");
  out = v->get<bool>();
  return true;
}

bool body_reader::object(const char* key, nlohmann::json& out) {
  auto* v = find(key);
  if (!v || v->is_null()) return true;
  if (!v->is_object()) return fail(key, "Input should be a valid dictionary", "dict_type");
  out = *v;
  return true;
}

bool body_reader::string_list(const char* key, std::vector<std::string>& out) {
  auto* v = find(key);
  if (!v || v->is_null()) return true;
  if (!v->is_array()) return fail(key, "Input should be a valid list", "list_type");
  std::vector<std::string> items;
  for (const auto& item : *v) {
    if (!item.is_string()) return fail(key, "Input should be a valid string", "string_type");
    items.push_back(item.get<std::string>());
  }
  out = std::move(items);
  return true;
}

bool body_reader::any(const char* key, nlohmann::json& out, bool* present) {
  auto* v = find(key);
  if (present) *present = v != nullptr;
  if (v) out = *v;
  return true;
}

bool body_reader::finish() {
  for (const auto& [key, value] : body_.items())
    if (std::find(seen_.begin(), seen_.end(), key) == seen_.end())
      return fail(key.c_str(), "Extra inputs are not permitted", "extra_forbidden");
  return true;
}

nlohmann::json to_json(const flow& f) {
  return {{"id", f.id.to_string()},
          {"created", format_iso8601(f.created)},
          {"updated", format_iso8601(f.updated)},
          {"name", f.name},
          {"tags", f.tags},
          {"labels", f.labels}};
}

}  // namespace osprey::http

#include "http/api_support.hpp"

#include <iostream>

#include "domain/time.hpp"

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

response error_response(const status& s) {
  const int code = http_status_for(s.code());
  if (code == 500) {
    std::cerr << "osprey: internal error: " << s.message() << "\n";
    return response::json(500, R"({"exception_message":"Internal Server Error"})");
  }
  if (code == 503) {
    // Prefect's clients retry 503s; this body matches the real server's.
    auto r = response::json(503, nlohmann::json{{"exception_message", "Service Unavailable"}, {"detail", s.message()}}.dump());
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  return response::detail(code, s.message());
}

response validation_error(const std::string& location, const std::string& message, const std::string& type) {
  nlohmann::json loc = nlohmann::json::array({"body"});
  if (!location.empty()) loc.push_back(location);
  nlohmann::json body = {{"detail", message},
                         {"exception_message", "Invalid request received."},
                         {"exception_detail", nlohmann::json::array({{{"loc", loc}, {"msg", message}, {"type", type}}})}};
  return response::json(422, body.dump());
}

namespace {

// PostgreSQL cannot store U+0000 in text or jsonb (libpq even cuts text at it), so no stored string may hold it.
bool holds_nul(const nlohmann::json& value) {
  if (value.is_string()) return value.get_ref<const std::string&>().find('\0') != std::string::npos;
  if (value.is_object()) {
    for (const auto& [key, item] : value.items())
      if (key.find('\0') != std::string::npos || holds_nul(item)) return true;
  }
  if (value.is_array()) {
    for (const auto& item : value)
      if (holds_nul(item)) return true;
  }
  return false;
}

}  // namespace

std::optional<nlohmann::json> parse_object_body(const request& req, response& error) {
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    error = validation_error("", "Request body is not valid JSON", "json_invalid");
    return std::nullopt;
  }
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

nlohmann::json to_json(const flow& f) {
  return {{"id", f.id.to_string()},      {"created", format_iso8601(f.created)},
          {"updated", format_iso8601(f.updated)}, {"name", f.name},
          {"tags", f.tags},              {"labels", f.labels}};
}

}  // namespace osprey::http

#pragma once
// Helpers shared by the route files: status → HTTP mapping (the one table), JSON body parsing with
// Prefect-style 422 errors, and rendering of domain objects.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "domain/flow.hpp"
#include "domain/status.hpp"
#include "http/message.hpp"

namespace osprey::http {

/// The HTTP status for an error code (invalid_argument 422, not_found 404, conflict 409, unavailable 503,
/// timeout 504, failed_precondition 409, internal 500).
int http_status_for(errc code);

/// An error response with {"detail": message}; internal errors hide their message (logged instead).
response error_response(const status& s);

/// FastAPI-style validation failure: 422 {"detail": msg, "exception_message": "Invalid request received.",
/// "exception_detail": [{"loc": [...], "msg": msg, "type": type}]}.
response validation_error(const std::string& location, const std::string& message,
                          const std::string& type = "value_error");

/// Parses a JSON object body. On failure returns nullopt and fills `error` (422 for malformed JSON, a
/// non-object body, or a string or key holding U+0000, which PostgreSQL cannot store).
std::optional<nlohmann::json> parse_object_body(const request& req, response& error);

/// Prefect's Flow shape.
nlohmann::json to_json(const flow& f);

}  // namespace osprey::http

#pragma once
// Helpers shared by the route files: status → HTTP mapping (the one table), JSON body parsing with
// Prefect-style 422 errors, and rendering of domain objects.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "domain/flow.hpp"
#include "domain/status.hpp"
#include "domain/uuid.hpp"
#include "http/message.hpp"

namespace osprey::http {

/// The HTTP status for an error code (invalid_argument 422, not_found 404, conflict 409, unavailable 503,
/// timeout 504, failed_precondition 409, internal 500).
int http_status_for(errc code);

/// `j` as JSON text, with invalid UTF-8 in its strings replaced (U+FFFD) rather than thrown about. Error bodies
/// echo client text: building them must never fail (a throw there turned a 422 into a 500).
std::string dump_lenient(const nlohmann::json& j);

/// An error response with {"detail": message}; internal errors hide their message (logged instead).
response error_response(const status& s);

/// FastAPI-style validation failure: 422 {"detail": msg, "exception_message": "Invalid request received.",
/// "exception_detail": [{"loc": [...], "msg": msg, "type": type}]}.
response validation_error(const std::string& location, const std::string& message,
                          const std::string& type = "value_error");

/// The same for the query parameter `name` (loc ["query", name]); `detail` defaults to `message`.
response query_validation_error(const std::string& name, const std::string& message, const std::string& type,
                                const std::string& detail = "");

/// Prefect's bulk routes (flows, flow runs, deployments) act on at most this many rows per call.
inline constexpr std::int64_t bulk_operation_limit = 50;

/// The `limit` of a bulk route's body: absent or null is bulk_operation_limit; anything but an integer in
/// 1..bulk_operation_limit is a 422 (in `error`) and nullopt.
std::optional<std::int64_t> bulk_limit(const nlohmann::json& body, response& error);

/// The path parameter `name` as a UUID; when it is not one, answers 422 (loc ["path", name]) and returns nullopt.
std::optional<uuid> path_uuid(request& req, const char* name, const responder& respond);

/// 415 {"detail": ...} for a request whose body is not declared JSON: a non-empty body needs Content-Type
/// application/json or application/<anything>+json (parameters such as charset allowed). Why: a web page can
/// send text/plain, form and untyped bodies to any server without a CORS preflight, so a server without auth
/// that parsed them as JSON could be written to by any page its user visits. Requests without a body pass
/// (POST routes whose body is optional are called without one). nullopt: the request may proceed.
std::optional<response> refuse_non_json_body(const request& req);

/// Parses a JSON body of any shape. On failure returns nullopt and fills `error`: 422 json_invalid for malformed
/// JSON or JSON nested deeper than req.json_max_depth (refused while parsing; see domain/json_text.hpp).
std::optional<nlohmann::json> parse_json_body(const request& req, response& error);

/// `body` when it is an object with no string or key holding U+0000 (which PostgreSQL cannot store); else
/// nullopt with a 422 in `error`.
std::optional<nlohmann::json> object_body(nlohmann::json body, response& error);

/// parse_json_body, then object_body.
std::optional<nlohmann::json> parse_object_body(const request& req, response& error);

/// Reads a request object field by field with FastAPI-like validation: each reader returns false and fills
/// error() on a type mismatch; finish() refuses keys nobody read (extra="forbid").
///   body_reader in(body); std::optional<std::string> name; uuid flow;
///   if (!in.required_uuid("flow_id", flow) || !in.optional_string("name", name) || !in.finish())
///     return respond(in.error());
class body_reader {
 public:
  explicit body_reader(const nlohmann::json& body, std::string location = "")
      : body_(body), location_(std::move(location)) {}

  bool required_uuid(const char* key, uuid& out);
  bool optional_uuid(const char* key, std::optional<uuid>& out);
  bool optional_string(const char* key, std::optional<std::string>& out);
  bool optional_bool(const char* key, std::optional<bool>& out);
  /// An object (null or absent leaves `out` unchanged).
  bool object(const char* key, nlohmann::json& out);
  /// A list of strings (null or absent leaves `out` unchanged).
  bool string_list(const char* key, std::vector<std::string>& out);
  /// Any JSON value; `present` tells whether the key was there.
  bool any(const char* key, nlohmann::json& out, bool* present = nullptr);
  [[nodiscard]] bool has(const char* key) const { return body_.contains(key); }

  /// Fails on the first key that no reader asked for.
  bool finish();
  [[nodiscard]] response error() const { return error_; }

 private:
  const nlohmann::json* find(const char* key);
  bool fail(const char* key, const std::string& message, const std::string& type);

  const nlohmann::json& body_;
  std::string location_;
  std::vector<std::string> seen_;
  response error_;
};

/// Prefect's Flow shape.
nlohmann::json to_json(const flow& f);

}  // namespace osprey::http

#pragma once
// What GET /api/openapi.json says of each route: the table in operations.cpp, keyed by method and path template
// exactly as the route is registered. tests/http/openapi_test.cpp registers the whole API and fails when a route
// has no entry here (or an entry names no route), so a route cannot be added without its description.
//
// Schema specs (response, body) are short strings: a component name ("Flow", see schema.hpp), a JSON type
// ("integer", "number", "boolean", "string", "object", "any"), either followed by "[]" (an array of it) and/or
// "?" (or null); a media type with a slash ("text/csv") for a body that is not JSON; "" for none.

#include <span>
#include <string_view>

#include <nlohmann/json.hpp>

namespace osprey::http::openapi {

struct operation_doc {
  std::string_view method;
  std::string_view path;
  /// The success statuses, space-separated, the usual one first ("201 200": created, or found existing).
  std::string_view success;
  /// The success body's schema spec ("" when it has none worth describing: 204, or a bare null).
  std::string_view response;
  /// The JSON request body's schema spec; "" takes none.
  std::string_view body = "";
  /// Query parameters, space-separated "name:spec"; "name!:spec" is required.
  std::string_view query = "";
};

/// The entry of a route, or null. `path` is the registered template; the UI's "<base>/ui-settings" matches
/// "/ui-settings" whatever its base.
[[nodiscard]] const operation_doc* find_operation(std::string_view method, std::string_view path);

/// Every entry (for the test that matches them against the routes).
[[nodiscard]] std::span<const operation_doc> all_operations();

/// The JSON Schema of a spec, or null for "" (see above). Throws std::invalid_argument on a malformed spec.
[[nodiscard]] nlohmann::json schema_of(std::string_view spec);

}  // namespace osprey::http::openapi

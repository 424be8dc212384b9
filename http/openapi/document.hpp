#pragma once
// GET /api/openapi.json: an OpenAPI 3.1 document of the routes registered on a router, each described by its
// entry in operations.cpp (parameters, request body, success statuses and schemas) and the shared error shape.

#include <nlohmann/json.hpp>

#include "http/router.hpp"

namespace osprey::http::openapi {

/// The whole document. A route without an entry in operations.cpp (the unit test forbids it) is described by
/// its path parameters alone, answering "2XX". Throws std::invalid_argument only for a malformed spec in
/// that table, which the unit test renders entry by entry.
[[nodiscard]] nlohmann::json describe(const router& routes);

}  // namespace osprey::http::openapi

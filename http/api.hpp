#pragma once
// The Prefect-compatible REST API: registers every route on a router. Handlers translate HTTP to calls on
// the actors and back; they decide nothing themselves and never block.

#include <functional>

#include "persistence/database.hpp"
#include "domain/time.hpp"
#include "http/router.hpp"

namespace osprey::http {

struct api_context {
  persistence::database db;
  const clock* time = &system_clock::instance();
};

/// Adds all /api routes (health, admin, flows, openapi, ...) to `routes`. `ctx` is copied into handlers.
void register_api(router& routes, const api_context& ctx);

}  // namespace osprey::http

#pragma once
// Request bodies and response shapes of /api/deployments (DeploymentCreate, DeploymentUpdate,
// DeploymentScheduleCreate/Update, DeploymentResponse, DeploymentSchedule). Translation only: the rules are in
// domain/deployment.hpp and domain/schedule.hpp. Internal to http/.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "domain/deployment.hpp"
#include "http/message.hpp"

namespace osprey::http::deployment_fields {

/// What a create or update body says beyond the deployment's own columns.
struct body_extras {
  std::optional<std::vector<schedule_change>> schedules;  ///< nullopt: the body has no "schedules"
  bool work_pool_given = false;                           ///< "work_pool_name" was in the body
  std::optional<std::string> work_pool_name;
  bool concurrency_limit_given = false;  ///< "concurrency_limit" was in the body
};

/// Applies a DeploymentCreate (`create`: name and flow_id required) or DeploymentUpdate body to `d`: only the
/// keys given change (an explicit null clears), unknown keys are refused (422, extra_forbidden; the client's
/// branch/base/root are ignored). Schedules are parsed with `now` as their default anchor. False with a
/// FastAPI-shaped 422 in `error` on the first bad field. Deterministic: applied twice it gives the same result.
bool apply_body(const nlohmann::json& body, bool create, timestamp now, deployment& d, body_extras& extras,
                response& error);

/// A DeploymentScheduleCreate (`create`) or DeploymentScheduleUpdate object at `location` ("schedules.0").
bool read_schedule(const nlohmann::json& body, const std::string& location, bool create, timestamp now,
                   schedule_change& out, response& error);

/// A new schedule row from a create request.
deployment_schedule new_schedule(const deployment_id& d, const schedule_change& c, timestamp now);

/// Applies an update request to a stored schedule.
void apply_schedule_change(deployment_schedule& s, const schedule_change& c, timestamp now);

nlohmann::json schedule_json(const deployment_schedule& s);
nlohmann::json deployment_json(const deployment& d);

}  // namespace osprey::http::deployment_fields

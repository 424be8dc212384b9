#pragma once
// A flow: the named unit of work users decorate with @flow. Flows are upserted by name.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "domain/status.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

struct flow {
  flow_id id;
  timestamp created;
  timestamp updated;
  std::string name;
  std::vector<std::string> tags;
  nlohmann::json labels = nlohmann::json::object();  ///< string -> scalar map, as Prefect's KeyValueLabels.
};

/// Checks a user-given object name the way Prefect does: non-empty, none of / % & > <.
/// The error message names the offending value.
status validate_object_name(const std::string& name);

}  // namespace osprey

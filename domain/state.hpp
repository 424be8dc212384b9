#pragma once
// Run states as Prefect defines them: a type (the orchestration-relevant enum) and a display name
// ("Late" is a SCHEDULED state, "Retrying" a RUNNING one).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

enum class state_type { scheduled, pending, running, completed, failed, cancelled, crashed, paused, cancelling };

/// "SCHEDULED", "PENDING", ... (the wire and database spelling).
const char* to_string(state_type t) noexcept;
std::optional<state_type> parse_state_type(std::string_view upper_name);
/// The standard display name of a type: "Scheduled", "Pending", ...
const char* default_state_name(state_type t) noexcept;
/// COMPLETED, FAILED, CANCELLED, CRASHED: the run is over.
bool is_terminal(state_type t) noexcept;

struct run_state {
  state_id id;
  state_type type = state_type::pending;
  std::string name;
  timestamp at;
  std::optional<std::string> message;
  nlohmann::json details = nlohmann::json::object();  ///< Prefect's state_details
  nlohmann::json data;                                ///< result metadata or null
};

/// What a flow-run actor publishes after a transition was committed.
struct state_change {
  flow_run_id run;
  std::optional<run_state> previous;
  run_state current;
};

}  // namespace osprey

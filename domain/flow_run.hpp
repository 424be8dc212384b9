#pragma once
// A flow run as Prefect models it (FlowRun / FlowRunResponse). JSON-typed fields stay JSON: the server stores
// and returns them as the client sent them. What orchestration reads from and writes back to a run is converted
// in domain/run_bookkeeping.hpp, nowhere else.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "domain/state.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

struct flow_run {
  flow_run_id id;
  timestamp created;
  timestamp updated;
  std::string name;
  flow_id flow;
  std::optional<uuid> deployment_id;
  std::optional<std::string> deployment_version;
  std::optional<uuid> work_queue_id;
  std::optional<std::string> work_queue_name;
  std::optional<uuid> work_pool_id;           ///< read only: the pool of the run's queue
  std::optional<std::string> work_pool_name;  ///< read only
  std::optional<std::string> flow_version;
  nlohmann::json parameters = nlohmann::json::object();
  std::optional<std::string> idempotency_key;
  nlohmann::json context = nlohmann::json::object();
  nlohmann::json empirical_policy = nlohmann::json::object();  ///< FlowRunPolicy as stored (run_bookkeeping.hpp)
  std::vector<std::string> tags;
  nlohmann::json labels = nlohmann::json::object();
  std::optional<uuid> parent_task_run_id;
  std::int64_t run_count = 0;
  std::optional<timestamp> expected_start_time;
  std::optional<timestamp> next_scheduled_start_time;
  std::optional<timestamp> start_time;
  std::optional<timestamp> end_time;
  double total_run_time = 0;  ///< seconds spent RUNNING (orchestration counts µs: run_bookkeeping.hpp)
  bool auto_scheduled = false;
  std::optional<uuid> infrastructure_document_id;
  std::optional<std::string> infrastructure_pid;
  nlohmann::json created_by;  ///< null or {id, type, display_value}
  nlohmann::json job_variables = nlohmann::json::object();
  std::optional<run_state> state;  ///< current state (joined from flow_run_state)
};

/// A random two-word run name like Prefect's ("brave-otter"). Thread-safe.
std::string generate_run_name();

}  // namespace osprey

#pragma once
// Prefect's flow-run graph, version 2 (GET /flow_runs/{id}/graph-v2; src/prefect/server/database/
// query_components.py flow_run_graph_v2): one node per task run of the flow run (a subflow's parent task run
// becomes the subflow run's node), edges from the task runs named in each task run's task_inputs (the
// "__parents__" input makes an encapsulating edge instead). Pure.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/state.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

/// A task run of the flow run, with the subflow run it stands for when there is one.
struct graph_row {
  uuid task_run_id;
  std::string task_run_name;
  std::optional<state_type> task_state;
  std::optional<timestamp> task_start, task_expected_start, task_end;
  nlohmann::json task_inputs = nlohmann::json::object();
  std::optional<uuid> subflow_id;  ///< set when a flow run has this task run as its parent task run
  std::string subflow_label;       ///< "<flow name> / <run name>"
  std::optional<state_type> subflow_state;
  std::optional<timestamp> subflow_start, subflow_expected_start, subflow_end;
};

struct graph_node {
  std::string kind;  ///< "flow-run" or "task-run"
  uuid id;
  std::string label;
  state_type type = state_type::pending;
  timestamp start_time;
  std::optional<timestamp> end_time;
  std::vector<uuid> parents, children, encapsulating;
};

/// The nodes of the graph, ordered by start then end time: rows without any start time are left out, and so
/// are nodes that ended before `since`. Edges only join nodes of this graph.
std::vector<graph_node> flow_run_graph_nodes(const std::vector<graph_row>& rows, timestamp since);

}  // namespace osprey

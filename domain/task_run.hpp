#pragma once
// Task runs. The Prefect engine orchestrates task runs itself and reports every state as an event
// (prefect.task-run.<State>) on /api/events/in; the server records those events as rows (the "task-run
// recorder"). Subflows additionally create a tracking task run over REST.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "domain/field_problem.hpp"
#include "domain/state.hpp"
#include "domain/status.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

/// A column of the task_run table that events and TaskRunCreate may set, and how it is typed.
enum class task_run_column_kind { text, integer, real, datetime, json };
struct task_run_column {
  const char* name;
  task_run_column_kind kind;
};
/// The settable columns (name, task_key, dynamic_key, cache_key, ..., total_run_time).
const std::vector<task_run_column>& task_run_settable_columns();

/// One task-run state event, ready to record.
struct task_run_event {
  uuid task_run_id;                 ///< from resource "prefect.task-run.<id>"
  std::optional<uuid> flow_run_id;  ///< from the related resource with role "flow-run"
  run_state state;                  ///< id = event id, at = occurred, fields from payload.validated_state
  /// Column values from payload.task_run, only the keys the event carried, already normalised to the
  /// column kinds above (timestamps as timestamp JSON strings in canonical form).
  nlohmann::json columns = nlohmann::json::object();
};

/// True when `event` is a client-orchestrated task-run event the recorder must record
/// (name starts with "prefect.task-run." and resource["prefect.orchestration"] == "client").
bool is_recordable_task_run_event(const nlohmann::json& event);

/// Extracts the task run and state from a recordable event; errc::invalid_argument naming the problem
/// when it is malformed (missing ids, validated_state, task_key...).
result<task_run_event> task_run_event_from_json(const nlohmann::json& event);

/// Normalises TaskRunCreate / payload.task_run fields into `columns` (unknown keys are ignored when
/// `strict` is false, refused when true). Returns the first problem.
std::optional<field_problem> normalize_task_run_columns(const nlohmann::json& fields, bool strict,
                                                        nlohmann::json& columns);

/// A stored task run with its current state (TaskRun response).
struct task_run {
  task_run_id id;
  timestamp created;
  timestamp updated;
  std::optional<uuid> flow_run_id;
  nlohmann::json columns = nlohmann::json::object();  ///< every settable column, as stored
  std::optional<run_state> state;
};

}  // namespace osprey

#pragma once
// Prefect's JSON shapes for runs and states (responses), and the StateCreate parser (requests).
// Translation only: nothing here decides anything.

#include <nlohmann/json.hpp>
#include <optional>

#include "actors/flow_run_protocol.hpp"
#include "domain/flow_run.hpp"
#include "domain/log_record.hpp"
#include "domain/orchestration.hpp"
#include "domain/state.hpp"
#include "domain/task_run.hpp"
#include "http/message.hpp"

namespace osprey::http {

/// State: {id, type, name, timestamp, message, data, state_details{...all StateDetails keys}}.
nlohmann::json to_json(const run_state& s);

/// FlowRunResponse, with the estimates Prefect computes at read time (estimated_run_time,
/// estimated_start_time_delta) relative to `now`.
nlohmann::json to_json(const flow_run& run, timestamp now);

/// TaskRun, with estimates relative to `now`.
nlohmann::json to_json(const task_run& run, timestamp now);

/// Prefect's Log. `updated` equals `created`: log rows are never changed.
nlohmann::json to_json(const log_record& log);

/// OrchestrationResult: {state, status, details{type, ...}}.
nlohmann::json orchestration_result(const transition_decision& decision, const std::optional<run_state>& state);

/// Parses StateCreate {type, name?, message?, data?, state_details?} (unknown keys refused). `location` is the
/// JSON path used in error messages ("state"). On failure fills `error` (422) and returns nullopt.
std::optional<run_state> parse_state_create(const nlohmann::json& body, const std::string& location, response& error);

/// Parses a set_state body {state: StateCreate, force?: bool} (unknown keys refused). On failure fills `error`.
std::optional<transition_request> parse_set_state_body(const request& req, response& error);

/// The answer to an orchestrated transition: 201 with the OrchestrationResult when a state was written, 200
/// otherwise; `not_found` when the run does not exist; the mapped error for anything else.
response transition_response(const actors::transition_outcome& outcome, const response& not_found);

}  // namespace osprey::http

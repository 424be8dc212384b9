#include "http/shapes.hpp"

#include "domain/run_bookkeeping.hpp"
#include "http/api_support.hpp"

namespace osprey::http {
namespace {

nlohmann::json optional_json(const std::optional<uuid>& u) {
  return u ? nlohmann::json(u->to_string()) : nlohmann::json();
}
nlohmann::json optional_json(const std::optional<std::string>& s) { return s ? nlohmann::json(*s) : nlohmann::json(); }
nlohmann::json optional_json(const std::optional<timestamp>& t) {
  return t ? nlohmann::json(format_iso8601(*t)) : nlohmann::json();
}

// Every StateDetails key with Prefect's default, overlaid with what was stored.
nlohmann::json full_state_details(const nlohmann::json& stored) {
  nlohmann::json d = {{"flow_run_id", nullptr},
                      {"task_run_id", nullptr},
                      {"child_flow_run_id", nullptr},
                      {"scheduled_time", nullptr},
                      {"cache_key", nullptr},
                      {"cache_expiration", nullptr},
                      {"deferred", false},
                      {"untrackable_result", false},
                      {"pause_timeout", nullptr},
                      {"pause_reschedule", false},
                      {"pause_key", nullptr},
                      {"run_input_keyset", nullptr},
                      {"refresh_cache", nullptr},
                      {"retriable", nullptr},
                      {"transition_id", nullptr},
                      {"task_parameters_id", nullptr},
                      {"traceparent", nullptr},
                      {"deployment_concurrency_lease_id", nullptr}};
  if (stored.is_object())
    for (const auto& [k, v] : stored.items()) d[k] = v;
  return d;
}

}  // namespace

nlohmann::json to_json(const run_state& s) {
  return {{"id", s.id.to_string()},
          {"type", to_string(s.type)},
          {"name", s.name},
          {"timestamp", format_iso8601(s.at)},
          {"message", s.message ? nlohmann::json(*s.message) : nlohmann::json()},
          {"data", s.data},
          {"state_details", full_state_details(s.details)}};
}

nlohmann::json to_json(const flow_run& r, timestamp now) {
  const auto counters = bookkeeping_of(r);
  nlohmann::json j = {
      {"id", r.id.to_string()},
      {"created", format_iso8601(r.created)},
      {"updated", format_iso8601(r.updated)},
      {"name", r.name},
      {"flow_id", r.flow.to_string()},
      {"state_id", r.state ? nlohmann::json(r.state->id.to_string()) : nlohmann::json()},
      {"deployment_id", optional_json(r.deployment_id)},
      {"deployment_version", optional_json(r.deployment_version)},
      {"work_queue_id", optional_json(r.work_queue_id)},
      {"work_queue_name", optional_json(r.work_queue_name)},
      {"flow_version", optional_json(r.flow_version)},
      {"parameters", r.parameters},
      {"idempotency_key", optional_json(r.idempotency_key)},
      {"context", r.context},
      {"empirical_policy", normalize_flow_run_policy(r.empirical_policy)},
      {"tags", r.tags},
      {"labels", r.labels},
      {"parent_task_run_id", optional_json(r.parent_task_run_id)},
      {"state_type", r.state ? nlohmann::json(to_string(r.state->type)) : nlohmann::json()},
      {"state_name", r.state ? nlohmann::json(r.state->name) : nlohmann::json()},
      {"run_count", r.run_count},
      {"expected_start_time", optional_json(r.expected_start_time)},
      {"next_scheduled_start_time", optional_json(r.next_scheduled_start_time)},
      {"start_time", optional_json(r.start_time)},
      {"end_time", optional_json(r.end_time)},
      {"total_run_time", r.total_run_time},
      {"estimated_run_time", run_time_seconds(estimated_run_time(counters, r.state, now))},
      {"estimated_start_time_delta", run_time_seconds(estimated_start_time_delta(counters, r.state, now))},
      {"auto_scheduled", r.auto_scheduled},
      {"infrastructure_document_id", optional_json(r.infrastructure_document_id)},
      {"infrastructure_pid", optional_json(r.infrastructure_pid)},
      {"created_by", r.created_by},
      {"work_pool_id", optional_json(r.work_pool_id)},
      {"work_pool_name", optional_json(r.work_pool_name)},
      {"state", r.state ? to_json(*r.state) : nlohmann::json()},
      {"job_variables", r.job_variables},
  };
  return j;
}

nlohmann::json to_json(const task_run& t, timestamp now) {
  nlohmann::json j = t.columns;
  j["id"] = t.id.to_string();
  j["created"] = format_iso8601(t.created);
  j["updated"] = format_iso8601(t.updated);
  j["flow_run_id"] = t.flow_run_id ? nlohmann::json(t.flow_run_id->to_string()) : nlohmann::json();
  j["state_id"] = t.state ? nlohmann::json(t.state->id.to_string()) : nlohmann::json();
  j["state_type"] = t.state ? nlohmann::json(to_string(t.state->type)) : nlohmann::json();
  j["state_name"] = t.state ? nlohmann::json(t.state->name) : nlohmann::json();
  j["state"] = t.state ? to_json(*t.state) : nlohmann::json();
  for (const char* key : {"empirical_policy", "task_inputs", "labels"})
    if (!j[key].is_object()) j[key] = nlohmann::json::object();
  if (!j["tags"].is_array()) j["tags"] = nlohmann::json::array();
  for (const char* key : {"run_count", "flow_run_run_count"})
    if (!j[key].is_number()) j[key] = 0;
  if (!j["total_run_time"].is_number()) j["total_run_time"] = 0.0;
  const auto counters = bookkeeping_of(t);
  j["estimated_run_time"] = run_time_seconds(estimated_run_time(counters, t.state, now));
  j["estimated_start_time_delta"] = run_time_seconds(estimated_start_time_delta(counters, t.state, now));
  return j;
}

nlohmann::json orchestration_result(const transition_decision& decision, const std::optional<run_state>& state) {
  nlohmann::json details;
  switch (decision.kind) {
    case decision_kind::accept: details = {{"type", "accept_details"}}; break;
    case decision_kind::reject: details = {{"type", "reject_details"}, {"reason", decision.reason}}; break;
    case decision_kind::abort: details = {{"type", "abort_details"}, {"reason", decision.reason}}; break;
    case decision_kind::wait:
      details = {{"type", "wait_details"}, {"delay_seconds", decision.delay.count()}, {"reason", decision.reason}};
      break;
  }
  return {{"state", state ? to_json(*state) : nlohmann::json()},
          {"status", to_string(decision.kind)},
          {"details", details}};
}

std::optional<run_state> parse_state_create(const nlohmann::json& body, const std::string& location, response& error) {
  if (!body.is_object()) {
    error = validation_error(location, "Input should be a valid dictionary or object", "model_type");
    return std::nullopt;
  }
  run_state s;
  bool has_type = false;
  for (const auto& [key, value] : body.items()) {
    if (key == "type") {
      auto t = value.is_string() ? parse_state_type(value.get<std::string>()) : std::nullopt;
      if (!t) {
        error = validation_error(location + ".type",
                                 "Input should be 'SCHEDULED', 'PENDING', 'RUNNING', 'COMPLETED', 'FAILED', "
                                 "'CANCELLED', 'CRASHED', 'PAUSED' or 'CANCELLING'",
                                 "enum");
        return std::nullopt;
      }
      s.type = *t;
      has_type = true;
    } else if (key == "name") {
      if (value.is_null()) continue;
      if (!value.is_string()) {
        error = validation_error(location + ".name", "Input should be a valid string", "string_type");
        return std::nullopt;
      }
      s.name = value.get<std::string>();
    } else if (key == "message") {
      if (value.is_null()) continue;
      if (!value.is_string()) {
        error = validation_error(location + ".message", "Input should be a valid string", "string_type");
        return std::nullopt;
      }
      s.message = value.get<std::string>();
    } else if (key == "data") {
      s.data = value;
    } else if (key == "state_details") {
      if (value.is_null()) continue;
      if (!value.is_object()) {
        error = validation_error(location + ".state_details", "Input should be a valid dictionary", "dict_type");
        return std::nullopt;
      }
      s.details = value;
    } else if (key == "timestamp" || key == "id") {
      // Older clients send these; the server assigns both.
    } else {
      error = validation_error(location + "." + key, "Extra inputs are not permitted", "extra_forbidden");
      return std::nullopt;
    }
  }
  if (!has_type) {
    error = validation_error(location + ".type", "Field required", "missing");
    return std::nullopt;
  }
  if (s.name.empty()) s.name = default_state_name(s.type);
  return s;
}

std::optional<transition_request> parse_set_state_body(const request& req, response& error) {
  auto body = parse_object_body(req, error);
  if (!body) return std::nullopt;
  body_reader in(*body);
  nlohmann::json state_body;
  bool has_state = false;
  std::optional<bool> force;
  if (!in.any("state", state_body, &has_state) || !in.optional_bool("force", force) || !in.finish()) {
    error = in.error();
    return std::nullopt;
  }
  if (!has_state) {
    error = validation_error("state", "Field required", "missing");
    return std::nullopt;
  }
  auto proposed = parse_state_create(state_body, "state", error);
  if (!proposed) return std::nullopt;
  return transition_request{*proposed, force.value_or(false)};
}

response transition_response(const actors::transition_outcome& outcome, const response& not_found) {
  if (!outcome.error) return outcome.error.code() == errc::not_found ? not_found : error_response(outcome.error);
  return response::json(outcome.written ? 201 : 200, orchestration_result(outcome.decision, outcome.state).dump());
}

nlohmann::json to_json(const log_record& l) {
  return nlohmann::json{{"id", l.id.to_string()},
                        {"created", format_iso8601(l.created)},
                        {"updated", format_iso8601(l.created)},
                        {"name", l.name},
                        {"level", l.level},
                        {"message", l.message},
                        {"timestamp", format_iso8601(l.at)},
                        {"flow_run_id", optional_json(l.flow_run_id)},
                        {"task_run_id", optional_json(l.task_run_id)}};
}

}  // namespace osprey::http

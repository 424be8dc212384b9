#include "domain/run_bookkeeping.hpp"

#include <cmath>
#include <cstdint>

namespace osprey {
namespace {

std::optional<double> json_number(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

}  // namespace

double run_time_seconds(std::chrono::microseconds run_time) { return std::chrono::duration<double>(run_time).count(); }

std::chrono::microseconds run_time_from_seconds(double seconds) {
  if (!std::isfinite(seconds)) return std::chrono::microseconds(0);
  return std::chrono::microseconds(std::llround(seconds * 1e6));
}

flow_run_policy parse_flow_run_policy(const nlohmann::json& j) {
  flow_run_policy p;
  if (!j.is_object()) return p;
  if (auto r = json_number(j, "retries")) p.retries = static_cast<int>(*r);
  p.retry_delay = json_number(j, "retry_delay");
  if (auto it = j.find("pause_keys"); it != j.end() && it->is_array())
    for (const auto& k : *it)
      if (k.is_string()) p.pause_keys.insert(k.get<std::string>());
  if (auto it = j.find("resuming"); it != j.end() && it->is_boolean()) p.resuming = it->get<bool>();
  if (auto it = j.find("retry_type"); it != j.end() && it->is_string()) p.retry_type = it->get<std::string>();
  return p;
}

void merge_flow_run_policy(nlohmann::json& stored, const flow_run_policy& p) {
  if (!stored.is_object()) stored = nlohmann::json::object();
  stored["retries"] = p.retries ? nlohmann::json(*p.retries) : nlohmann::json(nullptr);
  if (p.retry_delay && *p.retry_delay == std::floor(*p.retry_delay))
    stored["retry_delay"] = static_cast<std::int64_t>(*p.retry_delay);  // Prefect's field is an int
  else
    stored["retry_delay"] = p.retry_delay ? nlohmann::json(*p.retry_delay) : nlohmann::json(nullptr);
  stored["pause_keys"] = nlohmann::json::array();
  for (const auto& k : p.pause_keys) stored["pause_keys"].push_back(k);
  stored["resuming"] = p.resuming;
  stored["retry_type"] = p.retry_type ? nlohmann::json(*p.retry_type) : nlohmann::json(nullptr);
}

nlohmann::json normalize_flow_run_policy(const nlohmann::json& policy) {
  nlohmann::json out = policy.is_object() ? policy : nlohmann::json::object();
  // retries/retry_delay win; the deprecated max_retries/retry_delay_seconds mirror them (Prefect's
  // set_run_policy_deprecated_fields).
  if (!out.contains("retries") || out["retries"].is_null()) {
    if (out.contains("max_retries") && out["max_retries"].is_number() && out["max_retries"] != 0)
      out["retries"] = out["max_retries"];
    else if (!out.contains("retries"))
      out["retries"] = nullptr;
  }
  if (!out.contains("retry_delay") || out["retry_delay"].is_null()) {
    if (out.contains("retry_delay_seconds") && out["retry_delay_seconds"].is_number() &&
        out["retry_delay_seconds"] != 0)
      out["retry_delay"] = out["retry_delay_seconds"];
    else if (!out.contains("retry_delay"))
      out["retry_delay"] = nullptr;
  }
  out["max_retries"] = out["retries"].is_number() ? out["retries"] : nlohmann::json(0);
  out["retry_delay_seconds"] = out["retry_delay"].is_number() ? out["retry_delay"] : nlohmann::json(0);
  if (!out.contains("pause_keys") || out["pause_keys"].is_null()) out["pause_keys"] = nlohmann::json::array();
  if (!out.contains("resuming") || out["resuming"].is_null()) out["resuming"] = false;
  if (!out.contains("retry_type")) out["retry_type"] = nullptr;
  return out;
}

run_bookkeeping bookkeeping_of(const flow_run& run) {
  run_bookkeeping b;
  b.run_count = static_cast<int>(run.run_count);
  b.start_time = run.start_time;
  b.end_time = run.end_time;
  b.total_run_time = run_time_from_seconds(run.total_run_time);
  b.expected_start_time = run.expected_start_time;
  b.next_scheduled_start_time = run.next_scheduled_start_time;
  return b;
}

run_bookkeeping bookkeeping_of(const task_run& run) {
  const auto& columns = run.columns;
  auto time_of = [&](const char* key) -> std::optional<timestamp> {
    auto it = columns.find(key);
    return it != columns.end() && it->is_string() ? parse_iso8601(it->get<std::string>()) : std::nullopt;
  };
  auto number_of = [&](const char* key) -> double {
    auto it = columns.find(key);
    return it != columns.end() && it->is_number() ? it->get<double>() : 0.0;
  };
  run_bookkeeping b;
  b.run_count = static_cast<int>(number_of("run_count"));
  b.start_time = time_of("start_time");
  b.end_time = time_of("end_time");
  b.total_run_time = run_time_from_seconds(number_of("total_run_time"));
  b.expected_start_time = time_of("expected_start_time");
  b.next_scheduled_start_time = time_of("next_scheduled_start_time");
  return b;
}

flow_run_snapshot snapshot_of(const flow_run& run) {
  flow_run_snapshot s;
  s.id = run.id;
  s.counters = bookkeeping_of(run);
  s.policy = parse_flow_run_policy(run.empirical_policy);
  s.deployment_id = run.deployment_id;
  if (run.parent_task_run_id) s.parent_task_run_id = task_run_id{*run.parent_task_run_id};
  s.infrastructure_pid = run.infrastructure_pid;
  return s;
}

flow_run_changes changes_of(const flow_run& run, const flow_transition_result& result) {
  flow_run_changes c;
  c.written = result.written;
  c.counters = result.run.counters;
  c.empirical_policy = run.empirical_policy;
  merge_flow_run_policy(c.empirical_policy, result.run.policy);
  return c;
}

void apply_changes(flow_run& run, const flow_run_changes& changes) {
  run.run_count = changes.counters.run_count;
  run.start_time = changes.counters.start_time;
  run.end_time = changes.counters.end_time;
  run.total_run_time = run_time_seconds(changes.counters.total_run_time);
  run.expected_start_time = changes.counters.expected_start_time;
  run.next_scheduled_start_time = changes.counters.next_scheduled_start_time;
  run.empirical_policy = changes.empirical_policy;
  if (changes.written) run.state = changes.written;
}

}  // namespace osprey

#include "domain/global_transforms.hpp"

#include "domain/orchestration.hpp"

namespace osprey {

timestamp unique_state_timestamp(const std::optional<run_state>& current, timestamp now) {
  if (current && now <= current->at) return current->at + std::chrono::microseconds(1);
  return now;
}

void apply_common_transforms(run_bookkeeping& run, const std::optional<run_state>& current, const run_state& written) {
  // SetStartTime
  if (written.type == state_type::running && !run.start_time) run.start_time = written.at;
  // SetEndTime
  if (current && is_terminal(current->type) && !is_terminal(written.type)) run.end_time.reset();
  if (is_terminal(written.type) && !run.end_time) {
    if (!run.start_time) run.start_time = written.at;  // runs that fail before executing
    run.end_time = written.at;
  }
  // IncrementRunTime
  if (current && current->type == state_type::running) run.total_run_time += written.at - current->at;
  // SetExpectedStartTime
  if (!run.expected_start_time)
    run.expected_start_time =
        written.type == state_type::scheduled ? detail_time(written, "scheduled_time") : std::optional(written.at);
  // SetNextScheduledStartTime
  if (current && current->type == state_type::scheduled) run.next_scheduled_start_time.reset();
  if (written.type == state_type::scheduled) run.next_scheduled_start_time = detail_time(written, "scheduled_time");
}

void update_flow_state_details(run_state& written, const flow_run_id& run,
                               const std::optional<task_run_id>& parent_task_run) {
  if (!written.details.is_object()) written.details = nlohmann::json::object();
  written.details["flow_run_id"] = run.to_string();
  if (parent_task_run) written.details["task_run_id"] = parent_task_run->to_string();
}

void apply_flow_run_count(run_bookkeeping& run, bool& resuming, const run_state& written, const client_info& client) {
  const bool tracks_pauses = client.tracks_pauses();
  // IncrementFlowRunCount
  if (written.type == state_type::running && !(tracks_pauses && resuming)) ++run.run_count;
  // RemoveResumingIndicator
  if (tracks_pauses && (written.type == state_type::running || is_terminal(written.type))) resuming = false;
}

run_state subflow_parent_task_state(const run_state& written, const flow_run_id& subflow, timestamp now) {
  run_state copy = written;
  copy.id = state_id{new_uuid7(now)};
  copy.at = now;
  if (!copy.details.is_object()) copy.details = nlohmann::json::object();
  copy.details["child_flow_run_id"] = subflow.to_string();
  return copy;
}

void update_task_state_details(run_state& written, const task_run_id& run, const std::optional<flow_run_id>& flow_run) {
  if (!written.details.is_object()) written.details = nlohmann::json::object();
  written.details["flow_run_id"] = flow_run ? nlohmann::json(flow_run->to_string()) : nlohmann::json(nullptr);
  written.details["task_run_id"] = run.to_string();
}

void apply_task_run_count(run_bookkeeping& run, const run_state& written) {
  if (written.type == state_type::running) ++run.run_count;
}

std::chrono::microseconds estimated_run_time(const run_bookkeeping& run, const std::optional<run_state>& current,
                                             timestamp now) {
  if (current && current->type == state_type::running) return run.total_run_time + (now - current->at);
  return run.total_run_time;
}

std::chrono::microseconds estimated_start_time_delta(const run_bookkeeping& run,
                                                     const std::optional<run_state>& current, timestamp now) {
  if (run.start_time && run.expected_start_time && *run.start_time > *run.expected_start_time)
    return *run.start_time - *run.expected_start_time;
  const bool terminal = current && is_terminal(current->type);
  if (!run.start_time && run.expected_start_time && *run.expected_start_time < now && !terminal)
    return now - *run.expected_start_time;
  return std::chrono::microseconds(0);
}

}  // namespace osprey

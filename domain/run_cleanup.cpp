// Prefect's cancellation cleanup and pause expiration decisions (see the header).
#include "domain/run_cleanup.hpp"

namespace osprey {
namespace {

run_state with_message(run_state s, const char* message) {
  s.message = message;
  return s;
}

}  // namespace

run_state cancelled_by_parent_task_state(timestamp now) {
  return with_message(make_server_state(state_type::cancelled, now), parent_cancelled_message);
}

std::optional<run_state> orphaned_subflow_state(state_type current, bool has_deployment, timestamp now) {
  if (is_terminal(current)) return std::nullopt;
  if (has_deployment && current == state_type::cancelling) return std::nullopt;
  const auto type = has_deployment ? state_type::cancelling : state_type::cancelled;
  return with_message(make_server_state(type, now), parent_cancelled_message);
}

bool cancelling_timed_out(timestamp since, std::chrono::microseconds timeout, timestamp now) {
  return since + timeout <= now;
}

run_state cancelling_timeout_state(timestamp now) {
  return with_message(make_server_state(state_type::cancelled, now), cancelling_timeout_message);
}

bool pause_expired(const run_state& paused, timestamp now) {
  if (paused.type != state_type::paused) return false;
  const auto timeout = detail_time(paused, "pause_timeout");
  return timeout && *timeout < now;
}

run_state pause_expired_state(timestamp now) {
  return with_message(make_server_state(state_type::failed, now), pause_expired_message);
}

}  // namespace osprey

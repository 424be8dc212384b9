#include "domain/state.hpp"

#include <array>

namespace osprey {
namespace {

struct type_names {
  state_type type;
  const char* wire;
  const char* display;
};

constexpr std::array<type_names, 9> names = {{
    {state_type::scheduled, "SCHEDULED", "Scheduled"},
    {state_type::pending, "PENDING", "Pending"},
    {state_type::running, "RUNNING", "Running"},
    {state_type::completed, "COMPLETED", "Completed"},
    {state_type::failed, "FAILED", "Failed"},
    {state_type::cancelled, "CANCELLED", "Cancelled"},
    {state_type::crashed, "CRASHED", "Crashed"},
    {state_type::paused, "PAUSED", "Paused"},
    {state_type::cancelling, "CANCELLING", "Cancelling"},
}};

}  // namespace

const char* to_string(state_type t) noexcept {
  for (const auto& n : names)
    if (n.type == t) return n.wire;
  return "PENDING";
}

std::optional<state_type> parse_state_type(std::string_view upper_name) {
  for (const auto& n : names)
    if (upper_name == n.wire) return n.type;
  return std::nullopt;
}

const char* default_state_name(state_type t) noexcept {
  for (const auto& n : names)
    if (n.type == t) return n.display;
  return "Pending";
}

bool is_terminal(state_type t) noexcept {
  return t == state_type::completed || t == state_type::failed || t == state_type::cancelled ||
         t == state_type::crashed;
}

}  // namespace osprey

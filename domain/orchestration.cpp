#include "domain/orchestration.hpp"

namespace osprey {

const char* to_string(decision_kind k) noexcept {
  switch (k) {
    case decision_kind::accept: return "ACCEPT";
    case decision_kind::reject: return "REJECT";
    case decision_kind::wait: return "WAIT";
    case decision_kind::abort: return "ABORT";
  }
  return "ACCEPT";
}

transition_decision accept_proposed(const std::optional<run_state>&, const transition_request&) { return {}; }

}  // namespace osprey

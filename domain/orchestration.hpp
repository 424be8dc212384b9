#pragma once
// Orchestration decisions: given a run's current state and a proposed one, what happens. Pure functions; the
// flow-run actor applies the decision and the persistence layer stores it. Prefect's full core flow policy
// arrives with the client-compatibility work; `accept_proposed` is the policy for forced transitions.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "domain/state.hpp"

namespace osprey {

enum class decision_kind {
  accept,  ///< the proposed state becomes current
  reject,  ///< nothing is written unless `replacement` is set, which becomes current instead
  wait,    ///< nothing is written; the client retries after `delay`
  abort,   ///< nothing is written; the client gives up
};

const char* to_string(decision_kind k) noexcept;  ///< "ACCEPT", "REJECT", "WAIT", "ABORT"

struct transition_decision {
  decision_kind kind = decision_kind::accept;
  std::optional<run_state> replacement;  ///< for reject: the state written instead (e.g. AwaitingRetry)
  std::string reason;
  std::chrono::seconds delay{0};         ///< for wait
};

struct transition_request {
  run_state proposed;
  bool force = false;  ///< skip the policy (Prefect's `force=true`)
};

/// A policy: (current state or none, request) → decision. Must be pure and thread-safe.
using transition_policy =
    std::function<transition_decision(const std::optional<run_state>& current, const transition_request& request)>;

/// Accepts every proposal.
transition_decision accept_proposed(const std::optional<run_state>& current, const transition_request& request);

}  // namespace osprey

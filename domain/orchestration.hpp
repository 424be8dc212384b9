#pragma once
// Orchestration: given a run's current state and a proposed one, what happens. Everything here is pure (no
// I/O, no clock reads, no shared mutable state); callers pass the time and whatever they looked up.
//
// This header holds what flows and tasks share:
//   - the decision a caller acts on (decision_kind, transition_decision) and the request (transition_request);
//   - Prefect's rule machinery (orchestration_context, orchestration_rule, govern_transition), a faithful
//     model of PrefectHQ/prefect src/prefect/server/orchestration/rules.py;
//   - state_details accessors and the rules both policies use (CopyScheduledTime, WaitForScheduledTime,
//     PreventPendingTransitions).
// The policies themselves: domain/flow_policy.hpp (CoreFlowPolicy, MinimalFlowPolicy; the entry point the
// flow-run actor calls), domain/task_policy.hpp (CoreTaskPolicy, MinimalTaskPolicy). The bookkeeping that runs on
// every written state: domain/global_transforms.hpp.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/state.hpp"

namespace osprey {

enum class decision_kind {
  accept,  ///< the proposed state (possibly adjusted by rules: renamed, details filled in) is written
  reject,  ///< `replacement` is written instead, or nothing when it is empty (the current state is returned)
  wait,    ///< nothing is written; the client retries after `delay`
  abort,   ///< nothing is written; the client gives up
};

const char* to_string(decision_kind k) noexcept;  ///< "ACCEPT", "REJECT", "WAIT", "ABORT"

/// Prefect's SetStateStatus + response details.
struct transition_decision {
  decision_kind kind = decision_kind::accept;
  std::optional<run_state> replacement;  ///< for reject: the state written instead (e.g. AwaitingRetry)
  std::string reason;                    ///< empty for accept; Prefect's wording otherwise
  std::chrono::seconds delay{0};         ///< for wait: whole seconds (Prefect's `delay_seconds` is an int)
};

struct transition_request {
  run_state proposed;  ///< as parsed from StateCreate: id/at are ignored (the server assigns them)
  bool force = false;  ///< Prefect's `force=true`: the minimal policy instead of the core one
};

/// Accepts every proposal unchanged. Kept for tests and tools that need a policy-free decision; the server
/// decides flow transitions with `orchestrate_flow_transition` (domain/flow_policy.hpp), also when forced.
transition_decision accept_proposed(const std::optional<run_state>& current, const transition_request& request);

// ---------------------------------------------------------------------------------------------------------------
// State types as sets (Prefect's FROM_STATES / TO_STATES, where "no state" is a member too).

class state_set {
 public:
  constexpr state_set() = default;
  constexpr state_set(std::initializer_list<std::optional<state_type>> members) {
    for (auto m : members) bits_ |= bit(m);
  }
  /// Every state type and "no state" (Prefect's ALL_ORCHESTRATION_STATES).
  static constexpr state_set all() { return state_set(all_bits); }
  /// COMPLETED, FAILED, CANCELLED, CRASHED (Prefect's TERMINAL_STATES; "no state" is not a member).
  static constexpr state_set terminal() {
    return {state_type::completed, state_type::failed, state_type::cancelled, state_type::crashed};
  }
  [[nodiscard]] constexpr bool contains(std::optional<state_type> t) const { return (bits_ & bit(t)) != 0; }
  [[nodiscard]] constexpr state_set without(std::initializer_list<std::optional<state_type>> members) const {
    state_set out = *this;
    for (auto m : members) out.bits_ &= static_cast<std::uint16_t>(~bit(m));
    return out;
  }

 private:
  static constexpr std::uint16_t all_bits = 0x3ff;  // nine types + "no state"
  explicit constexpr state_set(std::uint16_t bits) : bits_(bits) {}
  static constexpr std::uint16_t bit(std::optional<state_type> t) {
    return static_cast<std::uint16_t>(1u << (t ? static_cast<unsigned>(*t) : 9u));
  }
  std::uint16_t bits_ = 0;
};

// ---------------------------------------------------------------------------------------------------------------
// state_details accessors. Details are JSON objects as the client sent them; absent and null mean the same.

/// A datetime detail ("scheduled_time", "pause_timeout", "cache_expiration"); nullopt when absent, null or
/// unparsable.
std::optional<timestamp> detail_time(const run_state& s, std::string_view key);
/// Writes an ISO 8601 string, or null when `t` is empty.
void set_detail_time(run_state& s, std::string_view key, std::optional<timestamp> t);
/// A string detail ("pause_key", "cache_key", "transition_id", lease ids); nullopt when absent, null or not a
/// string.
std::optional<std::string> detail_string(const run_state& s, std::string_view key);
/// A boolean detail as Python would see it: absent/null → nullopt.
std::optional<bool> detail_bool(const run_state& s, std::string_view key);
/// True when the detail is JSON `true` ("pause_reschedule", "refresh_cache", "deferred").
bool detail_flag(const run_state& s, std::string_view key);

/// Prefect's `_has_persisted_result`: `data` is an object whose "type" is not "unpersisted" (an empty object
/// counts). Callers that also need Python truthiness check `!data.empty()` themselves.
bool has_persisted_result(const nlohmann::json& data);

/// A new state the server makes (Prefect's `states.Scheduled(...)`, `Cancelled()`...): fresh uuid7 id, `at = now`,
/// `name` (or the type's default name), empty details except `scheduled_time = now` for SCHEDULED.
run_state make_server_state(state_type type, timestamp now, std::string name = {});

/// Prefect's State validators, applied to a proposal before any rule sees it: an empty name becomes the
/// type's default name; a SCHEDULED state without `scheduled_time` gets `now`.
void apply_state_defaults(run_state& s, timestamp now);

// ---------------------------------------------------------------------------------------------------------------
// The rule machinery.

/// One transition as it moves through a policy's rules: the run's current state, the proposal (which rules may
/// adjust, replace or drop), and the decision so far. Prefect's OrchestrationContext minus the run itself.
/// Not thread-safe; lives for one call.
class orchestration_context {
 public:
  orchestration_context(std::optional<run_state> initial, run_state proposed, timestamp now);

  [[nodiscard]] const std::optional<run_state>& initial() const { return initial_; }
  /// The state that will be written; empty once a rule decided nothing is written.
  [[nodiscard]] std::optional<run_state>& proposed() { return proposed_; }
  [[nodiscard]] const std::optional<run_state>& proposed() const { return proposed_; }
  [[nodiscard]] std::optional<state_type> initial_type() const;
  [[nodiscard]] std::optional<state_type> proposed_type() const;
  [[nodiscard]] timestamp now() const { return now_; }
  [[nodiscard]] const transition_decision& decision() const { return decision_; }
  /// Counts reject/delay/abort calls; the engine uses it to see which rule changed the proposal.
  [[nodiscard]] int revision() const { return revision_; }

  /// REJECT. With a replacement, that state is written instead; without one, nothing is written and the
  /// current state is returned. Rejecting without a replacement when there is no current state is an error in
  /// Prefect (a 500); here it becomes an ABORT naming the problem.
  void reject(std::optional<run_state> replacement, std::string reason);
  /// WAIT: nothing is written; the client retries after `delay`.
  void delay(std::chrono::seconds delay, std::string reason);
  /// ABORT: nothing is written.
  void abort(std::string reason);
  /// Renames the proposal (no effect once it was dropped). Does not change the decision.
  void rename(std::string name);

 private:
  std::optional<run_state> initial_;
  std::optional<run_state> proposed_;
  timestamp now_;
  transition_decision decision_;
  int revision_ = 0;
};

/// One rule of a policy. `Work` is the policy's mutable view of the run (fields rules read and update, plus
/// per-transition memory such as a saved policy to restore on cleanup).
///
/// Semantics (Prefect's BaseOrchestrationRule): a rule applies when the current state's type is in `from` and the
/// proposal's original type is in `to`. Rules are entered in order; a rule is skipped when an earlier rule already
/// changed the proposal's type (rejected with another type, or dropped it). After the state is "validated",
/// entered rules exit in reverse order: `after` fires when the transition still looks like what the rule saw
/// (including the rule's own reject/delay/abort, provided the new type — or "no state" — is in its `to` set);
/// `cleanup` fires when a later rule changed it (the rule "fizzled"). Universal transforms skip the from/to and
/// fizzle checks; their hooks test `proposed()` themselves.
template <class Work>
struct orchestration_rule {
  const char* name;  ///< Prefect's class name, e.g. "RetryFailedFlows"
  state_set from;
  state_set to;
  void (*before)(orchestration_context&, Work&) = nullptr;
  void (*after)(orchestration_context&, Work&) = nullptr;
  void (*cleanup)(orchestration_context&, Work&) = nullptr;
  bool universal = false;
};

/// Runs `rules` over `ctx` as Prefect's set_*_run_state does: enter every applicable rule in order, call
/// `validate()` (the policy's global transforms and the choice of the state to write), exit in reverse order.
template <class Work, class Validate>
void govern_transition(orchestration_context& ctx, Work& work, std::span<const orchestration_rule<Work>> rules,
                       Validate&& validate) {
  struct entered {
    const orchestration_rule<Work>* rule;
    bool valid;
    std::optional<state_type> to;  // the proposal type this rule governs; updated when the rule itself changed it
  };
  const auto from_type = ctx.initial_type();
  const auto intended_to = ctx.proposed_type();
  std::vector<entered> stack;
  for (const auto& rule : rules) {
    if (!rule.universal && !(rule.from.contains(from_type) && rule.to.contains(intended_to))) continue;
    entered e{&rule, rule.universal || ctx.proposed_type() == intended_to, intended_to};
    if (e.valid && rule.before) {
      const int revision = ctx.revision();
      rule.before(ctx, work);
      if (ctx.revision() != revision) e.to = ctx.proposed_type();
    }
    stack.push_back(e);
  }
  validate();
  for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
    const auto& rule = *it->rule;
    if (rule.universal) {
      if (rule.after) rule.after(ctx, work);
      continue;
    }
    if (!it->valid || !rule.to.contains(it->to)) continue;  // invalid on entry, or "invalid" again on exit
    if (ctx.proposed_type() != it->to) {
      if (rule.cleanup) rule.cleanup(ctx, work);
    } else if (rule.after) {
      rule.after(ctx, work);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Rules shared by the flow and task policies (PrefectHQ/prefect src/prefect/server/orchestration/core_policy.py).

/// CopyScheduledTime (SCHEDULED → PENDING): the proposal inherits the current state's `scheduled_time` unless it
/// proposes its own.
void copy_scheduled_time(orchestration_context& ctx);

/// WaitForScheduledTime (SCHEDULED/PENDING → RUNNING): WAIT "Scheduled time is in the future" while the current
/// state's `scheduled_time` is ahead of now, for `scheduled_delay_seconds` seconds.
void wait_for_scheduled_time(orchestration_context& ctx);

/// Prefect's rounding of a delay to whole seconds: floor of the whole seconds plus the fraction rounded half to
/// even (so +2.4 s → 2, +2.6 s → 3, +0.5 s → 0, −0.3 s → 0).
std::chrono::seconds scheduled_delay_seconds(timestamp target, timestamp now);

/// PreventPendingTransitions (PENDING/CANCELLING/RUNNING/CANCELLED → PENDING): ABORT "This run is in a RUNNING
/// state and cannot transition to a PENDING state.", except PENDING → PENDING under a new name other than
/// "Pending" (e.g. "Submitting"), which is allowed and carries `scheduled_time` and the deployment lease id over.
void prevent_pending_transitions(orchestration_context& ctx);

}  // namespace osprey

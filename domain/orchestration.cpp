#include "domain/orchestration.hpp"

#include <cassert>

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

// --- state_details ---------------------------------------------------------------------------------------------

namespace {

const nlohmann::json* detail(const run_state& s, std::string_view key) {
  if (!s.details.is_object()) return nullptr;
  auto it = s.details.find(key);
  if (it == s.details.end() || it->is_null()) return nullptr;
  return &*it;
}

void ensure_object(run_state& s) {
  if (!s.details.is_object()) s.details = nlohmann::json::object();
}

}  // namespace

std::optional<timestamp> detail_time(const run_state& s, std::string_view key) {
  const auto* v = detail(s, key);
  if (!v || !v->is_string()) return std::nullopt;
  return parse_iso8601(v->get_ref<const std::string&>());
}

void set_detail_time(run_state& s, std::string_view key, std::optional<timestamp> t) {
  ensure_object(s);
  s.details[std::string(key)] = t ? nlohmann::json(format_iso8601(*t)) : nlohmann::json(nullptr);
}

std::optional<std::string> detail_string(const run_state& s, std::string_view key) {
  const auto* v = detail(s, key);
  if (!v || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

std::optional<bool> detail_bool(const run_state& s, std::string_view key) {
  const auto* v = detail(s, key);
  if (!v || !v->is_boolean()) return std::nullopt;
  return v->get<bool>();
}

bool detail_flag(const run_state& s, std::string_view key) { return detail_bool(s, key).value_or(false); }

bool has_persisted_result(const nlohmann::json& data) {
  if (!data.is_object()) return false;
  auto it = data.find("type");
  return it == data.end() || !it->is_string() || it->get_ref<const std::string&>() != "unpersisted";
}

run_state make_server_state(state_type type, timestamp now, std::string name) {
  run_state s;
  s.id = state_id{new_uuid7(now)};
  s.type = type;
  s.name = std::move(name);
  s.at = now;
  apply_state_defaults(s, now);
  return s;
}

void apply_state_defaults(run_state& s, timestamp now) {
  if (s.name.empty()) s.name = default_state_name(s.type);
  if (s.type == state_type::scheduled && !detail_time(s, "scheduled_time")) set_detail_time(s, "scheduled_time", now);
}

// --- orchestration_context -------------------------------------------------------------------------------------

orchestration_context::orchestration_context(std::optional<run_state> initial, run_state proposed, timestamp now)
    : initial_(std::move(initial)), proposed_(std::move(proposed)), now_(now) {}

std::optional<state_type> orchestration_context::initial_type() const {
  return initial_ ? std::optional<state_type>(initial_->type) : std::nullopt;
}

std::optional<state_type> orchestration_context::proposed_type() const {
  return proposed_ ? std::optional<state_type>(proposed_->type) : std::nullopt;
}

void orchestration_context::reject(std::optional<run_state> replacement, std::string reason) {
  if (!replacement && !initial_) {
    // Prefect raises OrchestrationError here ("The current run has no state; this transition cannot be rejected
    // without providing a new state.") and answers 500. No rule of ours does this: they all check `initial()`.
    abort("The current run has no state; this transition cannot be rejected without providing a new state.");
    return;
  }
  ++revision_;
  proposed_ = replacement;
  decision_ = transition_decision{decision_kind::reject, std::move(replacement), std::move(reason), {}};
}

void orchestration_context::delay(std::chrono::seconds delay, std::string reason) {
  ++revision_;
  proposed_.reset();
  decision_ = transition_decision{decision_kind::wait, std::nullopt, std::move(reason), delay};
}

void orchestration_context::abort(std::string reason) {
  ++revision_;
  proposed_.reset();
  decision_ = transition_decision{decision_kind::abort, std::nullopt, std::move(reason), {}};
}

void orchestration_context::rename(std::string name) {
  if (proposed_) proposed_->name = std::move(name);
}

// --- shared rules ----------------------------------------------------------------------------------------------

std::chrono::seconds scheduled_delay_seconds(timestamp target, timestamp now) {
  using namespace std::chrono;
  const auto delta = target - now;                                   // microseconds, may be negative
  const auto whole = floor<seconds>(delta);                          // Python: math.floor(delta.total_seconds())
  const auto fraction = delta - duration_cast<microseconds>(whole);  // [0, 1 s): Python's delta.microseconds
  // Python's round(): half to even, so exactly 0.5 rounds to 0.
  return whole + seconds(fraction > microseconds(500000) ? 1 : 0);
}

void copy_scheduled_time(orchestration_context& ctx) {
  if (!ctx.initial() || !ctx.proposed()) return;
  if (!detail_time(*ctx.proposed(), "scheduled_time"))
    set_detail_time(*ctx.proposed(), "scheduled_time", detail_time(*ctx.initial(), "scheduled_time"));
}

void wait_for_scheduled_time(orchestration_context& ctx) {
  if (!ctx.initial() || !ctx.proposed()) return;
  auto scheduled = detail_time(*ctx.initial(), "scheduled_time");
  if (!scheduled) return;
  auto delay = scheduled_delay_seconds(*scheduled, ctx.now());
  if (delay > std::chrono::seconds(0)) ctx.delay(delay, "Scheduled time is in the future");
}

void prevent_pending_transitions(orchestration_context& ctx) {
  if (!ctx.initial() || !ctx.proposed()) return;
  const auto& initial = *ctx.initial();
  auto& proposed = *ctx.proposed();
  if (initial.type == state_type::pending && proposed.type == state_type::pending && initial.name != proposed.name &&
      proposed.name != "Pending") {
    // A named sub-state (Pending → Submitting → InfrastructurePending) keeps what earlier rules put on Pending.
    ensure_object(proposed);
    auto copy = [&](const char* key) {
      const auto* v = detail(initial, key);
      proposed.details[key] = v ? *v : nlohmann::json(nullptr);
    };
    copy("scheduled_time");
    copy("deployment_concurrency_lease_id");
    return;
  }
  ctx.abort(std::string("This run is in a ") + to_string(initial.type) +
            " state and cannot transition to a PENDING state.");
}

}  // namespace osprey

#include "domain/flow_policy.hpp"

#include <array>
#include <cctype>
#include <cmath>

namespace osprey {
namespace {

using st = state_type;
using ctx_t = orchestration_context;

// Python's f"{state.type.value}" and f"{state.type.name}" both print the upper-case type.
std::string type_name(st t) { return to_string(t); }

bool has_deployment(const flow_work& w) { return w.run.deployment_id.has_value(); }

bool has_infrastructure(const flow_work& w) { return w.run.infrastructure_pid && !w.run.infrastructure_pid->empty(); }

// Python truthiness of `state.data` plus _has_persisted_result.
bool carries_persisted_result(const run_state& s) {
  return !s.data.is_null() && !s.data.empty() && has_persisted_result(s.data);
}

// --- CoreFlowPolicy rules, in order -----------------------------------------------------------------------------

// PreserveDeploymentConcurrencyLeaseId (universal): workers send `deployment_concurrency_lease_id: null`.
void preserve_lease_id(ctx_t& ctx, flow_work&) {
  if (!ctx.initial() || !ctx.proposed()) return;
  auto lease = detail_string(*ctx.initial(), "deployment_concurrency_lease_id");
  if (lease && !detail_string(*ctx.proposed(), "deployment_concurrency_lease_id")) {
    if (!ctx.proposed()->details.is_object()) ctx.proposed()->details = nlohmann::json::object();
    ctx.proposed()->details["deployment_concurrency_lease_id"] = *lease;
  }
}

// PreventDuplicateTransitions: a client retrying a request whose answer it lost gets the current state back.
void prevent_duplicate_transitions(ctx_t& ctx, flow_work&) {
  if (!ctx.initial() || !ctx.proposed()) return;
  auto a = detail_string(*ctx.initial(), "transition_id");
  auto b = detail_string(*ctx.proposed(), "transition_id");
  if (!a || !b) return;
  auto ua = uuid::parse(*a);
  auto ub = uuid::parse(*b);
  const bool same = (ua && ub) ? *ua == *ub : *a == *b;
  if (same) ctx.reject(std::nullopt, "This run has already made this state transition.");
}

// HandleFlowTerminalStateTransitions
void handle_flow_terminal_before(ctx_t& ctx, flow_work& w) {
  if (!ctx.initial() || !ctx.proposed()) return;
  const auto& initial = *ctx.initial();
  const auto& proposed = *ctx.proposed();
  w.saved_policy = w.run.policy;
  if (proposed.type == st::cancelling || proposed.type == st::paused || proposed.type == st::crashed) {
    ctx.abort("Run is already in terminal state " + type_name(initial.type) + ".");
    return;
  }
  const bool initial_persisted = initial.type == st::completed && carries_persisted_result(initial);
  if (initial_persisted && !is_terminal(proposed.type)) {
    ctx.reject(std::nullopt, "Run is already COMPLETED.");
    return;
  }
  if (initial_persisted && proposed.type == st::completed && !has_persisted_result(proposed.data)) {
    ctx.reject(std::nullopt,
               "Cannot overwrite a COMPLETED state that carries persisted result data with one that does not.");
    return;
  }
  if (proposed.type == st::scheduled && !has_deployment(w)) {
    ctx.abort("Cannot reschedule a run without an associated deployment.");
    return;
  }
  if (!is_terminal(proposed.type) && w.in.client.tracks_pauses()) {
    w.run.policy.resuming = false;
    w.run.policy.pause_keys.clear();
    w.run.policy.retry_type = proposed.type == st::scheduled ? std::optional<std::string>("reschedule") : std::nullopt;
  }
}

void handle_flow_terminal_cleanup(ctx_t&, flow_work& w) {
  if (w.saved_policy) w.run.policy = *w.saved_policy;
}

// PreventResultDataLoss (MinimalFlowPolicy's part of the above, also applied when forced).
void prevent_result_data_loss(ctx_t& ctx, flow_work&) {
  if (!ctx.initial() || !ctx.proposed()) return;
  const auto& initial = *ctx.initial();
  const auto& proposed = *ctx.proposed();
  if (initial.type == st::completed && proposed.type == st::completed && carries_persisted_result(initial) &&
      !has_persisted_result(proposed.data))
    ctx.reject(std::nullopt,
               "Cannot overwrite a COMPLETED state that carries persisted result data with one that does not.");
}

// EnforceCancellingToCancelledTransition
void enforce_cancelling_to_cancelled(ctx_t& ctx, flow_work&) {
  ctx.reject(std::nullopt, "Cannot transition flows that are cancelling to a state other than Cancelled.");
}

// BypassCancellingFlowRunsWithNoInfra: nothing to tear down, so go straight to Cancelled.
void bypass_cancelling_with_no_infra(ctx_t& ctx, flow_work& w) {
  if (!ctx.initial() || !ctx.proposed()) return;
  const auto& initial = *ctx.initial();
  if ((initial.type == st::scheduled && !has_infrastructure(w)) || initial.name == "Resuming") {
    ctx.reject(make_server_state(st::cancelled, ctx.now()), "Scheduled flow run has no infrastructure to terminate.");
  } else if (initial.type == st::paused && detail_flag(initial, "pause_reschedule")) {
    ctx.reject(make_server_state(st::cancelled, ctx.now()), "Suspended flow run has no infrastructure to terminate.");
  }
}

void prevent_pending(ctx_t& ctx, flow_work&) { prevent_pending_transitions(ctx); }

// ValidateDeploymentConcurrencyAtRunning
void validate_deployment_concurrency_at_running(ctx_t& ctx, flow_work& w) {
  if (!ctx.initial() || !ctx.proposed()) return;
  auto lease = detail_string(*ctx.initial(), "deployment_concurrency_lease_id");
  if (!ctx.proposed()->details.is_object()) ctx.proposed()->details = nlohmann::json::object();
  ctx.proposed()->details["deployment_concurrency_lease_id"] = lease ? nlohmann::json(*lease) : nullptr;
  if (!lease || !w.in.client.renews_deployment_leases() || !has_deployment(w)) return;
  const auto& renewal = w.in.lease_renewal;
  using o = deployment_lease_renewal::outcome;
  if (renewal.result == o::reacquired && renewal.new_lease_id) {
    ctx.proposed()->details["deployment_concurrency_lease_id"] = *renewal.new_lease_id;
  } else if (renewal.result == o::lost) {
    auto cancelled = make_server_state(st::cancelled, ctx.now());
    cancelled.message =
        "Deployment concurrency slot lost during provisioning - no slots available to continue execution";
    ctx.reject(std::move(cancelled), "Deployment concurrency limit reached after lease expiry.");
  }
}

// SecureFlowConcurrencySlots
void secure_flow_concurrency_slots(ctx_t& ctx, flow_work& w) {
  if (!ctx.proposed() || !has_deployment(w) || w.in.client.manages_deployment_concurrency()) return;
  const auto& slot = w.in.deployment_slot;
  using o = deployment_slot_attempt::outcome;
  switch (slot.result) {
    case o::not_attempted:
    case o::not_limited: return;
    case o::deployment_missing: ctx.abort("Deployment not found."); return;
    case o::zero_limit:
      ctx.abort("The deployment concurrency limit is 0. The flow will deadlock if submitted again.");
      return;
    case o::acquired:
      if (!ctx.proposed()->details.is_object()) ctx.proposed()->details = nlohmann::json::object();
      ctx.proposed()->details["deployment_concurrency_lease_id"] =
          slot.lease_id ? nlohmann::json(*slot.lease_id) : nullptr;
      return;
    case o::full:
      if (slot.strategy == collision_strategy::enqueue) {
        auto waiting = make_server_state(st::scheduled, ctx.now(), "AwaitingConcurrencySlot");
        set_detail_time(waiting, "scheduled_time", ctx.now() + slot.wait);
        ctx.reject(std::move(waiting), "Deployment concurrency limit reached.");
      } else {
        auto cancelled = make_server_state(st::cancelled, ctx.now());
        cancelled.message = "Deployment concurrency limit reached.";
        ctx.reject(std::move(cancelled), "Deployment concurrency limit reached.");
      }
      return;
  }
}
// Cleanup (a later rule changed the transition) needs no hook: a lease acquired for this call that the written
// state does not carry is released after the rules ran (see apply_flow_rules).

// RemoveDeploymentConcurrencyLeaseForOldClientVersions
void remove_lease_for_old_clients(ctx_t& ctx, flow_work& w) {
  if (!ctx.initial() || w.in.client.renews_deployment_leases()) return;
  if (auto lease = detail_string(*ctx.initial(), "deployment_concurrency_lease_id")) w.effects.revoke_lease = lease;
}

// EnsureOnlyScheduledFlowsMarkedLate
void ensure_only_scheduled_marked_late(ctx_t& ctx, flow_work&) {
  if (!ctx.initial() || !ctx.proposed()) return;
  if (ctx.proposed()->type != st::scheduled || ctx.proposed()->name != "Late") return;
  if (ctx.initial()->type != st::scheduled)
    ctx.reject(std::nullopt, "Only scheduled flows can be marked late.");
  else if (ctx.initial()->name == "Late")
    ctx.reject(std::nullopt, "This flow run is already marked late.");
}

// HandlePausingFlows
void handle_pausing_before(ctx_t& ctx, flow_work& w) {
  if (!ctx.proposed()) return;
  const auto& proposed = *ctx.proposed();
  const std::string verb = proposed.name == "Suspended" ? "suspend" : "pause";
  if (!ctx.initial()) {
    ctx.abort("Cannot " + verb + " flows with no state.");
    return;
  }
  if (ctx.initial()->type != st::running) {
    ctx.reject(std::nullopt, "Cannot " + verb + " flows that are not currently running.");
    return;
  }
  // Without a key every pause is new (a random key never repeats).
  w.pause_key = detail_string(proposed, "pause_key").value_or(new_uuid4().to_string());
  if (w.run.policy.pause_keys.contains(*w.pause_key)) {
    ctx.reject(std::nullopt, "This " + verb + " has already fired.");
    return;
  }
  if (detail_flag(proposed, "pause_reschedule")) {
    if (w.run.parent_task_run_id) {
      ctx.abort("Cannot " + verb + " subflows.");
      return;
    }
    if (!has_deployment(w)) {
      ctx.abort("Cannot " + verb + " flows without a deployment.");
      return;
    }
  }
}

void handle_pausing_after(ctx_t&, flow_work& w) {
  if (w.pause_key) w.run.policy.pause_keys.insert(*w.pause_key);
}

// HandleResumingPausedFlows
void handle_resuming_before(ctx_t& ctx, flow_work& w) {
  if (!ctx.initial() || !ctx.proposed()) return;
  const auto& initial = *ctx.initial();
  const auto& proposed = *ctx.proposed();
  if (!(proposed.type == st::running || proposed.type == st::scheduled || is_terminal(proposed.type))) {
    // Prefect formats the enums with f"{...}", which Python 3.12 prints as "StateType.PENDING".
    ctx.reject(std::nullopt, "This run cannot transition to the StateType." + type_name(proposed.type) +
                                 " state from the StateType." + type_name(initial.type) + " state.");
    return;
  }
  const std::string verb = proposed.name == "Suspended" ? "suspend" : "pause";
  std::string display = proposed.name;
  for (auto& c : display) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (detail_flag(initial, "pause_reschedule") && !has_deployment(w)) {
    ctx.reject(std::nullopt, "Cannot reschedule a " + display + " flow run without a deployment.");
    return;
  }
  auto timeout = detail_time(initial, "pause_timeout");
  if (timeout && *timeout < ctx.now()) {
    auto failed = make_server_state(st::failed, ctx.now());
    failed.message = "The flow was " + display + " and never resumed.";
    ctx.reject(std::move(failed), "The flow run " + verb + " has timed out and can no longer resume.");
  }
}

void handle_resuming_after(ctx_t&, flow_work& w) { w.run.policy.resuming = true; }

void copy_scheduled(ctx_t& ctx, flow_work&) { copy_scheduled_time(ctx); }
void wait_for_scheduled(ctx_t& ctx, flow_work&) { wait_for_scheduled_time(ctx); }

// RetryFailedFlows: the server decides flow retries.
void retry_failed_flows(ctx_t& ctx, flow_work& w) {
  if (!ctx.initial() || !ctx.proposed()) return;
  auto& policy = w.run.policy;
  if (!policy.retries || w.run.counters.run_count > *policy.retries) {
    policy.retry_type.reset();  // lets infrastructure-level retries (e.g. from the UI) happen later
    return;
  }
  const double delay = policy.retry_delay.value_or(0.0);
  const auto scheduled = ctx.now() + std::chrono::microseconds(static_cast<std::int64_t>(std::llround(delay * 1e6)));
  // API < 0.8.3 clients also expected their failed task runs to be moved to AwaitingRetry here; no supported
  // client is that old, so that branch is not implemented.
  if (w.in.client.tracks_pauses()) {
    policy.resuming = false;
    policy.pause_keys.clear();
    policy.retry_type = "in_process";
  }
  auto retry = make_server_state(st::scheduled, ctx.now(), "AwaitingRetry");
  set_detail_time(retry, "scheduled_time", scheduled);
  retry.message = ctx.proposed()->message;
  retry.data = ctx.proposed()->data;
  ctx.reject(std::move(retry), "Retrying");
}

// ReleaseFlowConcurrencySlots (universal, after the write).
void release_flow_concurrency_slots(ctx_t& ctx, flow_work& w) {
  if (!ctx.proposed() || !ctx.initial() || !has_deployment(w)) return;
  const state_set holding{st::running, st::cancelling, st::pending};
  if (!holding.contains(ctx.initial()->type) || holding.contains(ctx.proposed()->type)) return;
  if (auto lease = detail_string(*ctx.initial(), "deployment_concurrency_lease_id"))
    w.effects.release_leases.push_back(*lease);
  else
    w.effects.release_deployment_slot = true;
}

constexpr state_set all = state_set::all();
constexpr state_set terminal = state_set::terminal();

const std::array<flow_rule, 17> core_rules = {{
    {"PreserveDeploymentConcurrencyLeaseId", all, all, preserve_lease_id, nullptr, nullptr, true},
    {"PreventDuplicateTransitions", all, all, prevent_duplicate_transitions},
    {"HandleFlowTerminalStateTransitions", terminal, all, handle_flow_terminal_before, nullptr,
     handle_flow_terminal_cleanup},
    {"EnforceCancellingToCancelledTransition",
     {st::cancelling},
     all.without({st::cancelled}),
     enforce_cancelling_to_cancelled},
    {"BypassCancellingFlowRunsWithNoInfra",
     {st::scheduled, st::paused},
     {st::cancelling},
     bypass_cancelling_with_no_infra},
    {"PreventPendingTransitions",
     {st::pending, st::cancelling, st::running, st::cancelled},
     {st::pending},
     prevent_pending},
    {"ValidateDeploymentConcurrencyAtRunning",
     {st::pending},
     {st::running},
     validate_deployment_concurrency_at_running},
    {"SecureFlowConcurrencySlots",
     all.without({st::pending, st::running, st::cancelling}),
     {st::pending},
     secure_flow_concurrency_slots},
    {"RemoveDeploymentConcurrencyLeaseForOldClientVersions",
     {st::pending},
     {st::running, st::cancelling},
     nullptr,
     remove_lease_for_old_clients},
    {"EnsureOnlyScheduledFlowsMarkedLate", all, {st::scheduled}, ensure_only_scheduled_marked_late},
    {"HandlePausingFlows", all, {st::paused}, handle_pausing_before, handle_pausing_after},
    {"HandleResumingPausedFlows", {st::paused}, all, handle_resuming_before, handle_resuming_after},
    {"CopyScheduledTime", {st::scheduled}, {st::pending}, copy_scheduled},
    {"WaitForScheduledTime", {st::scheduled, st::pending}, {st::running}, wait_for_scheduled},
    {"RetryFailedFlows", {st::running}, {st::failed}, retry_failed_flows},
    // InstrumentFlowRunStateTransitions: the caller publishes the written state (contract step 6).
    {"InstrumentFlowRunStateTransitions", all, all, nullptr, nullptr, nullptr, true},
    {"ReleaseFlowConcurrencySlots", all, all, nullptr, release_flow_concurrency_slots, nullptr, true},
}};

const std::array<flow_rule, 4> minimal_rules = {{
    {"PreventResultDataLoss", terminal, terminal, prevent_result_data_loss},
    {"BypassCancellingFlowRunsWithNoInfra",
     {st::scheduled, st::paused},
     {st::cancelling},
     bypass_cancelling_with_no_infra},
    {"InstrumentFlowRunStateTransitions", all, all, nullptr, nullptr, nullptr, true},
    {"ReleaseFlowConcurrencySlots", all, all, nullptr, release_flow_concurrency_slots, nullptr, true},
}};

}  // namespace

deployment_concurrency_plan plan_deployment_concurrency(const flow_transition_input& in) {
  deployment_concurrency_plan plan;
  if (in.request.force || !in.run.deployment_id) return plan;
  const auto from = in.current ? std::optional<state_type>(in.current->type) : std::nullopt;
  const auto to = in.request.proposed.type;
  if (to == st::pending && !state_set{st::pending, st::running, st::cancelling}.contains(from) &&
      !in.client.manages_deployment_concurrency())
    plan.acquire_slot = true;
  if (from == st::pending && to == st::running && in.client.renews_deployment_leases())
    plan.renew_lease = detail_string(*in.current, "deployment_concurrency_lease_id");
  return plan;
}

flow_transition_result apply_flow_rules(const flow_transition_input& in, std::span<const flow_rule> rules) {
  run_state proposal = in.request.proposed;
  apply_state_defaults(proposal, in.now);
  orchestration_context ctx(in.current, std::move(proposal), in.now);
  flow_work work{in, in.run, {}, std::nullopt, std::nullopt};

  govern_transition(ctx, work, rules, [&] {
    if (!ctx.proposed()) return;
    auto& s = *ctx.proposed();
    s.at = unique_state_timestamp(in.current, in.now);
    s.id = state_id{new_uuid7(s.at)};
    apply_common_transforms(work.run.counters, in.current, s);
    update_flow_state_details(s, work.run.id, work.run.parent_task_run_id);
    apply_flow_run_count(work.run.counters, work.run.policy.resuming, s, in.client);
  });

  flow_transition_result out;
  out.decision = ctx.decision();
  out.written = ctx.proposed();
  if (out.decision.kind == decision_kind::reject && out.written) out.decision.replacement = out.written;
  if (out.written && work.run.parent_task_run_id)
    work.effects.parent_task_state = subflow_parent_task_state(*out.written, work.run.id, in.now);

  // A lease taken for this call that the written state does not carry was not used (another rule decided
  // otherwise): give it back. This is SecureFlowConcurrencySlots' cleanup, generalised.
  const auto written_lease =
      out.written ? detail_string(*out.written, "deployment_concurrency_lease_id") : std::nullopt;
  auto release_unused = [&](const std::optional<std::string>& lease) {
    if (lease && lease != written_lease) work.effects.release_leases.push_back(*lease);
  };
  if (in.deployment_slot.result == deployment_slot_attempt::outcome::acquired)
    release_unused(in.deployment_slot.lease_id);
  if (in.lease_renewal.result == deployment_lease_renewal::outcome::reacquired)
    release_unused(in.lease_renewal.new_lease_id);

  out.run_changed = !(work.run == in.run);
  out.run = std::move(work.run);
  out.effects = std::move(work.effects);
  return out;
}

flow_transition_result orchestrate_flow_transition(const flow_transition_input& in) {
  return apply_flow_rules(in, in.request.force ? minimal_flow_policy() : core_flow_policy());
}

std::span<const flow_rule> core_flow_policy() { return core_rules; }
std::span<const flow_rule> minimal_flow_policy() { return minimal_rules; }

const flow_rule* find_flow_rule(std::string_view name) {
  for (const auto& r : core_rules)
    if (name == r.name) return &r;
  for (const auto& r : minimal_rules)
    if (name == r.name) return &r;
  return nullptr;
}

}  // namespace osprey

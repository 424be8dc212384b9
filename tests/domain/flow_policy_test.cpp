// CoreFlowPolicy / MinimalFlowPolicy: each rule on its own (table-driven), then whole-policy sequences.
#include <gtest/gtest.h>

#include <functional>

#include "domain/flow_policy.hpp"

using namespace osprey;
using namespace std::chrono_literals;

namespace {

const timestamp t0 = *parse_iso8601("2026-01-01T00:00:00Z");
const uuid deployment = *uuid::parse("5f6c2a4e-0000-4000-8000-000000000001");
const flow_run_id run_id{*uuid::parse("5f6c2a4e-0000-4000-8000-0000000000aa")};
const task_run_id parent_task{*uuid::parse("5f6c2a4e-0000-4000-8000-0000000000bb")};
const nlohmann::json persisted = {{"storage_key", "/results/abc"}, {"serializer", {{"type", "pickle"}}}};
const nlohmann::json unpersisted = {{"type", "unpersisted"}};

run_state st(state_type type, std::string name = {}, nlohmann::json details = nlohmann::json::object(),
             nlohmann::json data = nullptr) {
  run_state s;
  s.id = state_id{new_uuid7(t0)};
  s.type = type;
  s.name = name.empty() ? default_state_name(type) : std::move(name);
  s.at = t0 - 1s;
  s.details = std::move(details);
  s.data = std::move(data);
  return s;
}

run_state scheduled_for(timestamp at, std::string name = "Scheduled") {
  return st(state_type::scheduled, std::move(name), {{"scheduled_time", format_iso8601(at)}});
}

client_info current_client() {
  return {parse_prefect_user_agent("prefect/3.9.1 (API 0.8.4)"), parse_api_version("0.8.4")};
}

flow_transition_input input(std::optional<run_state> current, run_state proposed, timestamp now = t0) {
  flow_transition_input in{std::move(current), {std::move(proposed), false}, {}, now, current_client(), {}, {}};
  in.run.id = run_id;
  return in;
}

flow_transition_result only(const char* rule, const flow_transition_input& in) {
  const flow_rule* r = find_flow_rule(rule);
  EXPECT_NE(r, nullptr) << rule;
  return apply_flow_rules(in, std::span<const flow_rule>(r, 1));
}

// One row: a rule (or the whole core policy when `rule` is null), a transition, optional context → decision.
struct flow_case {
  const char* label;
  const char* rule;
  std::optional<run_state> current;
  run_state proposed;
  std::function<void(flow_transition_input&)> setup;
  decision_kind kind;
  std::string reason;
  std::optional<state_type> written_type;  ///< none: nothing written
  std::string written_name;
};

void check(const std::vector<flow_case>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    auto in = input(c.current, c.proposed);
    if (c.setup) c.setup(in);
    auto r = c.rule ? only(c.rule, in) : orchestrate_flow_transition(in);
    EXPECT_EQ(to_string(r.decision.kind), std::string(to_string(c.kind)));
    EXPECT_EQ(r.decision.reason, c.reason);
    ASSERT_EQ(r.written.has_value(), c.written_type.has_value());
    if (r.written) {
      EXPECT_EQ(r.written->type, *c.written_type);
      EXPECT_EQ(r.written->name, c.written_name);
    }
    if (r.decision.kind == decision_kind::reject) {
      EXPECT_EQ(r.decision.replacement.has_value(), r.written.has_value());
    }
  }
}

auto with_deployment = [](flow_transition_input& in) { in.run.deployment_id = deployment; };

constexpr auto accepted = decision_kind::accept;
constexpr auto rejected = decision_kind::reject;
constexpr auto waits = decision_kind::wait;
constexpr auto aborted = decision_kind::abort;
using S = state_type;

}  // namespace

// --- rules one by one ------------------------------------------------------------------------------------------

TEST(PreventDuplicateTransitions, SameTransitionIdReturnsTheCurrentState) {
  const std::string tid = "0b3c5a43-53a5-4d3c-9a6b-1c1c6c5e4f00";
  check({
      {"same id",
       "PreventDuplicateTransitions",
       st(S::running, {}, {{"transition_id", tid}}),
       st(S::completed, {}, {{"transition_id", tid}}),
       {},
       rejected,
       "This run has already made this state transition.",
       std::nullopt,
       ""},
      {"same id, other case",
       "PreventDuplicateTransitions",
       st(S::running, {}, {{"transition_id", tid}}),
       st(S::running, {}, {{"transition_id", "0B3C5A43-53A5-4D3C-9A6B-1C1C6C5E4F00"}}),
       {},
       rejected,
       "This run has already made this state transition.",
       std::nullopt,
       ""},
      {"other id",
       "PreventDuplicateTransitions",
       st(S::running, {}, {{"transition_id", tid}}),
       st(S::completed, {}, {{"transition_id", "0b3c5a43-53a5-4d3c-9a6b-1c1c6c5e4f01"}}),
       {},
       accepted,
       "",
       S::completed,
       "Completed"},
      {"no id on the current state",
       "PreventDuplicateTransitions",
       st(S::running),
       st(S::completed, {}, {{"transition_id", tid}}),
       {},
       accepted,
       "",
       S::completed,
       "Completed"},
      {"first state",
       "PreventDuplicateTransitions",
       std::nullopt,
       st(S::pending, {}, {{"transition_id", tid}}),
       {},
       accepted,
       "",
       S::pending,
       "Pending"},
  });
}

TEST(HandleFlowTerminalStateTransitions, Decisions) {
  const char* rule = "HandleFlowTerminalStateTransitions";
  check({
      {"completed -> cancelling",
       rule,
       st(S::completed),
       st(S::cancelling),
       {},
       aborted,
       "Run is already in terminal state COMPLETED.",
       std::nullopt,
       ""},
      {"failed -> paused",
       rule,
       st(S::failed),
       st(S::paused),
       {},
       aborted,
       "Run is already in terminal state FAILED.",
       std::nullopt,
       ""},
      {"cancelled -> crashed",
       rule,
       st(S::cancelled),
       st(S::crashed),
       {},
       aborted,
       "Run is already in terminal state CANCELLED.",
       std::nullopt,
       ""},
      {"completed(persisted) -> running",
       rule,
       st(S::completed, {}, {}, persisted),
       st(S::running),
       {},
       rejected,
       "Run is already COMPLETED.",
       std::nullopt,
       ""},
      {"completed(unpersisted) -> running: rerun allowed",
       rule,
       st(S::completed, {}, {}, unpersisted),
       st(S::running),
       {},
       accepted,
       "",
       S::running,
       "Running"},
      {"completed(no data) -> running: rerun allowed",
       rule,
       st(S::completed),
       st(S::running),
       {},
       accepted,
       "",
       S::running,
       "Running"},
      {"completed(persisted) -> completed(none)",
       rule,
       st(S::completed, {}, {}, persisted),
       st(S::completed),
       {},
       rejected,
       "Cannot overwrite a COMPLETED state that carries persisted result data with one that does not.",
       std::nullopt,
       ""},
      {"completed(persisted) -> completed(persisted)",
       rule,
       st(S::completed, {}, {}, persisted),
       st(S::completed, {}, {}, persisted),
       {},
       accepted,
       "",
       S::completed,
       "Completed"},
      {"completed(persisted) -> failed",
       rule,
       st(S::completed, {}, {}, persisted),
       st(S::failed),
       {},
       accepted,
       "",
       S::failed,
       "Failed"},
      {"failed -> scheduled without deployment",
       rule,
       st(S::failed),
       st(S::scheduled),
       {},
       aborted,
       "Cannot reschedule a run without an associated deployment.",
       std::nullopt,
       ""},
      {"failed -> scheduled with deployment", rule, st(S::failed), st(S::scheduled), with_deployment, accepted, "",
       S::scheduled, "Scheduled"},
  });
}

TEST(HandleFlowTerminalStateTransitions, LeavingATerminalStateResetsPauseBookkeeping) {
  auto in = input(st(S::failed), st(S::running));
  in.run.policy.pause_keys = {"1", "2"};
  in.run.policy.resuming = true;
  in.run.policy.retry_type = "in_process";
  auto r = only("HandleFlowTerminalStateTransitions", in);
  EXPECT_TRUE(r.run.policy.pause_keys.empty());
  EXPECT_FALSE(r.run.policy.resuming);
  EXPECT_FALSE(r.run.policy.retry_type);

  in.request.proposed = st(S::scheduled);
  in.run.deployment_id = deployment;
  EXPECT_EQ(only("HandleFlowTerminalStateTransitions", in).run.policy.retry_type, "reschedule");

  in.client.api_version = parse_api_version("0.8.3");  // before pauses existed: untouched
  EXPECT_EQ(only("HandleFlowTerminalStateTransitions", in).run.policy, in.run.policy);
}

TEST(HandleFlowTerminalStateTransitions, RestoresThePolicyWhenALaterRuleAborts) {
  // CANCELLED -> PENDING: this rule resets the pause data, then PreventPendingTransitions aborts; the reset is undone.
  auto in = input(st(S::cancelled), st(S::pending));
  in.run.policy.pause_keys = {"1"};
  auto r = orchestrate_flow_transition(in);
  EXPECT_EQ(r.decision.kind, decision_kind::abort);
  EXPECT_EQ(r.decision.reason, "This run is in a CANCELLED state and cannot transition to a PENDING state.");
  EXPECT_FALSE(r.run_changed);
  EXPECT_EQ(r.run.policy.pause_keys, std::set<std::string>{"1"});
}

TEST(EnforceCancellingToCancelledTransition, OnlyCancelledMayFollowCancelling) {
  const char* reason = "Cannot transition flows that are cancelling to a state other than Cancelled.";
  check({
      {"-> completed", nullptr, st(S::cancelling), st(S::completed), {}, rejected, reason, std::nullopt, ""},
      {"-> running", nullptr, st(S::cancelling), st(S::running), {}, rejected, reason, std::nullopt, ""},
      {"-> failed", nullptr, st(S::cancelling), st(S::failed), {}, rejected, reason, std::nullopt, ""},
      {"-> cancelled", nullptr, st(S::cancelling), st(S::cancelled), {}, accepted, "", S::cancelled, "Cancelled"},
  });
}

TEST(BypassCancellingFlowRunsWithNoInfra, CancelsDirectlyWhenNothingRuns) {
  const char* rule = "BypassCancellingFlowRunsWithNoInfra";
  auto with_pid = [](flow_transition_input& in) { in.run.infrastructure_pid = "host:1234"; };
  check({
      {"scheduled, no pid",
       rule,
       scheduled_for(t0),
       st(S::cancelling),
       {},
       rejected,
       "Scheduled flow run has no infrastructure to terminate.",
       S::cancelled,
       "Cancelled"},
      {"scheduled, empty pid", rule, scheduled_for(t0), st(S::cancelling),
       [](flow_transition_input& in) { in.run.infrastructure_pid = ""; }, rejected,
       "Scheduled flow run has no infrastructure to terminate.", S::cancelled, "Cancelled"},
      {"scheduled with pid (AwaitingRetry in process)", rule, scheduled_for(t0, "AwaitingRetry"), st(S::cancelling),
       with_pid, accepted, "", S::cancelling, "Cancelling"},
      {"resuming, even with a pid", rule, scheduled_for(t0, "Resuming"), st(S::cancelling), with_pid, rejected,
       "Scheduled flow run has no infrastructure to terminate.", S::cancelled, "Cancelled"},
      {"suspended", rule, st(S::paused, "Suspended", {{"pause_reschedule", true}}), st(S::cancelling), with_pid,
       rejected, "Suspended flow run has no infrastructure to terminate.", S::cancelled, "Cancelled"},
      {"paused in process", rule, st(S::paused), st(S::cancelling), with_pid, accepted, "", S::cancelling,
       "Cancelling"},
  });
}

TEST(BypassCancellingFlowRunsWithNoInfra, AppliesToForcedTransitionsToo) {
  auto in = input(scheduled_for(t0), st(S::cancelling));
  in.request.force = true;
  auto r = orchestrate_flow_transition(in);
  EXPECT_EQ(r.decision.kind, decision_kind::reject);
  ASSERT_TRUE(r.written);
  EXPECT_EQ(r.written->type, S::cancelled);
}

TEST(PreventPendingTransitions, BlocksDuplicateSubmissions) {
  check({
      {"running -> pending",
       "PreventPendingTransitions",
       st(S::running),
       st(S::pending),
       {},
       aborted,
       "This run is in a RUNNING state and cannot transition to a PENDING state.",
       std::nullopt,
       ""},
      {"pending -> pending",
       nullptr,
       st(S::pending),
       st(S::pending),
       {},
       aborted,
       "This run is in a PENDING state and cannot transition to a PENDING state.",
       std::nullopt,
       ""},
      {"pending -> Submitting",
       nullptr,
       st(S::pending),
       st(S::pending, "Submitting"),
       {},
       accepted,
       "",
       S::pending,
       "Submitting"},
      {"cancelling -> pending (alone)",
       "PreventPendingTransitions",
       st(S::cancelling),
       st(S::pending),
       {},
       aborted,
       "This run is in a CANCELLING state and cannot transition to a PENDING state.",
       std::nullopt,
       ""},
      {"scheduled -> pending", nullptr, scheduled_for(t0), st(S::pending), {}, accepted, "", S::pending, "Pending"},
  });
}

TEST(ValidateDeploymentConcurrencyAtRunning, RenewsOrCancels) {
  const char* rule = "ValidateDeploymentConcurrencyAtRunning";
  auto leased = st(S::pending, {}, {{"deployment_concurrency_lease_id", "lease-1"}});
  using o = deployment_lease_renewal::outcome;
  auto renewal = [](o outcome, std::optional<std::string> lease = std::nullopt) {
    return [=](flow_transition_input& in) {
      in.run.deployment_id = deployment;
      in.lease_renewal = {outcome, lease};
    };
  };
  check({
      {"renewed", rule, leased, st(S::running), renewal(o::renewed), accepted, "", S::running, "Running"},
      {"reacquired", rule, leased, st(S::running), renewal(o::reacquired, "lease-2"), accepted, "", S::running,
       "Running"},
      {"lost", rule, leased, st(S::running), renewal(o::lost), rejected,
       "Deployment concurrency limit reached after lease expiry.", S::cancelled, "Cancelled"},
      {"lost, old client does not renew", rule, leased, st(S::running),
       [&](flow_transition_input& in) {
         renewal(o::lost)(in);
         in.client.client_version = parse_release_version("3.4.10");
       },
       accepted, "", S::running, "Running"},
      {"no lease", rule, st(S::pending), st(S::running), renewal(o::lost), accepted, "", S::running, "Running"},
  });
}

TEST(ValidateDeploymentConcurrencyAtRunning, CarriesTheLeaseForward) {
  auto in = input(st(S::pending, {}, {{"deployment_concurrency_lease_id", "lease-1"}}), st(S::running));
  in.run.deployment_id = deployment;
  in.lease_renewal = {deployment_lease_renewal::outcome::reacquired, "lease-2"};
  auto r = only("ValidateDeploymentConcurrencyAtRunning", in);
  EXPECT_EQ(detail_string(*r.written, "deployment_concurrency_lease_id"), "lease-2");
  EXPECT_TRUE(r.effects.release_leases.empty());

  in.lease_renewal = {deployment_lease_renewal::outcome::lost, std::nullopt};
  r = only("ValidateDeploymentConcurrencyAtRunning", in);
  EXPECT_EQ(r.written->message,
            "Deployment concurrency slot lost during provisioning - no slots available to continue execution");
}

TEST(SecureFlowConcurrencySlots, TakesASlotOrQueues) {
  const char* rule = "SecureFlowConcurrencySlots";
  using o = deployment_slot_attempt::outcome;
  auto attempt = [](o outcome, collision_strategy s = collision_strategy::enqueue) {
    return [=](flow_transition_input& in) {
      in.run.deployment_id = deployment;
      in.deployment_slot.result = outcome;
      in.deployment_slot.strategy = s;
      if (outcome == o::acquired) in.deployment_slot.lease_id = "lease-9";
    };
  };
  check({
      {"acquired", rule, scheduled_for(t0), st(S::pending), attempt(o::acquired), accepted, "", S::pending, "Pending"},
      {"not limited", rule, scheduled_for(t0), st(S::pending), attempt(o::not_limited), accepted, "", S::pending,
       "Pending"},
      {"full, enqueue", rule, scheduled_for(t0), st(S::pending), attempt(o::full), rejected,
       "Deployment concurrency limit reached.", S::scheduled, "AwaitingConcurrencySlot"},
      {"full, cancel new", rule, scheduled_for(t0), st(S::pending), attempt(o::full, collision_strategy::cancel_new),
       rejected, "Deployment concurrency limit reached.", S::cancelled, "Cancelled"},
      {"limit 0", rule, scheduled_for(t0), st(S::pending), attempt(o::zero_limit), aborted,
       "The deployment concurrency limit is 0. The flow will deadlock if submitted again.", std::nullopt, ""},
      {"deployment gone", rule, scheduled_for(t0), st(S::pending), attempt(o::deployment_missing), aborted,
       "Deployment not found.", std::nullopt, ""},
      {"early 3.0 workers manage slots themselves", rule, scheduled_for(t0), st(S::pending),
       [&](flow_transition_input& in) {
         attempt(o::full)(in);
         in.client.client_version = parse_release_version("3.0.2");
       },
       accepted, "", S::pending, "Pending"},
  });
}

TEST(SecureFlowConcurrencySlots, LeaseGoesOnThePendingStateOrBack) {
  auto in = input(scheduled_for(t0), st(S::pending));
  in.run.deployment_id = deployment;
  in.deployment_slot = {deployment_slot_attempt::outcome::acquired, "lease-9"};
  auto r = orchestrate_flow_transition(in);
  EXPECT_EQ(detail_string(*r.written, "deployment_concurrency_lease_id"), "lease-9");
  EXPECT_TRUE(r.effects.release_leases.empty());

  // Marked late on the way: the rule never takes effect, so the slot taken for this call is released.
  in.request.proposed = scheduled_for(t0, "Late");
  in.current = st(S::pending);
  r = orchestrate_flow_transition(in);
  EXPECT_EQ(r.effects.release_leases, std::vector<std::string>{"lease-9"});

  in = input(scheduled_for(t0), st(S::pending));
  in.run.deployment_id = deployment;
  in.deployment_slot = {deployment_slot_attempt::outcome::full, std::nullopt, collision_strategy::enqueue, 30s};
  r = orchestrate_flow_transition(in);
  EXPECT_EQ(detail_time(*r.written, "scheduled_time"), t0 + 30s);
}

TEST(DeploymentConcurrency, PlanSaysWhatToLookUp) {
  auto in = input(scheduled_for(t0), st(S::pending));
  EXPECT_FALSE(plan_deployment_concurrency(in).acquire_slot);  // no deployment
  in.run.deployment_id = deployment;
  EXPECT_TRUE(plan_deployment_concurrency(in).acquire_slot);
  in.current = st(S::running);
  EXPECT_FALSE(plan_deployment_concurrency(in).acquire_slot);

  in = input(st(S::pending, {}, {{"deployment_concurrency_lease_id", "lease-1"}}), st(S::running));
  in.run.deployment_id = deployment;
  EXPECT_EQ(plan_deployment_concurrency(in).renew_lease, "lease-1");
  in.client.client_version = parse_release_version("3.4.10");
  EXPECT_FALSE(plan_deployment_concurrency(in).renew_lease);
}

TEST(RemoveDeploymentConcurrencyLeaseForOldClientVersions, RevokesLeasesOldClientsCannotRenew) {
  auto in = input(st(S::pending, {}, {{"deployment_concurrency_lease_id", "lease-1"}}), st(S::running));
  in.client.client_version = parse_release_version("3.4.10");
  EXPECT_EQ(only("RemoveDeploymentConcurrencyLeaseForOldClientVersions", in).effects.revoke_lease, "lease-1");
  in.client.client_version.reset();  // unknown clients count as old
  EXPECT_EQ(only("RemoveDeploymentConcurrencyLeaseForOldClientVersions", in).effects.revoke_lease, "lease-1");
  in.client = current_client();
  EXPECT_FALSE(only("RemoveDeploymentConcurrencyLeaseForOldClientVersions", in).effects.revoke_lease);
}

TEST(ReleaseFlowConcurrencySlots, LeavingTheActiveStatesReleases) {
  auto in = input(st(S::running, {}, {{"deployment_concurrency_lease_id", "lease-1"}}), st(S::completed));
  in.run.deployment_id = deployment;
  EXPECT_EQ(only("ReleaseFlowConcurrencySlots", in).effects.release_leases, std::vector<std::string>{"lease-1"});

  in.current = st(S::running);  // no lease recorded: decrement the deployment's limit
  auto r = only("ReleaseFlowConcurrencySlots", in);
  EXPECT_TRUE(r.effects.release_leases.empty());
  EXPECT_TRUE(r.effects.release_deployment_slot);

  in.request.proposed = st(S::cancelling);  // still active
  r = only("ReleaseFlowConcurrencySlots", in);
  EXPECT_TRUE(r.effects.release_leases.empty());
  EXPECT_FALSE(r.effects.release_deployment_slot);
  in.run.deployment_id.reset();
  in.request.proposed = st(S::completed);
  r = only("ReleaseFlowConcurrencySlots", in);
  EXPECT_TRUE(r.effects.release_leases.empty());
  EXPECT_FALSE(r.effects.release_deployment_slot);
}

TEST(EnsureOnlyScheduledFlowsMarkedLate, Decisions) {
  const char* rule = "EnsureOnlyScheduledFlowsMarkedLate";
  check({
      {"scheduled -> late", rule, scheduled_for(t0), scheduled_for(t0, "Late"), {}, accepted, "", S::scheduled, "Late"},
      {"late -> late",
       rule,
       scheduled_for(t0, "Late"),
       scheduled_for(t0, "Late"),
       {},
       rejected,
       "This flow run is already marked late.",
       std::nullopt,
       ""},
      {"pending -> late",
       rule,
       st(S::pending),
       scheduled_for(t0, "Late"),
       {},
       rejected,
       "Only scheduled flows can be marked late.",
       std::nullopt,
       ""},
      {"pending -> scheduled", rule, st(S::pending), scheduled_for(t0), {}, accepted, "", S::scheduled, "Scheduled"},
  });
}

TEST(HandlePausingFlows, Decisions) {
  const char* rule = "HandlePausingFlows";
  auto pause = [](std::string key, bool reschedule = false, std::string name = {}) {
    return st(S::paused, std::move(name), {{"pause_key", key}, {"pause_reschedule", reschedule}});
  };
  auto seen = [](flow_transition_input& in) { in.run.policy.pause_keys = {"1"}; };
  auto subflow = [](flow_transition_input& in) {
    in.run.deployment_id = deployment;
    in.run.parent_task_run_id = parent_task;
  };
  check({
      {"no state", rule, std::nullopt, pause("1"), {}, aborted, "Cannot pause flows with no state.", std::nullopt, ""},
      {"not running",
       rule,
       st(S::pending),
       pause("1"),
       {},
       rejected,
       "Cannot pause flows that are not currently running.",
       std::nullopt,
       ""},
      {"suspend, not running",
       rule,
       scheduled_for(t0),
       pause("1", true, "Suspended"),
       {},
       rejected,
       "Cannot suspend flows that are not currently running.",
       std::nullopt,
       ""},
      {"running", rule, st(S::running), pause("1"), {}, accepted, "", S::paused, "Paused"},
      {"key already seen", rule, st(S::running), pause("1"), seen, rejected, "This pause has already fired.",
       std::nullopt, ""},
      {"suspend without deployment",
       rule,
       st(S::running),
       pause("1", true, "Suspended"),
       {},
       aborted,
       "Cannot suspend flows without a deployment.",
       std::nullopt,
       ""},
      {"suspend a subflow", rule, st(S::running), pause("1", true, "Suspended"), subflow, aborted,
       "Cannot suspend subflows.", std::nullopt, ""},
      {"suspend with deployment", rule, st(S::running), pause("1", true, "Suspended"), with_deployment, accepted, "",
       S::paused, "Suspended"},
  });
}

TEST(HandlePausingFlows, RecordsThePauseKey) {
  auto in = input(st(S::running), st(S::paused, {}, {{"pause_key", "7"}}));
  auto r = only("HandlePausingFlows", in);
  EXPECT_TRUE(r.run_changed);
  EXPECT_EQ(r.run.policy.pause_keys, std::set<std::string>{"7"});

  in.request.proposed = st(S::paused);  // no key: a random one, so every keyless pause is new
  r = only("HandlePausingFlows", in);
  EXPECT_EQ(r.run.policy.pause_keys.size(), 1u);
  EXPECT_FALSE(r.run.policy.pause_keys.contains("7"));

  in.current = st(S::pending);  // rejected: nothing recorded
  EXPECT_FALSE(only("HandlePausingFlows", in).run_changed);
}

TEST(HandleResumingPausedFlows, Decisions) {
  const char* rule = "HandleResumingPausedFlows";
  auto paused_until = [](timestamp until, bool reschedule = false) {
    return st(S::paused, reschedule ? "Suspended" : "Paused",
              {{"pause_timeout", format_iso8601(until)}, {"pause_reschedule", reschedule}});
  };
  check({
      {"resume", rule, paused_until(t0 + 60s), st(S::running), {}, accepted, "", S::running, "Running"},
      {"resume to pending",
       rule,
       paused_until(t0 + 60s),
       st(S::pending),
       {},
       rejected,
       "This run cannot transition to the StateType.PENDING state from the StateType.PAUSED state.",
       std::nullopt,
       ""},
      {"cancel while paused",
       rule,
       paused_until(t0 + 60s),
       st(S::cancelled),
       {},
       accepted,
       "",
       S::cancelled,
       "Cancelled"},
      {"resume suspended without deployment",
       rule,
       paused_until(t0 + 60s, true),
       scheduled_for(t0, "Resuming"),
       {},
       rejected,
       "Cannot reschedule a resuming flow run without a deployment.",
       std::nullopt,
       ""},
      {"resume suspended with deployment", rule, paused_until(t0 + 60s, true), scheduled_for(t0, "Resuming"),
       with_deployment, accepted, "", S::scheduled, "Resuming"},
      {"timed out",
       rule,
       paused_until(t0 - 1s),
       st(S::running),
       {},
       rejected,
       "The flow run pause has timed out and can no longer resume.",
       S::failed,
       "Failed"},
  });
}

TEST(HandleResumingPausedFlows, MarksTheRunResuming) {
  auto in = input(st(S::paused), st(S::running));
  auto r = only("HandleResumingPausedFlows", in);
  EXPECT_TRUE(r.run.policy.resuming);

  in.current = st(S::paused, {}, {{"pause_timeout", format_iso8601(t0 - 1s)}});
  r = only("HandleResumingPausedFlows", in);
  EXPECT_EQ(r.written->message, "The flow was running and never resumed.");
  EXPECT_TRUE(r.run.policy.resuming);  // Prefect's after-hook fires on its own rejection too
}

TEST(CopyScheduledTime, PendingInheritsTheSchedule) {
  auto r = only("CopyScheduledTime", input(scheduled_for(t0 + 5s), st(S::pending)));
  EXPECT_EQ(detail_time(*r.written, "scheduled_time"), t0 + 5s);
}

TEST(WaitForScheduledTime, WaitsWholeSeconds) {
  const char* rule = "WaitForScheduledTime";
  check({
      {"10 s early",
       rule,
       scheduled_for(t0 + 10s),
       st(S::running),
       {},
       waits,
       "Scheduled time is in the future",
       std::nullopt,
       ""},
      {"due", rule, scheduled_for(t0), st(S::running), {}, accepted, "", S::running, "Running"},
      {"overdue", rule, scheduled_for(t0 - 60s), st(S::running), {}, accepted, "", S::running, "Running"},
      {"pending with a future schedule",
       rule,
       st(S::pending, {}, {{"scheduled_time", format_iso8601(t0 + 3s)}}),
       st(S::running),
       {},
       waits,
       "Scheduled time is in the future",
       std::nullopt,
       ""},
  });
  EXPECT_EQ(only(rule, input(scheduled_for(t0 + 2600ms), st(S::running))).decision.delay, 3s);
  EXPECT_EQ(only(rule, input(scheduled_for(t0 + 2400ms), st(S::running))).decision.delay, 2s);
}

TEST(RetryFailedFlows, Decisions) {
  const char* rule = "RetryFailedFlows";
  auto retries = [](int n, int run_count) {
    return [=](flow_transition_input& in) {
      in.run.policy.retries = n;
      in.run.policy.retry_delay = 10;
      in.run.counters.run_count = run_count;
    };
  };
  check({
      {"first failure", rule, st(S::running), st(S::failed), retries(2, 1), rejected, "Retrying", S::scheduled,
       "AwaitingRetry"},
      {"last retry", rule, st(S::running), st(S::failed), retries(2, 2), rejected, "Retrying", S::scheduled,
       "AwaitingRetry"},
      {"retries exhausted", rule, st(S::running), st(S::failed), retries(2, 3), accepted, "", S::failed, "Failed"},
      {"no retries", rule, st(S::running), st(S::failed), {}, accepted, "", S::failed, "Failed"},
  });
}

TEST(RetryFailedFlows, AwaitingRetryCarriesTheFailure) {
  auto failed = st(S::failed, {}, {}, {{"type", "unpersisted"}});
  failed.message = "Flow run encountered an exception: ValueError('x')";
  auto in = input(st(S::running), failed);
  in.run.policy = {2, 10.0, {"1"}, true, std::nullopt};
  in.run.counters.run_count = 1;
  auto r = only("RetryFailedFlows", in);
  ASSERT_TRUE(r.written);
  EXPECT_EQ(detail_time(*r.written, "scheduled_time"), t0 + 10s);
  EXPECT_EQ(r.written->message, failed.message);
  EXPECT_EQ(r.written->data, failed.data);
  EXPECT_EQ(r.run.policy.retry_type, "in_process");
  EXPECT_TRUE(r.run.policy.pause_keys.empty());
  EXPECT_FALSE(r.run.policy.resuming);
  EXPECT_EQ(r.decision.replacement->id, r.written->id);

  in.run.counters.run_count = 3;
  in.run.policy.retry_type = "in_process";
  EXPECT_FALSE(only("RetryFailedFlows", in).run.policy.retry_type);  // cleared so the UI can retry later
}

TEST(PreventResultDataLoss, GuardsForcedOverwrites) {
  auto in = input(st(S::completed, {}, {}, persisted), st(S::completed));
  in.request.force = true;
  auto r = orchestrate_flow_transition(in);
  EXPECT_EQ(r.decision.kind, decision_kind::reject);
  EXPECT_FALSE(r.written);

  in.request.proposed = st(S::failed);  // other terminal states may be forced
  EXPECT_EQ(orchestrate_flow_transition(in).decision.kind, decision_kind::accept);
}

TEST(MinimalFlowPolicy, ForcedTransitionsSkipTheCoreRules) {
  auto in = input(st(S::running), st(S::failed));
  in.run.policy.retries = 3;
  in.run.counters.run_count = 1;
  in.request.force = true;
  auto r = orchestrate_flow_transition(in);
  EXPECT_EQ(r.decision.kind, decision_kind::accept);
  EXPECT_EQ(r.written->type, S::failed);
  EXPECT_EQ(r.run.counters.end_time, t0);  // global transforms still run

  in = input(st(S::completed, {}, {}, persisted), st(S::running));
  in.request.force = true;
  EXPECT_EQ(orchestrate_flow_transition(in).decision.kind, decision_kind::accept);
}

// --- the written state ----------------------------------------------------------------------------------------

TEST(FlowWrittenState, IsCompleteAndUnique) {
  auto current = st(S::running);
  current.at = t0;
  run_state proposed;
  proposed.type = S::completed;  // no name: defaulted
  auto r = orchestrate_flow_transition(input(current, proposed, t0));
  ASSERT_TRUE(r.written);
  EXPECT_EQ(r.written->name, "Completed");
  EXPECT_EQ(r.written->at, t0 + 1us);  // the clock did not move: still after the current state
  EXPECT_FALSE(r.written->id.value.is_nil());
  EXPECT_EQ(r.written->details["flow_run_id"], run_id.to_string());
  EXPECT_FALSE(r.written->details.contains("task_run_id"));
}

TEST(FlowWrittenState, SubflowsPointAtTheirParentTask) {
  auto in = input(st(S::pending), st(S::running), t0);
  in.run.parent_task_run_id = parent_task;
  auto r = orchestrate_flow_transition(in);
  EXPECT_EQ(r.written->details["task_run_id"], parent_task.to_string());
  ASSERT_TRUE(r.effects.parent_task_state);
  EXPECT_EQ(r.effects.parent_task_state->type, S::running);
  EXPECT_EQ(r.effects.parent_task_state->details["child_flow_run_id"], run_id.to_string());
  EXPECT_NE(r.effects.parent_task_state->id, r.written->id);

  in.request.proposed = st(S::pending);  // aborted: nothing to copy
  EXPECT_FALSE(orchestrate_flow_transition(in).effects.parent_task_state);
}

// --- whole-policy sequences ------------------------------------------------------------------------------------

namespace {

// Plays a run through the core policy the way the flow-run actor would: commit `written` and `run`.
struct flow_sim {
  std::optional<run_state> current;
  flow_run_snapshot run;
  client_info client = current_client();
  std::vector<std::string> history;  ///< names of the written states

  flow_sim() { run.id = run_id; }

  flow_transition_result propose(state_type type, timestamp now, nlohmann::json details = nlohmann::json::object(),
                                 std::string name = {}, bool force = false) {
    run_state proposed;
    proposed.type = type;
    proposed.name = std::move(name);
    proposed.details = std::move(details);
    flow_transition_input in{current, {proposed, force}, run, now, client, {}, {}};
    auto r = orchestrate_flow_transition(in);
    if (r.written) {
      current = r.written;
      history.push_back(r.written->name);
    }
    run = r.run;
    return r;
  }
};

}  // namespace

TEST(FlowSequence, RetriesTwiceThenFails) {
  flow_sim sim;
  sim.run.policy.retries = 2;
  sim.run.policy.retry_delay = 10;

  EXPECT_EQ(sim.propose(S::pending, t0, {}, {}, /*force=*/true).decision.kind, decision_kind::accept);  // creation
  EXPECT_EQ(sim.propose(S::running, t0 + 1s).decision.kind, decision_kind::accept);
  EXPECT_EQ(sim.run.counters.run_count, 1);

  // Attempt 1 fails: the server schedules a retry instead.
  auto r = sim.propose(S::failed, t0 + 5s);
  EXPECT_EQ(r.decision.kind, decision_kind::reject);
  EXPECT_EQ(r.decision.reason, "Retrying");
  EXPECT_EQ(sim.current->name, "AwaitingRetry");
  EXPECT_EQ(sim.current->type, S::scheduled);
  EXPECT_EQ(detail_time(*sim.current, "scheduled_time"), t0 + 15s);
  EXPECT_EQ(sim.run.policy.retry_type, "in_process");
  EXPECT_EQ(sim.run.counters.next_scheduled_start_time, t0 + 15s);
  EXPECT_EQ(sim.run.counters.total_run_time, 4s);

  // Too early: wait.
  r = sim.propose(S::running, t0 + 8s);
  EXPECT_EQ(r.decision.kind, decision_kind::wait);
  EXPECT_EQ(r.decision.delay, 7s);
  EXPECT_FALSE(r.written);

  // Due: attempt 2.
  r = sim.propose(S::running, t0 + 15s);
  EXPECT_EQ(r.decision.kind, decision_kind::accept);
  EXPECT_EQ(sim.run.counters.run_count, 2);
  EXPECT_FALSE(sim.run.counters.next_scheduled_start_time);
  EXPECT_EQ(sim.current->name, "Running");  // flows keep the name on reruns

  // Attempt 2 fails: retry again; attempt 3 (the last) fails for good.
  EXPECT_EQ(sim.propose(S::failed, t0 + 16s).decision.kind, decision_kind::reject);
  EXPECT_EQ(sim.propose(S::running, t0 + 26s).decision.kind, decision_kind::accept);
  EXPECT_EQ(sim.run.counters.run_count, 3);
  r = sim.propose(S::failed, t0 + 27s);
  EXPECT_EQ(r.decision.kind, decision_kind::accept);
  EXPECT_EQ(sim.current->type, S::failed);
  EXPECT_FALSE(sim.run.policy.retry_type);
  EXPECT_EQ(sim.run.counters.end_time, t0 + 27s);
  EXPECT_EQ(sim.run.counters.start_time, t0 + 1s);
  EXPECT_EQ(sim.run.counters.total_run_time, 4s + 1s + 1s);
  EXPECT_EQ(sim.history, (std::vector<std::string>{"Pending", "Running", "AwaitingRetry", "Running", "AwaitingRetry",
                                                   "Running", "Failed"}));
}

TEST(FlowSequence, DuplicateRequestAfterALostAnswer) {
  flow_sim sim;
  sim.propose(S::pending, t0, {}, {}, true);
  const nlohmann::json tid = {{"transition_id", "8d3a5d1e-8f7c-4b6b-9a55-5d1c2b3a4f00"}};
  EXPECT_EQ(sim.propose(S::running, t0 + 1s, tid).decision.kind, decision_kind::accept);
  auto again = sim.propose(S::running, t0 + 2s, tid);
  EXPECT_EQ(again.decision.kind, decision_kind::reject);
  EXPECT_FALSE(again.written);
  EXPECT_EQ(sim.run.counters.run_count, 1);
}

TEST(FlowSequence, PauseAndResumeInProcess) {
  flow_sim sim;
  sim.propose(S::pending, t0, {}, {}, true);
  sim.propose(S::running, t0 + 1s);
  const nlohmann::json pause = {
      {"pause_key", "1"}, {"pause_timeout", format_iso8601(t0 + 3600s)}, {"pause_reschedule", false}};
  EXPECT_EQ(sim.propose(S::paused, t0 + 2s, pause).decision.kind, decision_kind::accept);
  EXPECT_EQ(sim.run.policy.pause_keys, std::set<std::string>{"1"});

  // resume_flow_run proposes Running.
  EXPECT_EQ(sim.propose(S::running, t0 + 10s).decision.kind, decision_kind::accept);
  EXPECT_TRUE(sim.run.policy.resuming);
  // Prefect's hook order: the global run-count transform runs before HandleResumingPausedFlows sets `resuming`,
  // so the first in-process resume still counts as a run.
  EXPECT_EQ(sim.run.counters.run_count, 2);

  // The same pause call fires again after resuming (e.g. a loop): rejected, the run continues.
  auto again = sim.propose(S::paused, t0 + 11s, pause);
  EXPECT_EQ(again.decision.kind, decision_kind::reject);
  EXPECT_EQ(again.decision.reason, "This pause has already fired.");
  EXPECT_EQ(sim.current->type, S::running);

  EXPECT_EQ(sim.propose(S::completed, t0 + 12s).decision.kind, decision_kind::accept);
  EXPECT_FALSE(sim.run.policy.resuming);
}

TEST(FlowSequence, SuspendAndResumeThroughADeployment) {
  flow_sim sim;
  sim.run.deployment_id = deployment;
  sim.propose(S::scheduled, t0, {{"scheduled_time", format_iso8601(t0)}}, {}, true);
  sim.propose(S::pending, t0 + 1s);
  sim.propose(S::running, t0 + 2s);
  EXPECT_EQ(sim.run.counters.run_count, 1);
  EXPECT_EQ(
      sim.propose(S::paused, t0 + 3s, {{"pause_key", "s1"}, {"pause_reschedule", true}}, "Suspended").decision.kind,
      decision_kind::accept);
  // resume_flow_run proposes Scheduled/Resuming for suspended runs.
  EXPECT_EQ(
      sim.propose(S::scheduled, t0 + 20s, {{"scheduled_time", format_iso8601(t0 + 20s)}}, "Resuming").decision.kind,
      decision_kind::accept);
  EXPECT_TRUE(sim.run.policy.resuming);
  sim.propose(S::pending, t0 + 21s);
  sim.propose(S::running, t0 + 22s);
  EXPECT_EQ(sim.run.counters.run_count, 1);  // resuming is not a new attempt
  EXPECT_FALSE(sim.run.policy.resuming);
}

TEST(FlowSequence, CancellingALocalRunEndsCancelled) {
  flow_sim sim;
  sim.propose(S::pending, t0, {}, {}, true);
  sim.propose(S::running, t0 + 1s);
  EXPECT_EQ(sim.propose(S::cancelling, t0 + 2s).decision.kind, decision_kind::accept);
  auto completed = sim.propose(S::completed, t0 + 3s);
  EXPECT_EQ(completed.decision.kind, decision_kind::reject);
  EXPECT_EQ(sim.current->type, S::cancelling);
  EXPECT_EQ(sim.propose(S::cancelled, t0 + 4s, {}, {}, true).decision.kind, decision_kind::accept);
  EXPECT_EQ(sim.current->type, S::cancelled);
}

TEST(FlowSequence, CancellingAScheduledRunSkipsCancelling) {
  flow_sim sim;
  sim.run.deployment_id = deployment;
  sim.propose(S::scheduled, t0, {{"scheduled_time", format_iso8601(t0 + 3600s)}}, {}, true);
  auto r = sim.propose(S::cancelling, t0 + 1s);
  EXPECT_EQ(r.decision.kind, decision_kind::reject);
  EXPECT_EQ(sim.current->type, S::cancelled);
  EXPECT_EQ(sim.run.counters.end_time, t0 + 1s);
}

TEST(FlowSequence, SubflowRerunDependsOnPersistedResult) {
  flow_sim persisted_child;
  persisted_child.run.parent_task_run_id = parent_task;
  persisted_child.propose(S::pending, t0, {}, {}, true);
  persisted_child.propose(S::running, t0 + 1s);
  run_state done;
  done.type = S::completed;
  done.data = persisted;
  flow_transition_input in{
      persisted_child.current, {done, false}, persisted_child.run, t0 + 2s, current_client(), {}, {}};
  auto r = orchestrate_flow_transition(in);
  persisted_child.current = r.written;
  persisted_child.run = r.run;
  // Parent retry re-proposes Running: refused, the child keeps its result.
  auto rerun = persisted_child.propose(S::running, t0 + 10s);
  EXPECT_EQ(rerun.decision.kind, decision_kind::reject);
  EXPECT_EQ(rerun.decision.reason, "Run is already COMPLETED.");

  flow_sim unpersisted_child;
  unpersisted_child.propose(S::pending, t0, {}, {}, true);
  unpersisted_child.propose(S::running, t0 + 1s);
  unpersisted_child.propose(S::completed, t0 + 2s);
  EXPECT_EQ(unpersisted_child.propose(S::running, t0 + 10s).decision.kind, decision_kind::accept);
  EXPECT_FALSE(unpersisted_child.run.counters.end_time);  // left the terminal state
  EXPECT_EQ(unpersisted_child.run.counters.run_count, 2);
}

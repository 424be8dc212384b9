// The rule machinery (Prefect's rules.py semantics), state_details accessors, shared rules and client versions.
#include <gtest/gtest.h>

#include "domain/client_version.hpp"
#include "domain/orchestration.hpp"

using namespace osprey;
using namespace std::chrono_literals;

namespace {

const timestamp t0 = *parse_iso8601("2026-01-01T00:00:00Z");

run_state state(state_type type, std::string name = {}, nlohmann::json details = nlohmann::json::object()) {
  run_state s;
  s.type = type;
  s.name = name.empty() ? default_state_name(type) : std::move(name);
  s.at = t0;
  s.details = std::move(details);
  return s;
}

// A toy run for exercising govern_transition: which hooks fired, in order.
struct trace {
  std::vector<std::string> calls;
};
using toy_rule = orchestration_rule<trace>;

std::vector<std::string> govern(std::optional<run_state> initial, run_state proposed,
                                std::initializer_list<toy_rule> rules, orchestration_context* out = nullptr) {
  orchestration_context ctx(std::move(initial), std::move(proposed), t0);
  trace t;
  std::vector<toy_rule> list(rules);
  govern_transition(ctx, t, std::span<const toy_rule>(list), [&] { t.calls.push_back("validate"); });
  if (out) *out = ctx;
  return t.calls;
}

}  // namespace

// --- decisions -------------------------------------------------------------------------------------------------

TEST(Decision, WireNames) {
  EXPECT_STREQ(to_string(decision_kind::accept), "ACCEPT");
  EXPECT_STREQ(to_string(decision_kind::reject), "REJECT");
  EXPECT_STREQ(to_string(decision_kind::wait), "WAIT");
  EXPECT_STREQ(to_string(decision_kind::abort), "ABORT");
}

TEST(Decision, AcceptProposedAcceptsAnything) {
  auto d = accept_proposed(state(state_type::completed), {state(state_type::running), false});
  EXPECT_EQ(d.kind, decision_kind::accept);
  EXPECT_FALSE(d.replacement);
}

// --- state sets ------------------------------------------------------------------------------------------------

TEST(StateSet, MembershipIncludesNoState) {
  EXPECT_TRUE(state_set::all().contains(std::nullopt));
  EXPECT_TRUE(state_set::all().contains(state_type::cancelling));
  EXPECT_FALSE(state_set::terminal().contains(std::nullopt));
  EXPECT_TRUE(state_set::terminal().contains(state_type::crashed));
  EXPECT_FALSE(state_set::terminal().contains(state_type::running));
  auto s = state_set::all().without({state_type::cancelled});
  EXPECT_FALSE(s.contains(state_type::cancelled));
  EXPECT_TRUE(s.contains(std::nullopt));
  EXPECT_TRUE((state_set{std::nullopt}).contains(std::nullopt));
}

// --- details ---------------------------------------------------------------------------------------------------

TEST(StateDetails, TypedAccessorsTreatNullAsAbsent) {
  auto s = state(state_type::scheduled, {},
                 {{"scheduled_time", "2026-01-01 00:00:05+00:00"},
                  {"pause_key", nullptr},
                  {"retriable", false},
                  {"pause_reschedule", true},
                  {"cache_key", 7}});
  EXPECT_EQ(detail_time(s, "scheduled_time"), t0 + 5s);
  EXPECT_FALSE(detail_string(s, "pause_key"));
  EXPECT_FALSE(detail_string(s, "cache_key"));  // not a string
  EXPECT_EQ(detail_bool(s, "retriable"), false);
  EXPECT_FALSE(detail_bool(s, "refresh_cache"));
  EXPECT_TRUE(detail_flag(s, "pause_reschedule"));
  set_detail_time(s, "scheduled_time", std::nullopt);
  EXPECT_TRUE(s.details["scheduled_time"].is_null());
}

TEST(StateDetails, PersistedResultIsAnyObjectNotMarkedUnpersisted) {
  struct row {
    nlohmann::json data;
    bool persisted;
  };
  for (const auto& [data, persisted] : std::vector<row>{
           {nullptr, false},
           {nlohmann::json::object(), true},
           {{{"type", "unpersisted"}}, false},
           {{{"storage_key", "/tmp/x"}, {"serializer", {{"type", "pickle"}}}}, true},
           {{{"type", "reference"}}, true},
           {"a string", false},
           {42, false},
       })
    EXPECT_EQ(has_persisted_result(data), persisted) << data.dump();
}

TEST(StateDefaults, NameFromTypeAndScheduledTimeDefault) {
  run_state s;
  s.type = state_type::scheduled;
  apply_state_defaults(s, t0);
  EXPECT_EQ(s.name, "Scheduled");
  EXPECT_EQ(detail_time(s, "scheduled_time"), t0);

  auto named = state(state_type::scheduled, "Late", {{"scheduled_time", format_iso8601(t0 - 60s)}});
  apply_state_defaults(named, t0);
  EXPECT_EQ(named.name, "Late");
  EXPECT_EQ(detail_time(named, "scheduled_time"), t0 - 60s);

  run_state running;
  running.type = state_type::running;
  apply_state_defaults(running, t0);
  EXPECT_EQ(running.name, "Running");
  EXPECT_FALSE(running.details.contains("scheduled_time"));
}

TEST(StateDefaults, ServerStatesAreFresh) {
  auto a = make_server_state(state_type::cancelled, t0);
  auto b = make_server_state(state_type::scheduled, t0, "AwaitingRetry");
  EXPECT_EQ(a.name, "Cancelled");
  EXPECT_EQ(a.at, t0);
  EXPECT_NE(a.id, b.id);
  EXPECT_EQ(b.name, "AwaitingRetry");
  EXPECT_EQ(detail_time(b, "scheduled_time"), t0);
}

// --- the context -----------------------------------------------------------------------------------------------

TEST(Context, RejectWithoutReplacementDropsTheProposal) {
  orchestration_context ctx(state(state_type::running), state(state_type::completed), t0);
  ctx.reject(std::nullopt, "no");
  EXPECT_EQ(ctx.decision().kind, decision_kind::reject);
  EXPECT_FALSE(ctx.proposed());
  EXPECT_EQ(ctx.decision().reason, "no");
}

TEST(Context, RejectWithoutReplacementOrCurrentStateAborts) {
  orchestration_context ctx(std::nullopt, state(state_type::running), t0);
  ctx.reject(std::nullopt, "no");
  EXPECT_EQ(ctx.decision().kind, decision_kind::abort);
  EXPECT_FALSE(ctx.proposed());
}

TEST(Context, RenameAfterDropIsIgnored) {
  orchestration_context ctx(state(state_type::running), state(state_type::running), t0);
  ctx.rename("Rerunning");
  EXPECT_EQ(ctx.proposed()->name, "Rerunning");
  ctx.delay(3s, "later");
  ctx.rename("x");
  EXPECT_FALSE(ctx.proposed());
  EXPECT_EQ(ctx.decision().delay, 3s);
}

// --- govern_transition: Prefect's enter/validate/exit semantics ----------------------------------------------

#define HOOK(label) [](orchestration_context&, trace& t) { t.calls.push_back(label); }

TEST(Govern, RulesOutsideTheirFromToSetsNeverFire) {
  auto calls = govern(state(state_type::running), state(state_type::completed),
                      {toy_rule{"a", {state_type::pending}, state_set::all(), HOOK("a.before"), HOOK("a.after")},
                       toy_rule{"b", state_set::all(), {state_type::failed}, HOOK("b.before"), HOOK("b.after")}});
  EXPECT_EQ(calls, std::vector<std::string>{"validate"});
}

TEST(Govern, EnterInOrderExitInReverse) {
  auto calls = govern(state(state_type::running), state(state_type::completed),
                      {toy_rule{"a", state_set::all(), state_set::all(), HOOK("a.before"), HOOK("a.after")},
                       toy_rule{"b", state_set::all(), state_set::all(), HOOK("b.before"), HOOK("b.after")}});
  EXPECT_EQ(calls, (std::vector<std::string>{"a.before", "b.before", "validate", "b.after", "a.after"}));
}

TEST(Govern, LaterRuleChangingTheTypeFizzlesEarlierOnes) {
  orchestration_context ctx(std::nullopt, state(state_type::running), t0);
  auto calls =
      govern(state(state_type::running), state(state_type::failed),
             {toy_rule{"a", state_set::all(), state_set::all(), HOOK("a.before"), HOOK("a.after"), HOOK("a.cleanup")},
              toy_rule{"b", state_set::all(), state_set::all(),
                       [](orchestration_context& c, trace& t) {
                         t.calls.push_back("b.before");
                         c.reject(state(state_type::scheduled, "AwaitingRetry"), "Retrying");
                       },
                       HOOK("b.after"), HOOK("b.cleanup")},
              toy_rule{"c", state_set::all(), state_set::all(), HOOK("c.before"), HOOK("c.after"), HOOK("c.cleanup")}},
             &ctx);
  // c is skipped (the proposal is no longer FAILED); b's own change does not fizzle b; a fizzles.
  EXPECT_EQ(calls, (std::vector<std::string>{"a.before", "b.before", "validate", "b.after", "a.cleanup"}));
  EXPECT_EQ(ctx.decision().kind, decision_kind::reject);
  EXPECT_EQ(ctx.proposed()->name, "AwaitingRetry");
}

TEST(Govern, RuleDroppingTheProposalOutsideItsToSetGetsNoAfterHook) {
  // Like HandlePausingFlows: TO = {PAUSED}, so after its own reject(None) it is "invalid" on exit.
  auto calls = govern(state(state_type::pending), state(state_type::paused),
                      {toy_rule{"p",
                                state_set::all(),
                                {state_type::paused},
                                [](orchestration_context& c, trace& t) {
                                  t.calls.push_back("p.before");
                                  c.reject(std::nullopt, "not running");
                                },
                                HOOK("p.after"),
                                HOOK("p.cleanup")}});
  EXPECT_EQ(calls, (std::vector<std::string>{"p.before", "validate"}));
}

TEST(Govern, RuleDroppingTheProposalInsideItsToSetStillGetsAfter) {
  // Like HandleResumingPausedFlows: TO = all (including "no state").
  auto calls = govern(state(state_type::paused), state(state_type::pending),
                      {toy_rule{"r",
                                {state_type::paused},
                                state_set::all(),
                                [](orchestration_context& c, trace& t) {
                                  t.calls.push_back("r.before");
                                  c.reject(std::nullopt, "no");
                                },
                                HOOK("r.after"),
                                HOOK("r.cleanup")}});
  EXPECT_EQ(calls, (std::vector<std::string>{"r.before", "validate", "r.after"}));
}

TEST(Govern, UniversalTransformsAlwaysFire) {
  auto calls = govern(
      state(state_type::running), state(state_type::completed),
      {toy_rule{"drop", state_set::all(), state_set::all(), [](orchestration_context& c, trace&) { c.abort("stop"); }},
       toy_rule{"u", {}, {}, HOOK("u.before"), HOOK("u.after"), nullptr, true}});
  EXPECT_EQ(calls, (std::vector<std::string>{"u.before", "validate", "u.after"}));
}

TEST(Govern, SameTypeReplacementKeepsLaterRulesValid) {
  auto calls = govern(
      state(state_type::running), state(state_type::completed),
      {toy_rule{"a", state_set::all(), state_set::all(),
                [](orchestration_context& c, trace&) { c.reject(state(state_type::completed, "Other"), "same type"); }},
       toy_rule{"b", state_set::all(), state_set::all(), HOOK("b.before")}});
  EXPECT_EQ(calls, (std::vector<std::string>{"b.before", "validate"}));
}

// --- shared rules ----------------------------------------------------------------------------------------------

TEST(ScheduledDelay, RoundsLikePrefect) {
  struct row {
    std::chrono::microseconds ahead;
    std::chrono::seconds expected;
  };
  for (const auto& [ahead, expected] : std::vector<row>{
           {10s, 10s},
           {2400ms, 2s},
           {2600ms, 3s},
           {500ms, 0s},   // round half to even
           {1500ms, 1s},  // floor(1.5) + round(0.5) = 1 + 0
           {1500001us, 2s},
           {-300ms, 0s},
           {-5s, -5s},
           {0s, 0s},
       })
    EXPECT_EQ(scheduled_delay_seconds(t0 + ahead, t0), expected) << ahead.count();
}

TEST(SharedRules, WaitForScheduledTime) {
  auto scheduled = state(state_type::scheduled, {}, {{"scheduled_time", format_iso8601(t0 + 10s)}});
  orchestration_context early(scheduled, state(state_type::running), t0 + 3s);
  wait_for_scheduled_time(early);
  EXPECT_EQ(early.decision().kind, decision_kind::wait);
  EXPECT_EQ(early.decision().delay, 7s);
  EXPECT_EQ(early.decision().reason, "Scheduled time is in the future");

  orchestration_context due(scheduled, state(state_type::running), t0 + 10s);
  wait_for_scheduled_time(due);
  EXPECT_EQ(due.decision().kind, decision_kind::accept);

  orchestration_context unscheduled(state(state_type::pending), state(state_type::running), t0);
  wait_for_scheduled_time(unscheduled);
  EXPECT_EQ(unscheduled.decision().kind, decision_kind::accept);
}

TEST(SharedRules, CopyScheduledTimeKeepsAnExplicitOne) {
  auto scheduled = state(state_type::scheduled, {}, {{"scheduled_time", format_iso8601(t0 + 10s)}});
  orchestration_context copy(scheduled, state(state_type::pending), t0);
  copy_scheduled_time(copy);
  EXPECT_EQ(detail_time(*copy.proposed(), "scheduled_time"), t0 + 10s);

  orchestration_context own(scheduled, state(state_type::pending, {}, {{"scheduled_time", format_iso8601(t0)}}), t0);
  copy_scheduled_time(own);
  EXPECT_EQ(detail_time(*own.proposed(), "scheduled_time"), t0);
}

TEST(SharedRules, PreventPendingTransitions) {
  struct row {
    run_state initial;
    run_state proposed;
    decision_kind expected;
    std::string reason;
  };
  for (const auto& r : std::vector<row>{
           {state(state_type::pending), state(state_type::pending), decision_kind::abort,
            "This run is in a PENDING state and cannot transition to a PENDING state."},
           {state(state_type::running), state(state_type::pending), decision_kind::abort,
            "This run is in a RUNNING state and cannot transition to a PENDING state."},
           {state(state_type::cancelled), state(state_type::pending), decision_kind::abort,
            "This run is in a CANCELLED state and cannot transition to a PENDING state."},
           {state(state_type::pending), state(state_type::pending, "Submitting"), decision_kind::accept, ""},
           {state(state_type::pending, "Submitting"), state(state_type::pending, "InfrastructurePending"),
            decision_kind::accept, ""},
           {state(state_type::pending, "Submitting"), state(state_type::pending), decision_kind::abort,
            "This run is in a PENDING state and cannot transition to a PENDING state."},
       }) {
    orchestration_context ctx(r.initial, r.proposed, t0);
    prevent_pending_transitions(ctx);
    EXPECT_EQ(ctx.decision().kind, r.expected) << r.initial.name << " -> " << r.proposed.name;
    EXPECT_EQ(ctx.decision().reason, r.reason);
  }
}

TEST(SharedRules, PendingSubStateCarriesSchedulingAndLease) {
  auto pending = state(state_type::pending, {},
                       {{"scheduled_time", format_iso8601(t0)}, {"deployment_concurrency_lease_id", "lease-1"}});
  orchestration_context ctx(
      pending, state(state_type::pending, "Submitting", {{"deployment_concurrency_lease_id", nullptr}}), t0);
  prevent_pending_transitions(ctx);
  EXPECT_EQ(detail_time(*ctx.proposed(), "scheduled_time"), t0);
  EXPECT_EQ(detail_string(*ctx.proposed(), "deployment_concurrency_lease_id"), "lease-1");
}

// --- client versions -------------------------------------------------------------------------------------------

TEST(ClientVersion, ParsesPrefectUserAgents) {
  auto v = parse_prefect_user_agent("prefect/3.9.1 (API 0.8.4)");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->major, 3);
  EXPECT_EQ(v->minor, 9);
  EXPECT_EQ(v->patch, 1);
  EXPECT_EQ(v->text, "3.9.1");
  EXPECT_EQ(parse_prefect_user_agent("prefect/3.0.0rc20 (API 0.8.4)")->text, "3.0.0rc20");
  EXPECT_TRUE(parse_prefect_user_agent("prefect/3.4.12.dev3+g1a2b3c (API 0.8.4)"));
  for (const char* bad :
       {"", "curl/8.0", "prefect/3.9.1", "prefect/3.9 (API 0.8.4)", "prefect/3.9.1 (API )",
        "prefect/3.9.1 (API 0.8.4) extra", "Prefect/3.9.1 (API 0.8.4)", "prefect/3.9.1-RC1 (API 0.8.4)"})
    EXPECT_FALSE(parse_prefect_user_agent(bad)) << bad;
}

TEST(ClientVersion, OrdersLikePackagingVersion) {
  auto v = [](const char* s) { return *parse_release_version(s); };
  EXPECT_LT(v("3.4.10"), v("3.4.11"));
  EXPECT_LT(v("3.4.11rc1"), v("3.4.11"));
  EXPECT_LT(v("3.4.11.dev2"), v("3.4.11a1"));
  EXPECT_LT(v("3.4.11a1"), v("3.4.11b1"));
  EXPECT_LT(v("3.4.11b1"), v("3.4.11rc1"));
  EXPECT_LT(v("3.4.11"), v("3.4.11.post1"));
  EXPECT_LT(v("3.4.11"), v("3.10.0"));
  EXPECT_EQ(v("3.4.11+local"), v("3.4.11"));
  EXPECT_FALSE(parse_release_version("3.4.11x"));
}

TEST(ClientVersion, ApiVersionIsThreeIntegers) {
  EXPECT_EQ(parse_api_version("0.8.4")->patch, 4);
  for (const char* bad : {"", "0.8", "0.8.4.1", "0.8.x", "v0.8.4"}) EXPECT_FALSE(parse_api_version(bad)) << bad;
}

TEST(ClientVersion, CapabilityThresholds) {
  client_info unknown;
  EXPECT_TRUE(unknown.tracks_pauses());
  EXPECT_FALSE(unknown.renews_deployment_leases());
  EXPECT_FALSE(unknown.manages_deployment_concurrency());

  client_info current{parse_prefect_user_agent("prefect/3.9.1 (API 0.8.4)"), parse_api_version("0.8.4")};
  EXPECT_TRUE(current.tracks_pauses());
  EXPECT_TRUE(current.renews_deployment_leases());

  client_info old{parse_release_version("3.4.10"), parse_api_version("0.8.3")};
  EXPECT_FALSE(old.tracks_pauses());
  EXPECT_FALSE(old.renews_deployment_leases());

  client_info early_worker{parse_release_version("3.0.0rc20"), std::nullopt};
  EXPECT_TRUE(early_worker.manages_deployment_concurrency());
  client_info later_worker{parse_release_version("3.0.4"), std::nullopt};
  EXPECT_FALSE(later_worker.manages_deployment_concurrency());
}

// CoreTaskPolicy / MinimalTaskPolicy / BackgroundTaskPolicy: each rule on its own, then sequences.
#include <gtest/gtest.h>

#include <functional>

#include "domain/task_policy.hpp"

using namespace osprey;
using namespace std::chrono_literals;

namespace {

const timestamp t0 = *parse_iso8601("2026-01-01T00:00:00Z");
const flow_run_id flow_id_{*uuid::parse("5f6c2a4e-0000-4000-8000-0000000000aa")};
const task_run_id task_id{*uuid::parse("5f6c2a4e-0000-4000-8000-0000000000cc")};
const nlohmann::json persisted = {{"storage_key", "/results/abc"}};
using S = state_type;

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

// A task inside a running flow run.
task_transition_input input(std::optional<run_state> current, run_state proposed, timestamp now = t0) {
  task_transition_input in{std::move(current), {std::move(proposed), false}, {}, now, {}, {}, {}, 0.5, 2000};
  in.run.id = task_id;
  in.run.flow_run = flow_id_;
  in.run.flow_run_run_count = 1;
  in.flow_run = parent_flow_run{flow_id_, st(S::running), 1};
  return in;
}

task_transition_result only(const char* rule, const task_transition_input& in) {
  const task_rule* r = find_task_rule(rule);
  EXPECT_NE(r, nullptr) << rule;
  return apply_task_rules(in, std::span<const task_rule>(r, 1));
}

struct task_case {
  const char* label;
  const char* rule;  ///< null: the policy orchestrate_task_transition picks
  std::optional<run_state> current;
  run_state proposed;
  std::function<void(task_transition_input&)> setup;
  decision_kind kind;
  std::string reason;
  std::optional<state_type> written_type;
  std::string written_name;
};

void check(const std::vector<task_case>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    auto in = input(c.current, c.proposed);
    if (c.setup) c.setup(in);
    auto r = c.rule ? only(c.rule, in) : orchestrate_task_transition(in);
    EXPECT_EQ(std::string(to_string(r.decision.kind)), std::string(to_string(c.kind)));
    EXPECT_EQ(r.decision.reason, c.reason);
    ASSERT_EQ(r.written.has_value(), c.written_type.has_value());
    if (r.written) {
      EXPECT_EQ(r.written->type, *c.written_type);
      EXPECT_EQ(r.written->name, c.written_name);
    }
  }
}

constexpr auto accepted = decision_kind::accept;
constexpr auto rejected = decision_kind::reject;
constexpr auto waits = decision_kind::wait;
constexpr auto aborted = decision_kind::abort;

}  // namespace

TEST(CacheRetrieval, ACachedStateReplacesTheRun) {
  const nlohmann::json keyed = {{"cache_key", "k1"}};
  auto cached = [](task_transition_input& in) {
    in.cached_state = st(S::completed, {}, {{"cache_key", "k1"}}, persisted);
  };
  check({
      {"hit", "CacheRetrieval", st(S::pending), st(S::running, {}, keyed), cached, rejected,
       "Retrieved state from cache", S::completed, "Cached"},
      {"miss", "CacheRetrieval", st(S::pending), st(S::running, {}, keyed), {}, accepted, "", S::running, "Running"},
      {"refresh", "CacheRetrieval", st(S::pending), st(S::running, {}, {{"cache_key", "k1"}, {"refresh_cache", true}}),
       cached, accepted, "", S::running, "Running"},
  });
  auto in = input(st(S::pending), st(S::running, {}, keyed));
  cached(in);
  auto r = orchestrate_task_transition(in);
  EXPECT_EQ(r.written->data, persisted);
  EXPECT_NE(r.written->id, in.cached_state->id);
  EXPECT_EQ(r.written->details["task_run_id"], task_id.to_string());
  EXPECT_FALSE(r.effects.insert_cache);  // the cached state is not cached again
}

TEST(CacheRetrieval, LookupKeyOnlyWhenTheRuleApplies) {
  EXPECT_EQ(cache_lookup_key(input(st(S::pending), st(S::running, {}, {{"cache_key", "k"}}))), "k");
  EXPECT_FALSE(cache_lookup_key(input(st(S::pending), st(S::running))));
  EXPECT_FALSE(cache_lookup_key(input(st(S::pending), st(S::completed, {}, {{"cache_key", "k"}}))));
  auto forced = input(st(S::pending), st(S::running, {}, {{"cache_key", "k"}}));
  forced.request.force = true;
  EXPECT_FALSE(cache_lookup_key(forced));
}

TEST(HandleTaskTerminalStateTransitions, Decisions) {
  const char* rule = "HandleTaskTerminalStateTransitions";
  check({
      {"completed -> crashed",
       rule,
       st(S::completed),
       st(S::crashed),
       {},
       aborted,
       "Run is already COMPLETED.",
       std::nullopt,
       ""},
      {"failed -> cancelling",
       rule,
       st(S::failed),
       st(S::cancelling),
       {},
       aborted,
       "Run is already FAILED.",
       std::nullopt,
       ""},
      {"completed(persisted) -> running",
       rule,
       st(S::completed, {}, {}, persisted),
       st(S::running),
       {},
       rejected,
       "This run is already completed.",
       std::nullopt,
       ""},
      {"completed(unpersisted) -> running",
       rule,
       st(S::completed, {}, {}, {{"type", "unpersisted"}}),
       st(S::running),
       {},
       accepted,
       "",
       S::running,
       "Running"},
      {"failed -> running during a flow retry", rule, st(S::failed), st(S::running),
       [](task_transition_input& in) { in.flow_run->run_count = 2; }, accepted, "", S::running, "Retrying"},
  });
}

TEST(HandleTaskTerminalStateTransitions, RerunsResetTheRunCountUnlessALaterRuleRefuses) {
  auto in = input(st(S::failed), st(S::running));
  in.run.counters.run_count = 3;
  in.run.policy.retries = 1;
  auto r = only("HandleTaskTerminalStateTransitions", in);
  EXPECT_EQ(r.run.counters.run_count, 1);  // reset to 0, then this RUNNING counts

  // The enclosing flow is not running: PreventRunningTasksFromStoppedFlows aborts and the reset is undone.
  in.flow_run->state = st(S::completed);
  r = orchestrate_task_transition(in);
  EXPECT_EQ(r.decision.kind, decision_kind::abort);
  EXPECT_EQ(r.run.counters.run_count, 3);
  EXPECT_FALSE(r.run_changed);
}

TEST(PreventRunningTasksFromStoppedFlows, Decisions) {
  const char* rule = "PreventRunningTasksFromStoppedFlows";
  const char* must_run = "The enclosing flow must be running to begin task execution.";
  auto flow_in = [](std::optional<run_state> s) { return [s](task_transition_input& in) { in.flow_run->state = s; }; };
  check({
      {"flow running", rule, st(S::pending), st(S::running), {}, accepted, "", S::running, "Running"},
      {"flow has no state", rule, st(S::pending), st(S::running), flow_in(std::nullopt), aborted, must_run,
       std::nullopt, ""},
      {"flow completed", rule, st(S::pending), st(S::running), flow_in(st(S::completed)), aborted, must_run,
       std::nullopt, ""},
      {"flow paused", rule, st(S::pending), st(S::running),
       flow_in(st(S::paused, {}, {{"pause_timeout", format_iso8601(t0 + 60s)}})), rejected,
       "The flow is paused, new tasks can execute after resuming flow run: " + flow_id_.to_string() + ".", S::paused,
       "NotReady"},
      {"no enclosing flow", rule, st(S::pending), st(S::running),
       [](task_transition_input& in) {
         in.run.flow_run.reset();
         in.flow_run.reset();
       },
       accepted, "", S::running, "Running"},
  });
  auto in = input(st(S::pending), st(S::running));
  in.flow_run->state = st(S::paused, {}, {{"pause_timeout", format_iso8601(t0 + 60s)}, {"pause_reschedule", true}});
  auto r = only(rule, in);
  EXPECT_EQ(detail_time(*r.written, "pause_timeout"), t0 + 60s);
  EXPECT_TRUE(detail_flag(*r.written, "pause_reschedule"));
}

TEST(SecureTaskConcurrencySlots, Decisions) {
  const char* rule = "SecureTaskConcurrencySlots";
  using o = tag_slot_attempt::outcome;
  auto slots = [](o outcome, std::vector<std::string> tags, bool legacy = false) {
    return [=](task_transition_input& in) { in.tag_slots = {outcome, tags, legacy, 12s}; };
  };
  check({
      {"acquired", rule, st(S::pending), st(S::running), slots(o::acquired, {"db"}), accepted, "", S::running,
       "Running"},
      {"limit 0", rule, st(S::pending), st(S::running), slots(o::zero_limit, {"db"}), aborted,
       "The concurrency limit on tag \"db\" is 0 and will deadlock if the task tries to run again.", std::nullopt, ""},
      {"full (v2)", rule, st(S::pending), st(S::running), slots(o::full, {"db", "api"}), waits,
       "Concurrency limit reached for tags: db, api", std::nullopt, ""},
      {"full (v1)", rule, st(S::pending), st(S::running), slots(o::full, {"db"}, true), waits,
       "Concurrency limit for the db tag has been reached", std::nullopt, ""},
  });
  auto in = input(st(S::pending), st(S::running));
  slots(o::full, {"db"})(in);
  EXPECT_EQ(only(rule, in).decision.delay, 12s);
}

TEST(SecureTaskConcurrencySlots, SlotsTakenForAnUnwrittenRunningStateGoBack) {
  auto in = input(st(S::scheduled, {}, {{"scheduled_time", format_iso8601(t0 + 30s)}}), st(S::running));
  in.tag_slots.result = tag_slot_attempt::outcome::acquired;
  EXPECT_TRUE(wants_tag_slots(in));
  auto r = orchestrate_task_transition(in);
  EXPECT_EQ(r.decision.kind, decision_kind::wait);  // WaitForScheduledTime runs after the slots were taken
  EXPECT_TRUE(r.effects.release_acquired_tag_slots);

  in.current = st(S::pending);
  r = orchestrate_task_transition(in);
  EXPECT_EQ(r.decision.kind, decision_kind::accept);
  EXPECT_FALSE(r.effects.release_acquired_tag_slots);
  EXPECT_FALSE(r.effects.release_tag_slots);
}

TEST(RetryFailedTasks, Decisions) {
  const char* rule = "RetryFailedTasks";
  auto policy = [](int retries, int run_count) {
    return [=](task_transition_input& in) {
      in.run.policy.retries = retries;
      in.run.counters.run_count = run_count;
    };
  };
  check({
      {"retry", rule, st(S::running), st(S::failed), policy(1, 1), rejected, "Retrying", S::scheduled, "AwaitingRetry"},
      {"exhausted", rule, st(S::running), st(S::failed), policy(1, 2), accepted, "", S::failed, "Failed"},
      {"not retriable", rule, st(S::running), st(S::failed, {}, {{"retriable", false}}), policy(3, 1), accepted, "",
       S::failed, "Failed"},
      {"no retries", rule, st(S::running), st(S::failed), {}, accepted, "", S::failed, "Failed"},
  });
}

TEST(RetryFailedTasks, DelayListIsIndexedByAttempt) {
  struct row {
    std::vector<double> delays;
    int run_count;
    std::chrono::microseconds expected;
  };
  for (const auto& r : std::vector<row>{
           {{}, 1, 0s},
           {{5}, 1, 5s},
           {{5}, 3, 5s},
           {{1, 10, 100}, 1, 1s},
           {{1, 10, 100}, 2, 10s},
           {{1, 10, 100}, 5, 100s},  // past the end: the last delay
           {{1.5}, 1, 1500ms},
       }) {
    auto in = input(st(S::running), st(S::failed));
    in.run.policy.retries = 10;
    in.run.policy.retry_delay = r.delays;
    in.run.counters.run_count = r.run_count;
    auto res = only("RetryFailedTasks", in);
    ASSERT_TRUE(res.written);
    EXPECT_EQ(detail_time(*res.written, "scheduled_time"), t0 + r.expected) << r.run_count;
  }
}

TEST(RetryFailedTasks, JitterStaysWithinItsClamp) {
  for (double u : {0.0, 0.25, 0.5, 0.75, 0.999}) {
    const double d = clamped_poisson_interval(10, 0.5, u);
    EXPECT_GE(d, 0.0);
    EXPECT_LE(d, 15.0 + 1e-9);
  }
  EXPECT_LT(clamped_poisson_interval(10, 0.5, 0.1), clamped_poisson_interval(10, 0.5, 0.9));

  auto in = input(st(S::running), st(S::failed));
  in.run.policy = {1, {10}, 0.5};
  in.run.counters.run_count = 1;
  in.jitter_sample = 0.999;
  auto r = only("RetryFailedTasks", in);
  auto scheduled = *detail_time(*r.written, "scheduled_time");
  EXPECT_GT(scheduled, t0 + 10s);
  EXPECT_LE(scheduled, t0 + 15s);
}

TEST(RenameReruns, NamesRepeatedRuns) {
  const char* rule = "RenameReruns";
  auto ran = [](task_transition_input& in) { in.run.counters.run_count = 1; };
  check({
      {"first run", rule, st(S::pending), st(S::running), {}, accepted, "", S::running, "Running"},
      {"after AwaitingRetry", rule, st(S::scheduled, "AwaitingRetry"), st(S::running), ran, accepted, "", S::running,
       "Retrying"},
      {"after anything else", rule, st(S::pending), st(S::running), ran, accepted, "", S::running, "Rerunning"},
  });
}

TEST(UpdateFlowRunTrackerOnTasks, RecordsTheFlowAttempt) {
  auto in = input(st(S::pending), st(S::running));
  in.flow_run->run_count = 3;
  auto r = only("UpdateFlowRunTrackerOnTasks", in);
  EXPECT_EQ(r.run.flow_run_run_count, 3);
}

TEST(CacheInsertion, CachesCompletedStatesWithAKey) {
  auto in = input(st(S::running),
                  st(S::completed, {}, {{"cache_key", "k1"}, {"cache_expiration", format_iso8601(t0 + 3600s)}}));
  auto r = only("CacheInsertion", in);
  ASSERT_TRUE(r.effects.insert_cache);
  EXPECT_EQ(r.effects.insert_cache->cache_key, "k1");
  EXPECT_EQ(r.effects.insert_cache->cache_expiration, t0 + 3600s);
  EXPECT_EQ(r.effects.insert_cache->state, r.written->id);

  in.request.proposed = st(S::completed);
  EXPECT_FALSE(only("CacheInsertion", in).effects.insert_cache);
}

TEST(CacheInsertion, OverlongKeysAreRejectedButTheStateIsWritten) {
  auto in = input(st(S::running), st(S::completed, {}, {{"cache_key", std::string(2001, 'k')}}));
  auto r = only("CacheInsertion", in);
  EXPECT_EQ(r.decision.kind, decision_kind::reject);
  EXPECT_EQ(r.decision.reason, "Cache key exceeded maximum allowed length of 2000 characters.");
  ASSERT_TRUE(r.written);
  EXPECT_EQ(r.written->type, S::completed);
}

TEST(ReleaseTaskConcurrencySlots, ReleasesWhenLeavingRunning) {
  EXPECT_TRUE(only("ReleaseTaskConcurrencySlots", input(st(S::running), st(S::completed))).effects.release_tag_slots);
  EXPECT_FALSE(only("ReleaseTaskConcurrencySlots", input(st(S::pending), st(S::running))).effects.release_tag_slots);
  auto forced = input(st(S::running), st(S::crashed));
  forced.request.force = true;  // MinimalTaskPolicy is exactly this rule
  auto r = orchestrate_task_transition(forced);
  EXPECT_EQ(r.decision.kind, decision_kind::accept);
  EXPECT_TRUE(r.effects.release_tag_slots);
}

TEST(BackgroundTaskPolicy, DeferredTasksAreQueued) {
  const nlohmann::json deferred = {{"deferred", true}, {"task_parameters_id", "p-1"}};
  auto r = orchestrate_task_transition(input(std::nullopt, st(S::scheduled, {}, deferred)));
  EXPECT_EQ(r.decision.kind, decision_kind::accept);
  EXPECT_TRUE(r.effects.enqueue);
  EXPECT_FALSE(r.effects.enqueue_as_retry);

  // Pending twice is a duplicate submission.
  r = orchestrate_task_transition(input(st(S::pending, {}, deferred), st(S::pending, {}, {{"deferred", true}})));
  EXPECT_EQ(r.decision.kind, decision_kind::abort);

  // Parameters travel from Scheduled to Pending.
  r = orchestrate_task_transition(input(
      st(S::scheduled, {}, {{"deferred", true}, {"task_parameters_id", "p-1"}, {"scheduled_time", format_iso8601(t0)}}),
      st(S::pending, {}, {{"deferred", true}})));
  EXPECT_EQ(detail_string(*r.written, "task_parameters_id"), "p-1");
}

TEST(TaskRunPolicyJson, AcceptsNumberOrList) {
  EXPECT_EQ(parse_task_run_policy({{"retries", 2}, {"retry_delay", 5}}).retry_delay, std::vector<double>{5});
  EXPECT_EQ(parse_task_run_policy({{"retry_delay", {1, 2}}}).retry_delay, (std::vector<double>{1, 2}));
  EXPECT_EQ(parse_task_run_policy({{"retry_jitter_factor", 0.3}}).retry_jitter_factor, 0.3);
  EXPECT_EQ(parse_task_run_policy(nullptr), task_run_policy{});
}

TEST(TaskSequence, ServerSideRetries) {
  auto in = input(std::nullopt, st(S::pending));
  in.run.policy = {1, {10}, std::nullopt};
  auto r = orchestrate_task_transition(in);
  ASSERT_TRUE(r.written);
  auto step = [&](run_state proposed, timestamp now) {
    task_transition_input next{
        r.written ? r.written : in.current, {std::move(proposed), false}, r.run, now, in.flow_run, {}, {}, 0.5, 2000};
    auto out = orchestrate_task_transition(next);
    if (!out.written) out.written = next.current;
    r = out;
    return out.decision.kind;
  };
  EXPECT_EQ(step(st(S::running), t0 + 1s), decision_kind::accept);
  EXPECT_EQ(r.run.counters.run_count, 1);
  EXPECT_EQ(step(st(S::failed), t0 + 2s), decision_kind::reject);
  EXPECT_EQ(r.written->name, "AwaitingRetry");
  EXPECT_EQ(step(st(S::running), t0 + 5s), decision_kind::wait);
  EXPECT_EQ(r.decision.delay, 7s);
  EXPECT_EQ(step(st(S::running), t0 + 12s), decision_kind::accept);
  EXPECT_EQ(r.written->name, "Retrying");
  EXPECT_EQ(r.run.counters.run_count, 2);
  EXPECT_EQ(step(st(S::failed), t0 + 13s), decision_kind::accept);
  EXPECT_TRUE(r.effects.release_tag_slots);
  EXPECT_EQ(r.run.counters.end_time, t0 + 13s);
}

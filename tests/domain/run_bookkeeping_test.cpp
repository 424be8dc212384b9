// Run bookkeeping conversions: a flow run as stored ↔ what orchestration reads and writes, each as a table.
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <set>

#include "domain/run_bookkeeping.hpp"

using namespace osprey;
using namespace std::chrono_literals;

namespace {

const timestamp t0 = *parse_iso8601("2026-01-01T00:00:00Z");
const flow_run_id run_id{*uuid::parse("5f6c2a4e-0000-4000-8000-0000000000aa")};
const uuid deployment = *uuid::parse("5f6c2a4e-0000-4000-8000-000000000001");
const uuid parent_task = *uuid::parse("5f6c2a4e-0000-4000-8000-0000000000bb");

run_state state(state_type type, timestamp at) {
  run_state s;
  s.id = state_id{new_uuid7(at)};
  s.type = type;
  s.name = default_state_name(type);
  s.at = at;
  return s;
}

flow_run stored_run() {
  flow_run r;
  r.id = run_id;
  r.name = "brave-otter";
  r.empirical_policy = {{"retries", 2}, {"retry_delay", 10}, {"max_retries", 2}, {"custom", "kept"}};
  return r;
}

void expect_bookkeeping_eq(const run_bookkeeping& got, const run_bookkeeping& want) {
  EXPECT_EQ(got.run_count, want.run_count);
  EXPECT_EQ(got.start_time, want.start_time);
  EXPECT_EQ(got.end_time, want.end_time);
  EXPECT_EQ(got.total_run_time, want.total_run_time);
  EXPECT_EQ(got.expected_start_time, want.expected_start_time);
  EXPECT_EQ(got.next_scheduled_start_time, want.next_scheduled_start_time);
}

}  // namespace

TEST(RunBookkeeping, RunTimeIsSecondsOnTheRunAndMicrosecondsInOrchestration) {
  struct row {
    const char* label;
    double seconds;
    std::chrono::microseconds micros;
  };
  const std::vector<row> rows = {
      {"nothing run", 0.0, 0us},
      {"whole seconds", 7.0, 7s},
      {"a fraction", 1.5, 1'500'000us},
      {"microsecond precision", 123.456789, 123'456'789us},
      {"rounded, not truncated (0.000249 * 1e6 is 248.99999999999997)", 0.000249, 249us},
      {"the same a second in", 1.000001, 1'000'001us},
      {"a day", 86'400.000001, 86'400'000'001us},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.label);
    EXPECT_EQ(run_time_from_seconds(r.seconds), r.micros);
    EXPECT_DOUBLE_EQ(run_time_seconds(r.micros), r.seconds);
    EXPECT_EQ(run_time_from_seconds(run_time_seconds(r.micros)), r.micros);  // a round trip loses nothing
  }
}

TEST(RunBookkeeping, RunTimeThatIsNotANumberCountsAsNothing) {
  EXPECT_EQ(run_time_from_seconds(std::numeric_limits<double>::quiet_NaN()), 0us);
  EXPECT_EQ(run_time_from_seconds(std::numeric_limits<double>::infinity()), 0us);
}

TEST(RunBookkeeping, BookkeepingOfARunAndBackTable) {
  struct row {
    const char* label;
    run_bookkeeping counters;
  };
  const std::vector<row> rows = {
      {"a new run", {}},
      {"scheduled: expected and next start", {0, {}, {}, 0us, t0 + 60s, t0 + 60s}},
      {"running: started, counted once", {1, t0 + 2s, {}, 0us, t0, {}}},
      {"completed after a retry", {2, t0 + 2s, t0 + 30s, 27'250'001us, t0, {}}},
      {"crashed before running: start = end", {0, t0 + 1s, t0 + 1s, 0us, t0, {}}},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.label);
    auto run = stored_run();
    apply_changes(run, {std::nullopt, r.counters, run.empirical_policy});
    EXPECT_EQ(run.run_count, r.counters.run_count);
    EXPECT_EQ(run.start_time, r.counters.start_time);
    EXPECT_EQ(run.end_time, r.counters.end_time);
    EXPECT_DOUBLE_EQ(run.total_run_time, run_time_seconds(r.counters.total_run_time));
    EXPECT_EQ(run.expected_start_time, r.counters.expected_start_time);
    EXPECT_EQ(run.next_scheduled_start_time, r.counters.next_scheduled_start_time);
    expect_bookkeeping_eq(bookkeeping_of(run), r.counters);
  }
}

TEST(RunBookkeeping, BookkeepingOfATaskRunFromItsColumnsTable) {
  struct row {
    const char* label;
    nlohmann::json columns;
    run_bookkeeping expected;
  };
  const std::vector<row> rows = {
      {"no columns: nothing run", nlohmann::json::object(), {}},
      {"every column",
       {{"run_count", 2},
        {"start_time", format_iso8601(t0 + 1s)},
        {"end_time", format_iso8601(t0 + 9s)},
        {"total_run_time", 7.000001},
        {"expected_start_time", format_iso8601(t0)},
        {"next_scheduled_start_time", format_iso8601(t0 + 60s)}},
       {2, t0 + 1s, t0 + 9s, 7'000'001us, t0, t0 + 60s}},
      {"mistyped or null columns read as none",
       {{"run_count", "two"}, {"start_time", 5}, {"end_time", nullptr}, {"total_run_time", "long"}},
       {}},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.label);
    task_run run;
    run.columns = r.columns;
    expect_bookkeeping_eq(bookkeeping_of(run), r.expected);
  }
}

TEST(RunBookkeeping, SnapshotOfARunTable) {
  struct row {
    const char* label;
    std::function<void(flow_run&)> given;
    std::function<void(flow_run_snapshot&)> expected;  ///< applied to the snapshot of stored_run()
  };
  const std::vector<row> rows = {
      {"a plain run: its id, its policy parsed, no deployment, no parent, no pid", [](flow_run&) {}, [](auto&) {}},
      {"a deployed run names its deployment", [](flow_run& r) { r.deployment_id = deployment; },
       [](auto& s) { s.deployment_id = deployment; }},
      {"a subflow names its parent tracking task run", [](flow_run& r) { r.parent_task_run_id = parent_task; },
       [](auto& s) { s.parent_task_run_id = task_run_id{parent_task}; }},
      {"infrastructure pid as stored", [](flow_run& r) { r.infrastructure_pid = "4242"; },
       [](auto& s) { s.infrastructure_pid = "4242"; }},
      {"bookkeeping columns become counters",
       [](flow_run& r) {
         r.run_count = 3;
         r.total_run_time = 2.5;
       },
       [](auto& s) {
         s.counters.run_count = 3;
         s.counters.total_run_time = 2'500'000us;
       }},
      {"a policy that is not an object reads as the defaults",
       [](flow_run& r) { r.empirical_policy = nlohmann::json::array(); }, [](auto& s) { s.policy = {}; }},
      {"pause keys and resuming are read",
       [](flow_run& r) {
         r.empirical_policy["pause_keys"] = {"b", "a"};
         r.empirical_policy["resuming"] = true;
       },
       [](auto& s) {
         s.policy.pause_keys = {"a", "b"};
         s.policy.resuming = true;
       }},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.label);
    auto run = stored_run();
    r.given(run);
    flow_run_snapshot want;
    want.id = run_id;
    want.policy.retries = 2;
    want.policy.retry_delay = 10.0;
    r.expected(want);
    EXPECT_EQ(snapshot_of(run), want);
  }
}

TEST(RunBookkeeping, ChangesOfADecidedTransitionTable) {
  const auto running = state(state_type::running, t0 + 2s);
  struct row {
    const char* label;
    std::optional<run_state> written;
    run_bookkeeping counters;
    flow_run_policy policy;
    nlohmann::json expected_policy;  ///< the stored policy after the transition
  };
  const nlohmann::json kept = {{"max_retries", 2}, {"custom", "kept"}};
  auto with = [&](nlohmann::json fields) {
    auto j = kept;
    j.update(fields);
    return j;
  };
  const std::vector<row> rows = {
      {"a written state becomes current; the counters move",
       running,
       {1, t0 + 2s, {}, 0us, t0, {}},
       {2, 10.0, {}, false, {}},
       with({{"retries", 2},
             {"retry_delay", 10},
             {"pause_keys", nlohmann::json::array()},
             {"resuming", false},
             {"retry_type", nullptr}})},
      {"nothing written: only the policy changes (a rejected resume sets resuming)",
       std::nullopt,
       {},
       {2, 10.0, {"k1"}, true, {}},
       with(
           {{"retries", 2}, {"retry_delay", 10}, {"pause_keys", {"k1"}}, {"resuming", true}, {"retry_type", nullptr}})},
      {"pause keys are stored sorted; a fractional delay stays a float",
       std::nullopt,
       {},
       {std::nullopt, 0.5, {"b", "a"}, false, "in_process"},
       with({{"retries", nullptr},
             {"retry_delay", 0.5},
             {"pause_keys", {"a", "b"}},
             {"resuming", false},
             {"retry_type", "in_process"}})},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.label);
    auto run = stored_run();
    run.state = state(state_type::pending, t0);
    flow_transition_result result;
    result.written = r.written;
    result.run = snapshot_of(run);
    result.run.counters = r.counters;
    result.run.policy = r.policy;
    const auto changes = changes_of(run, result);
    ASSERT_EQ(changes.written.has_value(), r.written.has_value());
    if (r.written) {
      EXPECT_EQ(changes.written->id, r.written->id);
    }
    expect_bookkeeping_eq(changes.counters, r.counters);
    EXPECT_EQ(changes.empirical_policy, r.expected_policy);

    const auto before = run;
    apply_changes(run, changes);
    EXPECT_EQ(run.state->id, (r.written ? *r.written : *before.state).id);  // written: current; else unchanged
    EXPECT_EQ(run.empirical_policy, r.expected_policy);
    expect_bookkeeping_eq(bookkeeping_of(run), r.counters);
    EXPECT_EQ(run.name, before.name);  // other columns stay
    EXPECT_EQ(run.updated, before.updated);
    EXPECT_EQ(snapshot_of(run).policy, r.policy);  // what is stored reads back as what was decided
  }
}

TEST(RunBookkeeping, NormalizedPolicyFillsDefaultsAndDeprecatedMirrorsTable) {
  struct row {
    const char* label;
    nlohmann::json given;
    nlohmann::json expected;
  };
  const std::vector<row> rows = {
      {"empty",
       nlohmann::json::object(),
       {{"retries", nullptr},
        {"retry_delay", nullptr},
        {"max_retries", 0},
        {"retry_delay_seconds", 0},
        {"pause_keys", nlohmann::json::array()},
        {"resuming", false},
        {"retry_type", nullptr}}},
      {"not an object counts as empty",
       nullptr,
       {{"retries", nullptr},
        {"retry_delay", nullptr},
        {"max_retries", 0},
        {"retry_delay_seconds", 0},
        {"pause_keys", nlohmann::json::array()},
        {"resuming", false},
        {"retry_type", nullptr}}},
      {"retries and retry_delay are mirrored",
       {{"retries", 3}, {"retry_delay", 5}},
       {{"retries", 3},
        {"retry_delay", 5},
        {"max_retries", 3},
        {"retry_delay_seconds", 5},
        {"pause_keys", nlohmann::json::array()},
        {"resuming", false},
        {"retry_type", nullptr}}},
      {"the deprecated fields fill the new ones",
       {{"max_retries", 1}, {"retry_delay_seconds", 2}},
       {{"retries", 1},
        {"retry_delay", 2},
        {"max_retries", 1},
        {"retry_delay_seconds", 2},
        {"pause_keys", nlohmann::json::array()},
        {"resuming", false},
        {"retry_type", nullptr}}},
      {"the new fields win",
       {{"retries", 4}, {"max_retries", 1}, {"extra", true}},
       {{"retries", 4},
        {"retry_delay", nullptr},
        {"max_retries", 4},
        {"retry_delay_seconds", 0},
        {"pause_keys", nlohmann::json::array()},
        {"resuming", false},
        {"retry_type", nullptr},
        {"extra", true}}},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.label);
    EXPECT_EQ(normalize_flow_run_policy(r.given), r.expected);
  }
}

TEST(FlowRunPolicyJson, RoundTripsAndKeepsUnknownKeys) {
  nlohmann::json stored = {{"max_retries", 0},     {"retry_delay_seconds", 0.0}, {"retries", 2},
                           {"retry_delay", 10},    {"pause_keys", {"b", "a"}},   {"resuming", false},
                           {"retry_type", nullptr}};
  auto p = parse_flow_run_policy(stored);
  EXPECT_EQ(p.retries, 2);
  EXPECT_EQ(p.retry_delay, 10.0);
  EXPECT_EQ(p.pause_keys, (std::set<std::string>{"a", "b"}));
  p.retry_type = "in_process";
  p.resuming = true;
  merge_flow_run_policy(stored, p);
  EXPECT_EQ(stored["max_retries"], 0);
  EXPECT_EQ(stored["retry_delay"], 10);
  EXPECT_TRUE(stored["retry_delay"].is_number_integer());
  EXPECT_EQ(stored["pause_keys"], nlohmann::json({"a", "b"}));
  EXPECT_EQ(stored["retry_type"], "in_process");
  EXPECT_EQ(stored["resuming"], true);
  EXPECT_EQ(parse_flow_run_policy(stored), p);

  EXPECT_EQ(parse_flow_run_policy(nlohmann::json::object()), flow_run_policy{});
  EXPECT_EQ(parse_flow_run_policy({{"retries", "x"}, {"pause_keys", 3}}), flow_run_policy{});
}

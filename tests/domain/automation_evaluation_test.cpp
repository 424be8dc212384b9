// Event-trigger evaluation: the matching rules one by one (table-driven), then event sequences through react()
// and evaluate_bucket() as Prefect 3.9.1's triggers.py counts them.
#include <gtest/gtest.h>

#include "domain/automation_evaluation.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const timestamp t0 = *parse_iso8601("2026-01-01T00:00:00Z");

event ev(std::string name, timestamp at, resource_labels resource = {{"prefect.resource.id", "prefect.flow-run.1"}},
         std::vector<resource_labels> related = {}) {
  event e;
  e.id = new_uuid4();
  e.name = std::move(name);
  e.occurred = at;
  e.resource = std::move(resource);
  e.related = std::move(related);
  return e;
}

event_trigger_rules rules(json overrides) {
  json doc = {{"type", "event"},
              {"id", "5f6c2a4e-0000-4000-8000-000000000001"},
              {"match", json::object()},
              {"match_related", json::object()},
              {"after", json::array()},
              {"expect", json::array()},
              {"for_each", json::array()},
              {"posture", "Reactive"},
              {"threshold", 1},
              {"within", 0}};
  doc.update(overrides);
  auto r = read_event_trigger_rules(doc);
  EXPECT_TRUE(r) << (r ? "" : r.error().message());
  return *r;
}

TEST(AutomationMatch, LabelPatterns) {
  const std::string flow_run = "prefect.flow-run.abc";
  struct row {
    const char* pattern;
    const std::string* value;
    bool expected;
  } rows[] = {
      {"prefect.flow-run.abc", &flow_run, true},
      {"prefect.flow-run.*", &flow_run, true},
      {"prefect.flow-run.ab?", &flow_run, true},
      {"prefect.flow-run.ab", &flow_run, false},
      {"!prefect.flow-run.*", &flow_run, false},
      {"!prefect.deployment.*", &flow_run, true},
      {"*", nullptr, false},
      {"!anything", nullptr, false},
      {"prefect.*.abc", &flow_run, true},
      {"Prefect.flow-run.abc", &flow_run, false},
  };
  for (const auto& r : rows) EXPECT_EQ(label_pattern_matches(r.pattern, r.value), r.expected) << r.pattern;
}

TEST(AutomationMatch, Covers) {
  const resource_labels flow_run = {{"prefect.resource.id", "prefect.flow-run.1"}, {"prefect.resource.name", "x"}};
  const std::vector<resource_labels> related = {
      {{"prefect.resource.id", "prefect.flow.9"}, {"prefect.resource.role", "flow"}},
      {{"prefect.resource.id", "prefect.tag.etl"}, {"prefect.resource.role", "tag"}}};
  struct row {
    json trigger;
    const char* event_name;
    bool expected;
  } rows[] = {
      {json::object(), "anything.at.all", true},
      {{{"expect", {"prefect.flow-run.Failed"}}}, "prefect.flow-run.Failed", true},
      {{{"expect", {"prefect.flow-run.Failed"}}}, "prefect.flow-run.Completed", false},
      {{{"expect", {"prefect.flow-run.*"}}}, "prefect.flow-run.Crashed", true},
      {{{"expect", {"x"}}, {"after", {"prefect.flow-run.Running"}}}, "prefect.flow-run.Running", true},
      {{{"match", {{"prefect.resource.id", "prefect.flow-run.*"}}}}, "e", true},
      {{{"match", {{"prefect.resource.id", {"prefect.deployment.*", "prefect.flow-run.1"}}}}}, "e", true},
      {{{"match", {{"prefect.resource.id", "prefect.deployment.*"}}}}, "e", false},
      {{{"match", {{"prefect.resource.name", "y"}}}}, "e", false},
      {{{"match", {{"missing.label", "!x"}}}}, "e", false},
      {json::parse(R"({"match_related": {"prefect.resource.role": "tag", "prefect.resource.id": "prefect.tag.etl"}})"),
       "e", true},
      {json::parse(R"({"match_related": {"prefect.resource.role": "tag", "prefect.resource.id": "prefect.tag.ml"}})"),
       "e", false},
      {json::parse(R"({"match_related": [{"prefect.resource.role": "flow"}, {"prefect.resource.role": "tag"}]})"), "e",
       true},
      {json::parse(R"({"match_related": [{"prefect.resource.role": "flow"}, {"prefect.resource.role": "pool"}]})"), "e",
       false},
  };
  for (const auto& r : rows)
    EXPECT_EQ(trigger_covers(rules(r.trigger), ev(r.event_name, t0, flow_run, related)), r.expected)
        << r.trigger.dump() << " " << r.event_name;
}

TEST(AutomationMatch, BucketingKeyReadsSortedLabelsAndRelatedRoles) {
  const auto t = rules({{"for_each", {"related:flow:prefect.resource.id", "prefect.resource.id", "related:x:y"}}});
  const auto e = ev("e", t0, {{"prefect.resource.id", "prefect.flow-run.1"}},
                    {{{"prefect.resource.id", "prefect.flow.9"}, {"prefect.resource.role", "flow"}}});
  EXPECT_EQ(t.for_each,
            (std::vector<std::string>{"prefect.resource.id", "related:flow:prefect.resource.id", "related:x:y"}));
  EXPECT_EQ(bucketing_key(t, e), (std::vector<std::string>{"prefect.flow-run.1", "prefect.flow.9", ""}));
}

TEST(AutomationMatch, RefusesDocumentsThatAreNotEventTriggers) {
  EXPECT_FALSE(read_event_trigger_rules({{"type", "compound"}}));
  EXPECT_FALSE(read_event_trigger_rules({{"type", "event"}, {"id", "nope"}}));
  EXPECT_FALSE(read_event_trigger_rules(
      {{"type", "event"}, {"id", "5f6c2a4e-0000-4000-8000-000000000001"}, {"match", {{"a", 1}}}}));
}

/// Runs events through react() as the actor does, keeping the one bucket; returns how many fired after each.
std::vector<std::size_t> run(const event_trigger_rules& t, const std::vector<event>& events) {
  std::optional<trigger_bucket> bucket;
  std::vector<std::size_t> fired;
  for (const auto& e : events) {
    if (!trigger_covers(t, e)) {
      fired.push_back(0);
      continue;
    }
    auto step = react(t, bucket, e);
    bucket = step.bucket;
    fired.push_back(step.firings.size());
  }
  return fired;
}

TEST(AutomationReactive, ImmediateTriggerFiresOnEveryExpectedEvent) {
  const auto t = rules({{"expect", {"prefect.flow-run.Failed"}}});
  EXPECT_EQ(run(t, {ev("prefect.flow-run.Failed", t0), ev("prefect.flow-run.Completed", t0 + 1s),
                    ev("prefect.flow-run.Failed", t0 + 2s)}),
            (std::vector<std::size_t>{1, 0, 1}));
}

TEST(AutomationReactive, ThresholdWithinWindowFiresOncePerWindow) {
  const auto t = rules({{"expect", {"x"}}, {"threshold", 3}, {"within", 60}});
  EXPECT_EQ(run(t, {ev("x", t0), ev("x", t0 + 10s), ev("x", t0 + 20s), ev("x", t0 + 30s), ev("x", t0 + 40s)}),
            (std::vector<std::size_t>{0, 0, 1, 0, 0}));
}

TEST(AutomationReactive, ImmediateThresholdKeepsCountingUntilReached) {
  const auto t = rules({{"expect", {"x"}}, {"threshold", 2}});
  EXPECT_EQ(run(t, {ev("x", t0), ev("x", t0 + 1h), ev("x", t0 + 2h), ev("x", t0 + 3h)}),
            (std::vector<std::size_t>{0, 1, 0, 1}));
}

TEST(AutomationReactive, ForEachKeepsOneBucketPerResource) {
  auto t = rules({{"expect", {"x"}}, {"threshold", 2}, {"within", 60}, {"for_each", {"prefect.resource.id"}}});
  const resource_labels a = {{"prefect.resource.id", "a"}}, b = {{"prefect.resource.id", "b"}};
  std::map<std::vector<std::string>, trigger_bucket> buckets;
  std::vector<trigger_firing> firings;
  for (const auto& e : {ev("x", t0, a), ev("x", t0 + 1s, b), ev("x", t0 + 2s, a)}) {
    const auto key = bucketing_key(t, e);
    std::optional<trigger_bucket> stored;
    if (auto it = buckets.find(key); it != buckets.end()) stored = it->second;
    auto step = react(t, stored, e);
    if (step.bucket)
      buckets[key] = *step.bucket;
    else
      buckets.erase(key);
    for (auto& f : step.firings) firings.push_back(f);
  }
  ASSERT_EQ(firings.size(), 1u);
  EXPECT_EQ(firings[0].triggering_labels, (std::map<std::string, std::string>{{"prefect.resource.id", "a"}}));
}

TEST(AutomationReactive, AfterOpensTheWindowAndExpectCountsInIt) {
  const auto t = rules({{"after", {"start"}}, {"expect", {"x"}}, {"within", 60}});
  // An expected event before any `after` counts nowhere; after it, the first one fires.
  EXPECT_EQ(run(t, {ev("x", t0), ev("start", t0 + 1s), ev("x", t0 + 2s), ev("x", t0 + 3s)}),
            (std::vector<std::size_t>{0, 0, 1, 0}));
}

TEST(AutomationReactive, SameEventInAfterAndExpectNeverReactsToItself) {
  const auto t = rules({{"after", {"beat"}}, {"expect", {"beat"}}, {"within", 60}});
  EXPECT_EQ(run(t, {ev("beat", t0), ev("beat", t0 + 1s)}), (std::vector<std::size_t>{0, 1}));
}

TEST(AutomationReactive, LateEventOpensAndFiresTheNextWindow) {
  const auto t = rules({{"expect", {"x"}}, {"threshold", 1}, {"within", 60}});
  EXPECT_EQ(run(t, {ev("x", t0), ev("x", t0 + 30s), ev("x", t0 + 5min)}), (std::vector<std::size_t>{1, 0, 1}));
}

TEST(AutomationProactive, FiresWhenTheWindowEndsShortOfTheThreshold) {
  const auto t = rules({{"posture", "Proactive"}, {"expect", {"done"}}, {"after", {"start"}}, {"within", 30}});
  auto step = react(t, std::nullopt, ev("start", t0));
  ASSERT_TRUE(step.bucket);
  EXPECT_TRUE(step.firings.empty());
  auto early = evaluate_bucket(t, *step.bucket, t0 + 10s);
  EXPECT_TRUE(early.firings.empty());
  ASSERT_TRUE(early.bucket);
  auto late = evaluate_bucket(t, *early.bucket, t0 + 31s);
  ASSERT_EQ(late.firings.size(), 1u);
  ASSERT_TRUE(late.firings[0].triggering_event);
  EXPECT_EQ(late.firings[0].triggering_event->name, "start");
  EXPECT_FALSE(late.bucket);  // after: only the next `start` opens a window
}

TEST(AutomationProactive, AnExpectedEventInTimeKeepsItQuiet) {
  const auto t = rules({{"posture", "Proactive"}, {"expect", {"done"}}, {"after", {"start"}}, {"within", 30}});
  auto step = react(t, std::nullopt, ev("start", t0));
  step = react(t, step.bucket, ev("done", t0 + 5s));
  ASSERT_TRUE(step.bucket);
  EXPECT_EQ(step.bucket->count, 1);
  auto late = evaluate_bucket(t, *step.bucket, t0 + 31s);
  EXPECT_TRUE(late.firings.empty());
  EXPECT_FALSE(late.bucket);
}

TEST(AutomationProactive, WithoutAfterWindowsFollowOneAnother) {
  const auto t = rules({{"posture", "Proactive"}, {"expect", {"beat"}}, {"within", 30}});
  auto bucket = initial_proactive_bucket(t, t0);
  auto first = evaluate_bucket(t, bucket, t0 + 30s);
  ASSERT_EQ(first.firings.size(), 1u);
  ASSERT_TRUE(first.bucket);
  EXPECT_EQ(first.bucket->start, t0 + 30s);
  EXPECT_EQ(first.bucket->end, t0 + 60s);
  auto fed = react(t, first.bucket, ev("beat", t0 + 40s));
  ASSERT_TRUE(fed.bucket);
  EXPECT_TRUE(evaluate_bucket(t, *fed.bucket, t0 + 60s).firings.empty());
}

}  // namespace

// ---- templates ----------------------------------------------------------------------------------------------

#include "domain/template_render.hpp"

namespace {

TEST(AutomationTemplate, RendersPathsAndRefusesWhatItCannotRender) {
  const json context = {
      {"automation", {{"name", "On failure"}, {"description", ""}}},
      {"event",
       {{"event", "prefect.flow-run.Failed"},
        {"resource", {{"prefect.resource.id", "prefect.flow-run.1"}, {"prefect.resource.name", "brave-fox"}}}}},
      {"labels", {{"prefect.resource.id", "prefect.flow-run.1"}}},
      {"flag", true}};
  struct row {
    const char* source;
    const char* rendered;  ///< nullptr: refused
  } rows[] = {
      {"plain text {not a tag}", "plain text {not a tag}"},
      {"{{ automation.name }}: {{event.event}}", "On failure: prefect.flow-run.Failed"},
      {"{{ event.resource.id }} {{ event.resource.name }}", "prefect.flow-run.1 brave-fox"},
      {"{{ labels[\"prefect.resource.id\"] }}", "prefect.flow-run.1"},
      {"[{{ missing.thing }}]{# a comment #}", "[]"},
      {"{{ flag }} {{ automation }}", "True {\"description\":\"\",\"name\":\"On failure\"}"},
      {"{% for x in y %}{% endfor %}", nullptr},
      {"{{ automation.name | upper }}", nullptr},
      {"{{ automation.name | tojson }}", "\"On failure\""},
      {"{{ automation | tojson }}", "{\"description\": \"\", \"name\": \"On failure\"}"},
      {"{{ labels[\"a|b\"] | tojson }}", nullptr},  // undefined: nothing to serialise
      {"{{ flag|tojson }}", "true"},
      {"{{ automation.name ", nullptr},
  };
  for (const auto& r : rows) {
    const auto out = render_jinja(r.source, context);
    if (!r.rendered) {
      EXPECT_FALSE(out) << r.source;
      continue;
    }
    ASSERT_TRUE(out) << r.source << ": " << out.error().message();
    EXPECT_EQ(*out, r.rendered);
  }
}

}  // namespace

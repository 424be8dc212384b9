// Trigger evaluation against real SQLite and PostgreSQL: buckets survive a restart (a new connection, the
// automations loaded again), a firing writes its action jobs into the outbox once, and the evaluator actor fed
// by a real event bus fires and publishes prefect.automation.triggered.
#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>

#include <condition_variable>
#include <mutex>

#include "actors/automation_evaluator.hpp"
#include "actors/event_bus.hpp"
#include "persistence/automation_bucket_store.hpp"
#include "persistence/automation_store.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/event_store.hpp"
#include "persistence/migrator.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using nlohmann::json;
using persistence::dialect;

namespace {

automation make_automation(json trigger, json actions = json::array({{{"type", "do-nothing"}}})) {
  automation a;
  a.id = automation_id{new_uuid4()};
  a.created = a.updated = system_clock::instance().now();
  a.name = "on failure";
  trigger["id"] = new_uuid4().to_string();
  a.trigger = std::move(trigger);
  a.actions = std::move(actions);
  return a;
}

json failed_trigger(int threshold = 1, double within = 0) {
  return {{"type", "event"},
          {"match", {{"prefect.resource.id", "prefect.flow-run.*"}}},
          {"match_related", json::object()},
          {"after", json::array()},
          {"expect", {"prefect.flow-run.Failed"}},
          {"for_each", {"prefect.resource.id"}},
          {"posture", "Reactive"},
          {"threshold", threshold},
          {"within", within}};
}

event failed_event(const std::string& run, timestamp at) {
  event e;
  e.id = new_uuid4();
  e.name = "prefect.flow-run.Failed";
  e.occurred = at;
  e.resource = {{"prefect.resource.id", "prefect.flow-run." + run}};
  return e;
}

class AutomationEvaluation : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    conn_ = db_.connect();
    persistence::migrator m(*conn_);
    ASSERT_TRUE(m.reset());
  }

  void insert(const automation& a) {
    ASSERT_TRUE(
        persistence::in_write_transaction(*conn_, "test", [&](auto& c) { persistence::insert_automation(c, a); }));
  }

  /// Evaluates in one transaction with the automations loaded from the database, as the evaluator's jobs do.
  actors::automation_evaluation evaluate(persistence::sql_connection& conn, const event& e) {
    actors::automation_evaluation out;
    EXPECT_TRUE(persistence::in_write_transaction(conn, "test", [&](auto& c) {
      out = actors::evaluate_event(c, actors::arm_triggers(persistence::enabled_automations(c)), e, e.occurred, "");
    }));
    return out;
  }

  std::int64_t action_jobs() {
    std::int64_t n = 0;
    EXPECT_TRUE(persistence::in_write_transaction(*conn_, "test", [&](auto& c) {
      for (const auto& j : persistence::list_outbox(c, std::nullopt, 1000))
        if (j.kind == notification_kind::action) ++n;
    }));
    return n;
  }

  osprey::testing::scratch_database db_{GetParam()};
  std::unique_ptr<persistence::sql_connection> conn_;
  timestamp t0_ = system_clock::instance().now();
};

TEST_P(AutomationEvaluation, ThresholdCountSurvivesARestart) {
  const auto a = make_automation(failed_trigger(2, 3600));
  insert(a);
  EXPECT_TRUE(evaluate(*conn_, failed_event("1", t0_)).jobs.empty());
  // "Restart": a new connection, the triggers loaded again; the bucket's count of one is still there.
  auto restarted = db_.connect();
  auto fired = evaluate(*restarted, failed_event("1", t0_ + 1s));
  ASSERT_EQ(fired.jobs.size(), 1u);
  EXPECT_EQ(fired.jobs[0].kind, notification_kind::action);
  EXPECT_EQ(fired.jobs[0].payload["action"]["type"], "do-nothing");
  EXPECT_EQ(fired.jobs[0].payload["triggering_labels"]["prefect.resource.id"], "prefect.flow-run.1");
  ASSERT_EQ(fired.events.size(), 1u);
  EXPECT_EQ(fired.events[0].name, "prefect.automation.triggered");
  EXPECT_EQ(fired.events[0].resource.at("prefect.resource.id"), "prefect.automation." + a.id.to_string());
  // Within the same window the trigger stays quiet; another run has a bucket of its own.
  EXPECT_TRUE(evaluate(*restarted, failed_event("1", t0_ + 2s)).jobs.empty());
  EXPECT_TRUE(evaluate(*restarted, failed_event("2", t0_ + 3s)).jobs.empty());
  EXPECT_EQ(action_jobs(), 1);
}

TEST_P(AutomationEvaluation, TheSameFiringWrittenTwiceKeepsItsActionsOnce) {
  const auto a = make_automation(failed_trigger(), json::array({{{"type", "do-nothing"}}, {{"type", "do-nothing"}}}));
  insert(a);
  const auto e = failed_event("1", t0_);
  auto first = evaluate(*conn_, e);
  EXPECT_EQ(first.jobs.size(), 2u);
  // A second server (or a replay) evaluating the same event: the bucket was consumed, and the firing's id
  // is the same, so nothing more is written.
  ASSERT_TRUE(persistence::in_write_transaction(*conn_, "test", [&](auto& c) {
    persistence::store_bucket(c, a.id, *uuid::parse(a.trigger["id"].get<std::string>()), {"prefect.flow-run.1"},
                              std::nullopt, t0_);
  }));
  auto second = evaluate(*conn_, e);
  EXPECT_TRUE(second.jobs.empty());
  EXPECT_TRUE(second.events.empty());
  EXPECT_EQ(action_jobs(), 2);
}

TEST_P(AutomationEvaluation, DisabledAutomationsAndOtherEventsDoNotFire) {
  auto a = make_automation(failed_trigger());
  a.enabled = false;
  insert(a);
  insert(make_automation(failed_trigger()));
  auto other = failed_event("1", t0_);
  other.name = "prefect.flow-run.Completed";
  EXPECT_TRUE(evaluate(*conn_, other).jobs.empty());
  EXPECT_EQ(evaluate(*conn_, failed_event("1", t0_)).jobs.size(), 1u);
}

TEST_P(AutomationEvaluation, ProactiveTriggerFiresWhenTheExpectedEventDoesNotCome) {
  json trigger = {{"type", "event"},
                  {"match", json::object()},
                  {"match_related", json::object()},
                  {"after", {"job.started"}},
                  {"expect", {"job.finished"}},
                  {"for_each", {"prefect.resource.id"}},
                  {"posture", "Proactive"},
                  {"threshold", 1},
                  {"within", 30}};
  insert(make_automation(trigger));
  event started = failed_event("1", t0_);
  started.name = "job.started";
  started.resource = {{"prefect.resource.id", "job.1"}};
  EXPECT_TRUE(evaluate(*conn_, started).jobs.empty());
  actors::automation_evaluation early, late;
  ASSERT_TRUE(persistence::in_write_transaction(*conn_, "test", [&](auto& c) {
    const auto triggers = actors::arm_triggers(persistence::enabled_automations(c));
    early = actors::evaluate_proactive(c, triggers, t0_ + 10s, "");
    late = actors::evaluate_proactive(c, triggers, t0_ + 31s, "");
  }));
  EXPECT_TRUE(early.jobs.empty());
  ASSERT_EQ(late.jobs.size(), 1u);
  EXPECT_EQ(late.events.at(0).resource.at("prefect.posture"), "Proactive");
}

/// A reactive child trigger on one event name (no bucketing), with an id of its own.
json child_on(const std::string& name) {
  return {{"type", "event"},
          {"id", new_uuid4().to_string()},
          {"match", json::object()},
          {"match_related", json::object()},
          {"after", json::array()},
          {"expect", {name}},
          {"for_each", json::array()},
          {"posture", "Reactive"},
          {"threshold", 1},
          {"within", 0}};
}

event named(const std::string& name, timestamp at) {
  event e = failed_event("x", at);
  e.name = name;
  e.resource = {{"prefect.resource.id", "thing.1"}};
  return e;
}

TEST_P(AutomationEvaluation, ACompoundTriggerFiresOnceAllItsChildrenFiredEvenAcrossARestart) {
  insert(make_automation({{"type", "compound"},
                          {"triggers", {child_on("a.done"), child_on("b.done")}},
                          {"require", "all"},
                          {"within", 3600}}));
  EXPECT_TRUE(evaluate(*conn_, named("a.done", t0_)).jobs.empty());
  EXPECT_TRUE(evaluate(*conn_, named("a.done", t0_ + 1s)).jobs.empty());  // the same child again: still one of two
  auto restarted = db_.connect();
  const auto last = named("b.done", t0_ + 2s);
  auto fired = evaluate(*restarted, last);
  ASSERT_EQ(fired.jobs.size(), 1u);
  ASSERT_EQ(fired.events.size(), 1u);
  EXPECT_EQ(fired.events[0].resource.count("prefect.posture"), 0u);  // a composite has no posture
  EXPECT_EQ(fired.jobs[0].payload["triggering_event"]["id"], last.id.to_string());
  // The kept firings were used up: the parent needs both children again.
  EXPECT_TRUE(evaluate(*restarted, named("b.done", t0_ + 3s)).jobs.empty());
  EXPECT_EQ(action_jobs(), 1);
}

TEST_P(AutomationEvaluation, ACompoundTriggerRequiringAnyFiresOnEachChild) {
  insert(make_automation({{"type", "compound"},
                          {"triggers", {child_on("a.done"), child_on("b.done")}},
                          {"require", "any"},
                          {"within", nullptr}}));
  EXPECT_EQ(evaluate(*conn_, named("b.done", t0_)).jobs.size(), 1u);
  EXPECT_EQ(evaluate(*conn_, named("a.done", t0_ + 1s)).jobs.size(), 1u);
}

TEST_P(AutomationEvaluation, ChildFiringsOlderThanWithinNoLongerCount) {
  insert(make_automation(
      {{"type", "compound"}, {"triggers", {child_on("a.done"), child_on("b.done")}}, {"require", 2}, {"within", 10}}));
  EXPECT_TRUE(evaluate(*conn_, named("a.done", t0_)).jobs.empty());
  EXPECT_TRUE(evaluate(*conn_, named("b.done", t0_ + 11s)).jobs.empty());  // a's firing is too old by now
  EXPECT_EQ(evaluate(*conn_, named("a.done", t0_ + 12s)).jobs.size(), 1u);
}

TEST_P(AutomationEvaluation, ASequenceTriggerFiresOnlyWhenItsChildrenFireInOrder) {
  insert(make_automation(
      {{"type", "sequence"}, {"triggers", {child_on("a.done"), child_on("b.done")}}, {"within", 3600}}));
  EXPECT_TRUE(evaluate(*conn_, named("b.done", t0_)).jobs.empty());
  EXPECT_TRUE(evaluate(*conn_, named("a.done", t0_ + 1s)).jobs.empty());   // b before a: out of order
  EXPECT_EQ(evaluate(*conn_, named("b.done", t0_ + 2s)).jobs.size(), 1u);  // b's newest firing follows a's
  EXPECT_EQ(action_jobs(), 1);
}

TEST_P(AutomationEvaluation, ANestedCompositeFiresThroughItsParent) {
  const json inner = {{"type", "compound"},
                      {"id", new_uuid4().to_string()},
                      {"triggers", {child_on("a.done"), child_on("b.done")}},
                      {"require", "any"},
                      {"within", nullptr}};
  insert(make_automation({{"type", "sequence"}, {"triggers", {inner, child_on("c.done")}}, {"within", 3600}}));
  EXPECT_TRUE(evaluate(*conn_, named("c.done", t0_)).jobs.empty());
  EXPECT_TRUE(evaluate(*conn_, named("b.done", t0_ + 1s)).jobs.empty());
  EXPECT_EQ(evaluate(*conn_, named("c.done", t0_ + 2s)).jobs.size(), 1u);
}

TEST_P(AutomationEvaluation, EventsStoredButNotEvaluatedBeforeACrashAreEvaluatedOnceAfterIt) {
  insert(make_automation(failed_trigger()));
  auto replay = [&](timestamp now) {
    actors::automation_evaluation out;
    EXPECT_TRUE(persistence::in_write_transaction(*conn_, "test", [&](auto& c) {
      out = actors::replay_unevaluated_events(c, actors::arm_triggers(persistence::enabled_automations(c)), now, "");
    }));
    return out;
  };
  // A fresh database: nothing to read back, and the progress starts being recorded.
  EXPECT_TRUE(replay(t0_).jobs.empty());
  // Three failures stored by the bus; only the first was evaluated before the "crash".
  std::vector<event> stored;
  for (int i = 0; i < 3; ++i) {
    auto e = failed_event(std::to_string(i), t0_ + std::chrono::seconds(i + 1));
    e.received = e.occurred;
    stored.push_back(e);
  }
  ASSERT_TRUE(persistence::in_write_transaction(*conn_, "test",
                                                [&](auto& c) { persistence::insert_events(c, stored, t0_ + 4s); }));
  EXPECT_EQ(evaluate(*conn_, stored[0]).jobs.size(), 1u);
  auto after = replay(t0_ + 10s);
  EXPECT_EQ(after.jobs.size(), 2u);  // runs 1 and 2; run 0 was evaluated already
  EXPECT_EQ(action_jobs(), 3);
  // Read back again (another restart), or delivered late by the bus: counted no more.
  EXPECT_TRUE(replay(t0_ + 20s).jobs.empty());
  EXPECT_TRUE(evaluate(*conn_, stored[2]).jobs.empty());
  EXPECT_EQ(action_jobs(), 3);
}

TEST_P(AutomationEvaluation, TheProactivePassSweepsBucketsWhoseWindowClosedAMinuteAgo) {
  const auto a = make_automation(failed_trigger(2, 10));
  insert(a);
  EXPECT_TRUE(evaluate(*conn_, failed_event("1", t0_)).jobs.empty());
  const auto trigger = *uuid::parse(a.trigger["id"].get<std::string>());
  auto buckets = [&] {
    std::size_t n = 0;
    EXPECT_TRUE(persistence::in_write_transaction(
        *conn_, "test", [&](auto& c) { n = persistence::trigger_buckets(c, a.id, trigger).size(); }));
    return n;
  };
  EXPECT_EQ(buckets(), 1u);
  ASSERT_TRUE(persistence::in_write_transaction(*conn_, "test", [&](auto& c) {
    persistence::sweep_closed_buckets(c, t0_ + 5s);  // still open then
  }));
  EXPECT_EQ(buckets(), 1u);
  ASSERT_TRUE(persistence::in_write_transaction(*conn_, "test",
                                                [&](auto& c) { persistence::sweep_closed_buckets(c, t0_ + 11s); }));
  EXPECT_EQ(buckets(), 0u);
}

TEST_P(AutomationEvaluation, TheEvaluatorActorFiresFromTheBus) {
  persistence::database_options options;
  options.target = db_.target();
  auto db = persistence::database::start(options);
  ASSERT_TRUE(db);
  const auto a = make_automation(failed_trigger());
  insert(a);
  {
    caf::actor_system_config cfg;
    caf::actor_system system{cfg};
    actors::event_bus_options bus_options;
    bus_options.db = *db;
    auto bus = actors::spawn_event_bus(system, bus_options);
    std::mutex lock;
    std::condition_variable changed;
    std::vector<std::string> seen;
    const auto token = actors::subscribe_events(bus, [&](const actors::shared_event& e) {
      std::lock_guard guard(lock);
      seen.push_back(e->name);
      changed.notify_all();
    });
    auto evaluator = actors::spawn_automation_evaluator(system, {*db, bus});
    actors::publish_events(bus, {failed_event("1", t0_)});
    {
      std::unique_lock guard(lock);
      EXPECT_TRUE(changed.wait_for(guard, 10s, [&] {
        return std::find(seen.begin(), seen.end(), "prefect.automation.triggered") != seen.end();
      }));
    }
    actors::unsubscribe_events(bus, token);
    caf::anon_send_exit(evaluator.evaluator, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(evaluator.proactive, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(bus, caf::exit_reason::user_shutdown);
  }
  db->drain_and_stop();
  EXPECT_EQ(action_jobs(), 1);
}

INSTANTIATE_TEST_SUITE_P(D, AutomationEvaluation, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace

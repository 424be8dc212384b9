// The matcher that turns a committed state change into outbox rows (notifications/rules): triggers per
// channel, nothing for other runs, no duplicates for a replayed state, resolve rows for open alerts only,
// deployment-scoped resolution, and the enabled switch. On real SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include "notifications/rules.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/migrator.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using persistence::dialect;

namespace {

config::channel_settings channel(const std::string& name, config::channel_type type) {
  config::channel_settings c;
  c.name = name;
  c.type = type;
  return c;
}

class NotificationRules : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    conn_ = db_.connect();
    persistence::migrator m(*conn_);
    ASSERT_TRUE(m.reset());
    settings_.channels = {channel("pager", config::channel_type::pagerduty),
                          channel("chat", config::channel_type::slack)};
    policy_.name = "failures";
    policy_.match.state_types = {"FAILED"};
    policy_.match.tags_any = {"prod"};
    policy_.channels = {"pager", "chat"};
    policy_.message_template = "{flow_name}/{flow_run_name} is {flow_run_state_name}";
    policy_.group_wait = std::chrono::milliseconds(750);
  }

  notification_facts facts(const std::string& state_name, state_type type, std::vector<std::string> tags = {"prod"}) {
    notification_facts f;
    f.run = run_;
    f.run_name = "odd-bee";
    f.flow = flow_id{new_uuid4()};
    f.flow_name = "etl";
    f.tags = std::move(tags);
    f.state.id = state_id{new_uuid7(now_)};
    f.state.type = type;
    f.state.name = state_name;
    f.state.at = now_;
    return f;
  }

  std::vector<persistence::outbox_job> enqueue(const notification_facts& f, bool send_resolved = false,
                                               dedup_scope scope = dedup_scope::flow_run, bool enabled = true) {
    auto s = settings_;
    s.enabled = enabled;
    auto p = policy_;
    p.send_resolved = send_resolved;
    p.scope = scope;
    s.policies = {p};
    auto rules = notifications::notification_rules::combine(s, {});
    std::vector<persistence::outbox_job> jobs;
    now_ += std::chrono::milliseconds(10);  // each state change commits later than the one before
    EXPECT_TRUE(persistence::in_write_transaction(*conn_, "enqueue", [&](persistence::sql_connection& c) {
      jobs = notifications::enqueue_notifications(c, *rules, f, now_, "me:1", std::chrono::seconds(60));
    }));
    return jobs;
  }

  osprey::testing::scratch_database db_{GetParam()};
  std::unique_ptr<persistence::sql_connection> conn_;
  config::notification_settings settings_;
  notification_policy policy_;
  flow_run_id run_{new_uuid4()};
  timestamp now_ = system_clock::instance().now();
};

TEST_P(NotificationRules, AMatchingStateGetsOneLeasedTriggerPerChannel) {
  const auto failed = facts("Failed", state_type::failed);
  const auto jobs = enqueue(failed);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].channel_name, "pager");
  EXPECT_EQ(jobs[1].channel_name, "chat");
  for (const auto& j : jobs) {
    EXPECT_EQ(j.kind, notification_kind::trigger);
    EXPECT_EQ(j.dedup_key, "osprey/failures/" + run_.to_string());
    EXPECT_EQ(j.payload["message"], "etl/odd-bee is Failed");
    EXPECT_EQ(j.lease_owner, "me:1");
    EXPECT_EQ(j.group_wait, std::chrono::milliseconds(750));  // the policy's, kept with the job
  }
  // The same state again (a replayed transition) adds nothing.
  EXPECT_TRUE(enqueue(failed).empty());
  EXPECT_EQ(persistence::count_outbox(*conn_).pending, 2);
}

TEST_P(NotificationRules, OtherRunsAndStatesGetNothing) {
  EXPECT_TRUE(enqueue(facts("Failed", state_type::failed, {"dev"})).empty());
  EXPECT_TRUE(enqueue(facts("Running", state_type::running)).empty());
  EXPECT_TRUE(enqueue(facts("Completed", state_type::completed)).empty());  // nothing open to resolve
  EXPECT_TRUE(enqueue(facts("Failed", state_type::failed), false, dedup_scope::flow_run, /*enabled=*/false).empty());
  EXPECT_EQ(persistence::count_outbox(*conn_).pending, 0);
}

TEST_P(NotificationRules, RecoveryResolvesOpenAlertsOnceOnChannelsThatResolve) {
  enqueue(facts("Failed", state_type::failed));
  auto resolves = enqueue(facts("Completed", state_type::completed));
  ASSERT_EQ(resolves.size(), 1u);  // Slack cannot resolve, and send_resolved is off
  EXPECT_EQ(resolves[0].kind, notification_kind::resolve);
  EXPECT_EQ(resolves[0].channel_name, "pager");
  EXPECT_EQ(resolves[0].dedup_key, "osprey/failures/" + run_.to_string());
  // The plain title: the notifier marks a resolve itself ("Recovered: ...").
  EXPECT_EQ(resolves[0].payload["title"], "Flow run etl/odd-bee entered state Completed");
  // Already resolved: a later Completed state closes nothing more.
  EXPECT_TRUE(enqueue(facts("Completed", state_type::completed)).empty());
  // A new failure opens the alert again, and the next recovery resolves it again (with a recovery message).
  EXPECT_EQ(enqueue(facts("Failed", state_type::failed)).size(), 2u);
  EXPECT_EQ(enqueue(facts("Completed", state_type::completed), /*send_resolved=*/true).size(), 2u);
}

TEST_P(NotificationRules, DeploymentScopedAlertsAreResolvedByTheNextRunOfTheDeployment) {
  const uuid deployment = new_uuid4();
  auto failed = facts("Failed", state_type::failed);
  failed.deployment_id = deployment;
  const auto opened = enqueue(failed, false, dedup_scope::deployment);
  ASSERT_EQ(opened.size(), 2u);
  EXPECT_EQ(opened[0].dedup_key, "osprey/failures/deployment/" + deployment.to_string());
  run_ = flow_run_id{new_uuid4()};  // the deployment's next run
  auto completed = facts("Completed", state_type::completed);
  completed.deployment_id = deployment;
  const auto resolved = enqueue(completed, false, dedup_scope::deployment);
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].dedup_key, opened[0].dedup_key);
  EXPECT_EQ(resolved[0].flow_run->to_string(), run_.to_string());
}

TEST_P(NotificationRules, DeploymentGlobsMatchTheDeploymentsStoredName) {
  const uuid flow = new_uuid4(), deployment = new_uuid4();
  conn_->execute("INSERT INTO flow (id, name) VALUES ($1, 'etl')", {persistence::id(flow)});
  conn_->execute("INSERT INTO deployment (id, name, flow_id) VALUES ($1, 'nightly-prod', $2)",
                 {persistence::id(deployment), persistence::id(flow)});
  policy_.match.deployments = {"nightly-*"};
  auto failed = facts("Failed", state_type::failed);
  failed.deployment_id = deployment;
  EXPECT_EQ(enqueue(failed).size(), 2u);
  // A run whose deployment is gone has no deployment name, so a deployment list never matches it.
  failed = facts("Failed", state_type::failed);
  failed.deployment_id = new_uuid4();
  EXPECT_TRUE(enqueue(failed).empty());
}

INSTANTIATE_TEST_SUITE_P(D, NotificationRules, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace

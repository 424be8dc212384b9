// Notification policies: matching (globs themselves: glob_test.cpp), decisions, template validation and
// rendering (Prefect 2 compatible).

#include "domain/notification.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

using namespace osprey;

namespace {

uuid id(std::string_view text) { return *uuid::parse(text); }

notification_facts failed_prod_run() {
  notification_facts facts;
  facts.run = {id("6b1d6d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e")};
  facts.run_name = "clever-otter";
  facts.flow = {id("11111111-2222-4333-8444-555555555555")};
  facts.flow_name = "etl-daily";
  facts.tags = {"prod", "team-data"};
  facts.deployment_id = id("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
  facts.deployment_name = "etl-daily/prod";
  facts.parameters = {{"day", "2024-12-11"}, {"limit", 10}};
  facts.state.type = state_type::failed;
  facts.state.name = "Failed";
  facts.state.at = *parse_iso8601("2024-12-11T18:59:17.212585Z");
  facts.state.message = "Flow run encountered an exception: ValueError";
  return facts;
}

using criterion = std::vector<std::string> state_match::*;

state_match only(criterion field, std::vector<std::string> values) {
  state_match m;
  m.*field = std::move(values);
  return m;
}

TEST(Matches, OneCriterionAtATime) {
  struct row {
    const char* what;
    criterion field;
    std::vector<std::string> values;
    bool expected;
  };
  const row rows[] = {
      {"empty list matches everything", &state_match::state_names, {}, true},
      {"state name", &state_match::state_names, {"Crashed", "Failed"}, true},
      {"other state name", &state_match::state_names, {"Crashed"}, false},
      {"state names are exact", &state_match::state_names, {"failed"}, false},
      {"state type", &state_match::state_types, {"FAILED"}, true},
      {"other state type", &state_match::state_types, {"COMPLETED"}, false},
      {"tags_any hit", &state_match::tags_any, {"dev", "prod"}, true},
      {"tags_any miss", &state_match::tags_any, {"dev"}, false},
      {"tags_none hit", &state_match::tags_none, {"prod"}, false},
      {"tags_none miss", &state_match::tags_none, {"no-alert"}, true},
      {"flow glob", &state_match::flows, {"etl-*"}, true},
      {"flow glob miss", &state_match::flows, {"ml-*"}, false},
      {"deployment glob", &state_match::deployments, {"*/prod"}, true},
      {"deployment glob miss", &state_match::deployments, {"*/dev"}, false},
  };
  const auto facts = failed_prod_run();
  for (const auto& r : rows) EXPECT_EQ(matches(only(r.field, r.values), facts), r.expected) << r.what;
}

TEST(Matches, AllCriteriaAreAnded) {
  const auto facts = failed_prod_run();
  state_match m;
  m.state_names = {"Failed"};
  m.state_types = {"FAILED"};
  m.tags_any = {"prod"};
  m.tags_none = {"quiet"};
  m.flows = {"etl-*"};
  m.deployments = {"etl-daily/*"};
  EXPECT_TRUE(matches(m, facts));
  m.tags_any = {"dev"};
  EXPECT_FALSE(matches(m, facts));
}

TEST(Matches, RunWithoutDeploymentNeverMatchesADeploymentList) {
  auto facts = failed_prod_run();
  facts.deployment_name.clear();
  EXPECT_FALSE(matches(only(&state_match::deployments, {"*"}), facts));
  EXPECT_TRUE(matches(only(&state_match::deployments, {}), facts));
}

TEST(DecideNotification, TriggerWhenTheMatchHoldsResolveWhenTheStateIsNamedInResolveOn) {
  notification_policy p;
  p.match.state_types = {"FAILED"};
  p.resolve_on = {"Completed", "Failed"};
  auto facts = failed_prod_run();
  auto d = decide_notification(p, facts);
  EXPECT_TRUE(d.trigger);
  EXPECT_TRUE(d.resolve);
  facts.state.type = state_type::completed;
  facts.state.name = "Completed";
  d = decide_notification(p, facts);
  EXPECT_FALSE(d.trigger);
  EXPECT_TRUE(d.resolve);
  p.resolve_on.clear();  // never resolves
  d = decide_notification(p, facts);
  EXPECT_FALSE(d.trigger);
  EXPECT_FALSE(d.resolve);
}

TEST(SendsResolve, ToChannelsThatCloseAlertsAndToOthersOnlyWithSendResolved) {
  notification_policy p;
  EXPECT_TRUE(sends_resolve(p, /*channel_closes_alerts=*/true));
  EXPECT_FALSE(sends_resolve(p, false));
  p.send_resolved = true;
  EXPECT_TRUE(sends_resolve(p, false));
}

TEST(DedupKey, PerRunOrPerDeploymentWithTheRunAsFallback) {
  notification_policy p;
  p.name = "failures";
  auto facts = failed_prod_run();
  EXPECT_EQ(dedup_key_for(p, facts), "osprey/failures/6b1d6d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e");
  p.scope = dedup_scope::deployment;
  EXPECT_EQ(dedup_key_for(p, facts), "osprey/failures/deployment/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
  facts.deployment_id.reset();
  EXPECT_EQ(dedup_key_for(p, facts), "osprey/failures/6b1d6d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e");
}

TEST(RenderNotification, TheDefaultTitleAndThePolicysMessageTemplate) {
  notification_policy p;
  const auto values = template_values(failed_prod_run(), "p", "https://ui");
  auto text = render_notification(p, values);
  EXPECT_EQ(text.title, "Flow run etl-daily/clever-otter entered state Failed");
  EXPECT_EQ(text.message, render_template(default_message_template(), values));
  p.message_template = "{flow_name} is {flow_run_state_name}";
  text = render_notification(p, values);
  EXPECT_EQ(text.title, "Flow run etl-daily/clever-otter entered state Failed");
  EXPECT_EQ(text.message, "etl-daily is Failed");
}

TEST(ValidateTemplate, Table) {
  struct row {
    const char* tmpl;
    const char* error;  ///< part of the message; nullptr: valid
  };
  const row rows[] = {
      {"", nullptr},
      {"plain text", nullptr},
      {"{flow_name}/{flow_run_name} is {flow_run_state_name}", nullptr},
      {"{{literal}} and }} and {{", nullptr},
      {"{deployment_name} {deployment_id} {flow_run_tags} {policy_name}", nullptr},
      {"{flow}", "unknown placeholder '{flow}' (allowed: deployment_id, deployment_name, flow_id,"},
      {"{flow_name!r}", "unknown placeholder '{flow_name!r}'"},
      {"{}", "empty placeholder '{}'"},
      {"open { only", "unbalanced '{' at offset 5"},
      {"close } only", "unbalanced '}' at offset 6"},
      {"{flow_name", "unbalanced '{'"},
      {"{a{flow_name}", "unbalanced '{' at offset 0"},
  };
  for (const auto& r : rows) {
    const auto result = validate_template(r.tmpl);
    if (!r.error) {
      EXPECT_TRUE(result.is_ok()) << r.tmpl << ": " << result.message();
    } else {
      EXPECT_EQ(result.code(), errc::invalid_argument) << r.tmpl;
      EXPECT_NE(result.message().find(r.error), std::string::npos) << r.tmpl << ": " << result.message();
    }
  }
}

TEST(ValidateTemplate, DefaultsAreValid) {
  EXPECT_TRUE(validate_template(default_message_template()).is_ok());
  EXPECT_TRUE(validate_template(default_title_template()).is_ok());
}

TEST(TemplatePlaceholders, AreSortedAndComplete) {
  const auto& names = template_placeholders();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(names.size(), 15u);
  const auto values = template_values(failed_prod_run(), "p", "");
  for (const auto& name : names) EXPECT_TRUE(values.contains(name)) << name;
  EXPECT_EQ(values.size(), names.size());
}

TEST(TemplateValues, FollowPrefect2) {
  const auto values = template_values(failed_prod_run(), "prod-failures", "https://prefect.example.com/");
  EXPECT_EQ(values["flow_run_url"],
            "https://prefect.example.com/flow-runs/flow-run/6b1d6d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e");
  EXPECT_EQ(values["flow_run_state_timestamp"], "2024-12-11 18:59:17.212585+00:00");
  EXPECT_EQ(values["flow_run_state_type"], "FAILED");
  EXPECT_EQ(values["flow_run_state_name"], "Failed");
  EXPECT_EQ(values["flow_run_parameters"], R"({"day":"2024-12-11","limit":10})");
  EXPECT_EQ(values["flow_run_tags"], "prod, team-data");
  EXPECT_EQ(values["flow_run_notification_policy_id"], "prod-failures");
  EXPECT_EQ(values["deployment_id"], "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
}

TEST(TemplateValues, EmptyUiUrlUsesPrefectsEphemeralBase) {
  auto facts = failed_prod_run();
  facts.state.message.reset();
  facts.deployment_id.reset();
  facts.state.at = *parse_iso8601("2024-12-11T18:59:17Z");
  const auto values = template_values(facts, "p", "");
  EXPECT_EQ(values["flow_run_url"],
            "http://ephemeral-prefect/api/flow-runs/flow-run/6b1d6d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e");
  EXPECT_EQ(values["flow_run_state_message"], "");
  EXPECT_EQ(values["deployment_id"], "");
  EXPECT_EQ(values["flow_run_state_timestamp"], "2024-12-11 18:59:17+00:00");  // Python omits a zero fraction
}

TEST(RenderTemplate, DefaultMessageMatchesPrefect2) {
  const auto values = template_values(failed_prod_run(), "p", "https://ui");
  EXPECT_EQ(render_template(default_message_template(), values),
            "Flow run etl-daily/clever-otter entered state `Failed` at 2024-12-11 18:59:17.212585+00:00.\n"
            "\n"
            "Flow ID: 11111111-2222-4333-8444-555555555555\n"
            "Flow run ID: 6b1d6d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e\n"
            "Flow run URL: https://ui/flow-runs/flow-run/6b1d6d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e\n"
            "State message: Flow run encountered an exception: ValueError");
  EXPECT_EQ(render_template(default_title_template(), values), "Flow run etl-daily/clever-otter entered state Failed");
}

TEST(RenderTemplate, Table) {
  const nlohmann::json values = {{"flow_name", "etl"}, {"n", 3}};
  struct row {
    const char* tmpl;
    const char* expected;
  };
  const row rows[] = {
      {"", ""},
      {"{flow_name}", "etl"},
      {"{{flow_name}}", "{flow_name}"},
      {"{{{flow_name}}}", "{etl}"},
      {"n={n}", "n=3"},
      {"{unknown} stays", "{unknown} stays"},
      {"{flow_name} is {flow_name}", "etl is etl"},
  };
  for (const auto& r : rows) EXPECT_EQ(render_template(r.tmpl, values), r.expected) << r.tmpl;
}

}  // namespace

// Flow run inputs as Prefect 3.9.1 checks them: keys, the pause's keyset, hydration of UI placeholders and the
// resume's run-input check (domain/flow_run_input).
#include <gtest/gtest.h>

#include "domain/flow_run_input.hpp"

using namespace osprey;
using nlohmann::json;

namespace {

const variable_lookup no_variables = [](const std::string&) -> std::optional<json> { return std::nullopt; };

const std::string approval_schema = R"({"properties": {"approver": {"title": "Approver", "type": "string"},
  "amount": {"default": 1, "title": "Amount", "type": "integer"}}, "required": ["approver"], "title": "Approval",
  "type": "object"})";

TEST(FlowRunInputKey, LowercaseLettersDigitsAndDashesOnly) {
  for (const std::string ok : {"paused-1-schema", "numberdata-auto-0f3c", "", "x"})
    EXPECT_FALSE(check_flow_run_input_key(ok)) << ok;
  for (const std::string bad : {"A", "a_b", "a b", "a.b", "caf\xc3\xa9"}) {
    auto p = check_flow_run_input_key(bad);
    ASSERT_TRUE(p) << bad;
    EXPECT_EQ(p->field, "key");
    EXPECT_EQ(p->type, "value_error");
  }
}

TEST(RunInputKeyset, OnlyAnObjectCounts) {
  run_state paused;
  paused.type = state_type::paused;
  EXPECT_FALSE(run_input_keyset(paused));
  paused.details["run_input_keyset"] = nullptr;
  EXPECT_FALSE(run_input_keyset(paused));
  paused.details["run_input_keyset"] = {{"schema", "paused-1-schema"}, {"response", "paused-1-response"}};
  EXPECT_EQ((*run_input_keyset(paused))["response"], "paused-1-response");
}

TEST(Hydration, JsonPlaceholdersAreParsedAndEmptyOnesDropped) {
  auto h = hydrate_run_input({{"a", {{"__prefect_kind", "json"}, {"value", "[1, 2]"}}},
                              {"b", {{"__prefect_kind", "json"}}},
                              {"c", json::array({{{"__prefect_kind", "json"}}, 3})}},
                             no_variables);
  ASSERT_TRUE(h);
  EXPECT_EQ(*h, json({{"a", {1, 2}}, {"c", {3}}}));
  EXPECT_EQ(*hydrate_run_input({{"__prefect_kind", "json"}}, no_variables), json::object());
}

TEST(Hydration, NoneIsAPassThroughAndUnknownKindsGiveTheirValue) {
  EXPECT_EQ(
      *hydrate_run_input({{"x", {{"__prefect_kind", "none"}, {"value", {{"__prefect_kind", "json"}, {"value", "5"}}}}}},
                         no_variables),
      json({{"x", 5}}));
  EXPECT_EQ(*hydrate_run_input({{"x", {{"__prefect_kind", "other"}, {"value", "raw"}}}}, no_variables),
            json({{"x", "raw"}}));
  EXPECT_EQ(hydrate_run_input({{"x", {{"__prefect_kind", "none"}}}}, no_variables).error().message(),
            "Missing 'value' key in __prefect object");
}

TEST(Hydration, WorkspaceVariablesAreLookedUp) {
  const json input = {{"who", {{"__prefect_kind", "workspace_variable"}, {"variable_name", "approver"}}}};
  EXPECT_TRUE(mentions_workspace_variables(input));
  EXPECT_FALSE(mentions_workspace_variables(json({{"who", "ada"}})));
  variable_lookup vars = [](const std::string& name) -> std::optional<json> {
    if (name == "approver") return json("ada");
    return std::nullopt;
  };
  EXPECT_EQ(*hydrate_run_input(input, vars), json({{"who", "ada"}}));
  EXPECT_EQ(hydrate_run_input(input, no_variables).error().message(), "Variable 'approver' not found in workspace.");
}

TEST(Hydration, BadJsonAndRenderedJinjaAreErrors) {
  auto bad = hydrate_run_input({{"a", {{"__prefect_kind", "json"}, {"value", "{nope"}}}}, no_variables);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message().rfind("Invalid JSON: ", 0), 0u) << bad.error().message();
  EXPECT_EQ(*hydrate_run_input({{"t", {{"__prefect_kind", "jinja"}, {"template", "plain"}}}}, no_variables),
            json({{"t", "plain"}}));
  EXPECT_FALSE(hydrate_run_input({{"t", {{"__prefect_kind", "jinja"}, {"template", "{{ 1 }}"}}}}, no_variables));
}

TEST(ResumeInput, ValidInputIsKeptHydrated) {
  auto v = check_run_input({{"approver", {{"__prefect_kind", "json"}, {"value", "\"ada\""}}}, {"amount", 3}},
                           approval_schema, no_variables);
  EXPECT_FALSE(v.refusal);
  EXPECT_EQ(v.value, json({{"amount", 3}, {"approver", "ada"}}));
}

TEST(ResumeInput, RefusalsInPrefectsOrderAndWords) {
  EXPECT_EQ(*check_run_input({{"amount", 3}}, approval_schema, no_variables).refusal,
            "Reason: Validation failed. Failure reason: 'approver' is a required property");
  EXPECT_EQ(*check_run_input({{"approver", 5}}, approval_schema, no_variables).refusal,
            "Reason: Validation failed for field 'approver'. Failure reason: 5 is not of type 'string'");
  EXPECT_EQ(*check_run_input(json(), approval_schema, no_variables).refusal,
            "Reason: Validation failed. Failure reason: 'approver' is a required property");
  EXPECT_EQ(*check_run_input({{"approver", "ada"}}, std::nullopt, no_variables).refusal, "Run input schema not found.");
  EXPECT_EQ(*check_run_input({{"approver", "ada"}}, std::string("{not json"), no_variables).refusal,
            "Run input schema is not valid JSON.");
  // Hydration comes first: a bad placeholder is reported even without a schema.
  EXPECT_EQ(check_run_input({{"a", {{"__prefect_kind", "none"}}}}, std::nullopt, no_variables)
                .refusal->rfind("Error hydrating run input: Missing 'value' key", 0),
            0u);
}

}  // namespace

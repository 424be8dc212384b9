// Deployment rules: schedule replacement on update, scheduled runs and their keys, parameter schema checks.
#include <gtest/gtest.h>

#include "domain/deployment.hpp"
#include "domain/parameter_schema.hpp"

using namespace osprey;
using nlohmann::json;

namespace {

const timestamp t0 = *parse_iso8601("2026-01-01T00:00:00Z");

deployment_schedule existing(std::optional<std::string> slug) {
  deployment_schedule s;
  s.id = deployment_schedule_id{new_uuid4()};
  s.when = interval_schedule{std::chrono::seconds(60), t0, "UTC"};
  s.slug = std::move(slug);
  return s;
}

schedule_change given(std::optional<std::string> slug, bool with_schedule = true) {
  schedule_change c;
  if (with_schedule) c.when = interval_schedule{std::chrono::seconds(5), t0, "UTC"};
  c.slug = std::move(slug);
  return c;
}

TEST(ScheduleUpdate, ReServingWithoutSlugsReplacesEverySchedule) {
  auto plan = plan_schedule_update({existing(std::nullopt)}, {given(std::nullopt)});
  EXPECT_TRUE(plan.replace_all);
  EXPECT_EQ(plan.create.size(), 1u);
  EXPECT_FALSE(plan.refusal);
}

TEST(ScheduleUpdate, SluggedSchedulesArePatchedByTheirSlugAndNewOnesCreated) {
  auto kept = existing("daily");
  auto plan = plan_schedule_update({kept, existing("hourly")}, {given("daily"), given("weekly")});
  EXPECT_FALSE(plan.replace_all);
  ASSERT_EQ(plan.patch.size(), 1u);
  EXPECT_EQ(plan.patch[0].first, kept.id);
  ASSERT_EQ(plan.create.size(), 1u);
  EXPECT_EQ(*plan.create[0].slug, "weekly");
}

TEST(ScheduleUpdate, AnUnsluggedScheduleAgainstSluggedOnesIsRefused) {
  auto plan = plan_schedule_update({existing("daily")}, {given(std::nullopt)});
  ASSERT_TRUE(plan.refusal);
  EXPECT_NE(plan.refusal->find("provide a slug"), std::string::npos);
}

TEST(ScheduleUpdate, RenamingOntoATakenSlugIsRefused) {
  auto rename = given("hourly");
  rename.replaces = "daily";
  EXPECT_TRUE(plan_schedule_update({existing("daily"), existing("hourly")}, {rename}).refusal);
}

TEST(ScheduledRun, CarriesTheKeyTagsParametersAndCreator) {
  deployment d;
  d.id = deployment_id{new_uuid4()};
  d.flow = flow_id{new_uuid4()};
  d.tags = {"etl"};
  d.parameters = {{"x", 1}, {"y", 2}};
  auto s = existing("nightly");
  s.parameters = {{"y", 3}};
  const auto when = t0 + std::chrono::hours(1);
  auto r = scheduled_run(d, s, when, t0);
  EXPECT_EQ(*r.idempotency_key, scheduled_run_key(d.id, s.id, when));
  EXPECT_EQ(r.tags, (std::vector<std::string>{"auto-scheduled", "etl"}));
  EXPECT_EQ(r.parameters, (json{{"x", 1}, {"y", 3}}));
  EXPECT_TRUE(r.auto_scheduled);
  EXPECT_EQ(r.created_by["display_value"], "nightly");
  EXPECT_EQ(r.created_by["type"], "SCHEDULE");
}

const json schema = json::parse(R"({
  "type": "object",
  "properties": {
    "name": {"type": "string"},
    "count": {"type": "integer"},
    "ratio": {"anyOf": [{"type": "number"}, {"type": "null"}]},
    "mode": {"enum": ["fast", "slow"]},
    "point": {"$ref": "#/definitions/Point"}
  },
  "required": ["name"],
  "definitions": {"Point": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}}
})");

TEST(ParameterSchema, AcceptsMatchingParameters) {
  EXPECT_FALSE(check_parameters({{"name", "a"}, {"count", 2}, {"ratio", nullptr}, {"mode", "fast"}}, schema));
  EXPECT_FALSE(check_parameters({{"name", "a"}, {"count", 2.0}, {"point", {{"x", 1}}}}, schema));
  EXPECT_FALSE(check_parameters(json::object(), json{{"type", "object"}, {"properties", json::object()}}));
}

TEST(ParameterSchema, RefusesWithPrefectsMessages) {
  EXPECT_EQ(*check_parameters(json::object(), schema),
            "Validation failed. Failure reason: 'name' is a required property");
  EXPECT_EQ(*check_parameters({{"name", "a"}, {"count", "two"}}, schema),
            "Validation failed for field 'count'. Failure reason: 'two' is not of type 'integer'");
  EXPECT_TRUE(check_parameters({{"name", "a"}, {"count", true}}, schema));
  EXPECT_TRUE(check_parameters({{"name", "a"}, {"ratio", "x"}}, schema));
  EXPECT_TRUE(check_parameters({{"name", "a"}, {"mode", "medium"}}, schema));
  EXPECT_EQ(*check_parameters({{"name", "a"}, {"point", json::object()}}, schema),
            "Validation failed for field 'point'. Failure reason: 'x' is a required property");
  EXPECT_FALSE(check_parameters(json::object(), schema, /*ignore_required=*/true));
}

TEST(ParameterSchema, ASelfReferringSchemaDoesNotLoop) {
  auto loop = json::parse(R"({"$ref": "#/definitions/A", "definitions": {"A": {"$ref": "#/definitions/A"}}})");
  EXPECT_FALSE(check_parameters(json::object(), loop));
}

// Found with fuzz/json_body: anyOf alternatives referring back to their own schema took 3^16 visits, on the HTTP
// thread (one POST /api/deployments/ stopped the server), and each failed alternative quoted the whole value.
// Now the check stops after its step budget, accepting what is left (as it does past the depth limit).
TEST(ParameterSchema, ASelfReferringAnyOfIsCheckedInBoundedTime) {
  auto bomb = json::parse(R"({"$ref": "#/definitions/A", "definitions": {"A": {"anyOf": [
      {"$ref": "#/definitions/A", "type": "string"}, {"$ref": "#/definitions/A", "type": "string"},
      {"$ref": "#/definitions/A", "type": "string"}]}}})");
  EXPECT_FALSE(check_parameters({{"x", std::string(100'000, 'x')}}, bomb));
}

TEST(ParameterSchema, QuotesLongValuesInPart) {
  const json integer_name = {{"properties", {{"name", {{"type", "integer"}}}}}};
  EXPECT_EQ(
      *check_parameters({{"name", std::string(2000, 'n')}}, integer_name),
      "Validation failed for field 'name'. Failure reason: '" + std::string(999, 'n') + "... is not of type 'integer'");
}

}  // namespace

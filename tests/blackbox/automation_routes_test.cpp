// /api/automations of the built daemon over real HTTP, on SQLite and PostgreSQL: create with Prefect's defaults,
// read, replace, enable/disable, delete, filter and count, the related-to and owned-by lookups, Prefect's
// refusals (422 before 404, unknown ids 404 "Automation not found") and the prefect.automation.* events.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "tests/support/daemon_test.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;

const std::string deployment = "11111111-1111-1111-1111-111111111111";
const std::string unknown = "22222222-2222-2222-2222-222222222222";

class AutomationRoutes : public daemon_test {
 protected:
  http_reply call(const std::string& method, const std::string& path, const json& body = nullptr) {
    return api(method, "/automations" + path, body);
  }
  static json body(const std::string& name, json actions = json::array({{{"type", "do-nothing"}}})) {
    return {{"name", name},
            {"trigger", {{"posture", "Reactive"}, {"expect", {"prefect.flow-run.Failed"}}}},
            {"actions", std::move(actions)}};
  }
  json create(const json& b) {
    auto r = call("POST", "/", b);
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body);
  }
  json names(const std::string& path, const json& b = nullptr) {
    json out = json::array();
    auto r = b.is_null() ? call("GET", path) : call("POST", path, b);
    for (const auto& a : json::parse(r.body)) out.push_back(a["name"]);
    return out;
  }
  std::int64_t count(const json& b = json::object()) { return std::stoll(call("POST", "/count", b).body); }
};

TEST_P(AutomationRoutes, CreateAnswersPrefectsShapeAndReadsBack) {
  auto a = create(body("on-failure"));
  EXPECT_EQ(a["description"], "");
  EXPECT_EQ(a["enabled"], true);
  EXPECT_EQ(a["trigger"]["type"], "event");
  EXPECT_EQ(a["trigger"]["within"], 0.0);
  EXPECT_EQ(a["trigger"]["threshold"], 1);
  EXPECT_EQ(a["actions_on_trigger"], json::array());
  auto read = call("GET", "/" + a["id"].get<std::string>());
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(json::parse(read.body), a);
}

TEST_P(AutomationRoutes, ReplaceKeepsWhatTheBodyLeavesOutAndPatchTogglesEnabled) {
  auto b = body("nightly");
  b["description"] = "first";
  b["tags"] = {"ops"};
  const auto id = create(b)["id"].get<std::string>();
  auto replaced = body("nightly-2", {{{"type", "cancel-flow-run"}}});
  EXPECT_EQ(call("PUT", "/" + id, replaced).status, 204);
  auto a = json::parse(call("GET", "/" + id).body);
  EXPECT_EQ(a["name"], "nightly-2");
  EXPECT_EQ(a["description"], "first");
  EXPECT_EQ(a["tags"], json({"ops"}));
  EXPECT_EQ(a["actions"][0]["type"], "cancel-flow-run");
  EXPECT_EQ(call("PATCH", "/" + id, {{"enabled", false}}).status, 204);
  EXPECT_EQ(json::parse(call("GET", "/" + id).body)["enabled"], false);
  EXPECT_EQ(call("PATCH", "/" + id, {{"enabled", true}}).status, 204);
  EXPECT_EQ(json::parse(call("GET", "/" + id).body)["enabled"], true);
  EXPECT_EQ(call("DELETE", "/" + id).status, 204);
  EXPECT_EQ(call("DELETE", "/" + id).status, 404);
  EXPECT_EQ(count(), 0);
}

TEST_P(AutomationRoutes, UnknownIdsAre404AndBadBodies422First) {
  for (const auto& [method, b] : std::vector<std::pair<std::string, json>>{
           {"GET", nullptr}, {"PUT", body("x")}, {"PATCH", {{"enabled", false}}}, {"DELETE", nullptr}}) {
    auto r = call(method, "/" + unknown, b);
    EXPECT_EQ(r.status, 404) << method;
    EXPECT_EQ(json::parse(r.body)["detail"], "Automation not found") << method;
    EXPECT_EQ(json::parse(r.body)["exception_message"], "Automation not found") << method;  // Prefect's key
  }
  auto bad = body("x", {{{"type", "run-deployment"}}});
  auto r = call("PUT", "/" + unknown, bad);
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(json::parse(r.body)["exception_detail"][0]["loc"],
            json({"body", "actions", 0, "function-after[selected_deployment_requires_id(), RunDeployment]"}));
  EXPECT_EQ(call("POST", "/", bad).status, 422);
  EXPECT_EQ(call("PATCH", "/" + unknown, {{"name", "x"}}).status, 422);
  EXPECT_EQ(count(), 0);
}

TEST_P(AutomationRoutes, FilterByNameAndTagsSortsAndCounts) {
  for (const auto& [name, tags] : std::vector<std::pair<std::string, json>>{
           {"b", json::array({"x"})}, {"a", json::array({"y"})}, {"c", json::array()}}) {
    auto b = body(name);
    b["tags"] = tags;
    create(b);
  }
  EXPECT_EQ(names("/filter", json::object()), json({"a", "b", "c"}));
  EXPECT_EQ(names("/filter", {{"sort", "NAME_DESC"}, {"limit", 2}}), json({"c", "b"}));
  EXPECT_EQ(names("/filter", {{"automations", {{"name", {{"any_", {"c", "a"}}}}}}}), json({"a", "c"}));
  EXPECT_EQ(names("/filter", {{"automations", {{"tags", {{"any_", {"x", "y"}}}}}}}), json({"a", "b"}));
  EXPECT_EQ(names("/filter", {{"automations", {{"tags", {{"is_null_", true}}}}}}), json({"c"}));
  EXPECT_EQ(count({{"automations", {{"name", {{"any_", {"b"}}}}}}}), 1);
  EXPECT_EQ(count(), 3);
  EXPECT_EQ(call("POST", "/filter", {{"sort", "SIDEWAYS"}}).status, 422);
}

TEST_P(AutomationRoutes, RelatedAndOwnedResources) {
  const std::string dep = "prefect.deployment." + deployment;
  create(body("runs-it", {{{"type", "run-deployment"}, {"deployment_id", deployment}}}));
  auto owned = body("owned");
  owned["owner_resource"] = dep;
  create(owned);
  create(body("unrelated"));
  EXPECT_EQ(names("/related-to/" + dep), json({"owned", "runs-it"}));
  auto r = call("DELETE", "/owned-by/" + dep);
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(names("/related-to/" + dep), json({"runs-it"}));
  EXPECT_EQ(count(), 2);
}

TEST_P(AutomationRoutes, ChangesAreAnnouncedAsPrefectAutomationEvents) {
  const auto id = create(body("watched"))["id"].get<std::string>();
  EXPECT_EQ(call("PATCH", "/" + id, {{"enabled", false}}).status, 204);
  EXPECT_EQ(call("DELETE", "/" + id).status, 204);
  json events;
  const json filter = {{"filter", {{"event", {{"prefix", {"prefect.automation."}}}}}}};
  ASSERT_TRUE(wait_until(
      [&] {
        auto r = http_request("POST", daemon_->base_url() + "/api/events/filter", filter.dump());
        events = json::parse(r.body, nullptr, false);
        return events.is_object() && events.value("total", 0) == 3;
      },
      std::chrono::seconds(10)))
      << events.dump();
  for (const auto& e : events["events"]) {
    EXPECT_EQ(e["resource"]["prefect.resource.id"], "prefect.automation." + id);
    EXPECT_EQ(e["payload"]["name"], "watched");
  }
}

INSTANTIATE_TEST_SUITE_P(D, AutomationRoutes, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

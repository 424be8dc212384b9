// PATCH /api/flows/{id} and the flow lifecycle events of the built daemon, on SQLite and PostgreSQL: tags
// replaced, Prefect's refusals (unknown flow, extra keys, null tags) change nothing, and only a new flow is
// announced as created (an existing name returned by POST is not).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>

#include "tests/support/daemon_test.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;

class FlowRoutes : public daemon_test {
 protected:
  http_reply call(const std::string& method, const std::string& path, const json& body = nullptr) {
    return api(method, path, body);
  }
  json flow(const std::string& id) { return json::parse(call("GET", "/flows/" + id).body); }

  /// The flow's lifecycle events by name, once `n` of them are stored (or what there is at the deadline).
  std::map<std::string, std::vector<json>> events_of(const std::string& id, int n) {
    const json query = {
        {"filter", {{"event", {{"prefix", {"prefect.flow."}}}}, {"resource", {{"id", {"prefect.flow." + id}}}}}},
        {"limit", 50}};
    json page;
    wait_until(
        [&] {
          page = json::parse(call("POST", "/events/filter", query).body, nullptr, false);
          return page.is_object() && page.value("total", 0) >= n;
        },
        std::chrono::seconds(10));
    std::map<std::string, std::vector<json>> out;
    if (page.is_object())
      for (const auto& e : page["events"]) out[e["event"].get<std::string>()].push_back(e);
    return out;
  }
};

TEST_P(FlowRoutes, PatchReplacesTagsAndRefusalsChangeNothing) {
  auto created = call("POST", "/flows/", {{"name", "etl"}, {"tags", {"a"}}});
  ASSERT_EQ(created.status, 201) << created.body;
  const auto id = json::parse(created.body)["id"].get<std::string>();
  EXPECT_EQ(call("PATCH", "/flows/" + id, {{"tags", {"b", "c"}}}).status, 204);
  EXPECT_EQ(flow(id)["tags"], json::array({"b", "c"}));
  EXPECT_EQ(call("PATCH", "/flows/" + id, json::object()).status, 204);  // no tags given: unchanged
  EXPECT_EQ(flow(id)["tags"], json::array({"b", "c"}));
  for (const auto& bad :
       {json{{"name", "renamed"}}, json{{"tags", nullptr}}, json{{"tags", {1}}}, json{{"tags", "x"}}}) {
    EXPECT_EQ(call("PATCH", "/flows/" + id, bad).status, 422) << bad.dump();
  }
  EXPECT_EQ(flow(id)["tags"], json::array({"b", "c"}));
  EXPECT_EQ(flow(id)["name"], "etl");
  auto missing = call("PATCH", "/flows/00000000-0000-4000-8000-000000000000", {{"tags", {"x"}}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body)["detail"], "Flow not found");
  EXPECT_EQ(call("PATCH", "/flows/not-a-uuid", {{"tags", {"x"}}}).status, 422);
}

TEST_P(FlowRoutes, ANewFlowIsAnnouncedOnceAndEachUpdateAfterIt) {
  const auto id =
      json::parse(call("POST", "/flows/", {{"name", "announced"}, {"labels", {{"team", "data"}}}}).body)["id"]
          .get<std::string>();
  EXPECT_EQ(call("POST", "/flows/", {{"name", "announced"}}).status, 200);  // existing: not created again
  EXPECT_EQ(call("PATCH", "/flows/" + id, {{"tags", {"nightly"}}}).status, 204);
  auto events = events_of(id, 2);
  ASSERT_EQ(events["prefect.flow.created"].size(), 1u);
  ASSERT_EQ(events["prefect.flow.updated"].size(), 1u);
  EXPECT_EQ(events.size(), 2u);
  const auto& made = events["prefect.flow.created"][0];
  EXPECT_EQ(made["resource"]["prefect.resource.name"], "announced");
  EXPECT_EQ(made["payload"], (json{{"name", "announced"}, {"tags", json::array()}, {"labels", {{"team", "data"}}}}));
  EXPECT_EQ(events["prefect.flow.updated"][0]["payload"]["tags"], json::array({"nightly"}));
}

INSTANTIATE_TEST_SUITE_P(D, FlowRoutes, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

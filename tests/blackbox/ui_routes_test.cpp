// The smaller routes the Prefect UI calls, on the built daemon over real HTTP: saved searches (SQLite and
// PostgreSQL), GET /api/admin/settings (Prefect's shape, no secret), collection views and template validation.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "tests/support/daemon_test.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;

class UiRoutes : public daemon_test {
 protected:
  http_reply call(const std::string& method, const std::string& path, const std::string& body = "") {
    return http_request(method, daemon_->base_url() + "/api" + path, body);
  }
  http_reply put(const json& body) { return call("PUT", "/saved_searches/", body.dump()); }
  static json filter(const std::string& value) {
    return {
        {"object", "flow_run"}, {"property", "state"}, {"type", "string"}, {"operation", "equals"}, {"value", value}};
  }
};

TEST_P(UiRoutes, SavedSearchesUpsertByNameReadListAndDelete) {
  auto created = put({{"name", "failed runs"}, {"filters", {filter("FAILED")}}});
  ASSERT_EQ(created.status, 201) << created.body;
  const auto first = json::parse(created.body);
  auto replaced = put({{"name", "failed runs"}, {"filters", {filter("CRASHED")}}});
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  const auto second = json::parse(replaced.body);
  EXPECT_EQ(second["id"], first["id"]);
  EXPECT_EQ(second["filters"][0]["value"], "CRASHED");
  ASSERT_EQ(put({{"name", "all"}}).status, 201);

  const auto id = first["id"].get<std::string>();
  EXPECT_EQ(json::parse(call("GET", "/saved_searches/" + id).body)["filters"][0]["value"], "CRASHED");
  auto listed = json::parse(call("POST", "/saved_searches/filter", "{}").body);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0]["name"], "all");  // by name
  EXPECT_EQ(json::parse(call("POST", "/saved_searches/filter", R"({"limit": 1, "offset": 1})").body)[0]["name"],
            "failed runs");
  EXPECT_EQ(call("DELETE", "/saved_searches/" + id).status, 204);
  auto gone = call("GET", "/saved_searches/" + id);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(json::parse(gone.body)["detail"], "Saved search not found");
  EXPECT_EQ(call("DELETE", "/saved_searches/" + id).status, 404);
}

TEST_P(UiRoutes, BadSavedSearchesAre422AndStoreNothing) {
  auto missing = put({{"name", "x"}, {"filters", {{{"object", "flow"}}}}});
  EXPECT_EQ(missing.status, 422);
  EXPECT_EQ(json::parse(missing.body)["exception_detail"][0]["loc"], json::array({"body", "filters", 0, "property"}));
  for (const json& body : {json{{"filters", json::array()}}, json{{"name", 5}}, json{{"name", "x"}, {"extra", 1}},
                           json{{"name", "x"}, {"filters", "all"}}})
    EXPECT_EQ(put(body).status, 422) << body.dump();
  EXPECT_EQ(call("POST", "/saved_searches/filter", R"({"limit": 500})").status, 422);
  EXPECT_EQ(call("GET", "/saved_searches/not-a-uuid").status, 404);
  EXPECT_EQ(json::parse(call("POST", "/saved_searches/filter", "").body), json::array());
}

TEST_P(UiRoutes, SettingsHavePrefectsShapeAndNoSecret) {
  auto r = call("GET", "/admin/settings");
  ASSERT_EQ(r.status, 200);
  auto settings = json::parse(r.body);
  EXPECT_EQ(settings["api"]["url"], daemon_->base_url() + "/api");
  EXPECT_TRUE(settings["api"]["key"].is_null());
  EXPECT_TRUE(settings["server"]["database"]["connection_url"].is_null());
  EXPECT_EQ(r.body.find(db_.url()), std::string::npos);
}

TEST_P(UiRoutes, CollectionViewsAndTemplateValidation) {
  EXPECT_EQ(call("GET", "/collections/views/aggregate-worker-metadata").body, "{}");
  auto unknown = call("GET", "/collections/views/nope");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(json::parse(unknown.body)["detail"], "View nope not found in registry");

  EXPECT_EQ(call("POST", "/templates/validate", R"("Run {{ flow_run.name }} is {{ flow_run.state.name }}")").status,
            204);
  EXPECT_EQ(call("POST", "/templates/validate").status, 204);  // Prefect's default: ""
  auto bad = call("POST", "/templates/validate", R"("line one\n{% if x %}")");
  ASSERT_EQ(bad.status, 422);
  auto error = json::parse(bad.body)["error"];
  EXPECT_EQ(error["line"], 2);
  EXPECT_EQ(error["source"], "line one\n{% if x %}");
  EXPECT_TRUE(error["message"].get<std::string>().starts_with("Unexpected end of template."));
  EXPECT_EQ(call("POST", "/templates/validate", "[1]").status, 422);
}

TEST_P(UiRoutes, SchemaValidationReportsEveryFailureAndHydratesWorkspaceVariables) {
  const json schema = {
      {"type", "object"},
      {"properties",
       {{"count", {{"type", "integer"}}}, {"name", {{"type", "string"}}}, {"data", {{"type", "object"}}}}},
      {"required", {"count", "name"}}};
  const auto validate = [&](const json& values) {
    const auto r = call("POST", "/ui/schemas/validate", json{{"schema", schema}, {"values", values}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  };
  EXPECT_EQ(validate({{"count", 1}, {"name", "a"}}), (json{{"errors", json::array()}, {"valid", true}}));
  EXPECT_EQ(validate({{"count", "x"}}),
            json::parse(R"({"errors": [{"property": "name", "errors": ["'name' is a required property"]},
                                       {"property": "count", "errors": ["'x' is not of type 'integer'"]}],
                            "valid": false})"));
  // Placeholders: JSON text is parsed, a workspace variable is read, bad JSON is reported where it is.
  ASSERT_EQ(call("POST", "/variables/", R"({"name": "form_count", "value": 7})").status, 201);
  EXPECT_EQ(validate({{"count", {{"__prefect_kind", "workspace_variable"}, {"variable_name", "form_count"}}},
                      {"name", "a"},
                      {"data", {{"__prefect_kind", "json"}, {"value", R"({"k": 1})"}}}})["valid"],
            true);
  const auto bad_json = validate({{"count", 1}, {"name", "a"}, {"data", {{"__prefect_kind", "json"}, {"value", "{"}}}});
  ASSERT_EQ(bad_json["errors"].size(), 1u) << bad_json;
  EXPECT_EQ(bad_json["errors"][0]["property"], "data");
  EXPECT_TRUE(bad_json["errors"][0]["errors"][0].get<std::string>().starts_with("Invalid JSON")) << bad_json;
  // Bad requests.
  EXPECT_EQ(call("POST", "/ui/schemas/validate", R"({"values": {}})").status, 422);
  EXPECT_EQ(call("POST", "/ui/schemas/validate", R"({"schema": {}, "values": [1]})").status, 422);
}

INSTANTIATE_TEST_SUITE_P(D, UiRoutes, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

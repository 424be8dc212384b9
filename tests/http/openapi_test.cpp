// GET /api/openapi.json is generated from the routes and the table in http/openapi/operations.cpp: every
// registered route must have its entry (so none is added undocumented), every entry must name a route, and
// every schema it names must exist.

#include "http/openapi/document.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "http/api.hpp"
#include "http/openapi/operations.hpp"
#include "http/openapi/schema.hpp"

namespace osprey::http::openapi {
namespace {

/// The whole API as the daemon registers it (handlers are never called, so no database or actor is needed;
/// the notification routes exist only with a policy book).
class OpenApiTest : public ::testing::Test {
 protected:
  OpenApiTest() {
    api_context ctx;
    ctx.notifications =
        std::make_shared<notifications::policy_book>(std::make_shared<const notifications::notification_rules>());
    register_api(routes_, ctx);
  }

  router routes_;
};

/// Every "$ref" under `node`.
void collect_refs(const json& node, std::set<std::string>& out) {
  if (node.is_object()) {
    if (const auto it = node.find("$ref"); it != node.end() && it->is_string()) out.insert(it->get<std::string>());
    for (const auto& [key, value] : node.items()) collect_refs(value, out);
  } else if (node.is_array()) {
    for (const auto& value : node) collect_refs(value, out);
  }
}

TEST_F(OpenApiTest, EveryRegisteredRouteIsDescribed) {
  ASSERT_GT(routes_.routes().size(), 150u);
  for (const auto& r : routes_.routes())
    EXPECT_NE(find_operation(r.method, r.path_template), nullptr)
        << r.method << " " << r.path_template << " has no entry in http/openapi/operations.cpp";
}

TEST_F(OpenApiTest, EveryEntryNamesARegisteredRouteOnce) {
  std::set<std::string> registered;
  for (const auto& r : routes_.routes()) registered.insert(r.method + " " + r.path_template);
  registered.insert("GET /ui-settings");  // http/ui_site.cpp, registered beside the API when the UI is served
  std::set<std::string> seen;
  for (const auto& op : all_operations()) {
    const std::string key = std::string(op.method) + " " + std::string(op.path);
    EXPECT_TRUE(registered.contains(key)) << key << " describes no route";
    EXPECT_TRUE(seen.insert(key).second) << key << " is described twice";
  }
}

TEST_F(OpenApiTest, EverySchemaAnEntryNamesExists) {
  const json components = component_schemas();
  std::set<std::string> refs;
  for (const auto& op : all_operations()) {
    const std::string key = std::string(op.method) + " " + std::string(op.path);
    EXPECT_FALSE(op.success.empty()) << key;
    EXPECT_NO_THROW(collect_refs(schema_of(op.response), refs)) << key;
    EXPECT_NO_THROW(collect_refs(schema_of(op.body), refs)) << key;
  }
  collect_refs(components, refs);
  for (const auto& ref : refs) {
    const std::string prefix = "#/components/schemas/";
    ASSERT_TRUE(ref.starts_with(prefix)) << ref;
    EXPECT_TRUE(components.contains(ref.substr(prefix.size()))) << ref << " is not a component";
  }
}

TEST_F(OpenApiTest, AnOperationDeclaresItsParametersBodyAndAnswers) {
  const json doc = describe(routes_);
  EXPECT_EQ(doc["openapi"], "3.1.0");
  const json& create = doc["paths"]["/api/flows/"]["post"];
  EXPECT_EQ(create["requestBody"]["content"]["application/json"]["schema"],
            json({{"$ref", "#/components/schemas/NamedCreate"}}));
  EXPECT_EQ(create["responses"]["201"]["content"]["application/json"]["schema"],
            json({{"$ref", "#/components/schemas/Flow"}}));
  EXPECT_TRUE(create["responses"].contains("200"));
  EXPECT_EQ(create["responses"]["4XX"]["content"]["application/json"]["schema"],
            json({{"$ref", "#/components/schemas/Error"}}));

  const json& states = doc["paths"]["/api/flow_run_states/"]["get"];
  EXPECT_EQ(states["parameters"][0], json({{"name", "flow_run_id"},
                                           {"in", "query"},
                                           {"required", true},
                                           {"schema", {{"type", "string"}, {"format", "uuid"}}}}));
  EXPECT_EQ(states["responses"]["200"]["content"]["application/json"]["schema"],
            json({{"type", "array"}, {"items", {{"$ref", "#/components/schemas/State"}}}}));

  const json& remove = doc["paths"]["/api/flows/{id}"]["delete"];
  EXPECT_FALSE(remove["responses"]["204"].contains("content"));
  EXPECT_FALSE(remove.contains("requestBody"));
  EXPECT_EQ(doc["paths"]["/api/flow_runs/{id}/logs/download"]["get"]["responses"]["200"]["content"].begin().key(),
            "text/csv");
}

TEST(OpenApiSpecTest, SpecsReadAsSchemas) {
  EXPECT_TRUE(schema_of("").is_null());
  EXPECT_EQ(schema_of("integer"), json({{"type", "integer"}}));
  EXPECT_EQ(schema_of("number?"), json({{"anyOf", {{{"type", "number"}}, {{"type", "null"}}}}}));
  EXPECT_EQ(schema_of("Flow[]"), json({{"type", "array"}, {"items", {{"$ref", "#/components/schemas/Flow"}}}}));
  EXPECT_THROW((void)schema_of("flow"), std::invalid_argument);
}

}  // namespace
}  // namespace osprey::http::openapi

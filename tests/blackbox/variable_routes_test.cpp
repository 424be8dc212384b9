// /api/variables of the built daemon over real HTTP, on SQLite and PostgreSQL: values of every JSON kind by id and
// by name, Prefect's refusals (bad names, values past 5000 bytes, taken names, unknown ids) as 4xx with a
// {"detail"} and nothing stored or changed, and the filter and count bodies.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "tests/support/daemon_test.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;

class VariableRoutes : public daemon_test {
 protected:
  http_reply call(const std::string& method, const std::string& path, const json& body = nullptr) {
    return api(method, "/variables" + path, body);
  }
  json create(const std::string& name, const json& value, const json& tags = json::array()) {
    auto r = call("POST", "/", {{"name", name}, {"value", value}, {"tags", tags}});
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body);
  }
  json by_name(const std::string& name) { return json::parse(call("GET", "/name/" + name).body); }
  json names(const json& body) {
    json out = json::array();
    for (const auto& v : json::parse(call("POST", "/filter", body).body)) out.push_back(v["name"]);
    return out;
  }
  std::int64_t count(const json& body = json::object()) { return std::stoll(call("POST", "/count", body).body); }
  static std::string detail(const http_reply& r) { return json::parse(r.body)["detail"].get<std::string>(); }
};

TEST_P(VariableRoutes, ValuesOfEveryJsonKindRoundTripByIdAndByName) {
  const json values = json::array({"text", 42, 2.5, true, nullptr, json::array({1, "two", nullptr}),
                                   json{{"nested", {{"deep", json::array({1, 2})}}}}});
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto name = "kind_" + std::to_string(i);
    auto created = create(name, values[i], {"t"});
    EXPECT_EQ(created["value"], values[i]);
    auto read = json::parse(call("GET", "/" + created["id"].get<std::string>()).body);
    EXPECT_EQ(read["value"], values[i]) << name;
    EXPECT_EQ(read["tags"], json::array({"t"}));
    EXPECT_EQ(by_name(name)["id"], created["id"]);
  }
}

TEST_P(VariableRoutes, UpdateAndDeleteByIdAndByName) {
  const auto id = create("retries", 3)["id"].get<std::string>();
  EXPECT_EQ(call("PATCH", "/" + id, {{"value", json{{"count", 5}}}}).status, 204);
  EXPECT_EQ(by_name("retries")["value"], json({{"count", 5}}));
  EXPECT_EQ(call("PATCH", "/name/retries", {{"tags", {"ops"}}}).status, 204);
  auto v = by_name("retries");
  EXPECT_EQ(v["tags"], json::array({"ops"}));
  EXPECT_EQ(v["value"], json({{"count", 5}}));  // untouched: only the named fields change
  EXPECT_NE(v["updated"], v["created"]);
  EXPECT_EQ(call("PATCH", "/name/retries", {{"name", "attempts"}}).status, 204);
  EXPECT_EQ(call("GET", "/name/retries").status, 404);
  EXPECT_EQ(by_name("attempts")["id"], id);
  EXPECT_EQ(call("DELETE", "/name/attempts").status, 204);
  EXPECT_EQ(call("DELETE", "/" + id).status, 404);
  create("other", "x");
  EXPECT_EQ(call("DELETE", "/" + by_name("other")["id"].get<std::string>()).status, 204);
  EXPECT_EQ(count(), 0);
}

TEST_P(VariableRoutes, ATakenNameIs409AndNothingChanges) {
  create("a", 1);
  create("b", 2);
  auto dup = call("POST", "/", {{"name", "a"}, {"value", 9}});
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(detail(dup), "A variable with the name 'a' already exists.");
  auto rename = call("PATCH", "/name/b", {{"name", "a"}, {"value", 7}});
  EXPECT_EQ(rename.status, 409);
  EXPECT_TRUE(detail(rename).starts_with("Data integrity conflict"));
  // Prefect writes an explicit null name or tags into NOT NULL columns: the same 409.
  EXPECT_EQ(call("PATCH", "/name/b", {{"name", nullptr}}).status, 409);
  EXPECT_EQ(call("PATCH", "/name/b", {{"tags", nullptr}}).status, 409);
  EXPECT_EQ(by_name("a")["value"], 1);
  EXPECT_EQ(by_name("b")["value"], 2);
  EXPECT_EQ(count(), 2);
}

TEST_P(VariableRoutes, BadNamesAndOversizedValuesAre422AndStoreNothing) {
  for (const std::string name : {"Upper", "with space", "slash/ed", "dot.ted", "caf\xc3\xa9"}) {
    auto r = call("POST", "/", {{"name", name}, {"value", 1}});
    EXPECT_EQ(r.status, 422) << name;
    EXPECT_EQ(detail(r),
              "Value error, Variable name must only contain lowercase letters, numbers, and dashes or underscores.");
  }
  auto too_long = call("POST", "/", {{"name", std::string(256, 'n')}, {"value", 1}});
  EXPECT_EQ(too_long.status, 422);
  EXPECT_EQ(detail(too_long), "Value should have at most 255 items after validation, not 256");
  // The value's compact JSON may be 5000 bytes: a 4998-character string is exactly that.
  create(std::string(255, 'n'), std::string(4998, 'x'));
  auto oversized = call("POST", "/", {{"name", "big"}, {"value", std::string(4999, 'x')}});
  EXPECT_EQ(oversized.status, 422);
  EXPECT_EQ(detail(oversized), "Value error, Variable value must be less than 5000 characters");
  EXPECT_EQ(call("POST", "/", {{"name", "big"}, {"value", json{{"k", std::string(5000, 'x')}}}}).status, 422);
  EXPECT_EQ(call("POST", "/", {{"name", "novalue"}}).status, 422);
  EXPECT_EQ(call("POST", "/", {{"value", 1}}).status, 422);
  EXPECT_EQ(call("POST", "/", {{"name", 5}, {"value", 1}}).status, 422);
  EXPECT_EQ(call("POST", "/", {{"name", "t"}, {"value", 1}, {"tags", "x"}}).status, 422);
  EXPECT_EQ(call("POST", "/", {{"name", "t"}, {"value", 1}, {"tags", {1}}}).status, 422);
  EXPECT_EQ(call("POST", "/", {{"name", "t"}, {"value", 1}, {"extra", 1}}).status, 422);
  EXPECT_EQ(http_request("POST", daemon_->base_url() + "/api/variables/", "{not json").status, 422);
  EXPECT_EQ(count(), 1);

  create("keep", "original");
  EXPECT_EQ(call("PATCH", "/name/keep", {{"value", std::string(6000, 'x')}}).status, 422);
  EXPECT_EQ(call("PATCH", "/name/keep", {{"name", "Bad Name"}}).status, 422);
  EXPECT_EQ(call("PATCH", "/name/keep", {{"id", "x"}}).status, 422);
  // The body is checked before the variable is looked up, as FastAPI does.
  EXPECT_EQ(call("PATCH", "/name/missing", {{"name", "Bad"}}).status, 422);
  EXPECT_EQ(by_name("keep")["value"], "original");
}

TEST_P(VariableRoutes, UnknownIdsAndNamesAre404) {
  const std::string unknown = "/5f6c2a4e-0000-4000-8000-000000000001";
  for (const auto& path : {unknown, std::string("/name/missing")}) {
    EXPECT_EQ(detail(call("GET", path)), "Variable not found.");
    EXPECT_EQ(call("GET", path).status, 404);
    EXPECT_EQ(call("PATCH", path, {{"value", 1}}).status, 404);
    EXPECT_EQ(call("DELETE", path).status, 404);
  }
  // Prefect's {id:uuid} routes do not match other text.
  auto not_uuid = call("GET", "/not-a-uuid");
  EXPECT_EQ(not_uuid.status, 404);
  EXPECT_EQ(detail(not_uuid), "Not Found");
}

TEST_P(VariableRoutes, FilterByIdNameAndTagsWithSortAndPaging) {
  const auto a = create("alpha_db", 1, {"db", "prod"})["id"];
  create("beta_db", 2, {"db"});
  create("gamma_api", 3);
  EXPECT_EQ(names(json::object()), json::array({"alpha_db", "beta_db", "gamma_api"}));
  EXPECT_EQ(names({{"sort", "NAME_DESC"}, {"limit", 2}}), json::array({"gamma_api", "beta_db"}));
  EXPECT_EQ(names({{"offset", 1}, {"limit", 1}}), json::array({"beta_db"}));
  EXPECT_EQ(names({{"variables", {{"name", {{"like_", "_DB"}}}}}}), json::array({"alpha_db", "beta_db"}));
  EXPECT_EQ(names({{"variables", {{"name", {{"any_", {"gamma_api", "nope"}}}}}}}), json::array({"gamma_api"}));
  EXPECT_EQ(names({{"variables", {{"tags", {{"all_", {"db", "prod"}}}}}}}), json::array({"alpha_db"}));
  EXPECT_EQ(names({{"variables", {{"tags", {{"is_null_", true}}}}}}), json::array({"gamma_api"}));
  EXPECT_EQ(names({{"variables", {{"id", {{"any_", {a}}}}}}}), json::array({"alpha_db"}));
  EXPECT_EQ(names({{"variables", {{"operator", "or_"}, {"id", {{"any_", {a}}}}, {"name", {{"like_", "gamma"}}}}}}),
            json::array({"alpha_db", "gamma_api"}));
  EXPECT_EQ(count({{"variables", {{"tags", {{"all_", {"db"}}}}}}}), 2);
  EXPECT_EQ(count({{"unknown_top_level_key", 1}}), 3);  // FastAPI ignores body keys it has no parameter for

  EXPECT_EQ(call("POST", "/filter", {{"variables", {{"bogus", 1}}}}).status, 422);
  EXPECT_EQ(call("POST", "/filter", {{"variables", {{"id", {{"any_", {"x"}}}}}}}).status, 422);
  EXPECT_EQ(call("POST", "/filter", {{"sort", "NOPE"}}).status, 422);
  EXPECT_EQ(call("POST", "/filter", {{"offset", -1}}).status, 422);
  auto limit = call("POST", "/filter", {{"limit", 201}});
  EXPECT_EQ(limit.status, 422);
  EXPECT_EQ(detail(limit), "Invalid limit: must be less than or equal to 200.");
  EXPECT_EQ(call("POST", "/count", {{"variables", {{"name", {{"like_", 5}}}}}}).status, 422);
}

TEST_P(VariableRoutes, CreateUpdateAndDeleteEmitPrefectsLifecycleEvents) {
  const auto id = create("region", "eu", {"geo"})["id"].get<std::string>();
  EXPECT_EQ(call("PATCH", "/name/region", {{"value", "us"}}).status, 204);
  EXPECT_EQ(call("DELETE", "/" + id).status, 204);
  EXPECT_EQ(call("DELETE", "/" + id).status, 404);  // nothing deleted, nothing announced
  const json query = {{"filter", {{"event", {{"prefix", {"prefect.variable."}}}}}}, {"limit", 50}};
  json events;
  EXPECT_TRUE(wait_until(
      [&] {
        auto r = http_request("POST", daemon_->base_url() + "/api/events/filter", query.dump());
        events = json::parse(r.body, nullptr, false);
        return events.is_object() && events.value("total", 0) >= 3;
      },
      std::chrono::seconds(10)))
      << events.dump();
  ASSERT_EQ(events["total"], 3) << events.dump();
  std::map<std::string, json> by_name;
  for (const auto& e : events["events"]) by_name[e["event"].get<std::string>()] = e;
  ASSERT_EQ(by_name.size(), 3u) << events.dump();
  for (const auto& [name, e] : by_name) {
    EXPECT_EQ(e["resource"]["prefect.resource.id"], "prefect.variable." + id) << name;
    EXPECT_EQ(e["resource"]["prefect.resource.name"], "region") << name;
  }
  EXPECT_EQ(by_name["prefect.variable.created"]["payload"],
            (json{{"name", "region"}, {"value", "eu"}, {"tags", {"geo"}}}));
  EXPECT_EQ(by_name["prefect.variable.updated"]["payload"]["value"], "us");
  EXPECT_EQ(by_name["prefect.variable.deleted"]["payload"]["value"], "us");
}

INSTANTIATE_TEST_SUITE_P(D, VariableRoutes, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

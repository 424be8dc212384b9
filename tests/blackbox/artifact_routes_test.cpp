// /api/artifacts of the built daemon over real HTTP, on SQLite and PostgreSQL: every kind the Prefect client
// creates, each key's latest kept in step through create, update and delete (as Prefect's artifact_collection),
// the filters (own fields and the runs an artifact belongs to), and bad input as 4xx with nothing stored.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "tests/support/daemon_test.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;

class ArtifactRoutes : public daemon_test {
 protected:
  json create(const json& body) {
    auto r = api("POST", "/artifacts/", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body);
  }
  json latest(const std::string& key) { return json::parse(api("GET", "/artifacts/" + key + "/latest").body); }
  json list(const std::string& path, const json& body) {
    return json::parse(api("POST", "/artifacts" + path, body).body);
  }
  std::int64_t count(const std::string& path, const json& body = json::object()) {
    return std::stoll(api("POST", "/artifacts" + path, body).body);
  }
  std::string flow_run() {
    auto flow = json::parse(api("POST", "/flows/", {{"name", "artifact-flow"}}).body);
    return json::parse(api("POST", "/flow_runs/", {{"flow_id", flow["id"]}, {"tags", {"nightly"}}}).body)["id"];
  }
};

TEST_P(ArtifactRoutes, EveryKindTheClientCreatesIsStoredAndReadBack) {
  const json kinds = json::array({
      {{"key", "report"}, {"type", "markdown"}, {"data", "# Title\nbody"}, {"description", "md"}},
      {{"key", "table"}, {"type", "table"}, {"data", R"([{"a": 1}, {"a": 2}])"}},
      {{"key", "link"}, {"type", "markdown"}, {"data", "[site](https://example.com)"}},
      {{"key", "progress"}, {"type", "progress"}, {"data", 12.5}},
      {{"key", "image"}, {"type", "image"}, {"data", "https://example.com/a.png"}},
      {{"type", "result"}, {"data", {{"storage_key", "x"}}}, {"metadata_", {{"source", "test"}}}},
  });
  for (const auto& body : kinds) {
    auto made = create(body);
    auto read = json::parse(api("GET", "/artifacts/" + made["id"].get<std::string>()).body);
    EXPECT_EQ(read, made);
    for (const auto& [field, value] : body.items()) EXPECT_EQ(read[field], value) << field;
  }
  EXPECT_EQ(count("/count"), 6);
  EXPECT_EQ(count("/latest/count"), 5);  // the unkeyed result artifact has no collection
  EXPECT_EQ(latest("progress")["data"], 12.5);
}

TEST_P(ArtifactRoutes, TheLatestOfAKeyFollowsCreateUpdateAndDelete) {
  const auto first = create({{"key", "k"}, {"type", "markdown"}, {"data", "v1"}})["id"].get<std::string>();
  const auto second =
      create({{"key", "k"}, {"type", "table"}, {"data", "v2"}, {"description", "d2"}})["id"].get<std::string>();
  auto now = latest("k");
  EXPECT_EQ((json{now["data"], now["type"], now["description"]}), (json{"v2", "table", "d2"}));
  EXPECT_FALSE(now.contains("latest_id"));  // read through Prefect's Artifact shape
  EXPECT_EQ(list("/latest/filter", json::object())[0]["latest_id"], second);

  // The client moves a progress artifact with PATCH: the collection row pointing at it follows.
  EXPECT_EQ(api("PATCH", "/artifacts/" + second, {{"data", 100.0}, {"description", "done"}}).status, 204);
  EXPECT_EQ(latest("k")["data"], 100.0);
  EXPECT_EQ(latest("k")["description"], "done");
  EXPECT_EQ(api("PATCH", "/artifacts/" + first, {{"data", "v1 edited"}}).status, 204);
  EXPECT_EQ(latest("k")["data"], 100.0);  // not the latest: its collection is untouched

  EXPECT_EQ(api("DELETE", "/artifacts/" + second).status, 204);
  EXPECT_EQ(latest("k")["data"], "v1 edited");
  EXPECT_EQ(list("/latest/filter", json::object())[0]["latest_id"], first);
  EXPECT_EQ(api("DELETE", "/artifacts/" + first).status, 204);
  EXPECT_EQ(api("GET", "/artifacts/k/latest").status, 404);
  EXPECT_EQ(count("/latest/count"), 0);
  EXPECT_EQ(api("DELETE", "/artifacts/" + first).status, 404);
}

TEST_P(ArtifactRoutes, FiltersOnOwnFieldsAndOnTheirRuns) {
  const auto run = flow_run();
  const auto in_run = create({{"key", "nightly-report"}, {"type", "markdown"}, {"flow_run_id", run}})["id"];
  create({{"key", "adhoc-table"}, {"type", "table"}});
  create({{"type", "result"}});
  auto keys = [this](const std::string& path, const json& body) {
    json out = json::array();
    for (const auto& a : list(path, body)) out.push_back(a["key"]);
    return out;
  };
  EXPECT_EQ(keys("/filter", {{"sort", "KEY_ASC"}, {"artifacts", {{"key", {{"exists_", true}}}}}}),
            json::array({"adhoc-table", "nightly-report"}));
  EXPECT_EQ(count("/count", {{"artifacts", {{"key", {{"exists_", false}}}}}}), 1);
  EXPECT_EQ(keys("/filter", {{"artifacts", {{"key", {{"like_", "NIGHTLY"}}}}}}), json::array({"nightly-report"}));
  EXPECT_EQ(keys("/filter", {{"artifacts", {{"type", {{"not_any_", {"markdown", "result"}}}}}}}),
            json::array({"adhoc-table"}));
  EXPECT_EQ(keys("/filter", {{"artifacts", {{"flow_run_id", {{"any_", {run}}}}}}}), json::array({"nightly-report"}));
  EXPECT_EQ(keys("/filter", {{"flow_runs", {{"tags", {{"all_", {"nightly"}}}}}}}), json::array({"nightly-report"}));
  EXPECT_EQ(keys("/filter", {{"flows", {{"name", {{"any_", {"artifact-flow"}}}}}}}), json::array({"nightly-report"}));
  EXPECT_EQ(count("/count", {{"flows", {{"name", {{"any_", {"other"}}}}}}}), 0);
  EXPECT_EQ(keys("/latest/filter", {{"artifacts", {{"latest_id", {{"any_", {in_run}}}}}}}),
            json::array({"nightly-report"}));
  EXPECT_EQ(count("/latest/count",
                  {{"flow_runs", {{"id", {{"any_", {run}}}}}}, {"artifacts", {{"type", {{"any_", {"markdown"}}}}}}}),
            1);
  EXPECT_EQ(keys("/latest/filter", {{"sort", "KEY_DESC"}, {"limit", 1}}), json::array({"nightly-report"}));
  EXPECT_EQ(keys("/latest/filter", {{"sort", "KEY_DESC"}, {"offset", 1}}), json::array({"adhoc-table"}));

  // Each route knows its own filter: `id` on artifacts, `latest_id` on collections.
  EXPECT_EQ(api("POST", "/artifacts/latest/filter", {{"artifacts", {{"id", {{"any_", {in_run}}}}}}}).status, 422);
  EXPECT_EQ(api("POST", "/artifacts/filter", {{"artifacts", {{"latest_id", {{"any_", {in_run}}}}}}}).status, 422);
  EXPECT_EQ(api("POST", "/artifacts/filter", {{"flow_runs", {{"bogus", 1}}}}).status, 422);
  EXPECT_EQ(api("POST", "/artifacts/filter", {{"sort", "NAME_ASC"}}).status, 422);
  EXPECT_EQ(api("POST", "/artifacts/count", {{"artifacts", {{"key", {{"exists_", "yes"}}}}}}).status, 422);
}

TEST_P(ArtifactRoutes, BadInputIs4xxAndChangesNothing) {
  const auto id =
      create({{"key", "keep"}, {"data", "original"}, {"metadata_", {{"long", std::string(600, 'm')}}}})["id"]
          .get<std::string>();
  // Prefect cuts metadata values after 500 characters.
  EXPECT_EQ(latest("keep")["metadata_"]["long"], std::string(500, 'm') + "...");
  auto bad_key = api("POST", "/artifacts/", {{"key", "Bad Key"}});
  EXPECT_EQ(bad_key.status, 422);
  EXPECT_EQ(json::parse(bad_key.body)["detail"],
            "Value error, Artifact key must only contain lowercase letters, numbers, and dashes.");
  for (const json& body :
       {json{{"flow_run_id", "nope"}}, json{{"task_run_id", 5}}, json{{"type", 5}}, json{{"metadata_", {{"n", 1}}}},
        json{{"metadata_", "x"}}, json{{"extra", 1}}, json{{"key", "k"}, {"latest_id", "x"}}})
    EXPECT_EQ(api("POST", "/artifacts/", body).status, 422) << body.dump();
  EXPECT_EQ(http_request("POST", daemon_->base_url() + "/api/artifacts/", "[1,").status, 422);

  EXPECT_EQ(api("PATCH", "/artifacts/" + id, {{"key", "renamed"}}).status, 422);  // the key cannot change
  EXPECT_EQ(api("PATCH", "/artifacts/" + id, {{"description", 5}}).status, 422);
  const std::string unknown = "/artifacts/5f6c2a4e-0000-4000-8000-000000000001";
  EXPECT_EQ(json::parse(api("GET", unknown).body)["detail"], "Artifact not found.");
  EXPECT_EQ(api("PATCH", unknown, {{"data", 1}}).status, 404);
  EXPECT_EQ(api("DELETE", unknown).status, 404);
  EXPECT_EQ(api("GET", "/artifacts/not-a-uuid").status, 404);
  EXPECT_EQ(api("GET", "/artifacts/missing/latest").status, 404);
  EXPECT_EQ(count("/count"), 1);
  EXPECT_EQ(latest("keep")["data"], "original");
}

INSTANTIATE_TEST_SUITE_P(D, ArtifactRoutes, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

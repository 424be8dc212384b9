// Prefect's lifecycle events for block types and documents, artifact collections, tag concurrency limits and
// deleted flows, as the built daemon stores them (SQLite and PostgreSQL): names, resources, related resources,
// payloads, and that a block document's secret fields never reach an event.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "tests/support/daemon_test.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;

class LifecycleEvents : public daemon_test {
 protected:
  json ok(const std::string& method, const std::string& path, const json& body = nullptr) {
    auto r = api(method, path, body);
    EXPECT_TRUE(r.status >= 200 && r.status < 300) << method << " " << path << " " << r.status << " " << r.body;
    return r.body.empty() ? json() : json::parse(r.body, nullptr, false);
  }

  /// The events whose name starts with `prefix` for `resource`, oldest first, once `n` are stored.
  std::vector<json> events(const std::string& prefix, const std::string& resource, std::size_t n) {
    const json query = {
        {"filter", {{"event", {{"prefix", {prefix}}}}, {"resource", {{"id", {resource}}}}, {"order", "ASC"}}},
        {"limit", 50}};
    json page;
    wait_until(
        [&] {
          page = json::parse(api("POST", "/events/filter", query).body, nullptr, false);
          return page.is_object() && page["events"].size() >= n;
        },
        std::chrono::seconds(10));
    std::vector<json> out;
    if (page.is_object())
      for (const auto& e : page["events"]) out.push_back(e);
    return out;
  }
  static std::vector<std::string> names(const std::vector<json>& es) {
    std::vector<std::string> out;
    for (const auto& e : es) out.push_back(e["event"]);
    return out;
  }
};

TEST_P(LifecycleEvents, BlockTypesAndDocumentsAreAnnouncedWithoutTheirSecrets) {
  const json fields = {{"title", "Vault"},
                       {"type", "object"},
                       {"properties", {{"url", {{"type", "string"}}}, {"token", {{"type", "string"}}}}},
                       {"secret_fields", {"token"}}};
  const auto type = ok("POST", "/block_types/", {{"name", "Vault"}, {"slug", "vault"}})["id"].get<std::string>();
  const auto schema = ok("POST", "/block_schemas/",
                         {{"block_type_id", type}, {"fields", fields}, {"capabilities", {"read-path"}}})["id"]
                          .get<std::string>();
  const auto doc = ok("POST", "/block_documents/",
                      {{"name", "prod"},
                       {"block_type_id", type},
                       {"block_schema_id", schema},
                       {"data", {{"url", "https://vault"}, {"token", "s3cr3t"}}}})["id"]
                       .get<std::string>();
  ASSERT_EQ(api("PATCH", "/block_documents/" + doc, {{"data", {{"url", "https://vault2"}}}}).status, 204);
  ASSERT_EQ(api("DELETE", "/block_documents/" + doc).status, 204);
  ASSERT_EQ(api("PATCH", "/block_types/" + type, {{"description", "secrets"}}).status, 204);
  ASSERT_EQ(api("DELETE", "/block_types/" + type).status, 204);

  auto docs = events("prefect.block-document.", "prefect.block-document." + doc, 3);
  ASSERT_EQ(names(docs), (std::vector<std::string>{"prefect.block-document.created", "prefect.block-document.updated",
                                                   "prefect.block-document.deleted"}));
  EXPECT_EQ(docs[0]["resource"]["prefect.resource.name"], "prod");
  EXPECT_EQ(docs[0]["payload"]["data"], (json{{"url", "https://vault"}}));
  EXPECT_EQ(docs[1]["payload"]["data"], (json{{"url", "https://vault2"}}));
  EXPECT_EQ(docs[0]["payload"]["block_schema"]["capabilities"], json::array({"read-path"}));
  EXPECT_EQ(docs[0]["payload"]["block_schema"]["block_type"], (json{{"id", type}, {"name", "Vault"}}));
  ASSERT_EQ(docs[0]["related"].size(), 2u);
  EXPECT_EQ(docs[0]["related"][0]["prefect.resource.id"], "prefect.block-type." + type);
  EXPECT_EQ(docs[0]["related"][1]["prefect.resource.id"], "prefect.block-schema." + schema);
  for (const auto& e : docs) EXPECT_EQ(e.dump().find("s3cr3t"), std::string::npos) << e.dump();

  auto types = events("prefect.block-type.", "prefect.block-type." + type, 3);
  ASSERT_EQ(names(types), (std::vector<std::string>{"prefect.block-type.created", "prefect.block-type.updated",
                                                    "prefect.block-type.deleted"}));
  EXPECT_EQ(types[0]["payload"]["slug"], "vault");
  EXPECT_EQ(types[1]["payload"]["description"], "secrets");
}

TEST_P(LifecycleEvents, AnArtifactKeysCollectionIsCreatedUpdatedAndDeleted) {
  const auto first = ok("POST", "/artifacts/", {{"key", "report"}, {"type", "markdown"}, {"data", "# one"}})["id"];
  const auto second = ok("POST", "/artifacts/", {{"key", "report"}, {"type", "markdown"}, {"data", "# two"}})["id"];
  ok("POST", "/artifacts/", {{"type", "markdown"}, {"data", "no key, no collection"}});
  const auto collection = ok("GET", "/artifacts/report/latest")["id"].get<std::string>();
  ASSERT_EQ(api("DELETE", "/artifacts/" + first.get<std::string>()).status, 204);   // not the latest: no event
  ASSERT_EQ(api("DELETE", "/artifacts/" + second.get<std::string>()).status, 204);  // the last one: deleted

  // The collection row (and its id) stays the key's for its whole life.
  auto mine = events("prefect.artifact-collection.", "prefect.artifact-collection." + collection, 3);
  ASSERT_EQ(names(mine),
            (std::vector<std::string>{"prefect.artifact-collection.created", "prefect.artifact-collection.updated",
                                      "prefect.artifact-collection.deleted"}));
  EXPECT_EQ(mine[0]["payload"]["data"], "# one");
  EXPECT_EQ(mine[1]["payload"]["data"], "# two");
  EXPECT_EQ(mine[1]["related"][0]["prefect.resource.id"], "prefect.artifact." + second.get<std::string>());
  EXPECT_EQ(mine[1]["related"][0]["prefect.resource.role"], "latest");
}

TEST_P(LifecycleEvents, TagLimitsAreAnnouncedAsTheGlobalLimitsTheyAre) {
  const auto id =
      ok("POST", "/concurrency_limits/", {{"tag", "db"}, {"concurrency_limit", 3}})["id"].get<std::string>();
  ok("POST", "/concurrency_limits/", {{"tag", "db"}, {"concurrency_limit", 5}});
  ASSERT_EQ(api("DELETE", "/concurrency_limits/tag/db").status, 200);
  auto es = events("prefect.concurrency-limit.", "prefect.concurrency-limit." + id, 3);
  ASSERT_EQ(names(es),
            (std::vector<std::string>{"prefect.concurrency-limit.created", "prefect.concurrency-limit.updated",
                                      "prefect.concurrency-limit.deleted"}));
  EXPECT_EQ(es[0]["payload"]["name"], "tag:db");
  EXPECT_EQ(es[0]["payload"]["limit"], 3);
  EXPECT_EQ(es[1]["payload"]["limit"], 5);
}

TEST_P(LifecycleEvents, ADeletedFlowIsAnnounced) {
  const auto id = ok("POST", "/flows/", {{"name", "short-lived"}})["id"].get<std::string>();
  ASSERT_EQ(api("DELETE", "/flows/" + id).status, 204);
  auto es = events("prefect.flow.", "prefect.flow." + id, 2);
  ASSERT_EQ(names(es), (std::vector<std::string>{"prefect.flow.created", "prefect.flow.deleted"}));
  EXPECT_EQ(es[1]["payload"]["name"], "short-lived");
}

INSTANTIATE_TEST_SUITE_P(D, LifecycleEvents, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

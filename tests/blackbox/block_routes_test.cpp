// /api/block_types, /api/block_schemas, /api/block_capabilities and /api/block_documents of the built daemon over
// real HTTP, on SQLite and PostgreSQL: the system types registered at start (again at a restart: nothing new),
// Prefect's answers to bad input (unknown type or schema, a schema of another type, taken names, reserved names:
// 4xx, nothing stored), secrets hidden from plain reads and never stored in plain text, merges that keep
// obfuscated secrets, and references between documents.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include <algorithm>
#include <memory>
#include <string>

#include "tests/support/daemon_test.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;
using namespace std::chrono_literals;

class BlockRoutes : public daemon_test {
 protected:
  json ok(const std::string& method, const std::string& path, const json& body = nullptr) {
    auto r = api(method, path, body);
    EXPECT_TRUE(r.status == 200 || r.status == 201) << method << " " << path << " -> " << r.status << " " << r.body;
    return json::parse(r.body, nullptr, false);
  }
  std::int64_t count(const std::string& table) {
    return db_.connect()->query("SELECT COUNT(*) FROM " + table).at(0).integer(0);
  }
  std::string stored_data() {
    std::string all;
    for (const auto& row : db_.connect()->query("SELECT CAST(data AS TEXT) FROM block_document")) all += row.text(0);
    return all;
  }

  /// A custom type with one schema: {"api_key" secret, "headers.*" secret, "city"}.
  std::pair<std::string, std::string> weather_type() {
    auto type = ok("POST", "/block_types/", {{"name", "Weather"}, {"slug", "weather"}, {"description", "a < b"}});
    auto schema = ok("POST", "/block_schemas/",
                     {{"block_type_id", type["id"]},
                      {"fields",
                       {{"title", "Weather"},
                        {"type", "object"},
                        {"properties", {{"city", {{"type", "string"}}}, {"api_key", {{"type", "string"}}}}},
                        {"secret_fields", {"api_key", "headers.*"}},
                        {"block_schema_references", json::object()}}}});
    return {type["id"], schema["id"]};
  }
};

TEST_P(BlockRoutes, SystemTypesAreRegisteredAtStartAndOnlyOnce) {
  auto secret = ok("GET", "/block_types/slug/secret");
  EXPECT_EQ(secret["is_protected"], true);
  const auto types = count("block_type"), schemas = count("block_schema");
  EXPECT_GE(types, 50);
  EXPECT_EQ(api("POST", "/block_types/install_system_block_types").status, 200);
  daemon_->send_signal(SIGTERM);
  ASSERT_EQ(daemon_->wait_exit(30s), 0);
  start();
  EXPECT_EQ(count("block_type"), types);
  EXPECT_EQ(count("block_schema"), schemas);
  EXPECT_EQ(ok("GET", "/block_types/slug/secret")["id"], secret["id"]);
  EXPECT_EQ(api("DELETE", "/block_types/" + secret["id"].get<std::string>()).status, 403);
  auto schema =
      ok("POST", "/block_schemas/filter", {{"block_schemas", {{"block_type_id", {{"any_", {secret["id"]}}}}}}});
  ASSERT_EQ(schema.size(), 1u);
  EXPECT_EQ(api("DELETE", "/block_schemas/" + schema[0]["id"].get<std::string>()).status, 403);
  auto by_checksum =
      ok("GET", "/block_schemas/checksum/" + schema[0]["checksum"].get<std::string>() + "?version=3.9.1");
  EXPECT_EQ(by_checksum["id"], schema[0]["id"]);
  EXPECT_EQ(api("GET", "/block_schemas/checksum/" + schema[0]["checksum"].get<std::string>() + "?version=0").status,
            404);
  const auto capabilities = ok("GET", "/block_capabilities/");
  EXPECT_NE(std::find(capabilities.begin(), capabilities.end(), "write-path"), capabilities.end()) << capabilities;
}

TEST_P(BlockRoutes, TypesAndSchemasRefuseBadInputAndChangeNothing) {
  const auto types = count("block_type");
  EXPECT_EQ(api("POST", "/block_types/", {{"name", "Prefect Thing"}, {"slug", "thing"}}).status, 403);
  EXPECT_EQ(api("POST", "/block_types/", {{"name", "Thing"}, {"slug", "Not A Slug"}}).status, 422);
  EXPECT_EQ(api("POST", "/block_types/", {{"name", "a/b"}, {"slug", "ab"}}).status, 422);
  EXPECT_EQ(api("POST", "/block_types/", {{"name", "Thing"}}).status, 422);
  EXPECT_EQ(api("POST", "/block_types/", {{"name", "Thing"}, {"slug", "thing"}, {"extra", 1}}).status, 422);
  auto dup = api("POST", "/block_types/", {{"name", "Secret Again"}, {"slug", "secret"}});
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(json::parse(dup.body)["detail"], "Block type with name \"Secret Again\" already exists");
  EXPECT_EQ(count("block_type"), types);

  auto [type, schema] = weather_type();
  EXPECT_EQ(ok("GET", "/block_types/" + type)["description"], "a &lt; b");  // escaped as Prefect stores it
  auto again = api("POST", "/block_schemas/",
                   {{"block_type_id", type}, {"fields", ok("GET", "/block_schemas/" + schema)["fields"]}});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(json::parse(again.body)["id"], schema);
  const auto schemas = count("block_schema");
  auto unknown = api("POST", "/block_schemas/",
                     {{"block_type_id", "00000000-0000-4000-8000-000000000001"}, {"fields", json::object()}});
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  auto missing_ref = api(
      "POST", "/block_schemas/",
      {{"block_type_id", type},
       {"fields",
        {{"title", "W2"},
         {"block_schema_references", {{"x", {{"block_type_slug", "nope"}, {"block_schema_checksum", "sha256:0"}}}}}}}});
  EXPECT_EQ(missing_ref.status, 409) << missing_ref.body;
  EXPECT_EQ(count("block_schema"), schemas);
  EXPECT_EQ(api("PATCH", "/block_types/" + type, {{"documentation_url", "https://x"}}).status, 204);
  EXPECT_EQ(ok("GET", "/block_types/slug/weather")["documentation_url"], "https://x");
  EXPECT_EQ(api("PATCH", "/block_types/" + type, {{"name", "New"}}).status, 422);
  EXPECT_EQ(ok("POST", "/block_types/filter", {{"block_types", {{"name", {{"like_", "eathe"}}}}}}).size(), 1u);
}

TEST_P(BlockRoutes, DocumentsHideAndEncryptSecretsAndRefuseBadInput) {
  auto [type, schema] = weather_type();
  json create = {{"name", "oslo"},
                 {"block_type_id", type},
                 {"block_schema_id", schema},
                 {"data", {{"city", "Oslo"}, {"api_key", "k-plaintext-1"}, {"headers", {{"auth", "h-plaintext-2"}}}}}};
  auto created = ok("POST", "/block_documents/", create);
  EXPECT_EQ(created["data"], json({{"city", "Oslo"}, {"api_key", "********"}, {"headers", {{"auth", "********"}}}}));
  EXPECT_EQ(created["block_type_name"], "Weather");
  const std::string id = created["id"];
  EXPECT_EQ(ok("GET", "/block_documents/" + id + "?include_secrets=true")["data"]["api_key"], "k-plaintext-1");
  EXPECT_EQ(stored_data().find("plaintext"), std::string::npos) << stored_data();

  const auto docs = count("block_document");
  EXPECT_EQ(api("POST", "/block_documents/", create).status, 409);
  auto other_type = ok("GET", "/block_types/slug/secret")["id"];
  auto mismatch = create;
  mismatch["name"] = "other";
  mismatch["block_type_id"] = other_type;
  EXPECT_EQ(api("POST", "/block_documents/", mismatch).status, 400);  // the schema belongs to another type
  mismatch["block_type_id"] = "00000000-0000-4000-8000-000000000002";
  EXPECT_EQ(api("POST", "/block_documents/", mismatch).status, 404);
  mismatch["block_type_id"] = type;
  mismatch["block_schema_id"] = "00000000-0000-4000-8000-000000000003";
  EXPECT_EQ(api("POST", "/block_documents/", mismatch).status, 404);
  auto unnamed = create;
  unnamed.erase("name");
  EXPECT_EQ(api("POST", "/block_documents/", unnamed).status, 422);
  unnamed["name"] = "Not Valid";
  EXPECT_EQ(api("POST", "/block_documents/", unnamed).status, 422);
  auto bad_ref = create;
  bad_ref["name"] = "ref";
  bad_ref["data"]["child"] = {{"$ref", {{"block_document_id", "00000000-0000-4000-8000-000000000004"}}}};
  EXPECT_EQ(api("POST", "/block_documents/", bad_ref).status, 400);
  bad_ref["data"]["child"] = {{"$ref", {{"nothing", 1}}}};
  EXPECT_EQ(api("POST", "/block_documents/", bad_ref).status, 400);
  EXPECT_EQ(count("block_document"), docs);
  EXPECT_EQ(ok("GET", "/block_documents/" + id + "?include_secrets=true")["data"]["api_key"], "k-plaintext-1");
  EXPECT_EQ(api("GET", "/block_documents/" + id + "?include_secrets=maybe").status, 422);

  // What a client read back (stars) keeps the stored secrets; a merge changes only what it names.
  EXPECT_EQ(api("PATCH", "/block_documents/" + id,
                {{"data", {{"api_key", "********"}, {"headers", {{"auth", "********"}}}, {"city", "Bergen"}}}})
                .status,
            204);
  auto updated = ok("GET", "/block_documents/" + id + "?include_secrets=true")["data"];
  EXPECT_EQ(updated,
            json({{"city", "Bergen"}, {"api_key", "k-plaintext-1"}, {"headers", {{"auth", "h-plaintext-2"}}}}));
  EXPECT_EQ(
      api("PATCH", "/block_documents/" + id, {{"data", {{"api_key", "k-new"}}}, {"merge_existing_data", false}}).status,
      204);
  EXPECT_EQ(ok("GET", "/block_documents/" + id + "?include_secrets=true")["data"], json({{"api_key", "k-new"}}));
  EXPECT_EQ(api("PATCH", "/block_documents/00000000-0000-4000-8000-000000000005", {{"data", json::object()}}).status,
            404);
  EXPECT_EQ(api("PATCH", "/block_documents/" + id,
                {{"block_schema_id", ok("GET", "/block_types/slug/secret")["id"]}, {"data", json::object()}})
                .status,
            400);
  EXPECT_EQ(count("block_document"), docs);
}

TEST_P(BlockRoutes, ReferencesNestAnonymousDocumentsHideAndCountsFollow) {
  auto [type, schema] = weather_type();
  auto secret_schema =
      ok("POST", "/block_schemas/filter",
         {{"block_schemas", {{"block_type_id", {{"any_", {ok("GET", "/block_types/slug/secret")["id"]}}}}}}})[0];
  auto child = ok("POST", "/block_documents/",
                  {{"name", "token"},
                   {"block_type_id", secret_schema["block_type_id"]},
                   {"block_schema_id", secret_schema["id"]},
                   {"data", {{"value", "tok-9"}}}});
  auto parent = ok("POST", "/block_documents/",
                   {{"is_anonymous", true},
                    {"block_type_id", type},
                    {"block_schema_id", schema},
                    {"data", {{"city", "Oslo"}, {"token", {{"$ref", {{"block_document_id", child["id"]}}}}}}}});
  EXPECT_TRUE(parent["name"].get<std::string>().starts_with("anonymous-"));
  EXPECT_EQ(parent["data"]["token"], json({{"value", "********"}}));
  EXPECT_EQ(parent["block_document_references"]["token"]["block_document"]["name"], "token");
  auto revealed = ok("GET", "/block_documents/" + parent["id"].get<std::string>() + "?include_secrets=1");
  EXPECT_EQ(revealed["data"]["token"]["value"], "tok-9");
  EXPECT_EQ(ok("POST", "/block_documents/filter", json::object()).size(), 1u);  // anonymous hidden by default
  EXPECT_EQ(ok("POST", "/block_documents/count", {{"block_documents", {{"is_anonymous", nullptr}}}}), 2);
  EXPECT_EQ(ok("POST", "/block_documents/filter",
               {{"block_types", {{"slug", {{"any_", {"weather"}}}}}},
                {"block_documents", {{"is_anonymous", {{"eq_", true}}}}}})
                .size(),
            1u);
  EXPECT_EQ(ok("GET", "/block_types/slug/secret/block_documents").size(), 1u);
  EXPECT_EQ(api("DELETE", "/block_documents/" + child["id"].get<std::string>()).status, 204);
  EXPECT_FALSE(ok("GET", "/block_documents/" + parent["id"].get<std::string>())["data"].contains("token"));
  EXPECT_EQ(api("DELETE", "/block_documents/" + child["id"].get<std::string>()).status, 404);
  EXPECT_EQ(api("POST", "/block_documents/filter", {{"limit", 201}}).status, 422);
}

INSTANTIATE_TEST_SUITE_P(D, BlockRoutes, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

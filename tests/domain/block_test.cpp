// Block rules as Prefect 3.9.1 applies them: which values are secret (hidden, kept on update, encrypted), the
// schema checksum's Python JSON text, names, and references split off document data.
#include <gtest/gtest.h>

#include "domain/block.hpp"
#include "domain/block_checksum.hpp"
#include "domain/block_secrets.hpp"

using namespace osprey;
using nlohmann::json;

TEST(BlockSecrets, NamedLeavesAndWildcardSubtreesAreObfuscated) {
  const json data = {
      {"url", "https://hook"}, {"headers", {{"a", "1"}, {"b", {{"c", 2}}}}}, {"plain", "x"}, {"nothing", nullptr}};
  const auto shown = obfuscate_secrets(data, {"url", "headers.*", "nothing", "absent.path"});
  EXPECT_EQ(shown, json({{"url", "********"},
                         {"headers", {{"a", "********"}, {"b", {{"c", "********"}}}}},
                         {"plain", "x"},
                         {"nothing", nullptr}}));
}

TEST(BlockSecrets, AnObjectAtAPlainSecretPathStaysVisibleAsInPrefect) {
  EXPECT_EQ(obfuscate_secrets({{"value", {{"k", "v"}}}}, {"value"}), json({{"value", {{"k", "v"}}}}));
  EXPECT_EQ(obfuscate_secrets({{"child", {{"password", "p"}}}}, {"child.password"}),
            json({{"child", {{"password", "********"}}}}));
}

TEST(BlockSecrets, StarsSentBackKeepTheStoredSecret) {
  const json current = {{"key", "real"}, {"h", {{"a", "ra"}}}};
  const auto kept = keep_unchanged_secrets({{"key", "********"}, {"h", {{"a", "********"}, {"new", "********"}}}},
                                           current, {"key", "h.*"});
  EXPECT_EQ(kept, json({{"key", "real"}, {"h", {{"a", "ra"}, {"new", "********"}}}}));
  EXPECT_EQ(keep_unchanged_secrets({{"key", "changed"}}, current, {"key"}), json({{"key", "changed"}}));
}

TEST(BlockSecrets, RootsCoverEverySecretOnce) {
  using roots = std::vector<std::vector<std::string>>;
  EXPECT_EQ(secret_roots({"value", "value"}), roots({{"value"}}));
  EXPECT_EQ(secret_roots({"a", "a.b", "h.*", "x.y.*.z"}), roots({{"a"}, {"h"}, {"x", "y"}}));
  json data = {{"a", {{"b", 1}}}, {"h", nullptr}, {"x", {{"y", 3}}}};
  int changed = 0;
  for_each_secret_root(data, secret_roots({"a", "h.*", "x.y.*"}), [&](json& v) {
    ++changed;
    v = "sealed";
  });
  EXPECT_EQ(changed, 2);  // null values hold no secret
  EXPECT_EQ(data, json({{"a", "sealed"}, {"h", nullptr}, {"x", {{"y", "sealed"}}}}));
}

TEST(BlockChecksum, PythonJsonTextMatchesJsonDumpsSortKeys) {
  EXPECT_EQ(python_json_text({{"b", {1, 2.5, 1e16, 1e-5, 100.0, 0.1}}, {"a", "é☃𝄞\n\""}, {"c", nullptr}}),
            "{\"a\": \"\\u00e9\\u2603\\ud834\\udd1e\\n\\\"\", \"b\": [1, 2.5, 1e+16, 1e-05, 100.0, 0.1], \"c\": null}");
  EXPECT_EQ(python_json_text(json::array({json::object(), json::array()})), "[{}, []]");
}

TEST(BlockChecksum, SecretFieldsAndBlockDefinitionsDoNotCount) {
  const json base = {{"title", "X"},
                     {"properties", {{"a", {{"$ref", "#/definitions/Inner"}}}}},
                     {"definitions", {{"Inner", {{"type", "object"}}}}}};
  auto with_secrets = base;
  with_secrets["secret_fields"] = {"a"};
  auto with_block = base;
  with_block["definitions"]["Other"] = {{"block_type_slug", "other"}};
  EXPECT_EQ(block_schema_checksum(base), block_schema_checksum(with_secrets));
  EXPECT_EQ(block_schema_checksum(base), block_schema_checksum(with_block));
  EXPECT_TRUE(block_schema_checksum(base).starts_with("sha256:"));
  EXPECT_EQ(block_schema_checksum(base).size(), 7u + 64u);
}

TEST(BlockNames, FollowPrefectsPatterns) {
  EXPECT_FALSE(check_block_document_name("my-block-1"));
  EXPECT_EQ(check_block_document_name("My Block")->type, "value_error");
  EXPECT_EQ(check_block_document_name("a/b")->type, "string_pattern_mismatch");
  EXPECT_FALSE(check_block_type_slug(""));
  EXPECT_TRUE(check_block_type_slug("A"));
  EXPECT_TRUE(is_reserved_block_type_name("PREFECT thing"));
  EXPECT_FALSE(is_reserved_block_type_name("My prefect"));
  EXPECT_EQ(html_escape("<a & b>"), "&lt;a &amp; b&gt;");
}

TEST(BlockReferences, OnlyTopLevelRefsAreSplitOffAndNeedADocumentId) {
  auto split = split_references({{"x", 1},
                                 {"child", {{"$ref", {{"block_document_id", "5f6c2a4e-0000-4000-8000-0000000000cc"}}}}},
                                 {"deep", {{"inner", {{"$ref", "kept"}}}}}});
  ASSERT_TRUE(split);
  EXPECT_EQ(split->first, json({{"x", 1}, {"deep", {{"inner", {{"$ref", "kept"}}}}}}));
  ASSERT_EQ(split->second.size(), 1u);
  EXPECT_EQ(split->second[0].name, "child");
  auto bad = split_references({{"child", {{"$ref", {{"id", 1}}}}}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "Received block reference without a block_document_id in key child");
}

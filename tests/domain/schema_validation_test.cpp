// The UI's form validation (POST /ui/schemas/validate): every failure with its path, Prefect's preprocessing of
// pydantic schemas, and build_error_obj's nesting. Expected answers are what Prefect 3.9.1 returns.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "domain/parameter_schema.hpp"

namespace osprey {
namespace {

using nlohmann::json;

const json schema = json::parse(R"({
  "type": "object", "title": "Parameters",
  "properties": {
    "name": {"type": "string", "title": "name"},
    "count": {"type": "integer", "title": "count"},
    "mode": {"enum": ["fast", "slow"], "title": "mode", "default": "fast"},
    "sizes": {"type": "array", "items": {"type": "integer"}, "title": "sizes", "default": []},
    "point": {"$ref": "#/definitions/Point"}
  },
  "required": ["name", "count"],
  "definitions": {
    "Point": {"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
              "required": ["x", "y"]}
  }
})");

json report(const json& values, const json& s = schema) {
  return validation_report(schema_failures(values, preprocess_parameter_schema(s)));
}

TEST(SchemaValidation, ValidValuesGiveNoErrors) {
  EXPECT_EQ(report({{"name", "a"}, {"count", 2}, {"sizes", {1, 2}}, {"point", {{"x", 1}, {"y", 2}}}}),
            (json{{"errors", json::array()}, {"valid", true}}));
}

TEST(SchemaValidation, EveryFailureIsNestedUnderItsPropertyOrIndex) {
  const auto r = report({{"count", "two"}, {"mode", "medium"}, {"sizes", {1, "b", 3}}, {"point", {{"x", "1"}}}});
  EXPECT_EQ(r["valid"], false);
  const json expected = json::parse(R"([
    {"property": "name", "errors": ["'name' is a required property"]},
    {"property": "count", "errors": ["'two' is not of type 'integer'"]},
    {"property": "mode", "errors": ["'medium' is not one of ['fast', 'slow']"]},
    {"property": "sizes", "errors": [{"index": 1, "errors": ["'b' is not of type 'integer'"]}]},
    {"property": "point", "errors": [{"property": "y", "errors": ["'y' is a required property"]},
                                     {"property": "x", "errors": ["'1' is not of type 'integer'"]}]}
  ])");
  // Order among siblings follows the schema's keywords; compare as sets of entries.
  ASSERT_EQ(r["errors"].size(), expected.size()) << r.dump();
  for (const auto& e : expected) {
    bool found = false;
    for (const auto& got : r["errors"]) {
      if (got["property"] != e["property"]) continue;
      found = got["errors"].size() == e["errors"].size();
      for (const auto& inner : e["errors"])
        found = found && std::find(got["errors"].begin(), got["errors"].end(), inner) != got["errors"].end();
    }
    EXPECT_TRUE(found) << "missing " << e << " in " << r["errors"];
  }
}

TEST(SchemaValidation, OptionalTypedPropertiesAcceptNullAfterPreprocessing) {
  const json s = {{"type", "object"},
                  {"properties", {{"note", {{"type", "string"}}}, {"tag", {{"type", "string"}, {"default", "x"}}}}},
                  {"required", json::array()}};
  EXPECT_EQ(report({{"note", nullptr}}, s)["valid"], true);  // optional, no default: null allowed
  EXPECT_EQ(report({{"tag", nullptr}}, s)["errors"],
            json::parse(R"([{"property": "tag", "errors": ["None is not of type 'string'"]}])"));
}

TEST(SchemaValidation, ARootFailureIsAPlainMessage) {
  const auto r = validation_report({{{}, "type", "'x' is not of type 'object'"}});
  EXPECT_EQ(r, (json{{"errors", {"'x' is not of type 'object'"}}, {"valid", false}}));
}

TEST(SchemaValidation, APlaceholderFailureHidesTheOthersOfItsPath) {
  const auto r = validation_report({{{std::string("data")}, "type", "'{' is not of type 'object'"},
                                    {{std::string("data")}, "_placeholders", "Invalid JSON: Expecting value"}});
  EXPECT_EQ(r["errors"], json::parse(R"([{"property": "data", "errors": ["Invalid JSON: Expecting value"]}])"));
}

TEST(SchemaValidation, BlockDefinitionsAlsoAcceptAReference) {
  const json s = json::parse(R"({
    "type": "object", "properties": {"creds": {"$ref": "#/definitions/Secret"}}, "required": ["creds"],
    "definitions": {"Secret": {"title": "Secret", "block_type_slug": "secret", "type": "object",
                               "properties": {"value": {"type": "string"}}, "required": ["value"]}}})");
  EXPECT_EQ(
      report({{"creds", {{"$ref", {{"block_document_id", "0b7e3a3c-1d2e-4f5a-8b6c-7d8e9f0a1b2c"}}}}}}, s)["valid"],
      true);
  EXPECT_EQ(report({{"creds", {{"value", "s3cret"}}}}, s)["valid"], true);
  EXPECT_EQ(report({{"creds", 5}}, s)["valid"], false);
}

}  // namespace
}  // namespace osprey

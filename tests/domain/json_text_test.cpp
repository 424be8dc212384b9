// Reading client JSON with a nesting limit, and the NUL check, on documents far deeper than any stack allows.

#include <gtest/gtest.h>

#include <string>

#include "domain/event.hpp"
#include "domain/json_string.hpp"
#include "domain/json_text.hpp"

using namespace osprey;

namespace {

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

TEST(ParseJson, AcceptsDocumentsUpToTheLimit) {
  EXPECT_TRUE(parse_json("7", 0).ok());
  EXPECT_TRUE(parse_json(R"({"a": [1, {"b": 2}]})", 3).ok());
  EXPECT_TRUE(parse_json(nested_arrays(128), 128).ok());
  const auto parsed = parse_json(R"({"a": [1, {"b": 2}]})", 3);
  EXPECT_EQ(parsed.value["a"][1]["b"], 2);
}

TEST(ParseJson, RefusesOneLevelMore) {
  EXPECT_EQ(parse_json(R"({"a": [1, {"b": []}]})", 3).error, parsed_json::problem::too_deep);
  EXPECT_EQ(parse_json(nested_arrays(129), 128).error, parsed_json::problem::too_deep);
  EXPECT_EQ(parse_json("[]", 0).error, parsed_json::problem::too_deep);
  EXPECT_TRUE(parse_json(nested_arrays(129), 128).value.is_discarded());
}

TEST(ParseJson, SyntaxErrorsAreTellable) {
  EXPECT_EQ(parse_json("{\"a\": ", 8).error, parsed_json::problem::syntax);
  EXPECT_EQ(parse_json("", 8).error, parsed_json::problem::syntax);
  EXPECT_EQ(too_deep_message(64), "JSON nested deeper than 64 levels is not accepted");
}

// Brackets inside strings nest nothing, also after escaped quotes and backslashes.
TEST(ParseJson, BracketsInStringsDoNotCount) {
  const auto parsed = parse_json(R"({"a": "[[[{{{", "b\\\"[[": "\\", "c": ["]]]\"[[["]})", 2);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.value["a"], "[[[{{{");
  EXPECT_EQ(parsed.value["c"][0], "]]]\"[[[");
  EXPECT_EQ(parse_json(R"(["\\", [[]]])", 2).error, parsed_json::problem::too_deep);
}

// Which problem comes first decides the answer, as when the depth is checked while parsing.
TEST(ParseJson, TheFirstProblemInTheTextIsTheOneReported) {
  EXPECT_EQ(parse_json("[1 2, [[[[]]]]]", 3).error, parsed_json::problem::syntax);
  EXPECT_EQ(parse_json("[[[[]]]], 1 2", 3).error, parsed_json::problem::too_deep);
  EXPECT_EQ(parse_json("[[[]]] x", 3).error, parsed_json::problem::syntax);
}

// The crash: 20 000 levels inside an object body blew the stack (in the recursive NUL check, or in any copy,
// comparison or dump of the value). The limit refuses it before any of that; unclosed brackets too.
TEST(ParseJson, HugeNestingIsRefusedWithoutRecursion) {
  const std::string body = R"({"name": )" + nested_arrays(200'000) + "}";
  EXPECT_EQ(parse_json(body, 128).error, parsed_json::problem::too_deep);
  EXPECT_EQ(parse_json(std::string(1'000'000, '['), 128).error, parsed_json::problem::too_deep);
  std::string objects;
  for (int i = 0; i < 200'000; ++i) objects += R"({"a":)";
  EXPECT_EQ(parse_json(objects, 128).error, parsed_json::problem::too_deep);
}

TEST(HoldsNul, FindsItInKeysAndStringsAtAnyDepth) {
  EXPECT_FALSE(holds_nul(nlohmann::json::parse(R"({"a": ["b", {"c": 1}]})")));
  EXPECT_TRUE(holds_nul(nlohmann::json::parse(R"({"a": ["b", {"c\u0000": 1}]})")));
  EXPECT_TRUE(holds_nul(nlohmann::json::parse(R"({"a": ["b", {"c": "\u0000"}]})")));
  // Built by the (iterative) parser with a limit far beyond any stack; the walk must not recurse.
  const std::size_t deep = 200'000;
  auto value = parse_json(std::string(deep, '[') + R"("x\u0000")" + std::string(deep, ']'), deep).value;
  ASSERT_TRUE(value.is_array());
  EXPECT_TRUE(holds_nul(value));
}

TEST(ParseEventText, RefusesDeepEvents) {
  const std::string text = R"({"event": "x", "payload": )" + nested_arrays(20'000) + "}";
  const auto e = parse_event_text(text, 64);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message(), "event: JSON nested deeper than 64 levels is not accepted");
}

TEST(Utf8Prefix, CutsBetweenCharacters) {
  const std::string text = "a\u00a3\u20ac\U0001F600";  // 1 + 2 + 3 + 4 bytes
  EXPECT_EQ(utf8_prefix(text, 100), text);
  EXPECT_EQ(utf8_prefix(text, 10), text);
  EXPECT_EQ(utf8_prefix(text, 9), "a\u00a3\u20ac");
  EXPECT_EQ(utf8_prefix(text, 6), "a\u00a3\u20ac");
  EXPECT_EQ(utf8_prefix(text, 5), "a\u00a3");
  EXPECT_EQ(utf8_prefix(text, 2), "a");
  EXPECT_EQ(utf8_prefix(text, 1), "a");
  EXPECT_EQ(utf8_prefix(text, 0), "");
}

// The event store writes labels with append_json_string instead of json(...).dump(): the text must not change.
TEST(AppendJsonString, WritesWhatDumpWrites) {
  std::string all_bytes;
  for (int c = 1; c < 0x80; ++c) all_bytes.push_back(static_cast<char>(c));
  for (const std::string& text :
       {std::string(), std::string("plain"), std::string("q\"uo\\te/"), std::string("\b\f\n\r\t\x01\x1f\x7f"),
        std::string("caf\xc3\xa9 \xe2\x82\xac"), std::string("nul\0in", 6), all_bytes}) {
    std::string out = "x";
    append_json_string(out, text);
    EXPECT_EQ(out, "x" + nlohmann::json(text).dump()) << text;
  }
  std::string out;
  EXPECT_THROW(append_json_string(out, "\xff"), nlohmann::json::type_error);
}

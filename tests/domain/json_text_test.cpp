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

// The fast path (simdjson) must build exactly what nlohmann's own parser builds, number kinds included; what it
// refuses goes to nlohmann's parser, so the answers for bad text stay nlohmann's.
TEST(ParseJson, BuildsWhatNlohmannBuilds) {
  const char* documents[] = {
      "0",
      "-0",
      "7",
      "-7",
      "1.0",
      "1e2",
      "-1.5E-3",
      "9223372036854775807",
      "9223372036854775808",
      "18446744073709551615",
      "18446744073709551616",
      "-9223372036854775808",
      "\"\"",
      "true",
      "null",
      R"("caf\u00e9 \ud83d\ude00 \n\t\"\\ \/")",
      R"({"a": 1, "a": 2})",
      R"({"b": [], "a": {}, "": null})",
      R"([1, -1, 1.5, "x", [true, false, null], {"k": {"l": [0]}}])",
      "  [ 1 ,\n 2 ]  ",
      "\"\\u0000\"",
      R"({"task_run": {"id": "0193", "run_count": 1, "total_run_time": 0.000305, "tags": ["a"]}})"};
  for (const char* text : documents) {
    const auto expected = nlohmann::json::parse(text);
    const auto parsed = parse_json(text, default_json_max_depth);
    ASSERT_TRUE(parsed.ok()) << text;
    EXPECT_EQ(parsed.value.dump(), expected.dump()) << text;
    // "-0" is the one difference: simdjson gives no sign for a zero, so it is an unsigned 0 where nlohmann
    // makes a signed one (same value, same text; every reader of integers treats them alike).
    if (std::string_view(text) != "-0") {
      EXPECT_EQ(parsed.value.type(), expected.type()) << text;
    }
    if (!expected.is_array()) continue;
    for (std::size_t i = 0; i < expected.size(); ++i)
      EXPECT_EQ(parsed.value[i].type(), expected[i].type()) << text << " item " << i;
  }
  for (const char* bad : {"[1,]", "{\"a\" 1}", "01", "[1] 2", "\"\xff\"", "nul", "{\"a\": 1", "\"\\ud800\"", "1e400"})
    EXPECT_EQ(parse_json(bad, default_json_max_depth).error, parsed_json::problem::syntax) << bad;
}

TEST(ParseJson, TheLimitHoldsWhateverItWasBefore) {
  // One thread's parser is reused; a smaller limit after a larger one must still bind.
  EXPECT_TRUE(parse_json(nested_arrays(100), 128).ok());
  EXPECT_EQ(parse_json(nested_arrays(6), 5).error, parsed_json::problem::too_deep);
  EXPECT_TRUE(parse_json(nested_arrays(5), 5).ok());
  EXPECT_EQ(parse_json(nested_arrays(1000), 999).error, parsed_json::problem::too_deep);
  EXPECT_TRUE(parse_json(nested_arrays(1000), 1000).ok());
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

// Variables, artifacts, saved searches and templates as Prefect 3.9.1 checks them, and the filter bodies of
// their routes (domain/variable, artifact, saved_search, template_syntax, object_filters).
#include <gtest/gtest.h>

#include "domain/artifact.hpp"
#include "domain/object_filters.hpp"
#include "domain/saved_search.hpp"
#include "domain/template_syntax.hpp"
#include "domain/variable.hpp"

using namespace osprey;
using nlohmann::json;

namespace {

TEST(VariableName, LowercaseLettersDigitsDashesAndUnderscoresOnly) {
  for (const auto& ok : std::vector<std::string>{"a", "my_var-2", "", std::string(255, 'x')})
    EXPECT_FALSE(check_variable_name(ok)) << ok;
  for (const std::string bad : {"A", "a b", "a/b", "a.b", "caf\xc3\xa9"}) {
    auto p = check_variable_name(bad);
    ASSERT_TRUE(p) << bad;
    EXPECT_EQ(p->type, "value_error");
  }
}

TEST(VariableName, PatternIsCheckedBeforeLength) {
  EXPECT_EQ(check_variable_name(std::string(256, 'x'))->type, "too_long");
  EXPECT_EQ(check_variable_name(std::string(256, 'X'))->type, "value_error");
}

TEST(VariableValue, CompactJsonUpTo5000BytesAndNullAlways) {
  EXPECT_FALSE(check_variable_value(std::string(4998, 'x')));  // "…" is 5000 bytes
  EXPECT_TRUE(check_variable_value(std::string(4999, 'x')));
  EXPECT_FALSE(check_variable_value(json()));
  EXPECT_TRUE(check_variable_value(json::array({std::string(5000, 'x')})));
  // Non-ASCII text counts in UTF-8 bytes, unescaped (as orjson writes it).
  std::string two_byte;
  for (int i = 0; i < 2500; ++i) two_byte += "\xc3\xa9";
  EXPECT_TRUE(check_variable_value(two_byte));
}

TEST(ArtifactKey, LowercaseLettersDigitsAndDashesOnly) {
  EXPECT_FALSE(check_artifact_key("my-report-2"));
  EXPECT_TRUE(check_artifact_key("my_report"));
  EXPECT_TRUE(check_artifact_key("Report"));
}

TEST(ArtifactMetadata, LongValuesAreCutAt500CharactersNeverInsideOne) {
  json m = {{"short", "x"}, {"long", std::string(501, 'y')}};
  std::string accented;
  for (int i = 0; i < 501; ++i) accented += "\xc3\xa9";
  m["accented"] = accented;
  EXPECT_FALSE(normalise_artifact_metadata(m));
  EXPECT_EQ(m["short"], "x");
  EXPECT_EQ(m["long"], std::string(500, 'y') + "...");
  EXPECT_EQ(m["accented"], accented.substr(0, 1000) + "...");
  json not_strings = {{"n", 1}};
  EXPECT_EQ(normalise_artifact_metadata(not_strings)->field, "metadata_.n");
}

TEST(SavedSearchFilters, NeedsFourStringsAndAValueAndDropsOtherKeys) {
  json f = json::array({{{"object", "flow"},
                         {"property", "name"},
                         {"type", "string"},
                         {"operation", "equals"},
                         {"value", nullptr},
                         {"extra", 1}}});
  EXPECT_FALSE(normalise_saved_search_filters(f));
  EXPECT_FALSE(f[0].contains("extra"));
  json missing = json::array({{{"object", "flow"}}});
  EXPECT_EQ(normalise_saved_search_filters(missing)->field, "filters.0.property");
  json not_list = "x";
  EXPECT_EQ(normalise_saved_search_filters(not_list)->type, "list_type");
}

TEST(TemplateSyntax, AcceptsWellFormedTemplates) {
  for (const std::string ok : {"", "plain", "Hello {{ flow.name }}", "{% for x in y %}{{ x }}{% else %}-{% endfor %}",
                               "{% if a %}1{% elif b %}2{% else %}3{% endif %}", "{# note #}{% set x = 1 %}",
                               "{% raw %}{{ not parsed {% endraw %}", "a { b } c"})
    EXPECT_FALSE(check_template_syntax(ok)) << ok;
}

TEST(TemplateSyntax, RefusesWhatJinjaRefusesWithItsMessage) {
  struct refused {
    std::string source;
    int line;
    std::string message;
  };
  for (const auto& r : std::vector<refused>{
           {"a\n{{ x", 2, "unexpected end of template, expected 'end of print statement'."},
           {"{% if a", 1, "unexpected end of template, expected 'end of statement block'."},
           {"{# c ", 1, "Missing end of comment tag"},
           {"{% endif %}", 1, "Encountered unknown tag 'endif'."},
           {"{% bogus %}", 1, "Encountered unknown tag 'bogus'."},
           {"{% for a in b %}{% endif %}", 1,
            "Encountered unknown tag 'endif'. Jinja was looking for the following tags: 'endfor' or 'else'. The "
            "innermost block that needs to be closed is 'for'."},
           {"{% if a %}", 1,
            "Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The "
            "innermost block that needs to be closed is 'if'."}}) {
    auto e = check_template_syntax(r.source);
    ASSERT_TRUE(e) << r.source;
    EXPECT_EQ(e->line, r.line) << r.source;
    EXPECT_EQ(e->message, r.message);
  }
}

TEST(ObjectFilters, VariableBodiesIgnoreUnknownTopLevelKeysButNotUnknownFilterKeys) {
  filters::filter_error e;
  auto q = filters::parse_variable_query({{"variables", {{"name", {{"like_", "db"}}}}},
                                          {"sort", "NAME_DESC"},
                                          {"limit", 5},
                                          {"offset", 2},
                                          {"unknown", 1}},
                                         filters::body_kind::filter, e);
  ASSERT_TRUE(q) << e.describe();
  EXPECT_EQ(q->variables->name->like, "db");
  EXPECT_EQ(q->sort, filters::variable_sort::name_desc);
  EXPECT_EQ(q->window.limit, 5);
  EXPECT_EQ(q->window.offset, 2);
  EXPECT_FALSE(filters::parse_variable_query({{"variables", {{"bogus", 1}}}}, filters::body_kind::count, e));
  EXPECT_EQ(e.location, (std::vector<std::string>{"variables", "bogus"}));
  EXPECT_FALSE(filters::parse_variable_query({{"limit", 201}}, filters::body_kind::filter, e));
  EXPECT_TRUE(e.plain_detail);
}

TEST(ObjectFilters, ArtifactKeyExistsIsKeptAsIsNullAndEachRouteKnowsItsIdField) {
  filters::filter_error e;
  auto q = filters::parse_artifact_query(
      {{"artifacts", {{"key", {{"exists_", true}}}}}, {"flow_runs", {{"tags", {{"all_", {"a"}}}}}}},
      filters::body_kind::count, false, e);
  ASSERT_TRUE(q) << e.describe();
  EXPECT_EQ(q->artifacts->key->is_null, false);
  EXPECT_TRUE(q->runs.flow_runs);
  EXPECT_TRUE(filters::parse_artifact_query({{"artifacts", {{"latest_id", {{"any_", json::array()}}}}}},
                                            filters::body_kind::filter, true, e));
  EXPECT_FALSE(filters::parse_artifact_query({{"artifacts", {{"latest_id", {{"any_", json::array()}}}}}},
                                             filters::body_kind::filter, false, e));
  EXPECT_FALSE(filters::parse_artifact_query({{"sort", "NAME_ASC"}}, filters::body_kind::filter, false, e));
  EXPECT_EQ(e.type, "enum");
}

}  // namespace

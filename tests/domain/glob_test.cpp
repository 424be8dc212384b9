// The one glob matcher (domain/glob.hpp), with the patterns both of its callers meet: event filter labels
// (domain/event) and notification policies' flow and deployment names (domain/notification).

#include "domain/glob.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace osprey;

namespace {

struct row {
  const char* pattern;
  const char* text;
  bool expected;
};

void check(const std::vector<row>& rows) {
  for (const auto& r : rows) EXPECT_EQ(glob_match(r.pattern, r.text), r.expected) << r.pattern << " vs " << r.text;
}

TEST(GlobMatch, StarIsAnyRunQuestionMarkIsOneCharacter) {
  check({
      {"", "", true},
      {"", "a", false},
      {"*", "", true},
      {"*", "anything", true},
      {"**a", "bba", true},
      {"?", "", false},
      {"a?c", "abc", true},
      {"a?c", "ac", false},
      {"a*b*c", "aXbYc", true},
      {"a*b*c", "aXbY", false},
      {"exact", "exact", true},
      {"exact", "Exact", false},
      {"abc", "abcd", false},
  });
}

TEST(GlobMatch, NotificationPolicyFlowAndDeploymentNames) {
  check({
      {"etl-*", "etl-daily", true},
      {"etl-*", "xetl-daily", false},
      {"etl-?", "etl-1", true},
      {"etl-?", "etl-12", false},
      {"*/prod", "etl/prod", true},
      {"*/prod", "etl/dev", false},
      {"etl-daily/*", "etl-daily/prod", true},
  });
}

TEST(GlobMatch, EventLabelsAndResourceIds) {
  check({
      {"prefect.flow-run.*", "prefect.flow-run.123", true},
      {"prefect.flow-run.*", "prefect.task-run.123", false},
      {"*.run.*x", "a.run.b.run.cx", true},
      {"prefect.resource.*", "prefect.resource.id", true},
  });
}

TEST(GlobMatch, EverythingButStarAndQuestionMarkIsLiteral) {
  // No character classes, and SQL LIKE's wildcards mean nothing here.
  check({
      {"[ab]", "[ab]", true},
      {"[ab]", "a", false},
      {"100%_done", "100%_done", true},
      {"100%", "1000", false},
      {"a\\*", "a\\bc", true},  // no escapes: the backslash is literal, the star still a star
  });
}

TEST(GlobMatch, ManyStarsDoNotBacktrackExponentially) {
  const std::string text(5000, 'a');
  const std::string pattern = std::string(40, '*').insert(20, "a*a*a*a*a*a*a*a*a*a") + "b";
  EXPECT_FALSE(glob_match(pattern, text));  // returns promptly; exponential matchers never finish
}

}  // namespace

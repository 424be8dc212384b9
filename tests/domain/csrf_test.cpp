// domain/csrf: which methods need a token, fresh tokens, and every verdict.
#include "domain/csrf.hpp"

#include <gtest/gtest.h>

#include <set>

namespace osprey {
namespace {

const timestamp t0 = timestamp{} + std::chrono::hours(24 * 365 * 50);

TEST(Csrf, OnlyStateChangingMethodsNeedAToken) {
  for (const char* m : {"POST", "PUT", "PATCH", "DELETE"}) EXPECT_TRUE(csrf_token_needed(m)) << m;
  for (const char* m : {"GET", "HEAD", "OPTIONS"}) EXPECT_FALSE(csrf_token_needed(m)) << m;
}

TEST(Csrf, TokensAre64HexDigitsAndNeverRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto t = issue_csrf_token("c", t0, std::chrono::seconds(3600));
    ASSERT_EQ(t.token.size(), 64u);
    EXPECT_EQ(t.token.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_TRUE(seen.insert(t.token).second);
    EXPECT_EQ(t.expiration, t0 + std::chrono::seconds(3600));
  }
}

TEST(Csrf, Verdicts) {
  const auto t = issue_csrf_token("ui", t0, std::chrono::seconds(60));
  EXPECT_EQ(judge_csrf(t.token, "ui", &t, t0), csrf_verdict::accepted);
  EXPECT_EQ(judge_csrf("", "ui", &t, t0), csrf_verdict::missing_token);
  EXPECT_EQ(judge_csrf(t.token, "", &t, t0), csrf_verdict::missing_client);
  EXPECT_EQ(judge_csrf(t.token, "ui", nullptr, t0), csrf_verdict::invalid);
  EXPECT_EQ(judge_csrf(t.token, "other", &t, t0), csrf_verdict::invalid);
  EXPECT_EQ(judge_csrf(std::string(64, 'a'), "ui", &t, t0), csrf_verdict::invalid);
  EXPECT_EQ(judge_csrf(t.token, "ui", &t, t0 + std::chrono::seconds(60)), csrf_verdict::invalid);  // expired
  EXPECT_STREQ(csrf_refusal_detail(csrf_verdict::invalid), "Invalid CSRF token or client identifier.");
}

}  // namespace
}  // namespace osprey

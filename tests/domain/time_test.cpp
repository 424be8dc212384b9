#include <gtest/gtest.h>

#include "domain/time.hpp"

using namespace osprey;

TEST(Time, FormatsUtcWithMicroseconds) {
  auto t = parse_iso8601("2026-11-26T02:58:54.123456Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_iso8601(*t), "2026-11-26T02:58:54.123456Z");
}

TEST(Time, AcceptsSpaceSeparatorAndOffsets) {
  auto a = parse_iso8601("2026-08-21 11:27:33.123456+00:00");
  auto b = parse_iso8601("2026-08-21T13:27:33.123456+02:00");
  auto c = parse_iso8601("2026-08-21 11:27:33.123456+00");  // PostgreSQL's text output
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *c);
}

TEST(Time, NaiveAndDateOnlyAreUtc) {
  EXPECT_EQ(format_iso8601(*parse_iso8601("2026-01-02T03:04:05")), "2026-01-02T03:04:05.000000Z");
  EXPECT_EQ(format_iso8601(*parse_iso8601("2026-01-02")), "2026-01-02T00:00:00.000000Z");
}

TEST(Time, RejectsMalformed) {
  for (const char* bad : {"", "2026", "2026-13-01", "2026-02-30", "2026-01-01X", "2026-01-01T25:00",
                          "2026-01-01T10:00:00.", "2026-01-01T10:00:00+0", "yesterday"})
    EXPECT_FALSE(parse_iso8601(bad)) << bad;
}

TEST(Time, ManualClockMovesOnlyWhenTold) {
  manual_clock clock(*parse_iso8601("2026-01-01T00:00:00Z"));
  auto before = clock.now();
  clock.advance(std::chrono::seconds(5));
  EXPECT_EQ(clock.now() - before, std::chrono::seconds(5));
}

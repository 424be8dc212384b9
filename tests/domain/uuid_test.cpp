#include <gtest/gtest.h>

#include <set>

#include "domain/uuid.hpp"

using namespace osprey;

TEST(Uuid, RoundTripsText) {
  auto id = uuid::parse("0E8F5A3C-1B2D-4C5E-8F90-A1B2C3D4E5F6");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->to_string(), "0e8f5a3c-1b2d-4c5e-8f90-a1b2c3d4e5f6");
  EXPECT_EQ(uuid::parse("0e8f5a3c1b2d4c5e8f90a1b2c3d4e5f6"), id);
}

TEST(Uuid, RejectsMalformed) {
  for (const char* bad : {"", "not-a-uuid", "0e8f5a3c-1b2d-4c5e-8f90-a1b2c3d4e5f",
                          "0e8f5a3c+1b2d-4c5e-8f90-a1b2c3d4e5f6", "ge8f5a3c-1b2d-4c5e-8f90-a1b2c3d4e5f6"})
    EXPECT_FALSE(uuid::parse(bad)) << bad;
}

TEST(Uuid, Version4IsRandomAndVersioned) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto s = new_uuid4().to_string();
    EXPECT_EQ(s[14], '4');
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Uuid, Version7IsOrderedByTime) {
  auto t = *parse_iso8601("2026-11-26T00:00:00Z");
  auto a = new_uuid7(t);
  auto b = new_uuid7(t + std::chrono::milliseconds(1));
  EXPECT_LT(a, b);
  EXPECT_EQ(a.to_string()[14], '7');
}

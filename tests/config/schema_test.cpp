// The settings table itself: names, parsing primitives.

#include <gtest/gtest.h>

#include "config/schema.hpp"

namespace osprey::config::detail {
namespace {

TEST(schema, environment_name_upper_cases_and_replaces_dots) {
  EXPECT_EQ(environment_name("server.port"), "OSPREY_SERVER_PORT");
  EXPECT_EQ(environment_name("database.group_commit.max_batch"), "OSPREY_DATABASE_GROUP_COMMIT_MAX_BATCH");
}

TEST(schema, parse_uint_takes_plain_decimal_only) {
  EXPECT_EQ(parse_uint("4200"), 4200u);
  EXPECT_FALSE(parse_uint("-1"));
  EXPECT_FALSE(parse_uint("+1"));
  EXPECT_FALSE(parse_uint(" 1"));
  EXPECT_FALSE(parse_uint("0x10"));
  EXPECT_FALSE(parse_uint("99999999999999999999"));
}

TEST(schema, parse_bool_rejects_other_words) {
  EXPECT_EQ(parse_bool("TRUE"), true);
  EXPECT_EQ(parse_bool("off"), false);
  EXPECT_FALSE(parse_bool("maybe"));
  EXPECT_FALSE(parse_bool(""));
}

TEST(schema, sections_and_children) {
  EXPECT_TRUE(is_section("database.group_commit"));
  EXPECT_FALSE(is_section("server.port"));
  EXPECT_EQ(children(""),
            (std::vector<std::string>{"server", "database", "logging", "concurrency", "services", "encryption"}));
}

TEST(schema, every_field_round_trips_its_default) {
  for (const auto& f : fields()) {
    settings values;
    const auto shown = f.show(values);
    EXPECT_FALSE(f.apply(shown, values).has_value()) << f.key << " = " << shown;
    EXPECT_EQ(f.show(values), shown) << f.key;
  }
}

}  // namespace
}  // namespace osprey::config::detail

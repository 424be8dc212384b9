// Database URLs: schemes, SQLite paths, and passwords that never reach messages.
#include <gtest/gtest.h>

#include "persistence/sql.hpp"

using namespace osprey;
using persistence::parse_database_url;

TEST(DatabaseUrl, SqlitePathsFollowSqlAlchemy) {
  EXPECT_EQ(parse_database_url("sqlite:////var/lib/osprey.db")->sqlite_path, "/var/lib/osprey.db");
  EXPECT_EQ(parse_database_url("sqlite:///relative.db")->sqlite_path, "relative.db");
  EXPECT_EQ(parse_database_url("sqlite+aiosqlite:///x.db")->sqlite_path, "x.db");
  EXPECT_FALSE(parse_database_url("sqlite://x.db"));
}

TEST(DatabaseUrl, UnsupportedSchemesAreNamed) {
  auto r = parse_database_url("mysql://u@h/db");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("mysql"), std::string::npos);
}

TEST(DatabaseUrl, PasswordsAreRedactedForDisplay) {
  EXPECT_EQ(parse_database_url("postgresql://u:secret@h:5432/db")->display, "postgresql://u:***@h:5432/db");
  EXPECT_EQ(parse_database_url("postgresql://u:p@ss@h/db")->display, "postgresql://u:***@h/db");
  EXPECT_EQ(parse_database_url("postgresql://u@h/db?password=secret&sslmode=off")->display,
            "postgresql://u@h/db?password=***&sslmode=off");
  EXPECT_EQ(parse_database_url("postgres://h/db")->display, "postgres://h/db");
}

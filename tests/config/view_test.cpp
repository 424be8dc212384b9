// `osprey config view` and redaction.

#include "tests/config/fixture.hpp"

#include <sstream>

namespace osprey::config::test {
namespace {

std::string line_of(const std::string& view, const std::string& key) {
  std::istringstream lines(view);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(key + " ")) return line;
  }
  return "";
}

TEST(redact_url, hides_the_password) {
  EXPECT_EQ(redact_url("postgresql://osprey:s3cret@db:5432/osprey"), "postgresql://osprey:***@db:5432/osprey");
}

TEST(redact_url, hides_a_password_containing_at_signs) {
  EXPECT_EQ(redact_url("postgres://u:p@ss@db/x"), "postgres://u:***@db/x");
}

TEST(redact_url, hides_a_password_query_parameter) {
  EXPECT_EQ(redact_url("postgresql://db/x?sslmode=require&password=s3cret"),
            "postgresql://db/x?sslmode=require&password=***");
}

TEST(redact_url, leaves_urls_without_password_alone) {
  EXPECT_EQ(redact_url("postgresql://osprey@db/x"), "postgresql://osprey@db/x");
  EXPECT_EQ(redact_url("sqlite:////var/lib/osprey.db"), "sqlite:////var/lib/osprey.db");
  EXPECT_EQ(redact_url("not a url"), "not a url");
}

TEST_F(config_test, view_redacts_the_database_password) {
  request.environment["OSPREY_DATABASE_URL"] = "postgresql://osprey:s3cret@db/osprey";
  const auto view = render_view(load_ok());
  EXPECT_FALSE(contains(view, "s3cret"));
  EXPECT_TRUE(contains(line_of(view, "database.url"), "postgresql://osprey:***@db/osprey"));
  EXPECT_TRUE(contains(line_of(view, "database.url"), "# env OSPREY_DATABASE_URL"));
}

TEST_F(config_test, view_shows_home_config_file_and_sources) {
  const auto path = use_file("server:\n  port: 4301\n");
  request.flags = {{"logging.level", "debug"}};
  request.flag_names = {{"logging.level", "--log-level"}};
  const auto view = render_view(load_ok());
  EXPECT_TRUE(view.starts_with("home "));
  EXPECT_TRUE(contains(line_of(view, "home"), "= " + home + " "));
  EXPECT_TRUE(contains(line_of(view, "home"), "# env OSPREY_HOME"));
  EXPECT_TRUE(contains(line_of(view, "config file"), path));
  EXPECT_TRUE(contains(line_of(view, "server.port"), "= 4301"));
  EXPECT_TRUE(contains(line_of(view, "server.port"), "# " + path + ":2"));
  EXPECT_TRUE(contains(line_of(view, "logging.level"), "# flag --log-level"));
  EXPECT_TRUE(contains(line_of(view, "server.host"), "# default"));
}

TEST_F(config_test, view_shows_the_default_database_url) {
  const auto view = render_view(load_ok());
  EXPECT_TRUE(contains(line_of(view, "database.url"), "sqlite:///" + home + "/osprey.db"));
}

TEST_F(config_test, view_aligns_values_and_sources) {
  const auto view = render_view(load_ok());
  const auto port = line_of(view, "server.port");
  const auto readers = line_of(view, "database.readers");
  EXPECT_EQ(port.find(" = "), readers.find(" = "));
  EXPECT_EQ(port.find("  # "), readers.find("  # "));
}

}  // namespace
}  // namespace osprey::config::test

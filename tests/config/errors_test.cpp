// Every problem is reported with its key and where it came from (file:line, variable, flag), all at once.

#include "tests/config/fixture.hpp"

namespace osprey::config::test {
namespace {

TEST_F(config_test, unknown_key_names_file_and_line) {
  const auto path = use_file("server:\n  host: 0.0.0.0\n  prot: 4200\n");
  EXPECT_TRUE(has_error(load_errors(), path + ":3: server.prot: unknown key"));
}

TEST_F(config_test, unknown_top_level_and_nested_keys_are_errors) {
  const auto path = use_file("sever:\n  port: 1\ndatabase:\n  group_commit:\n    max_size: 3\n");
  const auto errors = load_errors();
  EXPECT_TRUE(has_error(errors, path + ":1: sever: unknown key"));
  EXPECT_TRUE(has_error(errors, path + ":5: database.group_commit.max_size: unknown key"));
}

TEST_F(config_test, mapping_where_a_value_is_expected) {
  const auto path = use_file("server:\n  port:\n    number: 1\n");
  EXPECT_TRUE(has_error(load_errors(), path + ":2: server.port: expected a single value, got a mapping"));
}

TEST_F(config_test, value_where_a_mapping_is_expected) {
  const auto path = use_file("server: 4200\n");
  EXPECT_TRUE(has_error(load_errors(), path + ":1: server: expected a mapping"));
}

TEST_F(config_test, text_for_an_integer) {
  const auto path = use_file("server:\n  port: abc\n");
  EXPECT_TRUE(has_error(load_errors(), path + ":2: server.port: expected an integer between 0 and 65535, got 'abc'"));
}

TEST_F(config_test, word_for_a_boolean) {
  const auto path = use_file("database:\n  migrate_on_start: maybe\n");
  EXPECT_TRUE(has_error(load_errors(), path + ":2: database.migrate_on_start: expected a boolean"));
}

TEST_F(config_test, out_of_range_and_unknown_values) {
  use_file(
      "server:\n  port: 70000\n  io_threads: 0\nlogging:\n  level: loud\n"
      "database:\n  url: mysql://u:hunter2@db/x\n  sqlite_synchronous: OFF\n");
  const auto errors = load_errors();
  EXPECT_TRUE(has_error(errors, ":2: server.port: expected an integer between 0 and 65535, got '70000'"));
  EXPECT_TRUE(has_error(errors, ":3: server.io_threads: expected an integer between 1 and 64, got '0'"));
  EXPECT_TRUE(has_error(errors, ":5: logging.level: expected one of debug, info, warning, error, got 'loud'"));
  EXPECT_TRUE(has_error(errors, ":7: database.url: unsupported URL 'mysql://u:***@db/x'"));
  EXPECT_TRUE(has_error(errors, ":8: database.sqlite_synchronous: expected one of FULL, NORMAL"));
}

TEST_F(config_test, secrets_never_appear_in_errors) {
  use_file("database:\n  url: mysql://u:hunter2@db/x\n");
  for (const auto& error : load_errors()) EXPECT_FALSE(contains(error, "hunter2")) << error;
}

TEST_F(config_test, sqlite_url_needs_a_path) {
  request.environment["OSPREY_DATABASE_URL"] = "sqlite:///";
  EXPECT_TRUE(has_error(load_errors(), "environment OSPREY_DATABASE_URL: database.url: a sqlite URL needs a path"));
}

TEST_F(config_test, all_errors_are_reported_at_once) {
  use_file("server:\n  port: abc\n  bogus: 1\ndatabase:\n  readers: 99\n");
  request.environment["OSPREY_LOGGING_LEVEL"] = "loud";
  request.flags = {{"server.io_threads", "0"}};
  request.flag_names = {{"server.io_threads", "--io-threads"}};
  const auto errors = load_errors();
  EXPECT_EQ(errors.size(), 5u);
  EXPECT_TRUE(has_error(errors, "environment OSPREY_LOGGING_LEVEL: logging.level: expected one of"));
  EXPECT_TRUE(has_error(errors, "flag --io-threads: server.io_threads: expected an integer"));
}

TEST_F(config_test, unset_variable_names_key_file_and_line) {
  const auto path = use_file("server:\n  host: 0.0.0.0\ndatabase:\n  url: postgresql://u:${DB_PASSWORD}@db/x\n");
  EXPECT_TRUE(has_error(load_errors(), path + ":4: database.url: environment variable DB_PASSWORD is not set"));
}

TEST_F(config_test, all_unset_variables_of_a_value_are_named) {
  use_file("database:\n  url: postgresql://${DB_USER}:${DB_PASSWORD}@db/x\n");
  EXPECT_TRUE(has_error(load_errors(), "environment variables DB_USER, DB_PASSWORD are not set"));
}

TEST_F(config_test, unterminated_variable_is_an_error) {
  use_file("server:\n  host: ${HOST\n");
  EXPECT_TRUE(has_error(load_errors(), ":2: server.host: unterminated '${'"));
}

TEST_F(config_test, yaml_syntax_error_names_file_and_line) {
  const auto path = use_file("server:\n  port: 1\n   host: x\n");
  EXPECT_TRUE(has_error(load_errors(), path + ":3: invalid YAML: illegal map value"));
}

TEST_F(config_test, top_level_list_is_an_error) {
  const auto path = use_file("- server\n- database\n");
  EXPECT_TRUE(has_error(load_errors(), path + ":1: expected a mapping of settings at the top level, got a list"));
}

TEST_F(config_test, duplicate_key_is_an_error) {
  const auto path = use_file("server:\n  port: 1\n  port: 2\n");
  EXPECT_TRUE(has_error(load_errors(), path + ":3: server.port: duplicate key (first set on line 2)"));
}

TEST_F(config_test, notifications_must_be_a_mapping) {
  const auto path = use_file("notifications: yes\n");
  EXPECT_TRUE(has_error(load_errors(), path + ":1: notifications: expected a mapping"));
}

TEST_F(config_test, unknown_flag_key_is_an_error) {
  request.flags = {{"server.colour", "blue"}};
  EXPECT_TRUE(has_error(load_errors(), "flag --server.colour: server.colour: unknown setting"));
}

TEST_F(config_test, json_nesting_limit_stays_within_what_sqlite_json_reads) {
  use_file("server:\n  json_max_depth: 1001\n");
  EXPECT_TRUE(has_error(load_errors(), "server.json_max_depth: expected an integer between 1 and 1000, got '1001'"));
  request.config_file.reset();
  request.environment["OSPREY_SERVER_JSON_MAX_DEPTH"] = "64";
  EXPECT_EQ(load_ok().values.server.json_max_depth, 64u);
}

TEST_F(config_test, allowed_origins_must_be_origins) {
  use_file("server:\n  allowed_origins: [https://ui.example.com/app]\n");
  EXPECT_TRUE(has_error(load_errors(), ":2: server.allowed_origins: expected origins such as https://ui.example.com"));
  use_file("server:\n  allowed_origins: [[a]]\n");
  EXPECT_TRUE(has_error(load_errors(), "server.allowed_origins: expected a list of single values"));
}

TEST_F(config_test, error_text_has_where_key_and_message) {
  const config_error error{"server.port", "a.yaml:7", "expected an integer"};
  EXPECT_EQ(error.to_string(), "a.yaml:7: server.port: expected an integer");
  EXPECT_EQ((config_error{"", "a.yaml", "config file not found"}).to_string(), "a.yaml: config file not found");
}

TEST_F(config_test, a_foreman_interval_of_zero_is_refused) {
  request.environment["OSPREY_SERVICES_FOREMAN_INTERVAL_SECONDS"] = "0";
  EXPECT_TRUE(has_error(load_errors(), "services.foreman.interval_seconds: expected an integer between 1"));
}

TEST_F(config_test, a_lease_reaper_interval_of_zero_is_refused) {
  request.environment["OSPREY_SERVICES_CONCURRENCY_LEASE_REAPER_INTERVAL_SECONDS"] = "0";
  EXPECT_TRUE(
      has_error(load_errors(), "services.concurrency_lease_reaper.interval_seconds: expected an integer between 1"));
}

}  // namespace
}  // namespace osprey::config::test

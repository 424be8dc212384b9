// Precedence: defaults < YAML file < OSPREY_* environment < flags, each recorded as the value's source.

#include "tests/config/fixture.hpp"

namespace osprey::config::test {
namespace {

TEST_F(config_test, file_overrides_default) {
  const auto path = use_file("server:\n  host: 0.0.0.0\ndatabase:\n  group_commit:\n    max_batch: 64\n");
  const auto loaded = load_ok();
  EXPECT_EQ(loaded.values.server.host, "0.0.0.0");
  EXPECT_EQ(loaded.values.database.group_commit_max_batch, 64u);
  EXPECT_EQ(loaded.sources.at("database.group_commit.max_batch").from, source::kind::file);
  EXPECT_EQ(loaded.sources.at("database.group_commit.max_batch").detail, path + ":5");
}

TEST_F(config_test, environment_overrides_file) {
  use_file("server:\n  port: 4301\n");
  request.environment["OSPREY_SERVER_PORT"] = "4302";
  const auto loaded = load_ok();
  EXPECT_EQ(loaded.values.server.port, 4302);
  EXPECT_EQ(loaded.sources.at("server.port").from, source::kind::environment);
  EXPECT_EQ(loaded.sources.at("server.port").detail, "OSPREY_SERVER_PORT");
}

TEST_F(config_test, flag_overrides_environment) {
  request.environment["OSPREY_SERVER_PORT"] = "4302";
  request.flags = {{"server.port", "4303"}};
  request.flag_names = {{"server.port", "--port"}};
  const auto loaded = load_ok();
  EXPECT_EQ(loaded.values.server.port, 4303);
  EXPECT_EQ(loaded.sources.at("server.port").from, source::kind::flag);
  EXPECT_EQ(loaded.sources.at("server.port").detail, "--port");
}

TEST_F(config_test, environment_names_are_dotted_keys_upper_cased) {
  request.environment["OSPREY_DATABASE_GROUP_COMMIT_MAX_BATCH"] = "7";
  request.environment["OSPREY_DATABASE_URL"] = "postgres://db/osprey";
  request.environment["OSPREY_LOGGING_LEVEL"] = "DEBUG";
  const auto loaded = load_ok();
  EXPECT_EQ(loaded.values.database.group_commit_max_batch, 7u);
  EXPECT_EQ(loaded.values.database.url, "postgres://db/osprey");
  EXPECT_EQ(loaded.values.logging.level, "debug");
}

TEST_F(config_test, allowed_origins_are_a_yaml_list_or_comma_separated) {
  use_file("server:\n  allowed_origins:\n    - https://ui.example.com\n    - http://10.0.0.5:8080\n");
  EXPECT_EQ(load_ok().values.server.allowed_origins,
            (std::vector<std::string>{"https://ui.example.com", "http://10.0.0.5:8080"}));
  request.environment["OSPREY_SERVER_ALLOWED_ORIGINS"] = " https://a.example ,http://b.example:81,";
  const auto loaded = load_ok();
  EXPECT_EQ(loaded.values.server.allowed_origins,
            (std::vector<std::string>{"https://a.example", "http://b.example:81"}));
  request.environment["OSPREY_SERVER_ALLOWED_ORIGINS"] = "";
  EXPECT_TRUE(load_ok().values.server.allowed_origins.empty());
}

TEST_F(config_test, short_aliases_set_host_and_port) {
  request.environment["OSPREY_HOST"] = "0.0.0.0";
  request.environment["OSPREY_PORT"] = "4400";
  const auto loaded = load_ok();
  EXPECT_EQ(loaded.values.server.host, "0.0.0.0");
  EXPECT_EQ(loaded.values.server.port, 4400);
  EXPECT_EQ(loaded.sources.at("server.port").detail, "OSPREY_PORT");
}

TEST_F(config_test, long_name_beats_short_alias_with_a_warning) {
  request.environment["OSPREY_PORT"] = "4400";
  request.environment["OSPREY_SERVER_PORT"] = "4401";
  const auto loaded = load_ok();
  EXPECT_EQ(loaded.values.server.port, 4401);
  ASSERT_EQ(loaded.warnings.size(), 1u);
  EXPECT_TRUE(contains(loaded.warnings[0], "OSPREY_PORT is ignored"));
}

TEST_F(config_test, unknown_osprey_variables_are_ignored_typos_warned) {
  request.environment["OSPREY_BINARY"] = "/bin/osprey";
  request.environment["OSPREY_SERVER_PROT"] = "1";
  const auto loaded = load_ok();
  ASSERT_EQ(loaded.warnings.size(), 1u);
  EXPECT_TRUE(contains(loaded.warnings[0], "OSPREY_SERVER_PROT"));
}

TEST_F(config_test, flag_without_a_name_is_shown_with_the_prefix) {
  request.flags = {{"logging.level", "error"}};
  EXPECT_EQ(load_ok().sources.at("logging.level").detail, "--logging.level");
}

TEST_F(config_test, booleans_accept_common_spellings) {
  for (const auto& [text, expected] : std::map<std::string, bool>{{"true", true},
                                                                  {"Yes", true},
                                                                  {"ON", true},
                                                                  {"1", true},
                                                                  {"false", false},
                                                                  {"no", false},
                                                                  {"Off", false},
                                                                  {"0", false}}) {
    request.environment["OSPREY_DATABASE_MIGRATE_ON_START"] = text;
    EXPECT_EQ(load_ok().values.database.migrate_on_start, expected) << text;
  }
}

TEST_F(config_test, choices_are_case_insensitive_and_stored_canonically) {
  use_file("database:\n  sqlite_synchronous: normal\nlogging:\n  level: Warning\n");
  const auto loaded = load_ok();
  EXPECT_EQ(loaded.values.database.sqlite_synchronous, "NORMAL");
  EXPECT_EQ(loaded.values.logging.level, "warning");
}

TEST_F(config_test, durations_are_read_in_the_unit_their_key_names) {
  use_file(
      "server:\n  request_timeout_seconds: 9\ndatabase:\n  timeout_ms: 250\n"
      "  group_commit:\n    max_delay_us: 75\n");
  const auto loaded = load_ok();
  EXPECT_EQ(loaded.values.server.request_timeout, std::chrono::seconds(9));
  EXPECT_EQ(loaded.values.database.busy_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(loaded.values.database.group_commit_max_delay, std::chrono::microseconds(75));
}

TEST_F(config_test, variables_in_yaml_values_are_substituted) {
  request.environment["DB_PASSWORD"] = "s3cret";
  use_file("database:\n  url: postgresql://osprey:${DB_PASSWORD}@db/osprey\n");
  EXPECT_EQ(load_ok().values.database.url, "postgresql://osprey:s3cret@db/osprey");
}

TEST_F(config_test, double_dollar_escapes_substitution) {
  use_file("server:\n  host: \"$${NOT_A_VAR}\"\n");
  EXPECT_EQ(load_ok().values.server.host, "${NOT_A_VAR}");
}

TEST_F(config_test, environment_values_are_taken_literally) {
  request.environment["OSPREY_SERVER_HOST"] = "${HOST_NAME}";
  EXPECT_EQ(load_ok().values.server.host, "${HOST_NAME}");
}

TEST_F(config_test, concurrency_waits_and_the_lease_reaper_come_from_file_and_environment) {
  use_file("concurrency:\n  tag_slot_wait_seconds: 2\nservices:\n  concurrency_lease_reaper:\n    enabled: false\n");
  request.environment["OSPREY_SERVICES_CONCURRENCY_LEASE_REAPER_INTERVAL_SECONDS"] = "3";
  const auto loaded = load_ok();
  EXPECT_EQ(loaded.values.concurrency.tag_slot_wait, std::chrono::seconds(2));
  EXPECT_EQ(loaded.values.concurrency.maximum_slot_wait, std::chrono::seconds(30));
  EXPECT_FALSE(loaded.values.services.lease_reaper_enabled);
  EXPECT_EQ(loaded.values.services.lease_reaper_interval, std::chrono::seconds(3));
}

TEST_F(config_test, the_foreman_has_prefects_defaults_and_takes_file_and_environment) {
  EXPECT_TRUE(load_ok().values.services.foreman_enabled);
  EXPECT_EQ(load_ok().values.services.foreman_interval, std::chrono::seconds(15));
  EXPECT_EQ(load_ok().values.services.foreman_heartbeat_multiple, 3);
  use_file("services:\n  foreman:\n    enabled: false\n    fallback_heartbeat_interval_seconds: 10\n");
  request.environment["OSPREY_SERVICES_FOREMAN_WORK_QUEUE_LAST_POLLED_TIMEOUT_SECONDS"] = "90";
  const auto loaded = load_ok();
  EXPECT_FALSE(loaded.values.services.foreman_enabled);
  EXPECT_EQ(loaded.values.services.foreman_fallback_heartbeat, std::chrono::seconds(10));
  EXPECT_EQ(loaded.values.services.foreman_queue_timeout, std::chrono::seconds(90));
}

}  // namespace
}  // namespace osprey::config::test

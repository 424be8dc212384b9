// Defaults, home, and which YAML file is read.

#include <cstdlib>

#include "tests/config/fixture.hpp"

namespace osprey::config::test {
namespace {

TEST_F(config_test, defaults_when_nothing_is_configured) {
  const auto loaded = load_ok();
  EXPECT_EQ(loaded.values.server.host, "127.0.0.1");
  EXPECT_EQ(loaded.values.server.port, 4200);
  EXPECT_EQ(loaded.values.database.sqlite_synchronous, "FULL");
  EXPECT_EQ(loaded.values.logging.level, "info");
  EXPECT_FALSE(loaded.config_file.has_value());
  EXPECT_EQ(loaded.sources.at("server.port").from, source::kind::default_value);
  EXPECT_EQ(loaded.sources.size(), 66u);
  // CSRF protection is off by default, as in Prefect; tokens last an hour.
  EXPECT_FALSE(loaded.values.server.csrf_protection);
  EXPECT_EQ(loaded.values.server.csrf_token_expiration, std::chrono::seconds(3600));
  // The UI: Prefect 3.9.1's default bundle (v2), at /, under $OSPREY_HOME/ui.
  EXPECT_TRUE(loaded.values.server.ui.enabled);
  EXPECT_EQ(loaded.values.server.ui.default_ui, "v2");
  EXPECT_EQ(loaded.values.server.ui.base_path, "/");
  EXPECT_EQ(loaded.values.effective_ui_dir(), loaded.values.home / "ui");
  // The scheduler's defaults are Prefect's PREFECT_API_SERVICES_SCHEDULER_*.
  EXPECT_TRUE(loaded.values.services.scheduler_enabled);
  EXPECT_EQ(loaded.values.services.scheduler_loop, std::chrono::seconds(60));
  EXPECT_EQ(loaded.values.services.scheduler_min_runs, 3u);
  EXPECT_EQ(loaded.values.services.scheduler_max_runs, 100u);
  EXPECT_EQ(loaded.values.services.scheduler_min_time, std::chrono::hours(1));
  EXPECT_EQ(loaded.values.services.scheduler_max_time, std::chrono::hours(24 * 100));
}

TEST_F(config_test, home_comes_from_osprey_home) {
  const auto loaded = load_ok();
  EXPECT_EQ(loaded.values.home, std::filesystem::path(home));
  EXPECT_EQ(loaded.home_source.detail, "OSPREY_HOME");
}

TEST_F(config_test, home_defaults_to_dot_osprey_under_home_never_prefect) {
  request.environment = {{"HOME", dir.string()}};
  EXPECT_EQ(load_ok().values.home, dir / ".osprey");
}

TEST_F(config_test, no_home_at_all_is_an_error) {
  request.environment = {};
  EXPECT_TRUE(has_error(load_errors(), "neither OSPREY_HOME nor HOME is set"));
}

TEST_F(config_test, effective_database_url_defaults_to_sqlite_in_home) {
  const auto loaded = load_ok();
  EXPECT_EQ(loaded.values.effective_database_url(), "sqlite:///" + home + "/osprey.db");
  EXPECT_TRUE(loaded.values.effective_database_url().starts_with("sqlite:////"));
}

TEST_F(config_test, effective_database_url_is_the_configured_url_when_set) {
  settings values;
  values.database.url = "postgresql://u@db/osprey";
  EXPECT_EQ(values.effective_database_url(), "postgresql://u@db/osprey");
}

TEST_F(config_test, default_config_file_in_osprey_home_is_read) {
  const auto path = write("home/config.yaml", "server:\n  port: 4301\n");
  const auto loaded = load_ok();
  EXPECT_EQ(loaded.values.server.port, 4301);
  EXPECT_EQ(loaded.config_file, path);
  EXPECT_EQ(loaded.sources.at("server.port").detail, path + ":2");
}

TEST_F(config_test, osprey_config_names_the_file) {
  write("home/config.yaml", "server:\n  port: 4301\n");
  request.environment["OSPREY_CONFIG"] = write("other.yaml", "server:\n  port: 4302\n");
  EXPECT_EQ(load_ok().values.server.port, 4302);
}

TEST_F(config_test, config_flag_beats_osprey_config) {
  request.environment["OSPREY_CONFIG"] = write("other.yaml", "server:\n  port: 4302\n");
  use_file("server:\n  port: 4303\n");
  const auto loaded = load_ok();
  EXPECT_EQ(loaded.values.server.port, 4303);
  EXPECT_EQ(loaded.config_file_source.detail, "--config");
}

TEST_F(config_test, missing_config_flag_file_is_an_error) {
  request.config_file = (dir / "absent.yaml").string();
  EXPECT_TRUE(has_error(load_errors(), "absent.yaml: config file not found (named by --config)"));
}

TEST_F(config_test, missing_osprey_config_file_is_an_error) {
  request.environment["OSPREY_CONFIG"] = (dir / "absent.yaml").string();
  EXPECT_TRUE(has_error(load_errors(), "config file not found (named by environment OSPREY_CONFIG)"));
}

TEST_F(config_test, empty_file_sets_nothing) {
  use_file("");
  EXPECT_EQ(load_ok().values.server.port, 4200);
}

TEST_F(config_test, notifications_section_loads_beside_other_settings) {
  use_file(
      "notifications:\n  channels:\n    - {name: s, type: slack, url: https://hooks.example/x}\n"
      "server:\n  port: 1\n");
  const auto loaded = load_ok();
  EXPECT_EQ(loaded.values.server.port, 1);
  ASSERT_EQ(loaded.values.notifications.channels.size(), 1u);
  EXPECT_EQ(loaded.values.notifications.channels[0].name, "s");
}

TEST_F(config_test, environment_from_process_matches_getenv) {
  const auto environment = environment_from_process();
  const char* path = std::getenv("PATH");
  ASSERT_NE(path, nullptr);
  EXPECT_EQ(environment.at("PATH"), path);
}

TEST_F(config_test, a_dead_after_shorter_than_three_heartbeats_is_an_error_naming_both_settings) {
  request.environment["OSPREY_SERVICES_CLUSTER_HEARTBEAT_SECONDS"] = "10";
  request.environment["OSPREY_SERVICES_CLUSTER_DEAD_AFTER_SECONDS"] = "20";
  EXPECT_TRUE(has_error(load_errors(),
                        "environment OSPREY_SERVICES_CLUSTER_DEAD_AFTER_SECONDS: "
                        "services.cluster.dead_after_seconds: must be at least 3 × "
                        "services.cluster.heartbeat_seconds (10 s)"));
  request.environment["OSPREY_SERVICES_CLUSTER_DEAD_AFTER_SECONDS"] = "30";
  EXPECT_EQ(load_ok().values.services.cluster_dead_after, std::chrono::seconds(30));
}

}  // namespace
}  // namespace osprey::config::test

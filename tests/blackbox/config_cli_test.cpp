// `osprey config view` and the help screens, run as the real binary.

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "tests/support/scratch.hpp"

namespace osprey::testing {
namespace {

/// The line of `config view` output for `key` ("" when missing).
std::string line_for(const std::string& out, const std::string& key) {
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with(key + " ")) return line;
  return "";
}

/// "key   = value   # source" with any alignment.
::testing::AssertionResult shows(const std::string& out, const std::string& key, const std::string& value,
                                 const std::string& source) {
  const std::string line = line_for(out, key);
  std::smatch m;
  static const std::regex shape(R"(^(\S+)\s+= (.*?)\s+# (.*)$)");
  if (!std::regex_match(line, m, shape))
    return ::testing::AssertionFailure() << "no line for " << key << " in\n" << out;
  if (m[2] != value || m[3] != source)
    return ::testing::AssertionFailure() << "expected '" << key << " = " << value << "  # " << source << "', got '"
                                         << line << "'";
  return ::testing::AssertionSuccess();
}

class ConfigCliTest : public ::testing::Test {
 protected:
  std::string write_config(const std::string& text) {
    const auto path = home_.path() / "osprey.yaml";
    std::ofstream(path) << text;
    return path.string();
  }
  std::map<std::string, std::string> env(std::map<std::string, std::string> more = {}) const {
    more["OSPREY_HOME"] = home_.path().string();
    return more;
  }
  scratch_dir home_;
};

TEST_F(ConfigCliTest, ViewShowsEachSettingWithItsSource) {
  const auto file = write_config("server:\n  io_threads: 3\n  port: 4300\n");
  auto r = run_osprey({"config", "view", "--config", file},
                      env({{"OSPREY_HOST", "127.0.0.5"}, {"OSPREY_DATABASE_READERS", "4"}}));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(shows(r.out, "server.io_threads", "3", file + ":2"));
  EXPECT_TRUE(shows(r.out, "server.port", "4300", file + ":3"));
  EXPECT_TRUE(shows(r.out, "server.host", "127.0.0.5", "env OSPREY_HOST"));
  EXPECT_TRUE(shows(r.out, "database.readers", "4", "env OSPREY_DATABASE_READERS"));
  EXPECT_TRUE(shows(r.out, "logging.level", "info", "default"));
  EXPECT_TRUE(shows(r.out, "database.url", "sqlite:///" + (home_.path() / "osprey.db").string(),
                    "default ($OSPREY_HOME/osprey.db)"));
}

TEST_F(ConfigCliTest, ViewHidesTheDatabasePassword) {
  auto from_env = run_osprey({"config", "view"}, env({{"OSPREY_DATABASE_URL", "postgresql://u:secret@h/db"}}));
  ASSERT_EQ(from_env.exit_code, 0) << from_env.out;
  EXPECT_EQ(from_env.out.find("secret"), std::string::npos) << from_env.out;
  EXPECT_TRUE(shows(from_env.out, "database.url", "postgresql://u:***@h/db", "env OSPREY_DATABASE_URL"));

  const auto file = write_config("database:\n  url: postgresql://u:secret@h/db?password=secret\n");
  auto from_file = run_osprey({"config", "view", "--config", file}, env());
  ASSERT_EQ(from_file.exit_code, 0) << from_file.out;
  EXPECT_EQ(from_file.out.find("secret"), std::string::npos) << from_file.out;
}

TEST_F(ConfigCliTest, ViewOfABadConfigListsEveryErrorAndExits2) {
  const auto file = write_config("server:\n  port: 99999\n  colour: blue\n");
  auto r = run_osprey({"config", "view", "--config", file}, env({{"OSPREY_DATABASE_READERS", "many"}}));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(file + ":2: server.port"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(file + ":3: server.colour"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("OSPREY_DATABASE_READERS"), std::string::npos) << r.out;
}

TEST_F(ConfigCliTest, ViewOfAMissingConfigFileExits2) {
  auto r = run_osprey({"config", "view", "--config", (home_.path() / "absent.yaml").string()}, env());
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("absent.yaml"), std::string::npos) << r.out;
}

TEST(CliHelp, HelpScreensExitZero) {
  struct screen {
    std::vector<std::string> args;
    std::string mentions;
  };
  for (const auto& s : std::vector<screen>{{{"--help"}, "server"},
                                           {{"server", "start", "--help"}, "--port"},
                                           {{"config", "view", "--help"}, "--config"}}) {
    auto r = run_osprey(s.args);
    EXPECT_EQ(r.exit_code, 0) << s.args.back() << "\n" << r.out;
    EXPECT_NE(r.out.find(s.mentions), std::string::npos) << r.out;
  }
}

TEST(CliHelp, UnknownCommandExits2) { EXPECT_EQ(run_osprey({"frobnicate"}).exit_code, 2); }

TEST_F(ConfigCliTest, ServicesLsShowsEachServiceAsConfigured) {
  const auto file = write_config("services:\n  late_runs:\n    loop_seconds: 9\n  foreman:\n    enabled: false\n");
  auto r =
      run_osprey({"server", "services", "ls", "--config", file}, env({{"OSPREY_SERVICES_SCHEDULER_ENABLED", "false"}}));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\nscheduler\s+no\s+60s\s)"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\nlate_runs\s+yes\s+9s\s+marks runs Late 15s)"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\nforeman\s+no\s)"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\nconcurrency_lease_reaper\s+yes\s+15s)"))) << r.out;
}

}  // namespace
}  // namespace osprey::testing

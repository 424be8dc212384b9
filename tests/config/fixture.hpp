#pragma once
// Plumbing for config tests: a private temp directory as OSPREY_HOME, an injected environment, YAML
// written to temp files. Nothing reads the real home directory or process environment.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "config/loader.hpp"

namespace osprey::config::test {

class config_test : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::random_device random;
    dir = std::filesystem::temp_directory_path() /
          ("osprey-config-" + std::string(info->name()) + "-" + std::to_string(random()) + std::to_string(random()));
    std::filesystem::create_directories(dir);
    home = (dir / "home").string();
    request.environment = {{"OSPREY_HOME", home}};
  }

  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  /// Writes `yaml` to dir/name (name may contain a subdirectory) and returns the path.
  std::string write(const std::string& name, const std::string& yaml) {
    const auto path = dir / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << yaml;
    return path.string();
  }

  /// Writes `yaml` and points --config at it.
  std::string use_file(const std::string& yaml) { return *(request.config_file = write("config.yaml", yaml)); }

  /// Loads, failing the test on any error.
  loaded_settings load_ok() {
    auto outcome = load(request);
    for (const auto& e : outcome.errors) ADD_FAILURE() << "unexpected error: " << e.to_string();
    return outcome.loaded.value_or(loaded_settings{});
  }

  /// Loads expecting failure; the errors as printed to users.
  std::vector<std::string> load_errors() {
    auto outcome = load(request);
    EXPECT_FALSE(outcome.loaded.has_value()) << "expected the load to fail";
    std::vector<std::string> out;
    for (const auto& e : outcome.errors) out.push_back(e.to_string());
    return out;
  }

  std::filesystem::path dir;
  std::string home;
  load_request request;
};

/// Passes when some error contains `text`; prints them all otherwise.
inline ::testing::AssertionResult has_error(const std::vector<std::string>& errors, const std::string& text) {
  std::string all;
  for (const auto& e : errors) {
    if (e.find(text) != std::string::npos) return ::testing::AssertionSuccess();
    all += "\n  " + e;
  }
  return ::testing::AssertionFailure() << "no error contains '" << text << "'; errors:" << all;
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace osprey::config::test

#pragma once
// The usual black-box fixture: the built daemon on a scratch database of the test's dialect (SQLite, or
// PostgreSQL when OSPREY_TEST_POSTGRES_URL is set) with a scratch home. Instantiate with
//   INSTANTIATE_TEST_SUITE_P(D, MyRoutes, ::testing::ValuesIn(all_dialects()),
//                            dialect_test_name<::testing::TestParamInfo<dialect>>);

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>

#include "tests/support/scratch.hpp"

namespace osprey::testing {

class daemon_test : public ::testing::TestWithParam<persistence::dialect> {
protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    start();
  }

  /// Starts the daemon (stopping the one running), with `env` on top of its home and database. Keeps both, so a
  /// second call is a restart on the same data.
  void start(std::map<std::string, std::string> env = {}) {
    daemon_.reset();
    env["OSPREY_HOME"] = home_.path().string();
    env["OSPREY_DATABASE_URL"] = db_.url();
    daemon_ = std::make_unique<daemon>(std::move(env));
    ASSERT_TRUE(daemon_->started()) << daemon_->output();
  }

  /// A request to `path` under /api; a null body sends none.
  http_reply api(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr) {
    return http_request(method, daemon_->base_url() + "/api" + path, body.is_null() ? "" : body.dump());
  }

  scratch_database db_{GetParam()};
  scratch_dir home_;
  std::unique_ptr<daemon> daemon_;
};

}  // namespace osprey::testing

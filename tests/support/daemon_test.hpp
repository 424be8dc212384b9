#pragma once
// The usual black-box fixture: the built daemon on a scratch database of the test's dialect (SQLite, or
// PostgreSQL when OSPREY_TEST_POSTGRES_URL is set) with a scratch home. Instantiate with
//   INSTANTIATE_TEST_SUITE_P(D, MyRoutes, ::testing::ValuesIn(all_dialects()),
//                            dialect_test_name<::testing::TestParamInfo<dialect>>);
//
// The contract:
// - SetUp skips the test when the dialect's server is not available (fails under CI), then starts the daemon.
//   A fixture that needs more in place (a config file before the start, a flow after it) overrides SetUp:
//     void SetUp() override {
//       OSPREY_SKIP_IF_UNAVAILABLE(db_);
//       ...  // before
//       ASSERT_NO_FATAL_FAILURE(start());
//       ...  // after
//     }
//   and a fixture whose tests each start the daemon (with their own settings) overrides it with the skip alone.
// - environment() is extra environment for every start of the fixture's daemon (a shorter service interval).
// - start(env, args) (re)starts the daemon; a failed start is a fatal failure of the test.
// - api(method, path, body) talks to /api of the running daemon; websocket(path) opens one past Prefect's auth.
// - TearDown stops the daemon before the fixture's own members go (receivers it may still be posting to).
// db_, home_ and daemon_ are the fixture's to use directly (SQL checks, signals, output).

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/prefect_api.hpp"
#include "tests/support/scratch.hpp"
#include "tests/support/ws_client.hpp"

namespace osprey::testing {

class daemon_test : public ::testing::TestWithParam<persistence::dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    start();
  }

  void TearDown() override { daemon_.reset(); }

  /// Environment every start adds (below start's own `env`): the fixture's settings. None by default.
  [[nodiscard]] virtual std::map<std::string, std::string> environment() const { return {}; }

  /// Starts the daemon (stopping the one running), with `env` over environment(), OSPREY_HOME and
  /// OSPREY_DATABASE_URL set to the fixture's, and `args` after `server start --port 0`. Keeps home and
  /// database, so a second call is a restart on the same data.
  void start(std::map<std::string, std::string> env = {}, std::vector<std::string> args = {}) {
    daemon_.reset();
    env.merge(environment());  // keeps the keys `env` has
    env["OSPREY_HOME"] = home_.path().string();
    env["OSPREY_DATABASE_URL"] = db_.url();
    daemon_ = std::make_unique<daemon>(std::move(env), std::move(args));
    ASSERT_TRUE(daemon_->started()) << daemon_->output();
  }

  /// A request to `path` under /api; a null body sends none.
  http_reply api(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr) {
    return http_request(method, daemon_->base_url() + "/api" + path, body.is_null() ? "" : body.dump());
  }

  /// A websocket to `path` on the daemon, past Prefect's auth handshake (each step is expected to succeed).
  std::unique_ptr<ws_client> websocket(const std::string& path) {
    auto ws = std::make_unique<ws_client>();
    EXPECT_TRUE(ws->connect(static_cast<std::uint16_t>(daemon_->port()), path));
    EXPECT_EQ(ws->subprotocol(), "prefect");
    EXPECT_TRUE(ws->send(R"({"type":"auth","token":null})"));
    EXPECT_EQ(ws->read(), R"({"type":"auth_success"})");
    return ws;
  }

  scratch_database db_{GetParam()};
  scratch_dir home_;
  std::unique_ptr<daemon> daemon_;
};

}  // namespace osprey::testing

// server.auth_string (Prefect's PREFECT_SERVER_API_AUTH_STRING), against the real binary: API requests need
// "Authorization: Basic base64(secret)", the probes do not, websocket clients authenticate with the secret as
// their token, and `osprey config view` never shows it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/scratch.hpp"
#include "tests/support/ws_client.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;

constexpr const char* secret = "admin:s3cr3t pass";
constexpr const char* good_header = "Authorization: Basic YWRtaW46czNjcjN0IHBhc3M=";  // base64 of the secret

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<daemon>(std::map<std::string, std::string>{{"OSPREY_HOME", home_.path().string()},
                                                                          {"OSPREY_SERVER_AUTH_STRING", secret}});
    ASSERT_TRUE(daemon_->started()) << daemon_->output();
  }

  http_reply call(const std::string& method, const std::string& path, std::vector<std::string> headers) {
    headers.push_back("Content-Type: application/json");
    return http_request(method, daemon_->base_url() + path, method == "POST" ? "{}" : "", headers);
  }

  scratch_dir home_;
  std::unique_ptr<daemon> daemon_;
};

TEST_F(AuthTest, ApiRequestsNeedTheSecretButProbesDoNot) {
  for (const auto& headers : std::vector<std::vector<std::string>>{{},
                                                                   {"Authorization: Basic d3Jvbmc6c2VjcmV0"},
                                                                   {"Authorization: Bearer YWRtaW46czNjcjN0IHBhc3M="},
                                                                   {"Authorization: Basic not-base64"},
                                                                   {std::string("Authorization: ") + secret}}) {
    for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
             {"POST", "/api/flows/filter"}, {"GET", "/api/admin/version"}, {"GET", "/api/openapi.json"}}) {
      const auto r = call(method, path, headers);
      EXPECT_EQ(r.status, 401) << method << " " << path << " " << (headers.empty() ? "" : headers[0]);
      EXPECT_EQ(json::parse(r.body, nullptr, false).value("exception_message", ""), "Unauthorized") << r.body;
    }
  }
  EXPECT_EQ(call("POST", "/api/flows/filter", {good_header}).status, 200);
  EXPECT_EQ(call("GET", "/api/openapi.json", {good_header}).status, 200);
  EXPECT_EQ(call("GET", "/api/health", {}).status, 200);
  EXPECT_EQ(call("GET", "/api/ready", {}).status, 200);
  // A write refused for want of the secret stores nothing.
  EXPECT_EQ(http_request("POST", daemon_->base_url() + "/api/flows/", R"({"name":"sneaky"})").status, 401);
  EXPECT_EQ(call("GET", "/api/flows/name/sneaky", {good_header}).status, 404);
}

TEST_F(AuthTest, WebsocketsTakeTheSecretAsTheirToken) {
  {
    ws_client ws;
    ASSERT_TRUE(ws.connect(daemon_->port(), "/api/events/in"));
    ASSERT_TRUE(ws.send(json{{"type", "auth"}, {"token", secret}}.dump()));
    const auto answer = ws.read();
    ASSERT_TRUE(answer) << "no auth_success";
    EXPECT_EQ(json::parse(*answer), (json{{"type", "auth_success"}}));
  }
  for (const auto& token : {json("wrong"), json(nullptr)}) {
    ws_client ws;
    ASSERT_TRUE(ws.connect(daemon_->port(), "/api/events/out"));
    ASSERT_TRUE(ws.send(json{{"type", "auth"}, {"token", token}}.dump()));
    const auto closed = ws.wait_closed();
    EXPECT_TRUE(closed.closed);
    EXPECT_EQ(closed.code, 1008) << closed.reason;
  }
  // A client without the prefect subprotocol cannot authenticate at all.
  ws_client legacy;
  ASSERT_TRUE(legacy.connect(daemon_->port(), "/api/events/in", ""));
  const auto closed = legacy.wait_closed();
  EXPECT_TRUE(closed.closed);
  EXPECT_EQ(closed.code, 1002) << closed.reason;
}

TEST_F(AuthTest, ConfigViewNeverShowsTheSecret) {
  auto r =
      run_osprey({"config", "view"}, {{"OSPREY_HOME", home_.path().string()}, {"OSPREY_SERVER_AUTH_STRING", secret}});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find("s3cr3t"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("server.auth_string"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("<secret>"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace osprey::testing

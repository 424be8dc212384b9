// API keys (server.require_api_key), against the real binary: keys made with `osprey api-key create` on the
// server's own database are accepted at once as Bearer or Basic credentials and as websocket tokens, within
// their scope; a revoked key is refused within seconds; repeated failures from one address are throttled;
// the key's text is never stored.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <fstream>
#include <sstream>

#include "tests/support/scratch.hpp"
#include "tests/support/ws_client.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;

std::string base64(const std::string& text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

class ApiKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = {{"OSPREY_HOME", home_.path().string()}, {"OSPREY_SERVER_REQUIRE_API_KEY", "true"}};
    daemon_ = std::make_unique<daemon>(env_);
    ASSERT_TRUE(daemon_->started()) << daemon_->output();
  }

  /// Makes a key with the CLI and returns its text (the first line of standard output).
  std::string create_key(const std::string& name, const std::string& scope) {
    auto r = run_osprey({"api-key", "create", "--name", name, "--scope", scope}, env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    std::istringstream lines(r.out);
    std::string line;
    while (std::getline(lines, line))
      if (line.starts_with("osp_")) return line;
    ADD_FAILURE() << "no key printed: " << r.out;
    return "";
  }

  http_reply call(const std::string& method, const std::string& path, const std::string& authorization,
                  const std::string& body = "{}") {
    std::vector<std::string> headers{"Content-Type: application/json"};
    if (!authorization.empty()) headers.push_back("Authorization: " + authorization);
    return http_request(method, daemon_->base_url() + path, method == "GET" ? "" : body, headers);
  }

  scratch_dir home_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<daemon> daemon_;
};

TEST_F(ApiKeyTest, ScopesDecideWhatAKeyMayCall) {
  const auto reader = create_key("reader", "read");
  const auto writer = create_key("writer", "write");
  const auto admin = create_key("admin", "admin");
  ASSERT_FALSE(reader.empty());

  EXPECT_EQ(call("POST", "/api/flows/filter", "").status, 401);
  EXPECT_EQ(call("GET", "/api/health", "").status, 200);

  // Read: queries, including the POST ones, but no writes.
  EXPECT_EQ(call("POST", "/api/flows/filter", "Bearer " + reader).status, 200);
  EXPECT_EQ(call("GET", "/api/admin/version", "Bearer " + reader).status, 200);
  const auto refused = call("POST", "/api/flows/", "Bearer " + reader, R"({"name":"by-reader"})");
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(json::parse(refused.body).value("detail", "").find("scope read"), std::string::npos) << refused.body;

  // Write: the flows' and workers' calls, as Basic (PREFECT_API_AUTH_STRING) or "user:key".
  EXPECT_EQ(call("POST", "/api/flows/", "Basic " + base64(writer), R"({"name":"by-writer"})").status, 201);
  EXPECT_EQ(call("POST", "/api/flows/", "Basic " + base64("me:" + writer), R"({"name":"by-writer"})").status, 200);
  EXPECT_EQ(call("GET", "/api/flows/name/by-reader", "Bearer " + writer).status, 404);
  EXPECT_EQ(call("DELETE", "/api/admin/storage", "Bearer " + writer).status, 403);
  EXPECT_EQ(call("DELETE", "/api/admin/storage", "Bearer " + admin).status, 204);

  // The database holds hashes, never the text.
  std::ifstream db(home_.path() / "osprey.db", std::ios::binary);
  std::stringstream content;
  content << db.rdbuf();
  EXPECT_EQ(content.str().find(writer.substr(17)), std::string::npos);

  auto listed = run_osprey({"api-key", "ls"}, env_);
  ASSERT_EQ(listed.exit_code, 0) << listed.out;
  EXPECT_NE(listed.out.find("reader"), std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find(writer.substr(17)), std::string::npos) << listed.out;
}

TEST_F(ApiKeyTest, ARevokedKeyIsRefusedWithinSeconds) {
  const auto key = create_key("short-lived", "write");
  ASSERT_EQ(call("POST", "/api/flows/filter", "Bearer " + key).status, 200);
  auto revoked = run_osprey({"api-key", "revoke", "short-lived"}, env_);
  ASSERT_EQ(revoked.exit_code, 0) << revoked.out;
  EXPECT_TRUE(wait_until([&] { return call("POST", "/api/flows/filter", "Bearer " + key).status == 401; },
                         std::chrono::seconds(15)));
  const auto r = call("POST", "/api/flows/filter", "Bearer " + key);
  EXPECT_NE(r.body.find("revoked"), std::string::npos) << r.body;
  EXPECT_NE(run_osprey({"api-key", "revoke", "no-such-key"}, env_).exit_code, 0);
  EXPECT_NE(run_osprey({"api-key", "create", "--name", "x", "--scope", "root"}, env_).exit_code, 0);
}

TEST_F(ApiKeyTest, RepeatedFailuresAreThrottledAndLoggedWithoutTheSecret) {
  const std::string guess = "osp_0123456789ab_" + std::string(48, 'f');
  long last = 0;
  for (int i = 0; i < 25 && last != 429; ++i) last = call("POST", "/api/flows/filter", "Bearer " + guess).status;
  EXPECT_EQ(last, 429);
  const auto r = call("POST", "/api/flows/filter", "Bearer " + guess);
  EXPECT_EQ(r.status, 429);
  EXPECT_TRUE(r.headers.contains("retry-after"));
  const auto log = daemon_->output();
  EXPECT_NE(log.find("authentication failed from 127.0.0.1"), std::string::npos) << log;
  EXPECT_EQ(log.find(std::string(48, 'f')), std::string::npos) << log;
}

TEST_F(ApiKeyTest, WebsocketsTakeAKeyWithTheRouteScopeAsTheirToken) {
  const auto reader = create_key("ws-reader", "read");
  {
    ws_client ws;
    ASSERT_TRUE(ws.connect(daemon_->port(), "/api/events/out"));
    ASSERT_TRUE(ws.send(json{{"type", "auth"}, {"token", reader}}.dump()));
    const auto answer = ws.read();
    ASSERT_TRUE(answer) << "no auth_success";
    EXPECT_EQ(json::parse(*answer), (json{{"type", "auth_success"}}));
  }
  ws_client in;
  ASSERT_TRUE(in.connect(daemon_->port(), "/api/events/in"));
  ASSERT_TRUE(in.send(json{{"type", "auth"}, {"token", reader}}.dump()));
  const auto closed = in.wait_closed();
  EXPECT_TRUE(closed.closed);
  EXPECT_EQ(closed.code, 1008) << closed.reason;
  EXPECT_NE(closed.reason.find("scope"), std::string::npos) << closed.reason;
}

}  // namespace
}  // namespace osprey::testing

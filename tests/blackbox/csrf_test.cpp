// server.csrf_protection against the real binary on SQLite and PostgreSQL: writes need the client's current
// token (403 with Prefect's detail otherwise, and nothing stored), reads do not, a new token replaces the old
// one, and a token outlives a restart (it lives in the database, not only in the server's memory).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "tests/support/daemon_test.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;

class CsrfProtection : public daemon_test {
 protected:
  std::map<std::string, std::string> environment() const override {
    return {{"OSPREY_SERVER_CSRF_PROTECTION", "true"}};
  }

  std::string token_for(const std::string& client) {
    auto r = http_request("GET", daemon_->base_url() + "/api/csrf-token?client=" + client, "");
    EXPECT_EQ(r.status, 200) << r.body;
    auto t = json::parse(r.body, nullptr, false);
    EXPECT_EQ(t.value("client", ""), client) << r.body;
    return t.value("token", "");
  }

  http_reply create_flow(const std::string& name, const std::string& token, const std::string& client) {
    std::vector<std::string> headers{"Content-Type: application/json"};
    if (!token.empty()) headers.push_back("Prefect-Csrf-Token: " + token);
    if (!client.empty()) headers.push_back("Prefect-Csrf-Client: " + client);
    return http_request("POST", daemon_->base_url() + "/api/flows/", json{{"name", name}}.dump(), headers);
  }

  bool flow_exists(const std::string& name) {
    return http_request("GET", daemon_->base_url() + "/api/flows/name/" + name, "").status == 200;
  }

  static std::string detail(const http_reply& r) { return json::parse(r.body, nullptr, false).value("detail", ""); }
};

TEST_P(CsrfProtection, WritesWithoutTheClientsTokenAreRefusedAndStoreNothing) {
  const auto token = token_for("ui-1");
  ASSERT_EQ(token.size(), 64u);
  auto r = create_flow("none", "", "");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(detail(r), "Missing CSRF token.");
  r = create_flow("no-client", token, "");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(detail(r), "Missing client identifier.");
  for (const auto& [t, client] : std::vector<std::pair<std::string, std::string>>{
           {std::string(64, '0'), "ui-1"}, {token, "ui-2"}, {token.substr(1), "ui-1"}}) {
    r = create_flow("forged", t, client);
    EXPECT_EQ(r.status, 403) << client;
    EXPECT_EQ(detail(r), "Invalid CSRF token or client identifier.");
  }
  EXPECT_FALSE(flow_exists("none"));
  EXPECT_FALSE(flow_exists("no-client"));
  EXPECT_FALSE(flow_exists("forged"));
  EXPECT_EQ(create_flow("allowed", token, "ui-1").status, 201);
  EXPECT_TRUE(flow_exists("allowed"));
  // GETs need no token; every POST does, filters included, as in Prefect.
  EXPECT_EQ(http_request("POST", daemon_->base_url() + "/api/flows/filter", "{}").status, 403);
  EXPECT_EQ(http_request("GET", daemon_->base_url() + "/api/admin/version", "").status, 200);
}

TEST_P(CsrfProtection, ANewTokenReplacesTheOldOneAndTokensOutliveARestart) {
  const auto first = token_for("cli");
  const auto second = token_for("cli");
  EXPECT_NE(first, second);
  EXPECT_EQ(create_flow("old", first, "cli").status, 403);
  EXPECT_EQ(create_flow("new", second, "cli").status, 201);
  start();
  EXPECT_EQ(create_flow("after-restart", second, "cli").status, 201);
  EXPECT_EQ(create_flow("old-after-restart", first, "cli").status, 403);
}

TEST_P(CsrfProtection, TheTokenRouteNeedsAClient) {
  auto r = http_request("GET", daemon_->base_url() + "/api/csrf-token", "");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(json::parse(r.body)["exception_detail"][0]["loc"], json::array({"query", "client"}));
  auto settings = json::parse(http_request("GET", daemon_->base_url() + "/api/admin/settings", "").body);
  EXPECT_EQ(settings["server"]["api"]["csrf_protection_enabled"], true);
  auto ui = json::parse(http_request("GET", daemon_->base_url() + "/ui-settings", "").body, nullptr, false);
  EXPECT_EQ(ui.value("csrf_enabled", false), true) << ui.dump();
}

INSTANTIATE_TEST_SUITE_P(D, CsrfProtection, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

TEST(CsrfDisabled, TheTokenRouteSaysSoAndWritesNeedNoToken) {
  scratch_dir home;
  daemon d(std::map<std::string, std::string>{{"OSPREY_HOME", home.path().string()}});
  ASSERT_TRUE(d.started()) << d.output();
  auto r = http_request("GET", d.base_url() + "/api/csrf-token?client=x", "");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(json::parse(r.body)["detail"], "CSRF protection is disabled.");
  EXPECT_EQ(http_request("POST", d.base_url() + "/api/flows/", R"({"name":"free"})").status, 201);
}

}  // namespace
}  // namespace osprey::testing

// The Prefect UI served by the built daemon (http/ui_site.hpp), over real HTTP, from small bundles the test
// writes in Prefect's layout (v1/, v2/, the base-path placeholder): page loads, assets with their types, cache
// headers and gzip, HEAD, ETags, the single-page fallback, /ui-settings, refused paths, a base path, and the UI
// switched off.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>
#include <string>

#include "tests/support/scratch.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;

constexpr const char* placeholder = "/PREFECT_UI_SERVE_BASE_REPLACE_PLACEHOLDER";
const std::vector<std::string> page_load = {"Accept: text/html,application/xhtml+xml,*/*;q=0.8"};

void write(const std::filesystem::path& file, const std::string& content) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << content;
}

class UiSite : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const std::string v : {"v1", "v2"}) {
      write(ui_ / v / "index.html",
            "<html>" + v + " <script src=\"" + placeholder + "/assets/app-1a2b.js\"></script></html>");
      write(ui_ / v / "assets" / "app-1a2b.js",
            "console.log('" + v + "');\n" + std::string(4000, ' ') + "// " + placeholder);
      write(ui_ / v / "ico" / "favicon.png", std::string("\x89PNG", 4));
    }
    write(home_.path() / "secret.txt", "not for the browser");
  }

  void start(std::map<std::string, std::string> env = {}) {
    env.emplace("OSPREY_HOME", home_.path().string());
    env.emplace("OSPREY_SERVER_UI_DIR", ui_.string());
    daemon_ = std::make_unique<daemon>(env);
    ASSERT_TRUE(daemon_->started()) << daemon_->output();
  }
  http_reply get(const std::string& path, const std::vector<std::string>& headers = {},
                 const std::string& method = "GET") {
    return http_request(method, daemon_->base_url() + path, "", headers);
  }

  scratch_dir home_;
  std::filesystem::path ui_ = home_.path() / "bundles";
  std::unique_ptr<daemon> daemon_;
};

TEST_F(UiSite, APageLoadOfTheRootGoesToTheV2UiUnlessTheCookieAsksForV1) {
  start();
  EXPECT_NE(daemon_->output().find("UI           http://127.0.0.1:"), std::string::npos) << daemon_->output();
  auto root = get("/?x=1", page_load);
  EXPECT_EQ(root.status, 307);
  EXPECT_EQ(root.headers["location"], "/v2/?x=1");

  auto v2 = get("/v2/", page_load);
  ASSERT_EQ(v2.status, 200);
  EXPECT_EQ(v2.body, "<html>v2 <script src=\"/v2/assets/app-1a2b.js\"></script></html>");  // the base path substituted
  EXPECT_EQ(v2.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_EQ(v2.headers["cache-control"], "no-cache");

  auto v1 = get("/", {page_load[0], "Cookie: theme=dark; prefect_ui_version=v1"});
  ASSERT_EQ(v1.status, 200);
  EXPECT_EQ(v1.body, "<html>v1 <script src=\"/assets/app-1a2b.js\"></script></html>");
  EXPECT_EQ(get("/v2", page_load).headers["location"], "/v2/");  // a folder without its slash
}

TEST_F(UiSite, AssetsHaveTheirTypeLongCachingGzipAndEtags) {
  start();
  auto plain = get("/v2/assets/app-1a2b.js");
  ASSERT_EQ(plain.status, 200);
  EXPECT_TRUE(plain.body.starts_with("console.log('v2');"));
  EXPECT_TRUE(plain.body.ends_with("// /v2"));
  EXPECT_EQ(plain.headers["content-type"], "text/javascript; charset=utf-8");
  EXPECT_EQ(plain.headers["cache-control"], "public, max-age=31536000, immutable");
  EXPECT_EQ(plain.headers["vary"], "Accept-Encoding");
  EXPECT_EQ(plain.headers.count("content-encoding"), 0u);

  auto zipped = get("/v2/assets/app-1a2b.js", {"Accept-Encoding: br, gzip;q=0.8"});
  ASSERT_EQ(zipped.status, 200);
  EXPECT_EQ(zipped.headers["content-encoding"], "gzip");
  ASSERT_GE(zipped.body.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(zipped.body[0]), 0x1f);  // the gzip magic
  EXPECT_EQ(static_cast<unsigned char>(zipped.body[1]), 0x8b);
  EXPECT_LT(zipped.body.size(), plain.body.size());
  EXPECT_EQ(get("/v2/assets/app-1a2b.js", {"Accept-Encoding: gzip;q=0"}).headers.count("content-encoding"), 0u);

  EXPECT_EQ(get("/v2/assets/app-1a2b.js", {"If-None-Match: " + plain.headers["etag"]}).status, 304);
  EXPECT_EQ(get("/ico/favicon.png").headers["content-type"], "image/png");

  auto head = get("/v2/assets/app-1a2b.js", {}, "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.headers["content-length"], std::to_string(plain.body.size()));
}

TEST_F(UiSite, UnknownPathsGetTheAppOnlyWhenTheBrowserAsksForAPage) {
  start();
  auto deep = get("/v2/runs/flow-run/0b7c", page_load);
  ASSERT_EQ(deep.status, 200);
  EXPECT_NE(deep.body.find("v2"), std::string::npos);
  EXPECT_EQ(deep.headers["cache-control"], "no-cache");
  EXPECT_EQ(get("/flows", page_load).body.find("<html>v1"), 0u);  // v1's own deep links stay with v1

  auto script = get("/v2/assets/missing.js");
  EXPECT_EQ(script.status, 404);
  EXPECT_EQ(json::parse(script.body)["detail"], "Not Found");
  auto api = get("/api/no-such-route", page_load);
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(json::parse(api.body)["detail"], "Not Found");
  EXPECT_EQ(http_request("POST", daemon_->base_url() + "/v2/assets/app-1a2b.js", "{}").status, 405);
}

TEST_F(UiSite, NothingOutsideTheBundlesIsEverServed) {
  start();
  for (const std::string path :
       {"/../secret.txt", "/v2/../../secret.txt", "/%2e%2e/secret.txt", "/v2/%2e%2e/%2e%2e/secret.txt",
        "/assets/..%2f..%2f..%2fsecret.txt", "/../bundles/v1/index.html"}) {
    auto r = get(path);
    EXPECT_NE(r.status, 200) << path;
    EXPECT_EQ(r.body.find("not for the browser"), std::string::npos) << path;
  }
  EXPECT_EQ(get("/v2/assets/../index.html").body.find("<html>v2"), 0u);  // normalised inside the bundle
}

TEST_F(UiSite, UiSettingsHavePrefectsShape) {
  start();
  auto r = get("/ui-settings");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, nlohmann::ordered_json({{"api_url", daemon_->base_url() + "/api"},
                                            {"csrf_enabled", false},
                                            {"auth", nullptr},
                                            {"flags", json::array()},
                                            {"default_ui", "v2"},
                                            {"available_uis", {"v1", "v2"}},
                                            {"v1_base_url", "/"},
                                            {"v2_base_url", "/v2"}})
                        .dump());
}

TEST_F(UiSite, ABasePathAProxyUrlAndV1AsTheDefault) {
  start({{"OSPREY_SERVER_UI_BASE_PATH", "/prefect/"},
         {"OSPREY_SERVER_UI_API_URL", "https://prefect.example.com/api"},
         {"OSPREY_SERVER_UI_DEFAULT", "v1"}});
  auto settings = json::parse(get("/prefect/ui-settings").body);
  EXPECT_EQ(settings["api_url"], "https://prefect.example.com/api");
  EXPECT_EQ(settings["default_ui"], "v1");
  EXPECT_EQ(settings["v1_base_url"], "/prefect");
  EXPECT_EQ(settings["v2_base_url"], "/prefect/v2");
  auto v1 = get("/prefect/", page_load);
  ASSERT_EQ(v1.status, 200);
  EXPECT_EQ(v1.body, "<html>v1 <script src=\"/prefect/assets/app-1a2b.js\"></script></html>");
  EXPECT_EQ(get("/prefect/", {page_load[0], "Cookie: prefect_ui_version=v2"}).headers["location"], "/prefect/v2/");
  EXPECT_EQ(get("/prefect/v2/assets/app-1a2b.js").status, 200);
  EXPECT_EQ(get("/", page_load).status, 404);
}

TEST_F(UiSite, SwitchedOffOrMissingTheUiIsNotServedAndTheApiStillIs) {
  start({{"OSPREY_SERVER_UI_ENABLED", "false"}});
  EXPECT_EQ(get("/", page_load).status, 404);
  EXPECT_EQ(json::parse(get("/ui-settings").body)["available_uis"], json::array());
  EXPECT_EQ(get("/api/health").body, "true");
  daemon_.reset();
  std::filesystem::remove_all(ui_ / "v2");
  start();
  EXPECT_NE(daemon_->output().find("UI v2 not served"), std::string::npos) << daemon_->output();
  auto settings = json::parse(get("/ui-settings").body);
  EXPECT_EQ(settings["available_uis"], json::array({"v1"}));
  EXPECT_EQ(settings["default_ui"], "v1");
  EXPECT_EQ(settings["v2_base_url"], nullptr);
  EXPECT_EQ(get("/", page_load).status, 200);  // no redirect to a UI that is not there
}

}  // namespace
}  // namespace osprey::testing

#include "http/router.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>

namespace osprey::http {
namespace {

/// Records which route answered; each route responds with its own name as the body.
class RouterTest : public ::testing::Test {
 protected:
  void add(const std::string& method, const std::string& path_template) {
    routes_.add(method, path_template, "summary",
                [name = method + " " + path_template](request&, responder r) { r(response::json(200, name)); });
  }

  response dispatch(const std::string& method, const std::string& path) {
    req_ = {};
    req_.method = method;
    req_.path = path;
    std::optional<response> got;
    routes_.dispatch(req_, [&got](response r) { got = std::move(r); });
    EXPECT_TRUE(got.has_value()) << "router did not answer";
    return got.value_or(response{});
  }

  router routes_;
  request req_;
};

TEST_F(RouterTest, MatchesLiteralPath) {
  add("GET", "/api/health");
  EXPECT_EQ(dispatch("GET", "/api/health").body, "GET /api/health");
}

TEST_F(RouterTest, RegisteringAMethodAndTemplateTwiceThrows) {
  add("GET", "/api/automations/related-to/{resource_id}");
  EXPECT_THROW(add("GET", "/api/automations/related-to/{resource_id}"), std::logic_error);
  EXPECT_THROW(add("GET", "/api/automations/related-to/{resource_id}/"), std::logic_error);  // same path
  EXPECT_NO_THROW(add("DELETE", "/api/automations/related-to/{resource_id}"));
}

TEST_F(RouterTest, CaptureFillsPathParams) {
  add("GET", "/api/flows/{id}/runs/{run}");
  EXPECT_EQ(dispatch("GET", "/api/flows/abc/runs/7").status, 200);
  EXPECT_EQ(req_.path_params.at("id"), "abc");
  EXPECT_EQ(req_.path_params.at("run"), "7");
}

TEST_F(RouterTest, TrailingSlashIsOptionalOnBothSides) {
  add("POST", "/api/flows/");
  add("GET", "/api/flows/{id}");
  EXPECT_EQ(dispatch("POST", "/api/flows").status, 200);
  EXPECT_EQ(dispatch("POST", "/api/flows/").status, 200);
  EXPECT_EQ(dispatch("GET", "/api/flows/x/").body, "GET /api/flows/{id}");
}

TEST_F(RouterTest, LiteralBeatsCaptureWhateverTheOrder) {
  add("POST", "/api/flows/{id}");
  add("POST", "/api/flows/filter");
  add("POST", "/api/{kind}/filter");
  EXPECT_EQ(dispatch("POST", "/api/flows/filter").body, "POST /api/flows/filter");
  EXPECT_EQ(dispatch("POST", "/api/flows/123").body, "POST /api/flows/{id}");
  EXPECT_EQ(dispatch("POST", "/api/tasks/filter").body, "POST /api/{kind}/filter");
}

TEST_F(RouterTest, EarlierLiteralPositionWins) {
  add("GET", "/{a}/b");
  add("GET", "/a/{b}");
  EXPECT_EQ(dispatch("GET", "/a/b").body, "GET /a/{b}");
}

TEST_F(RouterTest, UnknownPathIs404) {
  add("GET", "/api/flows/{id}");
  const auto r = dispatch("GET", "/api/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"detail":"Not Found"})");
  EXPECT_EQ(dispatch("GET", "/api/flows/a/b").status, 404);
  EXPECT_EQ(dispatch("GET", "/api/flows//").status, 404) << "a capture never matches an empty segment";
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  add("GET", "/api/flows/{id}");
  add("DELETE", "/api/flows/{id}");
  const auto r = dispatch("PUT", "/api/flows/1");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body, R"({"detail":"Method Not Allowed"})");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Allow");
  EXPECT_EQ(r.headers[0].second, "GET, DELETE");
}

TEST_F(RouterTest, MethodMismatchOnLiteralFallsBackToCapture) {
  add("POST", "/api/flows/filter");
  add("GET", "/api/flows/{id}");
  EXPECT_EQ(dispatch("GET", "/api/flows/filter").body, "GET /api/flows/{id}");
  EXPECT_EQ(req_.path_params.at("id"), "filter");
}

TEST_F(RouterTest, RootPath) {
  add("GET", "/");
  EXPECT_EQ(dispatch("GET", "/").status, 200);
  EXPECT_EQ(dispatch("GET", "/x").status, 404);
}

TEST_F(RouterTest, VeryDeepPathIs404) {
  add("GET", "/{a}");
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "/x";
  EXPECT_EQ(dispatch("GET", deep).status, 404);
}

TEST_F(RouterTest, RoutesAreListedForOpenApi) {
  add("GET", "/api/health");
  ASSERT_EQ(routes_.routes().size(), 1u);
  EXPECT_EQ(routes_.routes()[0].path_template, "/api/health");
  EXPECT_EQ(routes_.routes()[0].segments, (std::vector<std::string>{"api", "health"}));
}

}  // namespace
}  // namespace osprey::http

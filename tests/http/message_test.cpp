#include "http/message.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace osprey::http {
namespace {

TEST(Response, DetailEscapesTheMessageAsJson) {
  const auto r = response::detail(422, "bad \"name\"\nline\\two");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(r.body), (nlohmann::json{{"detail", "bad \"name\"\nline\\two"}}));
}

TEST(Response, DetailSurvivesInvalidUtf8) {
  const auto r = response::detail(400, std::string("bad \xff byte"));
  nlohmann::json j;
  EXPECT_NO_THROW(j = nlohmann::json::parse(r.body));
  EXPECT_TRUE(j.contains("detail"));
}

TEST(Response, JsonKeepsTheBody) {
  const auto r = response::json(201, R"({"id":1})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"({"id":1})");
}

TEST(Response, NoContentIsEmpty) {
  const auto r = response::no_content();
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  EXPECT_TRUE(r.content_type.empty());
}

TEST(Request, HeaderIsEmptyWhenAbsent) {
  request req;
  req.headers["x-a"] = "1";
  EXPECT_EQ(req.header("x-a"), "1");
  EXPECT_EQ(req.header("x-b"), "");
}

}  // namespace
}  // namespace osprey::http

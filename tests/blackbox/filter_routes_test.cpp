// The filter, count and paginate routes of the built daemon over real HTTP, on SQLite and PostgreSQL: flows and
// flow runs created through the API are found again by filter, counted and paged; logs are filtered; bad bodies
// (an out-of-range limit, unknown keys, wrong types) are answered 422, never 5xx.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/daemon_test.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;

class FilterRoutes : public daemon_test {
 protected:
  http_reply post(const std::string& path, const std::string& body) {
    return http_request("POST", daemon_->base_url() + path, body);
  }
  json post_json(const std::string& path, const json& body, long expected = 200) {
    auto reply = post(path, body.dump());
    EXPECT_EQ(reply.status, expected) << path << " " << body << " → " << reply.body;
    return json::parse(reply.body, nullptr, false);
  }

  std::string flow(const std::string& name, const json& tags) {
    return post_json("/api/flows/", {{"name", name}, {"tags", tags}}, 201)["id"].get<std::string>();
  }
  std::string run(const std::string& flow_id, const std::string& name, const json& tags, const char* state) {
    return post_json("/api/flow_runs/",
                     {{"flow_id", flow_id}, {"name", name}, {"tags", tags}, {"state", {{"type", state}}}}, 201)["id"]
        .get<std::string>();
  }

  static std::vector<std::string> names(const json& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.value("name", std::string("?")));
    return out;
  }
};

TEST_P(FilterRoutes, FindsCountsAndPagesFlowsAndRuns) {
  const auto etl = flow("etl", {"prod"});
  const auto ml = flow("ml-train", json::array());
  run(etl, "alpha", {"prod"}, "COMPLETED");
  run(etl, "beta", json::array(), "FAILED");
  run(ml, "gamma", {"dev"}, "SCHEDULED");

  EXPECT_EQ(names(post_json("/api/flows/filter", json::object())), (std::vector<std::string>{"etl", "ml-train"}));
  EXPECT_EQ(names(post_json("/api/flows/filter", {{"flow_runs", {{"state", {{"type", {{"any_", {"SCHEDULED"}}}}}}}}})),
            std::vector<std::string>{"ml-train"});
  EXPECT_EQ(post_json("/api/flows/count", {{"flows", {{"tags", {{"all_", {"prod"}}}}}}}), json(1));
  auto flow_page = post_json("/api/flows/paginate", {{"limit", 1}, {"page", 2}, {"sort", "NAME_DESC"}});
  EXPECT_EQ(names(flow_page["results"]), std::vector<std::string>{"etl"});
  EXPECT_EQ(flow_page["count"], 2);
  EXPECT_EQ(flow_page["pages"], 2);

  auto finished =
      post_json("/api/flow_runs/filter",
                {{"flow_runs", {{"state", {{"type", {{"any_", {"COMPLETED", "FAILED"}}}}}}}}, {"sort", "NAME_ASC"}});
  EXPECT_EQ(names(finished), (std::vector<std::string>{"alpha", "beta"}));
  ASSERT_EQ(finished.size(), 2U);
  EXPECT_EQ(finished[0]["state"]["type"], "COMPLETED");  // full FlowRunResponse rows
  EXPECT_EQ(finished[0]["flow_id"], etl);

  EXPECT_EQ(post_json("/api/flow_runs/count", {{"flows", {{"name", {{"any_", {"etl"}}}}}}}), json(2));
  EXPECT_EQ(post_json("/api/flow_runs/count", {{"flow_runs", {{"tags", {{"any_", {"prod", "dev"}}}}}}}), json(2));
  EXPECT_EQ(post_json("/api/flow_runs/count", json::object()), json(3));

  auto page = post_json("/api/flow_runs/paginate", {{"limit", 2}, {"page", 1}, {"sort", "NAME_DESC"}});
  EXPECT_EQ(names(page["results"]), (std::vector<std::string>{"gamma", "beta"}));
  EXPECT_EQ(page["count"], 3);
  EXPECT_EQ(page["limit"], 2);
  EXPECT_EQ(page["pages"], 2);
  EXPECT_EQ(page["page"], 1);

  // An empty body is every parameter at its default, as FastAPI reads it.
  auto all = post("/api/flow_runs/filter", "");
  EXPECT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(json::parse(all.body).size(), 3U);
}

TEST_P(FilterRoutes, FiltersLogs) {
  const auto etl = flow("etl", json::array());
  const auto alpha = run(etl, "alpha", json::array(), "RUNNING");
  json logs = json::array();
  int minute = 0;
  for (auto [level, message] : {std::pair{20, "starting"}, std::pair{40, "connection timeout"}, std::pair{10, "debug"}})
    logs.push_back({{"name", "prefect.flow_runs"},
                    {"level", level},
                    {"message", message},
                    {"timestamp", "2026-01-01T00:0" + std::to_string(minute++) + ":00Z"},
                    {"flow_run_id", alpha}});
  EXPECT_EQ(post("/api/logs/", logs.dump()).status, 201);

  auto messages = [](const json& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.value("message", std::string("?")));
    return out;
  };
  auto found = post_json("/api/logs/filter", {{"logs", {{"flow_run_id", {{"any_", {alpha}}}}}}});
  EXPECT_EQ(messages(found), (std::vector<std::string>{"starting", "connection timeout", "debug"}));
  ASSERT_EQ(found.size(), 3U);
  for (const char* key :
       {"id", "created", "updated", "name", "level", "message", "timestamp", "flow_run_id", "task_run_id"})
    EXPECT_TRUE(found[0].contains(key)) << key;
  EXPECT_EQ(found[0]["timestamp"], "2026-01-01T00:00:00.000000Z");

  EXPECT_EQ(messages(post_json("/api/logs/filter", {{"logs", {{"level", {{"ge_", 20}}}}}, {"sort", "TIMESTAMP_DESC"}})),
            (std::vector<std::string>{"connection timeout", "starting"}));
  EXPECT_EQ(messages(post_json("/api/logs/filter", {{"logs", {{"text", {{"query", "timeout"}}}}}})),
            std::vector<std::string>{"connection timeout"});
  EXPECT_EQ(messages(post_json("/api/logs/filter", {{"limit", 1}, {"offset", 1}})),
            std::vector<std::string>{"connection timeout"});
}

TEST_P(FilterRoutes, BadBodiesAre422NeverA5xx) {
  flow("etl", json::array());

  auto too_many = post("/api/flow_runs/filter", R"({"limit": 201})");
  EXPECT_EQ(too_many.status, 422);
  EXPECT_EQ(json::parse(too_many.body), (json{{"detail", "Invalid limit: must be less than or equal to 200."}}));

  auto unknown = post("/api/flow_runs/filter", R"({"flow_runs": {"name": {"ilike_": "x"}}})");
  EXPECT_EQ(unknown.status, 422);
  auto detail = json::parse(unknown.body)["exception_detail"][0];
  EXPECT_EQ(detail["loc"], (json{"body", "flow_runs", "name", "ilike_"}));
  EXPECT_EQ(detail["type"], "extra_forbidden");

  auto bad_id = json::parse(post("/api/flows/filter", R"({"flows": {"id": {"any_": ["x"]}}})").body);
  EXPECT_EQ(bad_id["exception_detail"][0]["loc"], (json{"body", "flows", "id", "any_", 0}));

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"/api/flows/filter", R"({"limit": -1})"},
      {"/api/flows/paginate", R"({"page": 0})"},
      {"/api/flows/count", R"({"flows": []})"},
      {"/api/flows/filter", R"({"sort": "ID_DESC"})"},
      {"/api/flows/filter", R"({"nonsense": 1})"},
      {"/api/flow_runs/count", R"({"flow_runs": {"state": {"type": {"any_": ["LATE"]}}}})"},
      {"/api/flow_runs/filter", R"({"flow_runs": {"start_time": {"before_": "soon"}}})"},
      {"/api/flow_runs/filter", R"({"flow_runs": {"start_time": {"before_": "0000-01-01T00:00:00Z"}}})"},
      {"/api/flow_runs/filter", R"({"flow_runs": {"operator": "nand"}})"},
      {"/api/flow_runs/filter", R"({"offset": 1e30})"},
      {"/api/flow_runs/paginate", R"({"flow_runs": {"99999999999999999999": {}}})"},
      {"/api/flow_runs/filter", R"([1, 2])"},
      {"/api/flow_runs/filter", R"({"flow_runs": )"},
      {"/api/logs/filter", R"({"logs": {"level": {"ge_": "loud"}}})"},
      {"/api/logs/filter", R"({"logs": {"text": {}}})"},
      {"/api/logs/filter", R"({"flows": {}})"},
  };
  for (const auto& [path, body] : bad) {
    auto reply = post(path, body);
    EXPECT_EQ(reply.status, 422) << path << " " << body << " → " << reply.body;
  }

  // Strange but valid input is answered, never with a 5xx.
  const std::vector<std::pair<std::string, std::string>> odd = {
      {"/api/flow_runs/filter", R"({"flow_runs": {"name": {"like_": "%_\\'\""}}})"},
      {"/api/flow_runs/filter", R"({"flow_runs": {"tags": {"any_": ["'; DROP TABLE flow_run; --"]}}})"},
      {"/api/logs/filter", R"({"logs": {"level": {"ge_": 9000000000000}}})"},
      {"/api/flow_runs/paginate", R"({"page": 9223372036854775807, "limit": 200})"},
      {"/api/flow_runs/filter", R"({"offset": 9223372036854775807})"},
      {"/api/flows/filter", R"({"flows": {"name": {"like_": "ü"}}, "work_queues": null})"},
  };
  for (const auto& [path, body] : odd) {
    auto reply = post(path, body);
    EXPECT_EQ(reply.status, 200) << path << " " << body << " → " << reply.body;
  }
  EXPECT_EQ(post_json("/api/flows/count", json::object()), json(1));
}

INSTANTIATE_TEST_SUITE_P(D, FilterRoutes, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

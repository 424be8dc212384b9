// The REST API of the built daemon over real HTTP, on SQLite and PostgreSQL: the endpoints the Prefect client
// probes, /api/flows, bad input (never a 5xx, never a change), keep-alive and concurrent writers.

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <latch>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/daemon_test.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;

class HttpApiTest : public daemon_test {
 protected:
  void SetUp() override { OSPREY_SKIP_IF_UNAVAILABLE(db_); }  // each test starts the daemon with its settings

  http_reply get(const std::string& path, const std::vector<std::string>& headers = {}) {
    return http_request("GET", daemon_->base_url() + path, "", headers);
  }
  http_reply post(const std::string& path, const std::string& body,
                  std::vector<std::string> headers = {"Content-Type: application/json"}) {
    return http_request("POST", daemon_->base_url() + path, body, headers);
  }
  http_reply post_flow(const json& body) { return post("/api/flows/", body.dump()); }

  std::int64_t flow_rows() { return db_.connect()->query("SELECT COUNT(*) FROM flow").at(0).integer(0); }
};

TEST_P(HttpApiTest, AnswersWhatThePrefectClientProbes) {
  start();
  auto health = get("/api/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(parsed(health), json(true));
  EXPECT_EQ(health.headers["content-type"], "application/json");

  auto ready = get("/api/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(parsed(ready), (json{{"message", "OK"}}));

  auto admin_version = parsed(get("/api/admin/version"));
  ASSERT_TRUE(admin_version.is_string()) << admin_version;
  EXPECT_TRUE(admin_version.get<std::string>().starts_with("3.")) << admin_version;

  EXPECT_EQ(parsed(get("/api/version")), json("0.8.4"));

  auto csrf = get("/api/csrf-token?client=x");
  EXPECT_EQ(csrf.status, 422);
  EXPECT_EQ(parsed(csrf)["detail"], "CSRF protection is disabled.");

  auto openapi = get("/api/openapi.json");
  ASSERT_EQ(openapi.status, 200);
  auto paths = parsed(openapi)["paths"];
  EXPECT_TRUE(paths.contains("/api/flows/")) << paths;
  EXPECT_TRUE(paths.contains("/api/health")) << paths;
  // Path parameters are declared (ids as UUIDs) and writes take a JSON body: what schemathesis fuzzes.
  const auto& read = paths["/api/flows/{id}"]["get"];
  EXPECT_EQ(
      read["parameters"][0],
      (json{{"name", "id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}, {"format", "uuid"}}}}));
  EXPECT_TRUE(paths["/api/flows/"]["post"].contains("requestBody"));
  EXPECT_FALSE(read.contains("requestBody"));
}

TEST_P(HttpApiTest, CreatesAFlowOnceAndReadsItByIdAndName) {
  start();
  auto created = post_flow({{"name", "etl"}, {"tags", {"a"}}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto flow = parsed(created);
  for (const char* key : {"id", "created", "updated", "name", "tags", "labels"})
    EXPECT_TRUE(flow.contains(key)) << key << " missing from " << flow;
  EXPECT_EQ(flow["name"], "etl");
  EXPECT_EQ(flow["tags"], json({"a"}));
  const std::string id = flow["id"];

  auto again = post_flow({{"name", "etl"}, {"tags", {"a"}}});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(parsed(again)["id"], id);

  auto by_id = get("/api/flows/" + id);
  EXPECT_EQ(by_id.status, 200);
  EXPECT_EQ(parsed(by_id), flow);

  auto by_name = get("/api/flows/name/etl");
  EXPECT_EQ(by_name.status, 200);
  EXPECT_EQ(parsed(by_name), flow);

  auto unknown = get("/api/flows/00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(parsed(unknown), (json{{"detail", "Flow not found"}}));
  EXPECT_EQ(get("/api/flows/not-a-uuid").status, 422);
  EXPECT_EQ(get("/api/flows/name/nope").status, 404);
  EXPECT_EQ(flow_rows(), 1);
}

TEST_P(HttpApiTest, ReadsAFlowByItsPercentEncodedName) {
  start();
  auto created = post_flow({{"name", "my flow \u00fcn\u00ef?#"}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto read = get("/api/flows/name/my%20flow%20%C3%BCn%C3%AF%3F%23");
  EXPECT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(parsed(read), parsed(created));
}

TEST_P(HttpApiTest, BadInputIsRefusedWithoutA5xxAndChangesNothing) {
  start({{"OSPREY_SERVER_MAX_BODY_BYTES", "1024"}});
  ASSERT_EQ(post_flow({{"name", "etl"}}).status, 201);
  const auto before = flow_rows();

  struct bad_post {
    std::string body;
    long expected;
  };
  const std::vector<bad_post> bad_posts = {
      {R"({"name": "x",)", 422},                                // malformed JSON
      {R"(["name", "x"])", 422},                                // not an object
      {R"({"tags": ["a"]})", 422},                              // name missing
      {R"({"name": "a/b"})", 422},                              // '/' in the name
      {R"({"name": 7})", 422},                                  // name not a string
      {R"({"name": "x", "colour": "blue"})", 422},              // unknown key
      {R"({"name": "x", "tags": "a"})", 422},                   // tags not a list
      {R"({"name": ")" + std::string(4000, 'x') + "\"}", 413},  // above server.max_body_bytes
      {"", 422},                                                // no body at all
  };
  for (const auto& bad : bad_posts) {
    auto r = post("/api/flows/", bad.body);
    EXPECT_EQ(r.status, bad.expected) << bad.body.substr(0, 60) << " -> " << r.body;
    EXPECT_TRUE(parsed(r).contains("detail")) << bad.body.substr(0, 60) << " -> " << r.body;
  }

  auto unknown_route = get("/api/no/such/route");
  EXPECT_EQ(unknown_route.status, 404);
  EXPECT_TRUE(parsed(unknown_route).contains("detail")) << unknown_route.body;
  EXPECT_EQ(http_request("DELETE", daemon_->base_url() + "/api/health").status, 405);
  EXPECT_EQ(post("/api/flows/", R"({"name": "versioned"})",
                 {"Content-Type: application/json", "X-PREFECT-API-VERSION: garbage"})
                .status,
            400);
  EXPECT_EQ(post("/api/flows/", R"({"name": "versioned"})",
                 {"Content-Type: application/json", "X-PREFECT-API-VERSION: 0.7.0"})
                .status,
            400);
  EXPECT_EQ(get("/api/health", {"X-PREFECT-API-VERSION: 0.8.4"}).status, 200);

  EXPECT_EQ(flow_rows(), before);
  EXPECT_EQ(get("/api/flows/name/etl").status, 200);
  EXPECT_EQ(get("/api/health").status, 200);
}

// PostgreSQL cannot store U+0000: libpq cut "etl\u0000x" to "etl" (a new flow answered as the existing one, and
// GET .../name/etl%00x found "etl"), and in tags or labels it was a 500.
TEST_P(HttpApiTest, NulCharactersAreRefusedRatherThanCutShortOrA500) {
  start();
  ASSERT_EQ(post_flow({{"name", "etl"}}).status, 201);
  for (const std::string body :
       {R"({"name": "etl\u0000x"})", R"({"name": "x", "tags": ["a\u0000"]})",
        R"({"name": "x", "labels": {"k\u0000": "v"}})", R"({"name": "x", "labels": {"k": "v\u0000"}})"}) {
    auto r = post("/api/flows/", body);
    EXPECT_EQ(r.status, 422) << body << " -> " << r.body;
  }
  EXPECT_EQ(get("/api/flows/name/etl%00x").status, 422);
  EXPECT_EQ(flow_rows(), 1);
}

std::size_t discard(char*, std::size_t size, std::size_t n, void*) { return size * n; }

TEST_P(HttpApiTest, KeepAliveServesManyRequestsOnOneConnection) {
  start();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> handle(curl_easy_init(), curl_easy_cleanup);
  CURL* curl = handle.get();
  const std::string url = daemon_->base_url() + "/api/health";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  long connections = 0;
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(curl_easy_perform(curl), CURLE_OK);
    long status = 0, opened = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &opened);
    EXPECT_EQ(status, 200);
    connections += opened;
  }
  EXPECT_EQ(connections, 1);
}

TEST_P(HttpApiTest, ConcurrentCreatesOfDistinctNamesAllSucceed) {
  start();
  constexpr int threads = 16, per_thread = 50;
  std::atomic<int> created{0};
  std::vector<std::string> failures[threads];
  {
    std::vector<std::jthread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          const std::string name = "flow-" + std::to_string(t) + "-" + std::to_string(i);
          auto r = post_flow({{"name", name}});
          if (r.status == 201)
            ++created;
          else
            failures[t].push_back(name + " -> " + std::to_string(r.status) + " " + r.body);
        }
      });
    }
  }
  for (const auto& f : failures) EXPECT_TRUE(f.empty()) << f.front();
  EXPECT_EQ(created.load(), threads * per_thread);
  EXPECT_EQ(flow_rows(), threads * per_thread);
}

TEST_P(HttpApiTest, ConcurrentCreatesOfOneNameMakeOneFlow) {
  start();
  constexpr int threads = 16, names = 5;
  std::vector<std::vector<long>> statuses(names, std::vector<long>(threads));
  std::vector<std::vector<std::string>> ids(names, std::vector<std::string>(threads));
  {
    std::latch go(threads);
    std::vector<std::jthread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        go.arrive_and_wait();
        for (int n = 0; n < names; ++n) {
          auto r = post_flow({{"name", "shared-" + std::to_string(n)}});
          statuses[n][t] = r.status;
          if (auto j = parsed(r); j.is_object() && j.contains("id")) ids[n][t] = j["id"];
        }
      });
    }
  }
  for (int n = 0; n < names; ++n) {
    EXPECT_EQ(std::count(statuses[n].begin(), statuses[n].end(), 201), 1) << "shared-" << n;
    EXPECT_EQ(std::count(statuses[n].begin(), statuses[n].end(), 200), threads - 1) << "shared-" << n;
    EXPECT_EQ(std::set<std::string>(ids[n].begin(), ids[n].end()).size(), 1u) << "shared-" << n;
  }
  EXPECT_EQ(flow_rows(), names);
}

INSTANTIATE_TEST_SUITE_P(D, HttpApiTest, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

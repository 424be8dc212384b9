// /api/v2/concurrency_limits and the v1 tag routes of the built daemon over real HTTP, on SQLite and
// PostgreSQL: the tagged-task hot path, slots up to the limit then 423 with Retry-After, leases (release twice,
// renew, 410), bad input (never a 5xx, never a change), and the lease reaper giving an expired lease's slot
// back.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>

#include <memory>
#include <string>

#include "tests/support/daemon_test.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;
using namespace std::chrono_literals;

class ConcurrencyRoutes : public daemon_test {
 protected:
  std::map<std::string, std::string> environment() const override {
    return {{"OSPREY_SERVICES_CONCURRENCY_LEASE_REAPER_INTERVAL_SECONDS", "1"}};
  }

  http_reply call(const std::string& method, const std::string& path, const json& body = nullptr) {
    return api(method, "/v2/concurrency_limits" + path, body);
  }
  http_reply post(const std::string& path, const json& body) { return call("POST", path, body); }
  json limit(const std::string& name) { return json::parse(call("GET", "/" + name).body); }

  std::int64_t leases() { return db_.connect()->query("SELECT COUNT(*) FROM concurrency_lease").at(0).integer(0); }

  static json take(const std::string& name, int slots = 1) {
    return {{"names", {name}},
            {"slots", slots},
            {"mode", "concurrency"},
            {"lease_duration", 60},
            {"holder", {{"type", "task_run"}, {"id", "5f6c2a4e-0000-4000-8000-0000000000cc"}}}};
  }
};

TEST_P(ConcurrencyRoutes, TagsWithoutLimitsGetAFreshLeaseAndNothingIsStored) {
  auto r = post("/increment-with-lease", take("tag:nolimit"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = json::parse(r.body);
  EXPECT_EQ(body["limits"], json::array());
  EXPECT_EQ(body["lease_id"].get<std::string>().size(), 36u);
  EXPECT_EQ(leases(), 0);
  EXPECT_EQ(json::parse(post("/increment", {{"names", {"x"}}, {"slots", 1}}).body), json::array());
}

TEST_P(ConcurrencyRoutes, CreateReadListUpdateDelete) {
  auto created = post("/", {{"name", "db"}, {"limit", 3}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto c = json::parse(created.body);
  EXPECT_EQ(c["avg_slot_occupancy_seconds"], 2.0);
  EXPECT_EQ(c["denied_slots"], 0);
  auto dup = post("/", {{"name", "db"}, {"limit", 1}});
  EXPECT_EQ(dup.status, 409);
  EXPECT_TRUE(json::parse(dup.body)["detail"].get<std::string>().starts_with("Data integrity conflict"));
  EXPECT_EQ(limit(c["id"])["name"], "db");
  EXPECT_EQ(limit("db")["limit"], 3);
  EXPECT_FALSE(limit("db").contains("denied_slots"));  // the GlobalConcurrencyLimitResponse shape
  ASSERT_EQ(post("/", {{"name", "api"}, {"limit", 1}, {"slot_decay_per_second", 0.5}}).status, 201);
  auto listed = json::parse(post("/filter", {{"limit", 1}, {"offset", 1}}).body);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["name"], "db");
  EXPECT_EQ(call("PATCH", "/db", {{"limit", 5}, {"active", false}}).status, 204);
  EXPECT_EQ(limit("db")["limit"], 5);
  EXPECT_EQ(limit("db")["active"], false);
  EXPECT_EQ(call("PATCH", "/nope", {{"limit", 5}}).status, 404);
  EXPECT_EQ(call("DELETE", "/db").status, 204);
  EXPECT_EQ(call("DELETE", "/db").status, 404);
  auto gone = call("GET", "/db");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(json::parse(gone.body)["detail"], "Concurrency Limit not found");
}

TEST_P(ConcurrencyRoutes, SlotsUpToTheLimitThen423WithRetryAfterAndReleaseFreesOne) {
  ASSERT_EQ(post("/", {{"name", "tag:db"}, {"limit", 2}}).status, 201);
  std::vector<std::string> held;
  for (int i = 0; i < 2; ++i) {
    auto r = post("/increment-with-lease", take("tag:db"));
    ASSERT_EQ(r.status, 200) << r.body;
    auto body = json::parse(r.body);
    ASSERT_EQ(body["limits"].size(), 1u);
    EXPECT_EQ(body["limits"][0]["name"], "tag:db");
    held.push_back(body["lease_id"]);
  }
  auto full = post("/increment-with-lease", take("tag:db"));
  ASSERT_EQ(full.status, 423) << full.body;
  ASSERT_TRUE(full.headers.count("retry-after"));
  const double wait = std::stod(full.headers["retry-after"]);
  EXPECT_GT(wait, 0);
  EXPECT_LE(wait, 10 * 1.3);
  EXPECT_EQ(limit("tag:db")["active_slots"], 2);

  EXPECT_EQ(post("/decrement-with-lease", {{"lease_id", held[0]}}).status, 204);
  EXPECT_EQ(post("/decrement-with-lease", {{"lease_id", held[0]}}).status, 204);  // twice: a no-op
  EXPECT_EQ(limit("tag:db")["active_slots"], 1);
  EXPECT_EQ(post("/increment-with-lease", take("tag:db")).status, 200);
}

TEST_P(ConcurrencyRoutes, RenewExtendsALeaseAndAnUnknownLeaseIsGone) {
  ASSERT_EQ(post("/", {{"name", "db"}, {"limit", 1}}).status, 201);
  const std::string lease = json::parse(post("/increment-with-lease", take("db")).body)["lease_id"];
  EXPECT_EQ(post("/leases/" + lease + "/renew", {{"lease_duration", 120}}).status, 204);
  auto gone = post("/leases/5f6c2a4e-0000-4000-8000-000000000001/renew", {{"lease_duration", 60}});
  EXPECT_EQ(gone.status, 410);
  EXPECT_EQ(json::parse(gone.body)["detail"], "Lease not found - it may have expired or been revoked");
  EXPECT_EQ(post("/leases/not-a-uuid/renew", {{"lease_duration", 60}}).status, 422);
  EXPECT_EQ(post("/leases/" + lease + "/renew", {{"lease_duration", 30}}).status, 422);
}

TEST_P(ConcurrencyRoutes, BadInputIsRefusedAndChangesNothing) {
  ASSERT_EQ(post("/", {{"name", "db"}, {"limit", 2}}).status, 201);
  EXPECT_EQ(post("/", {{"name", "neg"}, {"limit", -1}}).status, 422);
  EXPECT_EQ(post("/", {{"name", "a/b"}, {"limit", 1}}).status, 422);
  EXPECT_EQ(post("/", {{"name", ""}, {"limit", 1}}).status, 422);
  EXPECT_EQ(post("/", {{"limit", 1}}).status, 422);
  EXPECT_EQ(post("/", {{"name", "x"}, {"limit", 1}, {"avg_slot_occupancy_seconds", 1}}).status, 422);
  EXPECT_EQ(post("/", {{"name", "x"}, {"limit", "many"}}).status, 422);
  EXPECT_EQ(post("/", {{"name", "x"}, {"limit", 2147483648LL}}).status, 422);  // no 500 from PostgreSQL
  EXPECT_EQ(post("/", {{"name", "x"}, {"limit", 1.5}}).status, 422);
  EXPECT_EQ(call("PATCH", "/db", {{"limit", -3}}).status, 422);
  EXPECT_EQ(call("PATCH", "/db", {{"slot_decay_per_second", -1}}).status, 422);

  auto too_many = post("/increment-with-lease", take("db", 3));
  EXPECT_EQ(too_many.status, 422);
  EXPECT_EQ(json::parse(too_many.body)["detail"], "Slots requested is greater than the limit");
  auto rate = post("/increment", {{"names", {"db"}}, {"slots", 1}, {"mode", "rate_limit"}});
  EXPECT_EQ(rate.status, 422);
  EXPECT_TRUE(json::parse(rate.body)["detail"].get<std::string>().ends_with("configured: 'db'"));
  EXPECT_EQ(post("/increment-with-lease", take("db", 0)).status, 422);
  EXPECT_EQ(post("/increment-with-lease", take("db", -1)).status, 422);
  EXPECT_EQ(post("/increment-with-lease", {{"names", json::array()}, {"slots", 1}}).status, 422);
  EXPECT_EQ(post("/increment-with-lease", {{"names", {"db"}}, {"slots", 1}, {"mode", "fast"}}).status, 422);
  EXPECT_EQ(post("/increment-with-lease", {{"names", {"db"}}, {"slots", 1}, {"lease_duration", 59}}).status, 422);
  EXPECT_EQ(post("/increment-with-lease", {{"names", {"db"}}, {"slots", 1}, {"lease_duration", 86401}}).status, 422);
  EXPECT_EQ(post("/increment-with-lease", {{"names", {"db"}}, {"slots", 1}, {"holder", {{"type", "cat"}}}}).status,
            422);
  EXPECT_EQ(post("/decrement-with-lease", {{"lease_id", "nope"}}).status, 422);
  EXPECT_EQ(post("/decrement", {{"names", {"db"}}, {"slots", 0}}).status, 422);
  EXPECT_EQ(post("/filter", {{"limit", 201}}).status, 422);
  EXPECT_EQ(post("/filter", {{"limit", -1}}).status, 422);
  EXPECT_EQ(http_request("POST", daemon_->base_url() + "/api/v2/concurrency_limits/increment", "{").status, 422);

  auto db = limit("db");
  EXPECT_EQ(db["limit"], 2);
  EXPECT_EQ(db["active_slots"], 0);
  EXPECT_EQ(leases(), 0);
  EXPECT_EQ(json::parse(post("/filter", json::object()).body).size(), 1u);
}

TEST_P(ConcurrencyRoutes, TheReaperGivesBackTheSlotOfAnExpiredLease) {
  ASSERT_EQ(post("/", {{"name", "db"}, {"limit", 1}}).status, 201);
  ASSERT_EQ(post("/increment-with-lease", take("db")).status, 200);
  ASSERT_EQ(post("/increment-with-lease", take("db")).status, 423);
  // The holder vanished a while ago: its lease expired (60 s is the shortest the API grants).
  db_.connect()->execute("UPDATE concurrency_lease SET expiration = $1",
                         {persistence::ts(system_clock::instance().now() - 1s)});
  ASSERT_TRUE(wait_until([&] { return leases() == 0; }, 20s)) << daemon_->output();
  EXPECT_EQ(limit("db")["active_slots"], 0);
  EXPECT_EQ(post("/increment-with-lease", take("db")).status, 200);
}

TEST_P(ConcurrencyRoutes, V1TagRoutesWorkOnTagLimits) {
  const std::string v1 = daemon_->base_url() + "/api/concurrency_limits";
  auto created = http_request("POST", v1 + "/", json{{"tag", "etl"}, {"concurrency_limit", 1}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(http_request("POST", v1 + "/", json{{"tag", "etl"}, {"concurrency_limit", 2}}.dump()).status, 200);
  EXPECT_EQ(limit("tag:etl")["limit"], 2);
  const std::string run = "5f6c2a4e-0000-4000-8000-0000000000dd";
  auto inc = http_request("POST", v1 + "/increment", json{{"names", {"etl"}}, {"task_run_id", run}}.dump());
  ASSERT_EQ(inc.status, 200) << inc.body;
  EXPECT_EQ(json::parse(inc.body)[0]["name"], "etl");
  auto shown = json::parse(http_request("GET", v1 + "/tag/etl").body);
  EXPECT_EQ(shown["active_slots"], json::array({run}));
  EXPECT_EQ(json::parse(http_request("POST", v1 + "/filter", "{}").body).size(), 1u);
  ASSERT_EQ(http_request("POST", v1 + "/decrement", json{{"names", {"etl"}}, {"task_run_id", run}}.dump()).status, 200);
  EXPECT_EQ(limit("tag:etl")["active_slots"], 0);
  EXPECT_EQ(http_request("POST", v1 + "/tag/etl/reset", json{{"slot_override", {run}}}.dump()).status, 200);
  EXPECT_EQ(limit("tag:etl")["active_slots"], 1);
  EXPECT_EQ(http_request("POST", v1 + "/tag/nope/reset", "{}").status, 404);
  EXPECT_EQ(http_request("DELETE", v1 + "/tag/etl").status, 200);
  EXPECT_EQ(http_request("GET", v1 + "/tag/etl").status, 404);
  EXPECT_EQ(leases(), 0);
  EXPECT_EQ(http_request("POST", v1 + "/", json{{"tag", "x"}, {"concurrency_limit", -1}}.dump()).status, 422);
}

TEST_P(ConcurrencyRoutes, CreateUpdateAndDeleteEmitPrefectsLifecycleEvents) {
  auto created = post("/", {{"name", "warehouse"}, {"limit", 3}});
  ASSERT_EQ(created.status, 201) << created.body;
  const auto id = json::parse(created.body)["id"].get<std::string>();
  EXPECT_EQ(call("PATCH", "/warehouse", {{"limit", 5}, {"active", false}}).status, 204);
  EXPECT_EQ(call("DELETE", "/" + id).status, 204);
  EXPECT_EQ(call("DELETE", "/" + id).status, 404);  // nothing deleted, nothing announced
  // Taking and giving back slots is not a change of the limit: no event.
  const json query = {{"filter", {{"event", {{"prefix", {"prefect.concurrency-limit."}}}}}}, {"limit", 50}};
  json page;
  EXPECT_TRUE(wait_until(
      [&] {
        page = json::parse(http_request("POST", daemon_->base_url() + "/api/events/filter", query.dump()).body, nullptr,
                           false);
        return page.is_object() && page.value("total", 0) >= 3;
      },
      10s))
      << page.dump();
  ASSERT_EQ(page["total"], 3) << page.dump();
  std::map<std::string, json> by_name;
  for (const auto& e : page["events"]) by_name[e["event"].get<std::string>()] = e;
  ASSERT_EQ(by_name.size(), 3u) << page.dump();
  for (const auto& [name, e] : by_name) {
    EXPECT_EQ(e["resource"]["prefect.resource.id"], "prefect.concurrency-limit." + id) << name;
    EXPECT_EQ(e["resource"]["prefect.resource.name"], "warehouse") << name;
  }
  EXPECT_EQ(by_name["prefect.concurrency-limit.created"]["payload"],
            (json{{"name", "warehouse"}, {"limit", 3}, {"active", true}, {"slot_decay_per_second", 0.0}}));
  EXPECT_EQ(by_name["prefect.concurrency-limit.updated"]["payload"]["limit"], 5);
  EXPECT_EQ(by_name["prefect.concurrency-limit.updated"]["payload"]["active"], false);
  EXPECT_EQ(by_name["prefect.concurrency-limit.deleted"]["payload"]["limit"], 5);
}

INSTANTIATE_TEST_SUITE_P(D, ConcurrencyRoutes, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

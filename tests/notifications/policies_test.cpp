// End to end: notification policies through the REST API (/api/flow_run_notification_policies) on the built
// daemon, with real receivers on loopback. API policies take effect at once and are validated against the
// configured channels; policies from the config file are listed but read-only. On SQLite and PostgreSQL.

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/http_receiver.hpp"
#include "tests/support/scratch.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;
using namespace std::chrono_literals;

constexpr const char* policies_path = "/api/flow_run_notification_policies/";

class NotificationPolicies : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    pagerduty_.set_default({202, {}, R"({"status":"success"})"});
    config_file_ = (home_.path() / "osprey-config.yaml").string();
    std::ofstream(config_file_) << "notifications:\n"
                                   "  retry: {initial: 200ms, max: 1s}\n"
                                   "  channels:\n"
                                   "    - {name: slack-ops, type: slack, allow_private_network: true, url: \"" +
                                       slack_.base_url() +
                                       "/services/T0/B0/X\"}\n"
                                       "    - {name: pager, type: pagerduty, allow_private_network: true, routing_key: "
                                       "\"PDKEY00000000000000000000000001\", api_url: \"" +
                                       pagerduty_.base_url() +
                                       "\"}\n"
                                       "  policies:\n"
                                       "    - name: from-file\n"
                                       "      match: {state_names: [Crashed]}\n"
                                       "      channels: [slack-ops]\n";
    std::map<std::string, std::string> env{{"OSPREY_HOME", home_.path().string()}, {"OSPREY_DATABASE_URL", db_.url()}};
    daemon_ = std::make_unique<daemon>(env, std::vector<std::string>{"--config", config_file_});
    ASSERT_TRUE(daemon_->started()) << daemon_->output();
  }

  /// Any request; the reply as it came. Asserts it is not a 5xx.
  http_reply raw(const std::string& method, const std::string& path, const std::string& body = "") {
    auto r = http_request(method, daemon_->base_url() + path, body);
    EXPECT_GT(r.status, 0) << method << " " << path << ": no answer";
    EXPECT_LT(r.status, 500) << method << " " << path << ": " << r.status << " " << r.body;
    return r;
  }

  /// A request expected to succeed (< 300); its JSON body (null when empty).
  json call(const std::string& method, const std::string& path, const json& body = nullptr) {
    auto r = raw(method, path, body.is_null() ? "" : body.dump());
    EXPECT_LT(r.status, 300) << method << " " << path << ": " << r.status << " " << r.body;
    return json::parse(r.body.empty() ? "null" : r.body, nullptr, false);
  }

  json policies(const json& filter = json::object()) {
    return call("POST", std::string(policies_path) + "filter", filter);
  }

  std::vector<std::string> policy_names(const json& filter = json::object()) {
    std::vector<std::string> names;
    for (const auto& p : policies(filter)) names.push_back(p["name"]);
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string failing_run(const std::vector<std::string>& tags = {}) {
    if (flow_id_.empty()) flow_id_ = call("POST", "/api/flows/", {{"name", "etl"}})["id"];
    auto run = call("POST", "/api/flow_runs/", {{"flow_id", flow_id_}, {"name", "odd-bee"}, {"tags", tags}});
    const std::string id = run["id"];
    for (const char* type : {"RUNNING", "FAILED"}) {
      auto r = call("POST", "/api/flow_runs/" + id + "/set_state", {{"state", {{"type", type}}}});
      EXPECT_EQ(r["status"], "ACCEPT") << r;
    }
    return id;
  }

  /// Outbox jobs of one flow run.
  json jobs_of(const std::string& run) {
    json out = json::array();
    for (const auto& j : call("GET", "/api/notifications/outbox?limit=10000"))
      if (j["flow_run_id"] == run) out.push_back(j);
    return out;
  }

  scratch_database db_{GetParam()};
  scratch_dir home_;
  http_receiver slack_, pagerduty_;
  std::string config_file_;
  std::unique_ptr<daemon> daemon_;
  std::string flow_id_;
};

TEST_P(NotificationPolicies, AnApiPolicyAlertsAtOnceAndCanBeReadPausedFilteredAndDeleted) {
  // Create: 201 with the policy as stored.
  auto created = raw("POST", policies_path,
                     json{{"name", "api-failures"},
                          {"state_names", {"Failed"}},
                          {"tags", json::array()},
                          {"channels", {"pager"}},
                          {"message_template", "Run {flow_run_name} is {flow_run_state_name}"}}
                         .dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const auto policy = json::parse(created.body);
  const std::string id = policy.at("id");
  EXPECT_EQ(policy["name"], "api-failures");
  EXPECT_EQ(policy["is_active"], true);
  EXPECT_EQ(policy["source"], "api");
  EXPECT_EQ(policy["state_names"], json({"Failed"}));
  EXPECT_EQ(policy["channels"], json({"pager"}));
  EXPECT_EQ(policy["message_template"], "Run {flow_run_name} is {flow_run_state_name}");
  EXPECT_TRUE(policy["block_document_id"].is_null());

  // It takes effect at once: a run entering Failed alerts through it.
  const auto first = failing_run();
  ASSERT_TRUE(pagerduty_.wait_for(1, 20s)) << daemon_->output();
  const auto event = json::parse(pagerduty_.requests().at(0).body);
  EXPECT_EQ(event["event_action"], "trigger");
  EXPECT_EQ(event["dedup_key"], "osprey/api-failures/" + first);
  ASSERT_TRUE(wait_until(
      [&] {
        auto jobs = jobs_of(first);
        return jobs.size() == 1 && jobs[0]["status"] == "delivered";
      },
      20s))
      << jobs_of(first).dump(1);
  EXPECT_EQ(jobs_of(first)[0]["policy_name"], "api-failures");
  EXPECT_EQ(jobs_of(first)[0]["channel_name"], "pager");

  // Read it back by id: the same policy.
  EXPECT_EQ(call("GET", policies_path + id), policy);

  // Filter: the file policy and this one, both active.
  EXPECT_EQ(policy_names(), (std::vector<std::string>{"api-failures", "from-file"}));
  const json active_only = {{"flow_run_notification_policy_filter", {{"is_active", {{"eq_", true}}}}}};
  const json inactive_only = {{"flow_run_notification_policy_filter", {{"is_active", {{"eq_", false}}}}}};
  EXPECT_EQ(policy_names(active_only), (std::vector<std::string>{"api-failures", "from-file"}));
  EXPECT_TRUE(policy_names(inactive_only).empty());

  // Pause it: 204, stored, and a new failing run gets no job (the outbox is written with the state).
  auto patched = raw("PATCH", policies_path + id, R"({"is_active": false})");
  ASSERT_EQ(patched.status, 204) << patched.body;
  EXPECT_TRUE(patched.body.empty()) << patched.body;
  auto paused = call("GET", policies_path + id);
  EXPECT_EQ(paused["is_active"], false);
  EXPECT_EQ(paused["channels"], json({"pager"}));  // a PATCH changes only what it names
  EXPECT_EQ(paused["message_template"], policy["message_template"]);
  const auto quiet = failing_run();
  EXPECT_TRUE(jobs_of(quiet).empty()) << jobs_of(quiet).dump(1);
  EXPECT_EQ(policy_names(active_only), (std::vector<std::string>{"from-file"}));
  EXPECT_EQ(policy_names(inactive_only), (std::vector<std::string>{"api-failures"}));

  // Active again, now for tagged runs only.
  ASSERT_EQ(raw("PATCH", policies_path + id, R"({"is_active": true, "tags": ["prod"]})").status, 204);
  const auto untagged = failing_run();
  EXPECT_TRUE(jobs_of(untagged).empty()) << jobs_of(untagged).dump(1);
  const auto tagged = failing_run({"prod"});
  EXPECT_EQ(jobs_of(tagged).size(), 1u) << jobs_of(tagged).dump(1);
  ASSERT_TRUE(pagerduty_.wait_for(2, 20s));

  // Delete: 204, then 404 everywhere, and no more alerts.
  auto deleted = raw("DELETE", policies_path + id);
  ASSERT_EQ(deleted.status, 204) << deleted.body;
  for (const char* method : {"GET", "DELETE"}) {
    auto gone = raw(method, policies_path + id);
    EXPECT_EQ(gone.status, 404) << method << " " << gone.body;
    EXPECT_NE(json::parse(gone.body)["detail"].get<std::string>().find("not found"), std::string::npos) << gone.body;
  }
  EXPECT_EQ(raw("PATCH", policies_path + id, R"({"is_active": true})").status, 404);
  EXPECT_EQ(policy_names(), (std::vector<std::string>{"from-file"}));
  const auto after = failing_run({"prod"});
  EXPECT_TRUE(jobs_of(after).empty()) << jobs_of(after).dump(1);
  EXPECT_EQ(pagerduty_.count(), 2u);
  (void)quiet;
}

TEST_P(NotificationPolicies, EveryFieldRoundTrips) {
  const json body = {
      {"name", "everything"},
      {"is_active", true},
      {"state_names", {"Failed", "Crashed"}},
      {"tags", {"prod"}},
      {"channels", {"pager", "slack-ops"}},
      {"message_template", "{flow_name}: {flow_run_state_name}"},
      {"match",
       {{"state_types", {"failed"}}, {"tags_none", {"canary"}}, {"flows", {"etl"}}, {"deployments", {"nightly"}}}},
      {"resolve_on", {"Completed"}},
      {"dedup_scope", "deployment"},
      {"send_resolved", true},
      {"group_wait_seconds", 1.5}};
  auto created = raw("POST", policies_path, body.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const auto policy = json::parse(created.body);
  EXPECT_EQ(policy["state_names"], json({"Failed", "Crashed"}));
  EXPECT_EQ(policy["tags"], json({"prod"}));
  EXPECT_EQ(policy["channels"], json({"pager", "slack-ops"}));
  EXPECT_EQ(policy["match"]["state_names"], json({"Failed", "Crashed"}));
  EXPECT_EQ(policy["match"]["tags_any"], json({"prod"}));
  EXPECT_EQ(policy["match"]["state_types"], json({"FAILED"}));  // as Prefect spells state types
  EXPECT_EQ(policy["match"]["tags_none"], json({"canary"}));
  EXPECT_EQ(policy["match"]["flows"], json({"etl"}));
  EXPECT_EQ(policy["match"]["deployments"], json({"nightly"}));
  EXPECT_EQ(policy["resolve_on"], json({"Completed"}));
  EXPECT_EQ(policy["dedup_scope"], "deployment");
  EXPECT_EQ(policy["send_resolved"], true);
  EXPECT_EQ(policy["group_wait_seconds"], 1.5);
  const std::string id = policy.at("id");
  EXPECT_EQ(call("GET", policies_path + id), policy);
  json listed;
  for (const auto& p : policies())
    if (p["name"] == "everything") listed = p;
  EXPECT_EQ(listed, policy);

  // PATCH changes what it names, and only that; a null template goes back to the default.
  ASSERT_EQ(raw("PATCH", policies_path + id, R"({"message_template": null, "dedup_scope": "flow_run"})").status, 204);
  auto expected = policy;
  expected["message_template"] = nullptr;
  expected["dedup_scope"] = "flow_run";
  EXPECT_EQ(call("GET", policies_path + id), expected);

  // A policy without a name gets one.
  auto unnamed = call("POST", policies_path, {{"channels", {"pager"}}});
  EXPECT_EQ(unnamed["name"].get<std::string>().rfind("api-", 0), 0u) << unnamed;
  EXPECT_EQ(call("GET", policies_path + unnamed["id"].get<std::string>()), unnamed);
}

TEST_P(NotificationPolicies, FilePoliciesAreListedButReadOnly) {
  auto listed = policies();
  ASSERT_EQ(listed.size(), 1u) << listed.dump(1);
  const auto& file_policy = listed[0];
  EXPECT_EQ(file_policy["name"], "from-file");
  EXPECT_EQ(file_policy["source"], "file");
  EXPECT_EQ(file_policy["is_active"], true);
  EXPECT_EQ(file_policy["channels"], json({"slack-ops"}));
  EXPECT_EQ(file_policy["match"]["state_names"], json({"Crashed"}));
  const std::string id = file_policy.at("id");
  EXPECT_EQ(call("GET", policies_path + id), file_policy);

  for (const auto& [method, body] : std::vector<std::pair<std::string, std::string>>{
           {"PATCH", R"({"is_active": false})"}, {"PATCH", "{}"}, {"DELETE", ""}}) {
    auto r = raw(method, policies_path + id, body);
    EXPECT_EQ(r.status, 409) << method << " " << r.body;
    const auto detail = json::parse(r.body)["detail"].get<std::string>();
    EXPECT_NE(detail.find("config file"), std::string::npos) << method << ": " << detail;
    EXPECT_NE(detail.find("SIGHUP"), std::string::npos) << method << ": " << detail;
  }
  // An API policy cannot take a file policy's name either.
  auto clash = raw("POST", policies_path, R"({"name": "from-file", "channels": ["pager"]})");
  EXPECT_EQ(clash.status, 409) << clash.body;
  EXPECT_NE(json::parse(clash.body)["detail"].get<std::string>().find("config file"), std::string::npos) << clash.body;

  // Nothing changed: still listed, still active, still alerting.
  EXPECT_EQ(policies(), listed);
  auto run = call("POST", "/api/flows/", {{"name", "etl"}});
  auto fr = call("POST", "/api/flow_runs/", {{"flow_id", run["id"]}, {"name", "r"}});
  call("POST", "/api/flow_runs/" + fr["id"].get<std::string>() + "/set_state",
       {{"state", {{"type", "CRASHED"}}}, {"force", true}});
  ASSERT_TRUE(slack_.wait_for(1, 20s)) << daemon_->output();
}

TEST_P(NotificationPolicies, BadBodiesAre422AndStoreNothing) {
  const std::string some_uuid = "0b4c1a9e-9d0e-4c3f-8b5a-1f2e3d4c5b6a";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"unknown channel", R"({"name": "a", "state_names": ["Failed"], "channels": ["nope"]})"},
      {"one unknown among known", R"({"name": "a", "channels": ["pager", "fax"]})"},
      {"template placeholder", R"({"name": "a", "channels": ["pager"], "message_template": "{nope} failed"})"},
      {"unknown key", R"({"name": "a", "channels": ["pager"], "colour": "red"})"},
      {"unknown match key", R"({"name": "a", "channels": ["pager"], "match": {"tags": ["x"]}})"},
      {"unknown state type", R"({"name": "a", "channels": ["pager"], "match": {"state_types": ["EXPLODED"]}})"},
      {"channels not a list", R"({"name": "a", "channels": "pager"})"},
      {"channel not a string", R"({"name": "a", "channels": [7]})"},
      {"is_active not a bool", R"({"name": "a", "channels": ["pager"], "is_active": "yes"})"},
      {"name not a string", R"({"name": 5, "channels": ["pager"]})"},
      {"state_names not a list", R"({"name": "a", "channels": ["pager"], "state_names": "Failed"})"},
      {"tags not a list", R"({"name": "a", "channels": ["pager"], "tags": {"prod": true}})"},
      {"match not an object", R"({"name": "a", "channels": ["pager"], "match": ["Failed"]})"},
      {"group_wait not a number", R"({"name": "a", "channels": ["pager"], "group_wait_seconds": "2s"})"},
      {"group_wait negative", R"({"name": "a", "channels": ["pager"], "group_wait_seconds": -1})"},
      {"bad dedup_scope", R"({"name": "a", "channels": ["pager"], "dedup_scope": "forever"})"},
      {"bad block id", R"({"name": "a", "channels": ["pager"], "block_document_id": "not-a-uuid"})"},
      {"block without channels",
       R"({"name": "a", "state_names": ["Failed"], "block_document_id": ")" + some_uuid + R"("})"},
      {"no channels", R"({"name": "a", "state_names": ["Failed"]})"},
      {"empty channels", R"({"name": "a", "channels": []})"},
      {"not an object", R"(["pager"])"},
      {"not JSON", R"({"name": )"},
  };
  for (const auto& [what, body] : bad) {
    auto r = raw("POST", policies_path, body);
    EXPECT_EQ(r.status, 422) << what << ": " << r.body;
    auto reply = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(reply.is_object()) << what << ": " << r.body;
    ASSERT_TRUE(reply["detail"].is_string()) << what << ": " << r.body;
    EXPECT_FALSE(reply["detail"].get<std::string>().empty()) << what;
  }
  // The details say what is wrong.
  auto detail_of = [&](const std::string& body) {
    return json::parse(raw("POST", policies_path, body).body)["detail"].get<std::string>();
  };
  const auto unknown_channel = detail_of(bad[0].second);
  EXPECT_NE(unknown_channel.find("nope"), std::string::npos) << unknown_channel;
  EXPECT_NE(unknown_channel.find("pager"), std::string::npos) << unknown_channel;  // lists the configured ones
  EXPECT_NE(detail_of(bad[2].second).find("nope"), std::string::npos) << detail_of(bad[2].second);
  const auto block_detail = detail_of(bad[17].second);
  EXPECT_NE(block_detail.find("channels"), std::string::npos) << block_detail;

  // Nothing was stored, and no policy alerts.
  EXPECT_EQ(policy_names(), (std::vector<std::string>{"from-file"}));
  const auto run = failing_run();
  EXPECT_TRUE(jobs_of(run).empty()) << jobs_of(run).dump(1);

  // A duplicate name is 409 and keeps one policy.
  ASSERT_EQ(raw("POST", policies_path, R"({"name": "twice", "channels": ["pager"]})").status, 201);
  auto again = raw("POST", policies_path, R"({"name": "twice", "channels": ["slack-ops"]})");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_NE(json::parse(again.body)["detail"].get<std::string>().find("twice"), std::string::npos) << again.body;
  EXPECT_EQ(policy_names(), (std::vector<std::string>{"from-file", "twice"}));
  for (const auto& p : policies()) {
    if (p["name"] == "twice") {
      EXPECT_EQ(p["channels"], json({"pager"}));  // the first one stays
    }
  }

  // A bad PATCH is 422 too and leaves the stored policy as it was; renaming onto a taken name is 409.
  auto other = call("POST", policies_path, {{"name", "other"}, {"channels", {"pager"}}});
  const std::string other_id = other.at("id");
  for (const auto& body : {R"({"channels": ["nope"]})", R"({"message_template": "{nope}"})", R"({"colour": 1})",
                           R"({"is_active": 0})", R"({"channels": []})", "[]"}) {
    auto r = raw("PATCH", policies_path + other_id, body);
    EXPECT_EQ(r.status, 422) << body << ": " << r.body;
  }
  EXPECT_EQ(raw("PATCH", policies_path + other_id, R"({"name": "twice"})").status, 409);
  EXPECT_EQ(raw("PATCH", policies_path + other_id, R"({"name": "from-file"})").status, 409);
  EXPECT_EQ(call("GET", policies_path + other_id), other);

  // Ids that are not UUIDs are 422; unknown UUIDs 404.
  for (const char* method : {"GET", "PATCH", "DELETE"}) {
    auto r = raw(method, std::string(policies_path) + "not-a-uuid", std::string(method) == "PATCH" ? "{}" : "");
    EXPECT_EQ(r.status, 422) << method << " " << r.body;
    auto missing = raw(method, policies_path + some_uuid, std::string(method) == "PATCH" ? "{}" : "");
    EXPECT_EQ(missing.status, 404) << method << " " << missing.body;
  }
  EXPECT_EQ(raw("POST", "/api/notifications/outbox/not-a-uuid/retry").status, 422);
  EXPECT_EQ(raw("POST", "/api/notifications/outbox/" + some_uuid + "/retry").status, 404);

  // Bad outbox queries too.
  for (const char* query : {"?status=lost", "?limit=0", "?limit=abc", "?limit=99999999999999999999", "?limit=10001"}) {
    auto r = raw("GET", std::string("/api/notifications/outbox") + query);
    EXPECT_EQ(r.status, 422) << query << ": " << r.body;
  }

  // Bad filters are 422 as well.
  for (const auto& body : {R"({"flow_run_notification_policy_filter": {"is_active": {"eq_": "yes"}}})",
                           R"({"flow_run_notification_policy_filter": {"name": {"any_": ["x"]}}})", R"({"limit": -1})",
                           R"({"limit": "ten"})", "[]"}) {
    auto r = raw("POST", std::string(policies_path) + "filter", body);
    EXPECT_EQ(r.status, 422) << body << ": " << r.body;
  }
  EXPECT_EQ(policy_names({{"limit", 1}}).size(), 1u);
  EXPECT_EQ(policy_names({{"offset", 1}, {"limit", 10}}).size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(D, NotificationPolicies, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

// Writes to a flow run's own columns (PATCH, labels, DELETE) on the built daemon while the run's actor is warm,
// on SQLite and PostgreSQL: the next transition neither undoes them nor reports the old name and tags in its
// event and alert, and a deleted run stays deleted.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "tests/support/daemon_test.hpp"
#include "tests/support/http_receiver.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;
using namespace std::chrono_literals;

class FlowRunWrites : public daemon_test {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    const auto config_file = (home_.path() / "osprey-config.yaml").string();
    // The policy matches the tag the PATCH gives: only an actor that saw the PATCH alerts.
    std::ofstream(config_file) << "notifications:\n"
                                  "  channels:\n"
                                  "    - {name: chat, type: slack, allow_private_network: true, url: \"" +
                                      slack_.base_url() +
                                      "/services/T0/B0/X\"}\n"
                                      "  policies:\n"
                                      "    - name: after-completed\n"
                                      "      match: {state_names: [Completed], tags_any: [after]}\n"
                                      "      channels: [chat]\n";
    start({}, {"--config", config_file});
  }

  http_reply request(const std::string& method, const std::string& path, const json& body = nullptr) {
    return http_request(method, daemon_->base_url() + path, body.is_null() ? "" : body.dump());
  }

  /// A new run of flow "etl" named `name` with `tags`, moved to Running so its actor is warm.
  std::string warm_run(const std::string& name, const std::vector<std::string>& tags) {
    auto flow = request("POST", "/api/flows/", {{"name", "etl"}});
    EXPECT_LT(flow.status, 300) << flow.body;
    auto run =
        request("POST", "/api/flow_runs/", {{"flow_id", json::parse(flow.body)["id"]}, {"name", name}, {"tags", tags}});
    EXPECT_EQ(run.status, 201) << run.body;
    const std::string id = json::parse(run.body)["id"];
    EXPECT_EQ(set_state(id, "RUNNING").status, 201);
    return id;
  }

  http_reply set_state(const std::string& run, const std::string& type) {
    return request("POST", "/api/flow_runs/" + run + "/set_state", {{"state", {{"type", type}}}});
  }

  json read_run(const std::string& run) {
    auto r = request("GET", "/api/flow_runs/" + run);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  /// The stored prefect.flow-run.<state> event of `run` (null until it is stored).
  json state_event(const std::string& run, const std::string& state) {
    auto r = request("POST", "/api/events/filter",
                     {{"filter",
                       {{"resource", {{"id", {"prefect.flow-run." + run}}}},
                        {"event", {{"name", {"prefect.flow-run." + state}}}}}}});
    EXPECT_EQ(r.status, 200) << r.body;
    auto events = json::parse(r.body, nullptr, false)["events"];
    return events.is_array() && !events.empty() ? events[0] : json(nullptr);
  }

  std::int64_t rows(const std::string& table, const std::string& run) {
    return db_.connect()
        ->query("SELECT COUNT(*) FROM " + table + " WHERE " + (table == "flow_run" ? "id" : "flow_run_id") + " = $1",
                {persistence::id(*uuid::parse(run))})
        .at(0)
        .integer(0);
  }

  http_receiver slack_;
};

std::vector<std::string> tags_of(const json& event) {
  std::vector<std::string> tags;
  for (const auto& related : event["related"])
    if (related["prefect.resource.role"] == "tag") tags.push_back(related["prefect.resource.id"]);
  return tags;
}

TEST_P(FlowRunWrites, APatchOfAWarmRunSurvivesTheNextTransitionAndNamesItsEventAndAlert) {
  const auto run = warm_run("old-name", {"before"});
  auto patched =
      request("PATCH", "/api/flow_runs/" + run,
              {{"name", "new-name"}, {"tags", {"after"}}, {"empirical_policy", {{"retries", 2}, {"retry_delay", 5}}}});
  ASSERT_EQ(patched.status, 204) << patched.body;
  ASSERT_EQ(set_state(run, "COMPLETED").status, 201);

  const auto stored = read_run(run);
  EXPECT_EQ(stored["name"], "new-name");
  EXPECT_EQ(stored["tags"], json({"after"}));
  EXPECT_EQ(stored["empirical_policy"]["retries"], 2) << "the transition wrote the actor's stale policy back";
  EXPECT_EQ(stored["empirical_policy"]["retry_delay"], 5);

  json event;
  ASSERT_TRUE(wait_until([&] { return !(event = state_event(run, "Completed")).is_null(); }, 10s));
  EXPECT_EQ(event["resource"]["prefect.resource.name"], "new-name");
  EXPECT_EQ(tags_of(event), std::vector<std::string>{"prefect.tag.after"});

  // The outbox row is committed with the state, so it is there once set_state answered.
  auto outbox = db_.connect()->query("SELECT payload FROM notification_outbox WHERE flow_run_id = $1",
                                     {persistence::id(*uuid::parse(run))});
  ASSERT_EQ(outbox.size(), 1u) << "the policy on the new tag did not match";
  const auto payload = json::parse(outbox[0].text(0));
  EXPECT_EQ(payload["values"]["flow_run_name"], "new-name");
  EXPECT_EQ(payload["values"]["flow_run_tags"], "after");
  EXPECT_NE(payload["title"].get<std::string>().find("new-name"), std::string::npos) << payload["title"];
}

TEST_P(FlowRunWrites, LabelsMergedIntoAWarmRunSurviveTheNextTransition) {
  const auto run = warm_run("labelled", {});
  ASSERT_EQ(request("PATCH", "/api/flow_runs/" + run + "/labels", {{"team", "data"}}).status, 204);
  ASSERT_EQ(request("PATCH", "/api/flow_runs/" + run + "/labels", {{"tier", "gold"}}).status, 204);
  ASSERT_EQ(set_state(run, "COMPLETED").status, 201);
  const auto labels = read_run(run)["labels"];
  EXPECT_EQ(labels["team"], "data") << labels;
  EXPECT_EQ(labels["tier"], "gold") << labels;
}

TEST_P(FlowRunWrites, ADeletedWarmRunIsNotFoundAndNotResurrectedByATransition) {
  const auto run = warm_run("doomed", {"after"});
  ASSERT_EQ(request("DELETE", "/api/flow_runs/" + run).status, 204);
  auto refused = set_state(run, "COMPLETED");
  EXPECT_EQ(refused.status, 404) << refused.body;
  EXPECT_EQ(request("POST", "/api/flow_runs/" + run + "/resume").status, 404);
  EXPECT_EQ(request("PATCH", "/api/flow_runs/" + run, {{"name", "ghost"}}).status, 404);
  EXPECT_EQ(request("PATCH", "/api/flow_runs/" + run + "/labels", {{"a", "b"}}).status, 404);
  EXPECT_EQ(request("DELETE", "/api/flow_runs/" + run).status, 404);
  EXPECT_EQ(request("GET", "/api/flow_runs/" + run).status, 404);
  EXPECT_EQ(rows("flow_run", run), 0);
  EXPECT_EQ(rows("flow_run_state", run), 0);
  EXPECT_EQ(rows("notification_outbox", run), 0);
}

TEST_P(FlowRunWrites, AnUnknownRunIsNotFoundForEveryWrite) {
  const std::string run = new_uuid4().to_string();
  EXPECT_EQ(request("PATCH", "/api/flow_runs/" + run, {{"name", "x"}}).status, 404);
  EXPECT_EQ(request("PATCH", "/api/flow_runs/" + run + "/labels", {{"a", "b"}}).status, 404);
  EXPECT_EQ(request("DELETE", "/api/flow_runs/" + run).status, 404);
  EXPECT_EQ(set_state(run, "RUNNING").status, 404);
  EXPECT_EQ(rows("flow_run", run), 0);
}

INSTANTIATE_TEST_SUITE_P(Dialects, FlowRunWrites, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

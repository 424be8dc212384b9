// The events pipeline of the built daemon, on SQLite and PostgreSQL: events streamed over WS /api/events/in
// and POSTed to /api/events are stored once per id and found by POST /api/events/filter (with paging);
// WS /api/events/out streams matching events live and backfills; flow-run state changes reach subscribers as
// prefect.flow-run.<State> events; garbage gets a close code and leaves the server healthy.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "tests/support/daemon_test.hpp"
#include "tests/support/ws_client.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;
using namespace std::chrono_literals;

/// A client-shaped event (what Prefect's Event.model_dump_json() sends).
json make_event(const std::string& name, const std::string& resource_id, std::string id = {}) {
  if (id.empty()) id = new_uuid4().to_string();
  return {{"id", id},
          {"occurred", format_iso8601(system_clock::instance().now())},
          {"event", name},
          {"resource", {{"prefect.resource.id", resource_id}, {"prefect.resource.name", "thing"}}},
          {"related", {{{"prefect.resource.id", "prefect.tag.blackbox"}, {"prefect.resource.role", "tag"}}}},
          {"payload", {{"n", 1}}},
          {"follows", nullptr}};
}

class EventsTest : public daemon_test {
 protected:
  http_reply post(const std::string& path, const json& body) {
    return http_request("POST", daemon_->base_url() + path, body.dump());
  }
  http_reply get(const std::string& path) { return http_request("GET", daemon_->base_url() + path); }

  /// POST /api/events/filter for one resource id (newest first, as Prefect's default).
  json events_of(const std::string& resource_id, int limit = 50) {
    const auto r = post("/api/events/filter", {{"filter", {{"resource", {{"id", {resource_id}}}}}}, {"limit", limit}});
    EXPECT_EQ(r.status, 200) << r.body;
    return parsed(r);
  }

  /// Waits until the store holds `n` events of `resource_id`.
  bool stored(const std::string& resource_id, int n) {
    return wait_until([&] { return events_of(resource_id)["total"] == n; }, 10s);
  }

  /// An /api/events/out subscription for event names.
  std::unique_ptr<ws_client> subscribe(const std::vector<std::string>& names, bool backfill = true) {
    auto ws = websocket("/api/events/out");
    const auto now = system_clock::instance().now();
    const json filter = {{"occurred", {{"since", format_iso8601(now - 1min)}, {"until", format_iso8601(now + 24h)}}},
                         {"event", {{"name", names}}}};
    EXPECT_TRUE(ws->send(json{{"type", "filter"}, {"filter", filter}, {"backfill", backfill}}.dump()));
    return ws;
  }

  bool healthy() { return get("/api/health").status == 200; }
};

TEST_P(EventsTest, StreamedEventsAreStoredAndFound) {
  const std::string resource = "blackbox.thing." + new_uuid4().to_string();
  auto in = websocket("/api/events/in");
  std::vector<json> sent;
  for (const char* name : {"blackbox.one", "blackbox.two", "blackbox.three"}) {
    sent.push_back(make_event(name, resource));
    ASSERT_TRUE(in->send(sent.back().dump()));
  }
  ASSERT_TRUE(stored(resource, 3));
  const auto page = events_of(resource);
  ASSERT_EQ(page["events"].size(), 3u);
  EXPECT_EQ(page["next_page"], nullptr);
  std::set<std::string> names;
  for (const auto& e : page["events"]) {
    names.insert(e["event"].get<std::string>());
    EXPECT_TRUE(e.contains("received")) << e;
    EXPECT_EQ(e["resource"]["prefect.resource.name"], "thing");
    EXPECT_EQ(e["related"][0]["prefect.resource.role"], "tag");
    EXPECT_EQ(e["payload"], (json{{"n", 1}}));
  }
  EXPECT_EQ(names, (std::set<std::string>{"blackbox.one", "blackbox.two", "blackbox.three"}));
}

TEST_P(EventsTest, DuplicatesByIdAreStoredOnce) {
  const std::string resource = "blackbox.dup." + new_uuid4().to_string();
  const json e = make_event("blackbox.dup", resource);
  ASSERT_EQ(post("/api/events", json::array({e, e})).status, 204);  // answered once stored
  auto in = websocket("/api/events/in");
  ASSERT_TRUE(in->send(e.dump()));  // a client replaying after a reconnect
  ASSERT_TRUE(in->send(e.dump()));
  const json sentinel = make_event("blackbox.sentinel", resource);
  ASSERT_TRUE(in->send(sentinel.dump()));  // handled after the replays: once it is stored, so are they
  ASSERT_TRUE(stored(resource, 2));
  auto conn = db_.connect();
  EXPECT_EQ(conn->query("SELECT COUNT(*) FROM events WHERE event = 'blackbox.dup'").front().integer(0), 1);
  const auto resources =
      conn->query("SELECT COUNT(*) FROM event_resources WHERE resource_id = $1", {persistence::text(resource)});
  EXPECT_EQ(resources.front().integer(0), 2);  // the primary resource of the two distinct events
}

TEST_P(EventsTest, PostedEventsArePagedFiftyAtATime) {
  const std::string resource = "blackbox.paged." + new_uuid4().to_string();
  json batch = json::array();
  for (int i = 0; i < 60; ++i) batch.push_back(make_event("blackbox.paged", resource));
  ASSERT_EQ(post("/api/events", batch).status, 204);

  const auto first = events_of(resource);
  EXPECT_EQ(first["total"], 60);
  ASSERT_EQ(first["events"].size(), 50u);
  ASSERT_TRUE(first["next_page"].is_string()) << first["next_page"];
  const std::string next = first["next_page"];
  const std::string prefix = daemon_->base_url() + "/api/events/filter/next?page-token=";
  ASSERT_TRUE(next.starts_with(prefix)) << next;
  const auto second = parsed(get(next.substr(daemon_->base_url().size())));
  EXPECT_EQ(second["total"], 60);
  ASSERT_EQ(second["events"].size(), 10u);
  EXPECT_EQ(second["next_page"], nullptr);
  std::set<std::string> ids;
  for (const auto& page : {first, second})
    for (const auto& e : page["events"]) ids.insert(e["id"].get<std::string>());
  EXPECT_EQ(ids.size(), 60u);

  EXPECT_EQ(get("/api/events/filter/next?page-token=garbage!").status, 403);
  EXPECT_EQ(post("/api/events/filter", {{"limit", 51}}).status, 422);
  EXPECT_EQ(post("/api/events/filter", {{"filter", {{"colour", "red"}}}}).status, 422);
}

TEST_P(EventsTest, InvalidPostedEventsAreRefusedAndNothingIsStored) {
  const std::string resource = "blackbox.bad." + new_uuid4().to_string();
  json bad = make_event("blackbox.bad", resource);
  bad["resource"].erase("prefect.resource.id");
  const auto r = post("/api/events", json::array({make_event("blackbox.good", resource), bad}));
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("prefect.resource.id"), std::string::npos) << r.body;
  EXPECT_EQ(post("/api/events", {{"not", "a list"}}).status, 422);
  EXPECT_EQ(events_of(resource)["total"], 0);
}

TEST_P(EventsTest, SubscribersGetLiveEventsAndBackfill) {
  const std::string resource = "blackbox.live." + new_uuid4().to_string();
  const std::string wanted = "blackbox.wanted." + new_uuid4().to_string();
  const json early_one = make_event(wanted, resource);
  const json early_two = make_event(wanted, resource);
  ASSERT_EQ(post("/api/events", json::array({early_one, early_two})).status, 204);

  auto out = subscribe({wanted});
  // Backfill first, oldest first.
  std::set<std::string> backfilled;
  for (int i = 0; i < 2; ++i) backfilled.insert(next_event(*out).value("id", ""));
  EXPECT_EQ(backfilled,
            (std::set<std::string>{early_one["id"].get<std::string>(), early_two["id"].get<std::string>()}));

  auto in = websocket("/api/events/in");
  ASSERT_TRUE(in->send(make_event("blackbox.unwanted", resource).dump()));
  ASSERT_TRUE(in->send(early_one.dump()));  // a replay: stored already, not streamed again
  const json live = make_event(wanted, resource);
  ASSERT_TRUE(in->send(live.dump()));
  const auto received = next_event(*out);
  EXPECT_EQ(received["id"], live["id"]);
  EXPECT_EQ(received["event"], wanted);
  EXPECT_TRUE(received.contains("received"));

  auto without_backfill = subscribe({wanted}, false);
  const json later = make_event(wanted, resource);
  ASSERT_EQ(post("/api/events", json::array({later})).status, 204);
  EXPECT_EQ(next_event(*without_backfill)["id"], later["id"]);
  EXPECT_EQ(next_event(*out)["id"], later["id"]);
}

TEST_P(EventsTest, LongBackfillComesInPagesWithoutLossOrRepeats) {
  const std::string name = "blackbox.many." + new_uuid4().to_string();
  const std::string occurred = format_iso8601(system_clock::instance().now() - 10s);
  json batch = json::array();
  std::set<std::string> sent;
  for (int i = 0; i < 600; ++i) {
    json e = make_event(name, "blackbox.many");
    if (i < 300) e["occurred"] = occurred;  // one instant shared by more events than a page holds
    sent.insert(e["id"].get<std::string>());
    batch.push_back(std::move(e));
  }
  ASSERT_EQ(post("/api/events", batch).status, 204);
  auto out = subscribe({name});
  std::set<std::string> received;
  std::string previous_occurred;
  for (int i = 0; i < 600; ++i) {
    const json e = next_event(*out);
    ASSERT_FALSE(e.is_null()) << "after " << i << " events";
    received.insert(e["id"].get<std::string>());
    EXPECT_LE(previous_occurred, e["occurred"].get<std::string>());  // oldest first
    previous_occurred = e["occurred"];
  }
  EXPECT_EQ(received, sent);
  const json live = make_event(name, "blackbox.many");
  ASSERT_EQ(post("/api/events", json::array({live})).status, 204);
  EXPECT_EQ(next_event(*out)["id"], live["id"]);
}

TEST_P(EventsTest, FlowRunStateChangesReachSubscribersAsEvents) {
  auto out = subscribe({"prefect.flow-run.Pending", "prefect.flow-run.Running"});
  const auto flow = post("/api/flows/", {{"name", "events-" + new_uuid4().to_string()}});
  ASSERT_EQ(flow.status, 201) << flow.body;
  const auto run = post("/api/flow_runs/", {{"flow_id", parsed(flow)["id"]}});
  ASSERT_EQ(run.status, 201) << run.body;
  const std::string run_id = parsed(run)["id"];
  const auto running = post("/api/flow_runs/" + run_id + "/set_state", {{"state", {{"type", "RUNNING"}}}});
  ASSERT_EQ(running.status, 201) << running.body;

  const auto pending = next_event(*out);
  EXPECT_EQ(pending["event"], "prefect.flow-run.Pending");
  EXPECT_EQ(pending["resource"]["prefect.resource.id"], "prefect.flow-run." + run_id);
  EXPECT_EQ(pending["id"], parsed(run)["state"]["id"]);  // the event's id is the state's id
  const auto started = next_event(*out);
  EXPECT_EQ(started["event"], "prefect.flow-run.Running");
  EXPECT_EQ(started["payload"]["intended"], (json{{"from", "PENDING"}, {"to", "RUNNING"}}));
  EXPECT_EQ(started["follows"], pending["id"]);

  // Stored too: found by the REST filter, and backfilled to a late subscriber.
  EXPECT_EQ(events_of("prefect.flow-run." + run_id)["total"], 2);
  auto late = subscribe({"prefect.flow-run.Running"});
  bool found = false;
  for (int i = 0; i < 100 && !found; ++i) {
    const json e = next_event(*late);
    if (e.is_null()) break;
    found = e["id"] == started["id"];
  }
  EXPECT_TRUE(found);
}

TEST_P(EventsTest, GarbageGetsACloseCodeAndTheServerStaysHealthy) {
  {
    ws_client ws;  // first message not an auth message
    ASSERT_TRUE(ws.connect(static_cast<std::uint16_t>(daemon_->port()), "/api/events/in"));
    ASSERT_TRUE(ws.send("{not json"));
    const auto closed = ws.wait_closed();
    EXPECT_EQ(closed.code, 1008);
    EXPECT_EQ(closed.reason, "Expected 'auth' message");
  }
  {
    auto in = websocket("/api/events/in");  // an invalid event after the handshake
    ASSERT_TRUE(in->send(R"({"event": "x"})"));
    EXPECT_EQ(in->wait_closed().code, 1007);
  }
  {
    auto out = websocket("/api/events/out");  // not a filter message
    ASSERT_TRUE(out->send(R"({"type": "subscribe"})"));
    const auto closed = out->wait_closed();
    EXPECT_EQ(closed.code, 1002);
    EXPECT_EQ(closed.reason, "Expected 'filter' message");
  }
  {
    auto out = websocket("/api/events/out");  // an invalid filter
    ASSERT_TRUE(out->send(R"({"type": "filter", "filter": {"event": {"name": "not-a-list"}}})"));
    const auto closed = out->wait_closed();
    EXPECT_EQ(closed.code, 1002);
    EXPECT_TRUE(closed.reason.starts_with("Invalid filter: filter.event.name")) << closed.reason;
  }
  EXPECT_TRUE(healthy());
  const std::string resource = "blackbox.after." + new_uuid4().to_string();
  auto in = websocket("/api/events/in");
  ASSERT_TRUE(in->send(make_event("blackbox.after", resource).dump()));
  EXPECT_TRUE(stored(resource, 1));
}

INSTANTIATE_TEST_SUITE_P(D, EventsTest, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

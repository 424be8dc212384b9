// Two `osprey server start` processes on one PostgreSQL database share the live event stream: a websocket
// subscriber on server B sees, once, an event POSTed to server A and the prefect.flow-run.<State> event of a
// set_state made on A; after the listeners' backends are terminated, events still arrive, and each server
// logs the outage once; a server whose listener cannot reconnect still stops cleanly on SIGTERM.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <string>
#include <vector>

#include "tests/support/prefect_api.hpp"
#include "tests/support/scratch.hpp"
#include "tests/support/ws_client.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

json make_event(const std::string& name) {
  return {{"id", new_uuid4().to_string()},
          {"occurred", format_iso8601(system_clock::instance().now())},
          {"event", name},
          {"resource", {{"prefect.resource.id", "blackbox.cluster"}}},
          {"related", json::array()},
          {"payload", json::object()}};
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class ClusterEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    const std::map<std::string, std::string> env{{"OSPREY_HOME", home_.path().string()},
                                                 {"OSPREY_DATABASE_URL", db_.url()}};
    a_ = std::make_unique<daemon>(env);
    ASSERT_TRUE(a_->started()) << a_->output();
    b_ = std::make_unique<daemon>(env);
    ASSERT_TRUE(b_->started()) << b_->output();
  }

  static http_reply post(daemon& d, const std::string& path, const json& body) {
    return http_request("POST", d.base_url() + path, body.dump());
  }

  /// An /api/events/out subscription on `d` for event names.
  static std::unique_ptr<ws_client> subscribe(daemon& d, const std::vector<std::string>& names) {
    auto ws = std::make_unique<ws_client>();
    EXPECT_TRUE(ws->connect(static_cast<std::uint16_t>(d.port()), "/api/events/out"));
    EXPECT_TRUE(ws->send(R"({"type":"auth","token":null})"));
    EXPECT_EQ(ws->read(), R"({"type":"auth_success"})");
    const auto now = system_clock::instance().now();
    const json filter = {{"occurred", {{"since", format_iso8601(now - 1min)}, {"until", format_iso8601(now + 24h)}}},
                         {"event", {{"name", names}}}};
    EXPECT_TRUE(ws->send(json{{"type", "filter"}, {"filter", filter}}.dump()));
    return ws;
  }

  /// Posts `e` to `to` and expects `ws` to stream it next.
  static void expect_streamed(daemon& to, ws_client& ws, const json& e) {
    ASSERT_EQ(post(to, "/api/events", json::array({e})).status, 204);
    EXPECT_EQ(next_event(ws)["id"], e["id"]);
  }

  /// How many of the servers' listener connections are listening (both: 2).
  std::size_t listeners() {
    const auto& url = db_.target().postgres_conninfo;
    auto admin = persistence::open_connection(*persistence::parse_database_url(*postgres_admin_url()));
    EXPECT_TRUE(admin);
    if (!admin) return 0;
    return (*admin)
        ->query(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'osprey-events-%' "
            "AND query LIKE 'LISTEN%'",
            {persistence::text(url.substr(url.rfind('/') + 1))})
        .size();
  }

  /// Lets new connections into the scratch database, or keeps them out (open ones stay).
  void allow_connections(bool allow) {
    const auto& url = db_.target().postgres_conninfo;
    auto admin = persistence::open_connection(*persistence::parse_database_url(*postgres_admin_url()));
    ASSERT_TRUE(admin);
    (*admin)->execute_script("ALTER DATABASE " + url.substr(url.rfind('/') + 1) + " ALLOW_CONNECTIONS " +
                             (allow ? "true" : "false"));
  }

  void terminate_listeners() {
    const auto& url = db_.target().postgres_conninfo;
    auto admin = persistence::open_connection(*persistence::parse_database_url(*postgres_admin_url()));
    ASSERT_TRUE(admin);
    const auto killed = (*admin)->query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE "
        "'osprey-events-%'",
        {persistence::text(url.substr(url.rfind('/') + 1))});
    EXPECT_EQ(killed.size(), 2u);
  }

  scratch_database db_{persistence::dialect::postgresql};
  scratch_dir home_;
  std::unique_ptr<daemon> a_;
  std::unique_ptr<daemon> b_;
};

TEST_F(ClusterEventsTest, ASubscriberOnOneServerSeesAnEventPostedToTheOtherOnce) {
  const std::string name = "blackbox.cluster." + new_uuid4().to_string();
  auto on_b = subscribe(*b_, {name});
  auto on_a = subscribe(*a_, {name});
  const json e = make_event(name);
  ASSERT_EQ(post(*a_, "/api/events", json::array({e})).status, 204);
  EXPECT_EQ(next_event(*on_b)["id"], e["id"]);
  EXPECT_EQ(next_event(*on_a)["id"], e["id"]);
  // Once: the next event each stream sends is the following one. And back from B to A.
  const json back = make_event(name);
  expect_streamed(*b_, *on_a, back);
  EXPECT_EQ(next_event(*on_b)["id"], back["id"]);
}

TEST_F(ClusterEventsTest, ASubscriberOnOneServerSeesFlowRunStateChangesMadeOnTheOther) {
  auto on_b = subscribe(*b_, {"prefect.flow-run.Running"});
  const auto flow = post(*a_, "/api/flows/", {{"name", "cluster-" + new_uuid4().to_string()}});
  ASSERT_EQ(flow.status, 201) << flow.body;
  const auto run = post(*a_, "/api/flow_runs/", {{"flow_id", parsed(flow)["id"]}});
  ASSERT_EQ(run.status, 201) << run.body;
  const std::string run_id = parsed(run)["id"];
  const auto running = post(*a_, "/api/flow_runs/" + run_id + "/set_state", {{"state", {{"type", "RUNNING"}}}});
  ASSERT_EQ(running.status, 201) << running.body;
  const auto streamed = next_event(*on_b);
  EXPECT_EQ(streamed["event"], "prefect.flow-run.Running");
  EXPECT_EQ(streamed["resource"]["prefect.resource.id"], "prefect.flow-run." + run_id);
}

TEST_F(ClusterEventsTest, EventsStillArriveAfterTheListenersBackendsAreTerminated) {
  const std::string name = "blackbox.cluster." + new_uuid4().to_string();
  auto on_b = subscribe(*b_, {name});
  ASSERT_TRUE(wait_until([&] { return listeners() == 2; }, 10s));
  terminate_listeners();
  // Heard after the reconnection, or caught up on by it: either way streamed once.
  expect_streamed(*a_, *on_b, make_event(name));
  ASSERT_TRUE(wait_until([&] { return listeners() == 2; }, 10s));
  expect_streamed(*a_, *on_b, make_event(name));
  for (auto* d : {a_.get(), b_.get()}) {
    ASSERT_TRUE(wait_until([&] { return count_of(d->output(), "events other servers store again") == 1; }, 10s))
        << d->output();
    EXPECT_EQ(count_of(d->output(), "lost the connection that follows"), 1u) << d->output();
  }
}

TEST_F(ClusterEventsTest, AServerWhoseListenerCannotReconnectStillStopsCleanly) {
  ASSERT_TRUE(wait_until([&] { return listeners() == 2; }, 10s));
  allow_connections(false);
  terminate_listeners();
  ASSERT_TRUE(wait_until([&] { return count_of(b_->output(), "lost the connection that follows") == 1; }, 10s));
  b_->send_signal(SIGTERM);
  EXPECT_EQ(b_->wait_exit(15s), 0) << b_->output();
  allow_connections(true);
}

}  // namespace
}  // namespace osprey::testing

// Hostile input against the built daemon, on SQLite and PostgreSQL: deeply nested JSON in every kind of body
// and websocket message; bodies and websocket handshakes a web page could send cross-site. Each case names what
// broke before its fix; the server must answer 4xx (or close the websocket with a code) and stay up.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tests/support/daemon_test.hpp"
#include "tests/support/ws_client.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

class HostileInputTest : public daemon_test {
 protected:
  void SetUp() override { OSPREY_SKIP_IF_UNAVAILABLE(db_); }  // each test starts the daemon with its settings

  http_reply send(const std::string& method, const std::string& path, const std::string& body,
                  const std::vector<std::string>& headers = {"Content-Type: application/json"}) {
    return http_request(method, daemon_->base_url() + path, body, headers);
  }
  std::uint16_t port() const { return static_cast<std::uint16_t>(daemon_->port()); }
  bool healthy() { return send("GET", "/api/health", "").status == 200; }
};

// 20 000 levels of '[' in any body crashed the server (SIGSEGV in the recursive NUL check): it is refused
// while parsing now, with 422 and a detail naming the limit.
TEST_P(HostileInputTest, DeeplyNestedBodiesAreRefusedNotACrash) {
  start();
  const std::string deep = nested_arrays(20'000);
  const std::string some_id = new_uuid4().to_string();
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"POST", "/api/flows/"},
      {"POST", "/api/flows/filter"},
      {"POST", "/api/flow_runs/"},
      {"POST", "/api/flow_runs/filter"},
      {"POST", "/api/flow_runs/paginate"},
      {"PATCH", "/api/flow_runs/" + some_id},
      {"POST", "/api/flow_runs/" + some_id + "/set_state"},
      {"POST", "/api/task_runs/"},
      {"POST", "/api/task_runs/filter"},
      {"POST", "/api/task_runs/" + some_id + "/set_state"},
      {"POST", "/api/logs/filter"},
      {"POST", "/api/events/filter"},
      {"POST", "/api/flow_run_notification_policies/"},
  };
  for (const auto& [method, path] : routes) {
    const auto r = send(method, path, R"({"name": )" + deep + "}");
    EXPECT_EQ(r.status, 422) << method << " " << path << " -> " << r.body.substr(0, 200);
    EXPECT_NE(parsed(r).value("detail", json()).dump().find("nested deeper than 128 levels"), std::string::npos)
        << method << " " << path << " -> " << r.body.substr(0, 200);
  }
  for (const std::string path : {"/api/logs/", "/api/events"}) {  // list bodies
    const auto r = send("POST", path, "[" + deep + "]");
    EXPECT_EQ(r.status, 422) << path << " -> " << r.body.substr(0, 200);
  }
  // Unclosed brackets, as many as the body limit allows.
  EXPECT_EQ(send("POST", "/api/flows/", std::string(1'000'000, '[')).status, 422);
  EXPECT_TRUE(healthy());
}

TEST_P(HostileInputTest, DeeplyNestedWebsocketMessagesCloseTheConnectionNotTheServer) {
  start();
  const std::string deep = nested_arrays(20'000);
  {
    ws_client in;  // an event frame after the handshake
    ASSERT_TRUE(in.connect(port(), "/api/events/in"));
    ASSERT_TRUE(in.send(R"({"type":"auth","token":null})"));
    ASSERT_EQ(in.read(), R"({"type":"auth_success"})");
    ASSERT_TRUE(in.send(R"({"id": "x", "payload": )" + deep + "}"));
    const auto closed = in.wait_closed();
    EXPECT_EQ(closed.code, 1007);
    EXPECT_NE(closed.reason.find("nested deeper than 128 levels"), std::string::npos) << closed.reason;
  }
  {
    ws_client auth;  // the auth message itself
    ASSERT_TRUE(auth.connect(port(), "/api/events/out"));
    ASSERT_TRUE(auth.send(R"({"type": )" + deep + "}"));
    EXPECT_EQ(auth.wait_closed().code, 1008);
  }
  {
    ws_client out;  // the filter message
    ASSERT_TRUE(out.connect(port(), "/api/events/out"));
    ASSERT_TRUE(out.send(R"({"type":"auth","token":null})"));
    ASSERT_EQ(out.read(), R"({"type":"auth_success"})");
    ASSERT_TRUE(out.send(R"({"type": "filter", "filter": )" + deep + "}"));
    EXPECT_EQ(out.wait_closed().code, 1007);
  }
  EXPECT_TRUE(healthy());
}

TEST_P(HostileInputTest, WebsocketsBeyondTheirLimitAreRefusedAndTheOthersKeepWorking) {
  start({{"OSPREY_SERVER_MAX_WEBSOCKETS", "1"}});
  ws_client first;
  ASSERT_TRUE(first.connect(port(), "/api/events/out"));
  ASSERT_TRUE(first.send(R"({"type":"auth","token":null})"));
  ASSERT_EQ(first.read(), R"({"type":"auth_success"})");
  ws_client second;
  EXPECT_FALSE(second.connect(port(), "/api/events/out")) << "the upgrade is answered 503";
  EXPECT_TRUE(healthy());
  EXPECT_TRUE(first.send(R"({"type":"filter","filter":{}})"));
  ASSERT_TRUE(first.close());
  EXPECT_TRUE(wait_until([&] { return ws_client().connect(port(), "/api/events/out"); }, std::chrono::seconds(10)))
      << "a freed place is taken again";
}

TEST_P(HostileInputTest, TheNestingLimitIsASetting) {
  start({{"OSPREY_SERVER_JSON_MAX_DEPTH", "4"}});
  // {flows: {name: {any_: [...]}}} nests four levels.
  const auto fits = send("POST", "/api/flows/filter", R"({"flows": {"name": {"any_": ["x"]}}})");
  EXPECT_EQ(fits.status, 200) << fits.body;
  const auto deeper = send("POST", "/api/flows/filter", R"({"flows": {"name": {"any_": [["x"]]}}})");
  EXPECT_EQ(deeper.status, 422) << deeper.body;
  EXPECT_EQ(parsed(deeper)["detail"],
            "Request body is not valid JSON: JSON nested deeper than 4 levels is not accepted");
}

// Names had no length limit: a megabyte flow name was stored, indexed and sent to every client listing flows.
TEST_P(HostileInputTest, OverlongNamesKeysAndTagsGet422AndStoreNothing) {
  start({{"OSPREY_SERVER_MAX_NAME_LENGTH", "64"}});
  const std::string long_name(65, 'n');
  const std::string fits(64, 'n');
  const auto flow = send("POST", "/api/flows/", json{{"name", long_name}}.dump());
  EXPECT_EQ(flow.status, 422) << flow.body;
  EXPECT_EQ(parsed(flow)["exception_detail"][0]["type"], "string_too_long") << flow.body;
  EXPECT_EQ(parsed(flow)["exception_detail"][0]["loc"], json({"body", "name"})) << flow.body;
  EXPECT_EQ(send("GET", "/api/flows/name/" + long_name, "").status, 404);
  // Characters, not bytes: 64 two-byte characters fit.
  std::string accented;
  for (int i = 0; i < 64; ++i) accented += "\u00e9";
  EXPECT_EQ(send("POST", "/api/flows/", json{{"name", accented}}.dump()).status, 201);
  EXPECT_EQ(send("POST", "/api/flows/", json{{"name", fits}}.dump()).status, 201);
  EXPECT_EQ(
      send("POST", "/api/variables/", json{{"name", "v"}, {"value", 1}, {"tags", {"ok", long_name}}}.dump()).status,
      422);
  EXPECT_EQ(
      send("POST", "/api/artifacts/", json{{"key", long_name}, {"type", "markdown"}, {"data", "x"}}.dump()).status,
      422);
  EXPECT_TRUE(healthy());
}

// Bodies were parsed as JSON whatever their type, so any web page could write to a local server with a
// text/plain or form POST (no CORS preflight for those). Only declared JSON is read now.
TEST_P(HostileInputTest, BodiesThatAreNotDeclaredJsonGet415) {
  start();
  const std::string body = R"({"name": "csrf"})";
  for (const std::string type : {"Content-Type: text/plain", "Content-Type: text/plain;charset=UTF-8",
                                 "Content-Type: application/x-www-form-urlencoded", "Content-Type: multipart/form-data",
                                 "Content-Type:" /* curl then sends none */, "Content-Type: application/jsonp"}) {
    const auto r = send("POST", "/api/flows/", body, {type});
    EXPECT_EQ(r.status, 415) << type << " -> " << r.body;
    EXPECT_TRUE(parsed(r).value("detail", "").starts_with("Unsupported Media Type")) << type << " -> " << r.body;
  }
  EXPECT_EQ(send("GET", "/api/flows/name/csrf", "").status, 404);  // nothing was written
  EXPECT_EQ(send("POST", "/api/logs/", "[]", {"Content-Type: text/plain"}).status, 415);
  EXPECT_EQ(send("POST", "/api/events", "[]", {"Content-Type: text/plain"}).status, 415);

  for (const std::string type : {"Content-Type: application/json; charset=utf-8", "Content-Type: Application/JSON",
                                 "Content-Type: application/merge-patch+json"}) {
    const auto r = send("POST", "/api/flows/", body, {type});
    EXPECT_TRUE(r.status == 201 || r.status == 200) << type << " -> " << r.body;
  }
  // No body, no type: optional bodies keep working.
  EXPECT_EQ(send("POST", "/api/flows/filter", "", {"Content-Type:"}).status, 200);
}

// Websockets have no same-origin protection: a page on any site could stream events in or read them out.
TEST_P(HostileInputTest, EventWebsocketsRefuseForeignBrowserOrigins) {
  start({{"OSPREY_SERVER_ALLOWED_ORIGINS", "https://ui.example.com, http://10.0.0.5:8080"}});
  for (const std::string path : {"/api/events/in", "/api/events/out"}) {
    for (const std::string origin : {"http://evil.example", "null", "http://127.0.0.1:1"}) {
      ws_client ws;
      ws.set_origin(origin);
      EXPECT_FALSE(ws.connect(port(), path)) << path << " " << origin;
      EXPECT_EQ(ws.handshake_status(), 403u) << path << " " << origin;
    }
    for (const std::string& origin :
         std::vector<std::string>{"" /* the Prefect client sends none */, "http://127.0.0.1:" + std::to_string(port()),
                                  "https://ui.example.com"}) {
      ws_client ws;
      ws.set_origin(origin);
      ASSERT_TRUE(ws.connect(port(), path)) << path << " " << origin;
      ASSERT_TRUE(ws.send(R"({"type":"auth","token":null})"));
      EXPECT_EQ(ws.read(), R"({"type":"auth_success"})") << path << " " << origin;
    }
  }
  EXPECT_TRUE(healthy());
}

// {"a:\u00a3": 1} was a 500: the error text "a:£: Extra inputs..." was split at its first ':' and cut inside
// the '£', and dumping the cut text as JSON threw. Error details carry whole keys now.
TEST_P(HostileInputTest, NonAsciiKeysComeBackWholeInErrors) {
  start();
  const auto task_run = send("POST", "/api/task_runs/", R"({"a:\u00a3": 1, "task_key": "k", "dynamic_key": "0"})");
  EXPECT_EQ(task_run.status, 422) << task_run.body;
  const auto detail = parsed(task_run)["exception_detail"][0];
  EXPECT_EQ(detail["loc"], (json{"body", "a:\u00a3"})) << task_run.body;
  EXPECT_EQ(detail["msg"], "Extra inputs are not permitted");
  EXPECT_EQ(detail["type"], "extra_forbidden");

  for (const std::string path :
       {"/api/flows/", "/api/flow_runs/filter", "/api/flows/filter", "/api/task_runs/filter"}) {
    const auto r = send("POST", path, R"({"\u00e9:\u20ac:\ud83d\ude00": 1})");
    EXPECT_EQ(r.status, 422) << path << " -> " << r.body;
    EXPECT_NE(r.body.find("\u00e9:\u20ac:\U0001F600"), std::string::npos) << path << " -> " << r.body;
  }
  EXPECT_TRUE(healthy());
}

INSTANTIATE_TEST_SUITE_P(D, HostileInputTest, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

// The Beast server against a real socket on loopback, driven by a raw blocking client.

#include "http/server.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/http/test_client.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
using test::client;
using namespace std::chrono_literals;

/// Where the /park route leaves its responders, for a test to answer them later from another thread.
class parking {
 public:
  void park(responder r) {
    std::lock_guard lock(mutex_);
    waiting_.push_back(std::move(r));
    cv_.notify_all();
  }

  /// The oldest parked responder, waiting up to 5 s for one; empty on timeout.
  responder take() {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, 5s, [this] { return !waiting_.empty(); })) return {};
    responder r = std::move(waiting_.front());
    waiting_.pop_front();
    return r;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<responder> waiting_;
};

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() {
    const auto echo = [](request& req, responder respond) {
      json j = {{"method", req.method},           {"path", req.path}, {"params", req.path_params}, {"query", req.query},
                {"x_test", req.header("x-test")}, {"body", req.body}};
      respond(response::json(200, j.dump()));
    };
    routes_.add("GET", "/echo/{name}", "echo", echo);
    routes_.add("POST", "/echo/{name}", "echo", echo);
    routes_.add("GET", "/throw", "throws", [](request&, responder) { throw std::runtime_error("boom"); });
    routes_.add("GET", "/drop", "never answers", [](request&, responder) {});
    routes_.add("GET", "/twice", "answers twice", [](request&, responder respond) {
      responder copy = respond;
      respond(response::json(200, R"({"first":true})"));
      copy(response::json(418, R"({"second":true})"));
    });
    routes_.add("GET", "/headers", "extra headers", [](request&, responder respond) {
      response r = response::json(200, "{}");
      r.headers.emplace_back("Retry-After", "3");
      r.headers.emplace_back("X-Evil", "a\r\nInjected: yes");
      respond(std::move(r));
    });
    routes_.add("DELETE", "/empty", "204", [](request&, responder respond) { respond(response::no_content()); });
    routes_.add("GET", "/park", "answered later",
                [this](request&, responder respond) { parked_.park(std::move(respond)); });
  }

  void start(server_options options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    if (options.io_threads == 1) options.io_threads = 2;  // exercise the strands
    server_ = std::make_unique<server>(options, routes_);
    const status s = server_->start();
    ASSERT_TRUE(s.is_ok()) << s.message();
    port_ = server_->bound_port();
    ASSERT_NE(port_, 0);
  }

  parking parked_;  // declared first: responders parked here outlive the server, as an actor's might
  router routes_;
  std::unique_ptr<server> server_;
  std::uint16_t port_ = 0;
};

TEST_F(ServerTest, GetDecodesPathQueryAndHeaders) {
  start();
  client c(port_);
  const auto r = c.request("GET", "/echo/a%20b?x=1&y=hello+world&z=%2Fslash%3F&x=2&flag", "", "X-Test: yes\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("server"), "osprey");
  EXPECT_EQ(r->header("content-type"), "application/json");
  EXPECT_EQ(r->header("content-length"), std::to_string(r->body.size()));
  const auto j = json::parse(r->body);
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["path"], "/echo/a b");
  EXPECT_EQ(j["params"]["name"], "a b");
  EXPECT_EQ(j["query"], (json{{"x", "2"}, {"y", "hello world"}, {"z", "/slash?"}, {"flag", ""}}));
  EXPECT_EQ(j["x_test"], "yes");
}

TEST_F(ServerTest, PostCarriesTheBody) {
  start();
  client c(port_);
  const auto r = c.request("POST", "/echo/n", R"({"k": [1, 2]})", "Content-Type: application/json\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["body"], R"({"k": [1, 2]})");
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  client c(port_);
  for (const char* name : {"one", "two", "three"}) {
    const auto r = c.request("GET", std::string("/echo/") + name);
    ASSERT_TRUE(r) << name;
    EXPECT_EQ(json::parse(r->body)["params"]["name"], name);
    EXPECT_EQ(r->header("connection"), "");
  }
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  client c(port_);
  ASSERT_TRUE(c.send(client::format("GET", "/echo/first") + client::format("POST", "/echo/second", "xyz")));
  const auto a = c.read_reply();
  const auto b = c.read_reply();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(json::parse(a->body)["params"]["name"], "first");
  EXPECT_EQ(json::parse(b->body)["body"], "xyz");
}

TEST_F(ServerTest, ConnectionCloseIsHonoured) {
  start();
  client c(port_);
  const auto r = c.request("GET", "/echo/x", "", "Connection: close\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(ServerTest, Http10ClosesUnlessKeepAliveAsked) {
  start();
  client c(port_);
  ASSERT_TRUE(c.send("GET /echo/x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  const auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("connection"), "keep-alive");
  ASSERT_TRUE(c.send("GET /echo/y HTTP/1.0\r\n\r\n"));
  ASSERT_TRUE(c.read_reply());
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(ServerTest, ExtraHeadersAreSentAndSanitised) {
  start();
  client c(port_);
  const auto r = c.request("GET", "/headers");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("retry-after"), "3");
  EXPECT_EQ(r->header("x-evil"), "aInjected: yes");
  EXPECT_EQ(r->header("injected"), "");
}

TEST_F(ServerTest, NoContentHasNoBodyOrLength) {
  start();
  client c(port_);
  const auto r = c.request("DELETE", "/empty");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->header("content-length"), "");
  EXPECT_EQ(r->header("content-type"), "");
  EXPECT_TRUE(c.request("GET", "/echo/after")) << "the connection stays usable";
}

TEST_F(ServerTest, NotFoundAndMethodNotAllowed) {
  start();
  client c(port_);
  const auto missing = c.request("GET", "/nowhere");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, R"({"detail":"Not Found"})");
  const auto wrong = c.request("PATCH", "/echo/x");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->body, R"({"detail":"Method Not Allowed"})");
}

TEST_F(ServerTest, OversizedBodyIs413ThenClose) {
  server_options o;
  o.max_body_bytes = 1024;
  start(o);
  client c(port_);
  const auto r = c.request("POST", "/echo/big", std::string(4096, 'x'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(json::parse(r->body)["detail"], "Request body too large: limit is 1024 bytes");
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(ServerTest, BodyAtTheLimitIsAccepted) {
  server_options o;
  o.max_body_bytes = 1024;
  start(o);
  client c(port_);
  const auto r = c.request("POST", "/echo/big", std::string(1024, 'x'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, OversizedChunkedBodyIs413) {
  server_options o;
  o.max_body_bytes = 100;
  start(o);
  client c(port_);
  ASSERT_TRUE(c.send("POST /echo/c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n80\r\n" + std::string(128, 'y') +
                     "\r\n0\r\n\r\n"));
  const auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST_F(ServerTest, OversizedHeaderIs431) {
  start();
  client c(port_);
  const auto r = c.request("GET", "/echo/x", "", "X-Big: " + std::string(70 * 1024, 'h') + "\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(ServerTest, GarbageIs400ThenClose) {
  start();
  client c(port_);
  static constexpr char garbage[] = "\x16\x03\x01\x02\x00 garbage\r\n\r\n";  // a TLS hello, say
  ASSERT_TRUE(c.send(std::string_view(garbage, sizeof garbage - 1)));
  const auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(json::parse(r->body).contains("detail"));
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_TRUE(client(port_).request("GET", "/echo/still-serving"));
}

TEST_F(ServerTest, Expect100ContinueGetsAnInterimResponse) {
  start();
  client c(port_);
  ASSERT_TRUE(c.send("POST /echo/e HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  const auto interim = c.read_reply();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.send("hello"));
  const auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["body"], "hello");
}

TEST_F(ServerTest, ResponderCalledLaterFromAnotherThread) {
  start();
  client c(port_);
  ASSERT_TRUE(c.send(client::format("GET", "/park")));
  responder respond = parked_.take();
  ASSERT_TRUE(respond);
  std::thread other([respond] { respond(response::json(202, R"({"late":true})")); });
  other.join();
  const auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(r->body, R"({"late":true})");
  EXPECT_TRUE(c.request("GET", "/echo/next")) << "keep-alive continues after a late answer";
}

TEST_F(ServerTest, HandlerExceptionIs500InPrefectShape) {
  start();
  client c(port_);
  const auto r = c.request("GET", "/throw");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, R"({"exception_message":"Internal Server Error"})");
  EXPECT_TRUE(c.request("GET", "/echo/next"));
}

TEST_F(ServerTest, DroppedResponderIs500) {
  start();
  client c(port_);
  const auto r = c.request("GET", "/drop");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, R"({"detail":"Internal Server Error"})");
  EXPECT_TRUE(c.request("GET", "/echo/next"));
}

TEST_F(ServerTest, SecondResponderCallIsIgnored) {
  start();
  client c(port_);
  const auto first = c.request("GET", "/twice");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  const auto next = c.request("GET", "/echo/next");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(json::parse(next->body)["params"]["name"], "next");
}

TEST_F(ServerTest, IdleConnectionTimesOut) {
  server_options o;
  o.keep_alive_timeout = 1s;
  start(o);
  client c(port_);
  ASSERT_TRUE(c.request("GET", "/echo/x"));
  EXPECT_TRUE(c.closed_by_peer(4s));
}

TEST_F(ServerTest, StalledRequestTimesOut) {
  server_options o;
  o.read_timeout = 1s;
  start(o);
  client c(port_);
  ASSERT_TRUE(c.send("GET /echo/x HTTP/1.1\r\nHost: a\r\n"));  // head never finished
  EXPECT_TRUE(c.closed_by_peer(4s));
}

TEST_F(ServerTest, ManyClientsInParallel) {
  start();
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([this, t, &ok] {
      client c(port_);
      for (int i = 0; i < 50; ++i) {
        const std::string name = std::to_string(t) + "-" + std::to_string(i);
        const auto r = c.request("POST", "/echo/" + name, name);
        if (r && json::parse(r->body)["body"] == name) ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 8 * 50);
}

TEST_F(ServerTest, StopDeliversInFlightResponseThenRefusesConnections) {
  start();
  client busy(port_);
  ASSERT_TRUE(busy.send(client::format("GET", "/park")));
  responder respond = parked_.take();
  ASSERT_TRUE(respond);
  client idle(port_);
  ASSERT_TRUE(idle.request("GET", "/echo/idle"));

  const auto began = std::chrono::steady_clock::now();
  std::thread stopper([this] { server_->stop(10s); });
  // The acceptor closes before idle connections are drained, so once `idle` sees its close, nothing listens.
  EXPECT_TRUE(idle.closed_by_peer());
  EXPECT_TRUE(client::refused(port_));

  std::thread answer([respond] { respond(response::json(200, R"({"finished":true})")); });
  const auto r = busy.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, R"({"finished":true})");
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(busy.closed_by_peer());
  answer.join();
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - began, 5s) << "stop returns once connections are closed";
  EXPECT_TRUE(client::refused(port_));
  server_->stop();  // idempotent
}

TEST_F(ServerTest, StopAfterGraceClosesAndDropsLateResponses) {
  start();
  client busy(port_);
  ASSERT_TRUE(busy.send(client::format("GET", "/park")));
  responder respond = parked_.take();
  ASSERT_TRUE(respond);
  server_->stop(100ms);
  EXPECT_TRUE(busy.closed_by_peer());
  respond(response::json(200, "{}"));  // dropped, after stop
  server_.reset();
  respond(response::json(200, "{}"));  // dropped, after the server is gone
}

TEST_F(ServerTest, ResponderDroppedAfterServerIsGone) {
  start();
  client busy(port_);
  ASSERT_TRUE(busy.send(client::format("GET", "/park")));
  responder respond = parked_.take();
  ASSERT_TRUE(respond);
  server_->stop(50ms);
  server_.reset();
  respond = nullptr;  // destroying the last copy must not touch the destroyed io_context
}

TEST_F(ServerTest, BindFailureIsUnavailable) {
  start();
  server_options o;
  o.host = "127.0.0.1";
  o.port = port_;
  server second(o, routes_);
  const status s = second.start();
  EXPECT_EQ(s.code(), errc::unavailable);
  EXPECT_NE(s.message().find("127.0.0.1:" + std::to_string(port_)), std::string::npos) << s.message();
}

TEST_F(ServerTest, StopWithoutStartIsHarmless) {
  server s(server_options{}, routes_);
  s.stop();
  s.stop();
}

TEST(ServerIpv6, ServesOnIpv6Loopback) {
  router routes;
  routes.add("GET", "/ping", "ping", [](request&, responder r) { r(response::json(200, R"({"pong":true})")); });
  server_options o;
  o.host = "::1";
  o.port = 0;
  server s(o, routes);
  const status st = s.start();
  if (!st.is_ok()) GTEST_SKIP() << "no IPv6 loopback here: " << st.message();
  client c(s.bound_port(), "::1");
  const auto r = c.request("GET", "/ping");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, R"({"pong":true})");
}

}  // namespace
}  // namespace osprey::http

// WebSocket routes on the Beast server, over real loopback sockets with a Beast client: handshake and
// subprotocol, echo, close codes both ways, limits, backpressure, keepalive, and stop closing with 1001.

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "http/server.hpp"
#include "tests/http/test_client.hpp"
#include "tests/support/scratch.hpp"
#include "tests/support/ws_client.hpp"

namespace osprey::http {
namespace {

using namespace std::chrono_literals;
using testing::wait_until;
using testing::ws_client;

/// What the routes saw, for assertions from the test thread.
struct observed {
  std::mutex mutex;
  std::vector<std::pair<std::uint16_t, std::string>> closes;  ///< on_close calls
  std::shared_ptr<websocket_connection> last;                 ///< the latest connection's handle
  std::vector<std::string> messages;                          ///< what /ws/echo's on_message got

  std::size_t close_count() {
    std::lock_guard lock(mutex);
    return closes.size();
  }
  std::pair<std::uint16_t, std::string> first_close() {
    std::lock_guard lock(mutex);
    return closes.empty() ? std::pair<std::uint16_t, std::string>{} : closes.front();
  }
};

class WebSocketTest : public ::testing::Test {
 protected:
  WebSocketTest() {
    // /ws/echo: echoes text; "close <code> <reason>" closes; "flood <n> <bytes>" queues n messages at once;
    // "drain" sends three messages and then "drained" once they are written.
    routes_.add_websocket(
        "/ws/echo", "echo", [this](const request&, const std::shared_ptr<websocket_connection>& conn) {
          {
            std::lock_guard lock(seen_.mutex);
            seen_.last = conn;
          }
          websocket_callbacks cb;
          std::weak_ptr<websocket_connection> weak = conn;
          cb.on_message = [this, weak](std::string message) {
            {
              std::lock_guard lock(seen_.mutex);
              seen_.messages.push_back(message);
            }
            auto c = weak.lock();
            if (!c) return;
            if (message.starts_with("close ")) {
              const auto space = message.find(' ', 6);
              c->close(static_cast<std::uint16_t>(std::stoi(message.substr(6, space - 6))), message.substr(space + 1));
            } else if (message.starts_with("flood ")) {
              const auto space = message.find(' ', 6);
              const int n = std::stoi(message.substr(6, space - 6));
              const std::string chunk(std::stoul(message.substr(space + 1)), 'x');
              for (int i = 0; i < n; ++i) c->send_text(chunk);
            } else if (message == "drain") {
              for (const char* m : {"one", "two", "three"}) c->send_text(m);
              c->when_drained([weak] {
                if (auto again = weak.lock()) again->send_text("drained");
              });
            } else {
              c->send_text(std::move(message));
            }
          };
          cb.on_close = [this](std::uint16_t code, const std::string& reason) {
            std::lock_guard lock(seen_.mutex);
            seen_.closes.emplace_back(code, reason);
          };
          return cb;
        });
    // /ws/rooms/{room}: greets with the path parameter and the selected subprotocol.
    routes_.add_websocket(
        "/ws/rooms/{room}", "greeting",
        [](const request& req, const std::shared_ptr<websocket_connection>& conn) {
          conn->send_text("room " + req.path_params.at("room") + " subprotocol '" + conn->subprotocol() + "'");
          return websocket_callbacks{};
        },
        {"prefect", "other"});
    // /ws/weak: holds its handle only weakly (regression: the server must keep it alive while open).
    routes_.add_websocket("/ws/weak", "weak echo",
                          [](const request&, const std::shared_ptr<websocket_connection>& conn) {
                            websocket_callbacks cb;
                            cb.on_message = [weak = std::weak_ptr<websocket_connection>(conn)](std::string message) {
                              if (auto c = weak.lock()) c->send_text("weak: " + message);
                            };
                            return cb;
                          });
    routes_.add("GET", "/plain", "plain", [](request&, responder respond) { respond(response::json(200, "{}")); });
  }

  ~WebSocketTest() override {
    if (server_) server_->stop(1s);
  }

  void start(server_options options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.io_threads = 2;
    server_ = std::make_unique<server>(options, routes_);
    ASSERT_TRUE(server_->start().is_ok());
    port_ = server_->bound_port();
  }

  bool healthy() {
    test::client c(port_);
    const auto r = c.request("GET", "/plain");
    return r && r->status == 200;
  }

  observed seen_;  // declared first: routes capture it and handles may outlive the server
  router routes_;
  std::unique_ptr<server> server_;
  std::uint16_t port_ = 0;
};

TEST_F(WebSocketTest, HandshakeSelectsThePrefectSubprotocolWhenOffered) {
  start();
  ws_client a;
  ASSERT_TRUE(a.connect(port_, "/ws/echo", "prefect"));
  EXPECT_EQ(a.handshake_status(), 101u);
  EXPECT_EQ(a.subprotocol(), "prefect");

  ws_client b;
  ASSERT_TRUE(b.connect(port_, "/ws/rooms/blue", "chat, other"));
  EXPECT_EQ(b.subprotocol(), "other");
  EXPECT_EQ(b.read(), "room blue subprotocol 'other'");

  ws_client c;  // no subprotocol offered: none selected, still served
  ASSERT_TRUE(c.connect(port_, "/ws/rooms/red", ""));
  EXPECT_EQ(c.subprotocol(), "");
  EXPECT_EQ(c.read(), "room red subprotocol ''");
}

// Websockets have no same-origin protection: any web page could stream into a local server. A browser's
// handshake from another origin is refused with 403 before the route sees it.
TEST_F(WebSocketTest, ForeignBrowserOriginsAreRefusedBeforeTheUpgrade) {
  server_options options;
  options.allowed_origins = {"https://ui.example.com"};
  start(options);
  ws_client foreign;
  foreign.set_origin("https://evil.example");
  EXPECT_FALSE(foreign.connect(port_, "/ws/echo"));
  EXPECT_EQ(foreign.handshake_status(), 403u);
  {
    std::lock_guard lock(seen_.mutex);
    EXPECT_EQ(seen_.last, nullptr);  // the route was never started
  }
  for (const std::string& origin :
       std::vector<std::string>{"", "http://localhost:" + std::to_string(port_), "https://ui.example.com"}) {
    ws_client allowed;
    allowed.set_origin(origin);
    ASSERT_TRUE(allowed.connect(port_, "/ws/echo")) << origin;
    EXPECT_TRUE(allowed.send("hi"));
    EXPECT_EQ(allowed.read(), "hi");
  }
  EXPECT_TRUE(healthy());
}

TEST_F(WebSocketTest, EchoesMessagesInOrder) {
  start();
  ws_client ws;
  ASSERT_TRUE(ws.connect(port_, "/ws/echo"));
  for (const char* m : {"first", "second", "", "{\"type\":\"auth\"}"}) ASSERT_TRUE(ws.send(m));
  EXPECT_EQ(ws.read(), "first");
  EXPECT_EQ(ws.read(), "second");
  EXPECT_EQ(ws.read(), "");
  EXPECT_EQ(ws.read(), "{\"type\":\"auth\"}");

  const std::string big(1'400'000, 'e');  // an event near Prefect's 1.5 MB limit fits
  ASSERT_TRUE(ws.send(big));
  EXPECT_EQ(ws.read(), big);
}

TEST_F(WebSocketTest, HandleStaysAliveWhileOpenSoRoutesMayHoldItWeakly) {
  start();
  ws_client ws;
  ASSERT_TRUE(ws.connect(port_, "/ws/weak"));
  ASSERT_TRUE(ws.send("hello"));
  EXPECT_EQ(ws.read(), "weak: hello");
}

TEST_F(WebSocketTest, RouteClosesWithItsCodeAndReason) {
  start();
  ws_client ws;
  ASSERT_TRUE(ws.connect(port_, "/ws/echo"));
  ASSERT_TRUE(ws.send("before"));
  ASSERT_TRUE(ws.send("close 1008 Expected 'auth' message"));
  EXPECT_EQ(ws.read(), "before");
  const auto closed = ws.wait_closed();
  EXPECT_TRUE(closed.closed);
  EXPECT_EQ(closed.code, 1008);
  EXPECT_EQ(closed.reason, "Expected 'auth' message");
  ASSERT_TRUE(wait_until([&] { return seen_.close_count() == 1; }, 5s));
  EXPECT_EQ(seen_.first_close(), (std::pair<std::uint16_t, std::string>{1008, "Expected 'auth' message"}));
  EXPECT_FALSE(seen_.last->send_text("too late"));
}

TEST_F(WebSocketTest, MessagesAfterTheRouteClosedAreDropped) {
  start();
  ws_client ws;
  ASSERT_TRUE(ws.connect(port_, "/ws/echo"));
  ASSERT_TRUE(ws.send("close 4001 enough"));
  ASSERT_TRUE(ws.send("after the close"));
  EXPECT_EQ(ws.wait_closed().code, 4001);
  ASSERT_TRUE(wait_until([&] { return seen_.close_count() == 1; }, 5s));
  std::lock_guard lock(seen_.mutex);
  EXPECT_EQ(seen_.messages, std::vector<std::string>{"close 4001 enough"});
}

TEST_F(WebSocketTest, ClientCloseReachesTheRoute) {
  start();
  ws_client ws;
  ASSERT_TRUE(ws.connect(port_, "/ws/echo"));
  ASSERT_TRUE(ws.close(1000, "bye"));
  ASSERT_TRUE(wait_until([&] { return seen_.close_count() == 1; }, 5s));
  EXPECT_EQ(seen_.first_close(), (std::pair<std::uint16_t, std::string>{1000, "bye"}));
}

TEST_F(WebSocketTest, DroppedClientIsReportedAsAbnormal) {
  start();
  {
    ws_client ws;
    ASSERT_TRUE(ws.connect(port_, "/ws/echo"));
  }  // socket closed without a close frame
  ASSERT_TRUE(wait_until([&] { return seen_.close_count() == 1; }, 5s));
  EXPECT_EQ(seen_.first_close().first, close_code::abnormal);
}

TEST_F(WebSocketTest, OversizedMessageClosesWith1009AndTheServerStaysHealthy) {
  server_options options;
  options.websocket_max_message_bytes = 1024;
  start(options);
  ws_client ws;
  ASSERT_TRUE(ws.connect(port_, "/ws/echo"));
  ASSERT_TRUE(ws.send(std::string(1024, 'a')));
  EXPECT_EQ(ws.read(), std::string(1024, 'a'));
  ws.send(std::string(64 * 1024, 'a'));
  const auto closed = ws.wait_closed();
  EXPECT_EQ(closed.code, 1009) << closed.reason;
  EXPECT_EQ(closed.reason, "Message too big: the limit is 1024 bytes");
  ASSERT_TRUE(wait_until([&] { return seen_.close_count() == 1; }, 5s));
  EXPECT_EQ(seen_.first_close().first, close_code::too_big);

  EXPECT_TRUE(healthy());
  ws_client again;
  ASSERT_TRUE(again.connect(port_, "/ws/echo"));
  ASSERT_TRUE(again.send("still here"));
  EXPECT_EQ(again.read(), "still here");
}

TEST_F(WebSocketTest, BinaryMessagesAreRefusedWith1003) {
  start();
  ws_client ws;
  ASSERT_TRUE(ws.connect(port_, "/ws/echo"));
  ASSERT_TRUE(ws.send("\x01\x02", true));
  EXPECT_EQ(ws.wait_closed().code, 1003);
}

TEST_F(WebSocketTest, InvalidUtf8IsRefusedWith1007) {
  start();
  ws_client ws;
  ASSERT_TRUE(ws.connect(port_, "/ws/echo"));
  ws.send("\xC3\x28 broken");
  EXPECT_EQ(ws.wait_closed().code, 1007);
  EXPECT_TRUE(healthy());
}

TEST_F(WebSocketTest, UpgradesToOtherRoutesAreAnsweredLikePlainRequests) {
  start();
  ws_client unknown;
  EXPECT_FALSE(unknown.connect(port_, "/nowhere"));
  EXPECT_EQ(unknown.handshake_status(), 404u);

  test::client c(port_);
  const auto plain = c.request("GET", "/ws/echo");  // no Upgrade header
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 426);
  EXPECT_EQ(plain->header("upgrade"), "websocket");
  const auto post = c.request("POST", "/ws/echo", "{}");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_TRUE(healthy());
}

TEST_F(WebSocketTest, WhenDrainedRunsAfterTheQueuedMessagesWereWritten) {
  start();
  ws_client ws;
  ASSERT_TRUE(ws.connect(port_, "/ws/echo"));
  ASSERT_TRUE(ws.send("drain"));
  for (const char* expected : {"one", "two", "three", "drained"}) EXPECT_EQ(ws.read(), expected);
}

TEST_F(WebSocketTest, SlowConsumerIsDisconnectedWith1008) {
  server_options options;
  options.websocket_max_queued_bytes = 64 * 1024;
  start(options);
  ws_client ws;
  ASSERT_TRUE(ws.connect(port_, "/ws/echo"));
  ASSERT_TRUE(ws.send("flood 10 1024"));  // 10 KiB at once: fits
  for (int i = 0; i < 10; ++i) ASSERT_EQ(ws.read(), std::string(1024, 'x'));
  ASSERT_TRUE(ws.send("flood 200 1024"));  // 200 KiB queued in one go: more than the queue may hold
  const auto closed = ws.wait_closed();
  EXPECT_EQ(closed.code, 1008);
  EXPECT_EQ(closed.reason, "Slow consumer: the outgoing message queue is full");
  EXPECT_TRUE(healthy());
}

TEST_F(WebSocketTest, ServerPingsIdleClients) {
  server_options options;
  options.websocket_ping_interval = 100ms;
  start(options);
  ws_client ws;
  ASSERT_TRUE(ws.connect(port_, "/ws/echo"));
  // The client answers pings while it reads; the connection survives several intervals.
  ASSERT_TRUE(ws.send("hello"));
  EXPECT_EQ(ws.read(), "hello");
  EXPECT_FALSE(ws.read(500ms));                             // nothing to read: the deadline passes...
  EXPECT_EQ(ws.closed().reason, "client deadline passed");  // ...and the server never gave up on it
  EXPECT_GE(ws.pings_received(), 2u);
}

TEST_F(WebSocketTest, ClientThatNeverAnswersIsDropped) {
  server_options options;
  options.websocket_ping_interval = 100ms;
  start(options);
  ws_client ws;
  ASSERT_TRUE(ws.connect(port_, "/ws/echo"));  // and never reads again: pings stay unanswered
  ASSERT_TRUE(wait_until([&] { return seen_.close_count() == 1; }, 5s));
  EXPECT_EQ(seen_.first_close().first, close_code::abnormal);
}

TEST_F(WebSocketTest, StopClosesWebsocketsWith1001) {
  start();
  ws_client a;
  ws_client b;
  ASSERT_TRUE(a.connect(port_, "/ws/echo"));
  ASSERT_TRUE(b.connect(port_, "/ws/rooms/green"));
  ASSERT_EQ(b.read(), "room green subprotocol 'prefect'");
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    server_->stop(10s);
    stopped = true;
  });
  const auto closed_a = a.wait_closed();
  const auto closed_b = b.wait_closed();
  stopper.join();
  EXPECT_TRUE(stopped);
  EXPECT_EQ(closed_a.code, 1001);
  EXPECT_EQ(closed_a.reason, "Server shutting down");
  EXPECT_EQ(closed_b.code, 1001);
  EXPECT_EQ(seen_.first_close().first, close_code::going_away);
}

TEST_F(WebSocketTest, HandlesOutliveTheServerSafely) {
  start();
  ws_client ws;
  ASSERT_TRUE(ws.connect(port_, "/ws/echo"));
  ASSERT_TRUE(ws.send("ping"));
  ASSERT_EQ(ws.read(), "ping");
  ASSERT_TRUE(ws.close());
  ASSERT_TRUE(wait_until([&] { return seen_.close_count() == 1; }, 5s));
  server_->stop(1s);
  server_.reset();
  EXPECT_FALSE(seen_.last->send_text("after the server is gone"));
  seen_.last->close(1000, "nothing to close");
  seen_.last->when_drained([] { FAIL() << "must not be called"; });
}

}  // namespace
}  // namespace osprey::http

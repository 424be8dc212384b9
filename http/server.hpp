#pragma once
// The HTTP/1.1 server (Boost.Beast, async, keep-alive). Thread-safety: start/stop from one controlling
// thread; handlers run on the io threads and must not block.
//
// Each connection runs on its own strand: requests on one connection are handled one after another (a
// pipelined request waits for the previous response), while connections proceed in parallel on `io_threads`.
// Limits: request heads above max_header_bytes are answered 431, bodies above max_body_bytes 413, unparsable requests
// 400, all as {"detail": ...} followed by closing the connection. Responses carry Server, Content-Type and
// Content-Length (not on 1xx/204/304) plus the handler's extra headers; Connection/Content-Length/
// Transfer-Encoding among those are ignored (the server frames responses itself). A HEAD request gets the
// head of its handler's response (Content-Length included) and no body.
//
// WebSocket routes (router::add_websocket) are upgraded on the same io threads; http/websocket.hpp states
// their rules (subprotocol, message limit, keepalive, backpressure, close codes). An upgrade whose Origin
// header origin_allowed() refuses is answered 403 {"detail": ...} instead (a cross-site guard).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "domain/status.hpp"
#include "http/router.hpp"

namespace osprey::http {

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4200;  ///< 0 picks a free port (see bound_port())
  unsigned io_threads = 1;
  std::size_t max_body_bytes = 16u << 20;    ///< larger bodies: 413 {"detail": ...}, connection closed
  std::size_t max_header_bytes = 64u << 10;  ///< larger request heads (line + headers): 431
  /// Open connections (HTTP and websocket) beyond this are answered 503 and closed at once; 0: no limit.
  std::size_t max_connections = 4096;
  /// Open websockets beyond this: the upgrade is answered 503; 0: no limit.
  std::size_t max_websockets = 1024;
  /// Handed to handlers as request::json_max_depth (bodies and websocket messages); the server parses no JSON.
  std::size_t json_max_depth = default_json_max_depth;
  std::chrono::seconds keep_alive_timeout{5};  ///< idle connections (before a request's first byte) close after this
  std::chrono::seconds read_timeout{30};       ///< a request must arrive completely within this; also bounds
                                               ///< writing a response to a client that does not read, and
                                               ///< a websocket's opening and closing handshakes
  // WebSockets (http/websocket.hpp describes the rules).
  std::size_t websocket_max_message_bytes = 1536u << 10;     ///< larger incoming messages: close 1009 (an event
                                                             ///< may serialise to 1 500 000 bytes)
  std::size_t websocket_max_queued_bytes = 16u << 20;        ///< outgoing queue per connection; beyond: close 1008
  std::chrono::milliseconds websocket_ping_interval{20000};  ///< ping after this much silence; drop the
                                                             ///< connection after twice this
  /// Browser origins allowed to open websockets besides the server's own (origin_policy in websocket.hpp);
  /// any other Origin is answered 403 before the upgrade. Default: none.
  std::vector<std::string> allowed_origins;
};

class server {
 public:
  /// `routes` must outlive the server.
  server(server_options options, const router& routes);
  ~server();  ///< Calls stop() if needed.
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds and starts the io threads. `host` is an IPv4 or IPv6 literal ("127.0.0.1", "::1", "[::1]") or a
  /// name resolved once here. Fails (errc::unavailable) when the address cannot be bound, with a message naming
  /// host and port; errc::failed_precondition when called twice. A server is started at most once.
  status start();

  /// The port actually bound (useful with port 0). Valid after a successful start().
  [[nodiscard]] std::uint16_t bound_port() const;

  /// Graceful stop: stops accepting at once, lets in-flight requests finish (their responses are written)
  /// for up to `grace`, closes idle keep-alive connections and websockets (1001, after their queued messages),
  /// then joins the io threads. Idempotent.
  /// Connections still open when `grace` ends are closed and their late responses dropped. Returns as soon as
  /// every connection is closed. Must not be called from a handler (an io thread): it joins them.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(30));

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace osprey::http

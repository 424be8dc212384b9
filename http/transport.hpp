#pragma once
// Internals of the Beast transport, shared by its three translation units and by nothing else:
// http_session.cpp (an HTTP/1.1 connection), ws_session.cpp (a websocket after its upgrade) and server.cpp (the
// acceptor, the io threads, start and stop). Route code never includes this (nor Beast).

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http/router.hpp"
#include "http/server.hpp"
#include "http/websocket.hpp"
#include "logging/log.hpp"

namespace osprey::http::transport {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

constexpr std::size_t read_chunk = 16 * 1024;  ///< a read's buffer: the first of a request, a websocket frame's
constexpr std::string_view exception_body = R"({"exception_message":"Internal Server Error"})";
constexpr std::string_view shutting_down_reason = "Server shutting down";

inline void log_error(const char* what, std::string_view detail) {
  log::line(log::level::error, "http", what, ": ", detail);
}

inline std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

/// An open connection, as the server handles it when it stops.
class connection {
 public:
  virtual ~connection() = default;
  /// Begins serving on the connection's strand.
  virtual void start() = 0;
  /// Any thread. HTTP: closes when idle between requests, else after the current response. Websocket: closes
  /// (1001) once its queued messages are written.
  virtual void drain() = 0;
  /// Any thread. Closes now; what is still to be written is dropped.
  virtual void force_close() = 0;
};

/// State shared by the server, its sessions and every outstanding responder (see http/server.cpp's file comment).
struct hub {
  std::mutex mutex;
  std::condition_variable drained;  ///< notified when the last connection closes while draining
  bool draining = false;            ///< stop() has begun: new connections are refused
  bool stopped = false;             ///< the io threads are gone or going: responders drop their responses
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, std::shared_ptr<connection>> sessions;    ///< open HTTP connections
  std::unordered_map<std::uint64_t, std::shared_ptr<connection>> websockets;  ///< open websockets

  /// Call with `mutex` held.
  [[nodiscard]] bool empty() const { return sessions.empty() && websockets.empty(); }
  void notify_if_drained() {
    if (draining && empty()) drained.notify_all();
  }
};

/// What sessions read; owned by server::impl, which outlives the io threads.
struct context {
  const server_options& options;
  const router& routes;
  origin_policy origins;  ///< complete (with the bound port) before the io threads start
};

/// Registers a new HTTP connection in `h` and starts it; when the server is draining the socket is dropped.
void serve_http(tcp::socket&& socket, const context& ctx, const std::shared_ptr<hub>& h);

/// Registers the websocket a route accepted, taking over the HTTP connection's stream; nullptr when the server
/// began draining meanwhile. The caller starts it (after leaving the HTTP session's bookkeeping).
std::shared_ptr<connection> adopt_websocket(beast::tcp_stream&& stream, const context& ctx,
                                            const std::shared_ptr<hub>& h, std::shared_ptr<websocket_upgrade> accepted,
                                            bhttp::request<bhttp::string_body>&& upgrade_request);

}  // namespace osprey::http::transport

#pragma once
// WebSocket routes without Beast: what a route sees of a websocket connection. The transport (server.cpp) does
// the upgrade handshake, framing, ping/pong keepalive and close handshake; a route only exchanges text messages.
//
// Lifecycle: a route registered with router::add_websocket is asked, on each upgrade request, for a
// `websocket_factory`. After the handshake the factory is called once with the request and a connection handle
// and returns the callbacks for that connection. `on_message` is then called for every complete text message,
// in order; `on_close` exactly once when the connection has ended for whatever reason (peer closed, close()
// called, error, timeout, server stop); nothing is called after it. Callbacks run on the server's io threads
// (one connection's callbacks never run concurrently) and must not block.
//
// Transport rules, for every websocket route:
// - Subprotocols: the first of the route's supported subprotocols that the client offers is selected
//   (`prefect` by default); a client offering none gets no subprotocol (subprotocol() is "").
// - Incoming messages larger than server_options::websocket_max_message_bytes close the connection with 1009;
//   binary messages with 1003; invalid UTF-8 in a text message with 1007; protocol errors with 1002.
// - Keepalive: after websocket_ping_interval without data from the client the server pings; if nothing
//   arrives within another interval the connection is dropped (on_close gets 1006). Client pings are answered.
// - Backpressure: outgoing messages wait in a per-connection queue of at most websocket_max_queued_bytes.
//   A send that would exceed it drops everything still queued and closes the connection with 1008
//   ("slow consumer"): a client that does not read cannot make the server buffer without bound.
// - server::stop() closes every websocket with 1001 ("Server shutting down") after what is queued was sent.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace osprey::http {

/// Close codes (RFC 6455 §7.4.1) the server uses.
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;  ///< server stopping
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;  ///< binary message
inline constexpr std::uint16_t abnormal = 1006;          ///< no close frame (reported to on_close, never sent)
inline constexpr std::uint16_t invalid_payload = 1007;   ///< invalid UTF-8 in a text message
inline constexpr std::uint16_t policy_violation = 1008;  ///< also: slow consumer
inline constexpr std::uint16_t too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
}  // namespace close_code

/// A route's handle on one websocket connection. Thread-safe; every method returns at once. The server holds
/// the handle until the connection ends, so callbacks may capture it weakly. It may outlive the connection and
/// the server: it then does nothing (send_text returns false).
class websocket_connection {
 public:
  virtual ~websocket_connection() = default;

  /// Queues a text message (sent in call order). False when the connection is closing or closed, or when
  /// the message would overflow the outgoing queue (the connection is then closed with 1008).
  virtual bool send_text(std::string message) = 0;

  /// Closes with `code` and `reason` (at most 123 bytes; longer reasons are cut between characters) after the
  /// messages already queued were sent. Later calls, and sends after it, are ignored; messages that arrive after it are
  /// dropped (on_message is not called for them).
  virtual void close(std::uint16_t code, std::string reason) = 0;

  /// Calls `callback` once, on an io thread, when the outgoing queue is next empty (so after every message
  /// queued so far was written). For producers that must not outrun the client (e.g. a backfill sent in
  /// pages). If the connection closes first (or a close was requested), the callback is dropped uncalled.
  virtual void when_drained(std::function<void()> callback) = 0;

  /// The selected subprotocol, "" when none.
  [[nodiscard]] virtual const std::string& subprotocol() const = 0;
};

struct websocket_callbacks {
  std::function<void(std::string message)> on_message;                          ///< may be empty
  std::function<void(std::uint16_t code, const std::string& reason)> on_close;  ///< may be empty
};

/// Creates the callbacks of a new connection. `req` is the upgrade request (path parameters filled).
using websocket_factory =
    std::function<websocket_callbacks(const request& req, const std::shared_ptr<websocket_connection>& conn)>;

/// How a websocket route answers an upgrade request (set on response::upgrade by router::add_websocket;
/// internal to http/). The server performs the handshake and then calls `start`.
struct websocket_upgrade {
  std::string subprotocol;  ///< sent back in Sec-WebSocket-Protocol when not empty
  std::function<websocket_callbacks(const std::shared_ptr<websocket_connection>& conn)> start;
};

/// Who may open a websocket, judged by the Origin header that browsers send with every websocket handshake.
/// Websockets are not covered by the same-origin policy, and the server has no auth: without this check any
/// web page its user visits could stream events into (or out of) a local server.
struct origin_policy {
  std::string listen_host;           ///< server_options::host: "127.0.0.1", "::1" or "[::1]", "0.0.0.0", a name
  std::uint16_t port = 0;            ///< the port the server is bound to
  std::vector<std::string> allowed;  ///< further origins, e.g. "https://ui.example.com" or "http://10.0.0.5:8080"
};

/// Whether a handshake whose Origin header is `origin` may proceed:
/// - no Origin ("", what Python clients such as Prefect's send) — allowed;
/// - http://<host>:<port> on the server's own port where host is the listen host or a loopback name
///   (localhost, 127.0.0.1, [::1]) — allowed: a page served by this server (the UI, later);
/// - an origin listed in `allowed` (scheme, host and port compared; host in any case, default ports implied)
///   — allowed;
/// - anything else, including "null" and unparsable values — refused. A page on another port of the same host
///   is another origin (refused), and so is a DNS name resolving to loopback (DNS rebinding).
bool origin_allowed(std::string_view origin, const origin_policy& policy);

/// Whether `text` is an origin origin_allowed can compare: http(s)://host[:port] with no path (a trailing "/"
/// is ignored), e.g. "https://ui.example.com".
bool is_valid_origin(std::string_view text);

/// Whether `req` asks for a websocket upgrade (GET with Upgrade: websocket and Connection: upgrade).
bool is_websocket_upgrade(const request& req);

/// The first of `supported` listed in the Sec-WebSocket-Protocol header value `offered` ("a, b"), or "".
std::string select_subprotocol(const std::string& offered, const std::vector<std::string>& supported);

}  // namespace osprey::http

#pragma once
// Prefect's websocket handshake (server/utilities/subscriptions.py), shared by every websocket route
// (/api/events/in, /api/events/out, /api/logs/out). With the `prefect` subprotocol the client's first message
// must be {"type":"auth","token":...}, answered {"type":"auth_success"}; anything else closes the connection
// with 1008. Without the subprotocol (legacy clients) there is no handshake. With authentication on
// (http/access_guard.hpp) the token must be the auth string or an API key with the route's scope, and legacy
// clients are refused (1002).

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "http/access_guard.hpp"
#include "http/websocket.hpp"

namespace osprey::http {

/// One connection's handshake. Once authenticated, pass() returns true for every message; until then it
/// consumes the handshake message (answering or closing) and returns false. The token may be checked on a
/// database thread; a message arriving meanwhile closes the connection.
class auth_gate : public std::enable_shared_from_this<auth_gate> {
public:
  auth_gate(const websocket_connection& conn, std::size_t max_depth, std::shared_ptr<access_guard> access,
            api_scope needed, std::string peer);

  /// Call once the connection is up: closes it (1002) when it can never authenticate.
  void refuse_if_legacy(websocket_connection& conn) const;

  /// Called with every incoming message, on the connection's io thread.
  bool pass(const std::string& message, const std::shared_ptr<websocket_connection>& conn);

private:
  enum class phase { awaiting_auth, checking, open };
  std::atomic<phase> phase_{phase::awaiting_auth};
  bool legacy_;
  std::size_t max_depth_;
  std::shared_ptr<access_guard> access_;
  api_scope needed_;
  std::string peer_;
};

}  // namespace osprey::http

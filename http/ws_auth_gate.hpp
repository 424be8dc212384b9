#pragma once
// Prefect's websocket handshake (server/utilities/subscriptions.py), shared by every websocket route
// (/api/events/in, /api/events/out, /api/logs/out). With the `prefect` subprotocol the client's first message
// must be {"type":"auth","token":...}, answered {"type":"auth_success"}; anything else closes the connection
// with 1008. Without the subprotocol (legacy clients) there is no handshake. With authentication on
// (http/access_guard.hpp) the token must be the auth string or an API key with the route's scope, and legacy
// clients are refused (1002). A route may ask for stricter wording (auth_gate_policy): the worker channel refuses
// clients without the subprotocol even with authentication off, and names every refusal with one reason.

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "http/access_guard.hpp"
#include "http/websocket.hpp"

namespace osprey::http {

/// How a route words its refusals (the arguments of Prefect's accept_prefect_socket). Defaults: the event and
/// log websockets' behaviour.
struct auth_gate_policy {
  /// Refuse a client without the `prefect` subprotocol even when authentication is off (1008, not 1002).
  bool require_subprotocol = false;
  /// The close reason of a refused handshake; "" keeps the message saying what was wrong.
  std::string refusal_reason;
  /// The close reason when an API key's scope is too narrow (403 over HTTP); "" keeps the message.
  std::string scope_refusal_reason;
};

/// One connection's handshake. Once authenticated, pass() returns true for every message; until then it
/// consumes the handshake message (answering or closing) and returns false. The token may be checked on a
/// database thread; a message arriving meanwhile closes the connection.
class auth_gate : public std::enable_shared_from_this<auth_gate> {
 public:
  auth_gate(const websocket_connection& conn, std::size_t max_depth, std::shared_ptr<access_guard> access,
            api_scope needed, std::string peer, auth_gate_policy policy = {});

  /// Call once the connection is up: closes it (1002; 1008 with require_subprotocol) when it can never
  /// authenticate.
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
  auth_gate_policy policy_;
};

}  // namespace osprey::http

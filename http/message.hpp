#pragma once
// Plain request/response types shared by the Beast server and the route handlers, so that handlers
// never include Beast (it is expensive to compile and is an implementation detail of the transport).

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "domain/json_text.hpp"

namespace osprey::http {

struct websocket_upgrade;  // http/websocket.hpp

struct request {
  std::string method;                          ///< upper case: "GET", "POST", ...
  std::string target;                          ///< as received, with query: "/api/flows/?x=1"
  std::string path;                            ///< target without the query, percent-decoded: "/api/flows/"
  std::map<std::string, std::string> query;    ///< decoded query parameters (last one wins)
  std::map<std::string, std::string> headers;  ///< header names lower-cased
  std::string body;
  std::map<std::string, std::string> path_params;  ///< filled by the router: {"id": "..."}
  /// The peer's IP address ("127.0.0.1", "::1"); "" when unknown. For logs and per-client limits, never for
  /// trust: behind a proxy it is the proxy's address.
  std::string remote_address;
  /// How deep JSON in this request's body (or, for a websocket, in its messages) may nest; the server sets it
  /// from server_options::json_max_depth. Handlers parse with domain/json_text.hpp's parse_json and this limit.
  std::size_t json_max_depth = default_json_max_depth;

  /// The header's value, or "" when absent. `name` must be lower case.
  [[nodiscard]] const std::string& header(const std::string& name) const;
};

struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers, e.g. Retry-After
  /// Set (by router::add_websocket only) to accept a websocket upgrade instead of answering; the other
  /// fields are then ignored.
  std::shared_ptr<websocket_upgrade> upgrade;

  /// A JSON body (already serialised).
  static response json(int status, std::string body);
  /// Prefect's error shape: {"detail": "<message>"}.
  static response detail(int status, const std::string& message);
  /// 204 with an empty body.
  static response no_content();
};

/// Completes one request. Must be called exactly once; may be called from any thread (it posts back to the
/// connection's strand). Copies share one completion: a second call is ignored.
/// Safety nets: if every copy is destroyed without a call (a bug), the server answers
/// 500 {"detail":"Internal Server Error"} and logs it, so the connection never hangs. A call that arrives after
/// the connection closed, or after server::stop(), is dropped; calling it is always safe, even after the
/// server is destroyed.
using responder = std::function<void(response)>;

/// A route handler: translates the request and answers through `respond`, now or later. Handlers must not
/// block (no database calls here: send a message to an actor and answer from its reply).
/// `request` belongs to the connection and is reused for its next request: it stays valid until `respond` is
/// called, so move out (or copy) anything needed after that. An exception escaping the handler is logged and
/// answered 500 {"exception_message":"Internal Server Error"} (Prefect's shape) unless it already responded.
using handler = std::function<void(request&, responder respond)>;

}  // namespace osprey::http

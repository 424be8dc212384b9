#pragma once
// Maps (method, path template) to handlers. Templates are literal segments and `{name}` captures,
// e.g. "/api/flows/{id}". A trailing slash is optional on both sides ("/api/flows/" == "/api/flows").
// Literal segments win over captures at the same position ("/api/flows/filter" beats "/api/flows/{id}").

#include <string>
#include <vector>

#include "http/message.hpp"
#include "http/websocket.hpp"

namespace osprey::http {

class router {
 public:
  /// Registers a route. `summary` appears in GET /api/openapi.json. Throws std::logic_error when the method and
  /// template were registered before.
  void add(std::string method, std::string path_template, std::string summary, handler h);

  /// Registers a websocket route (http/websocket.hpp) as a GET route: an upgrade request gets the handshake,
  /// with the first of `subprotocols` the client offers selected, and then `factory` is called; a plain GET
  /// is answered 426 {"detail": "WebSocket upgrade required"}.
  void add_websocket(std::string path_template, std::string summary, websocket_factory factory,
                     std::vector<std::string> subprotocols = {"prefect"});

  /// Called for requests whose path no template matches, instead of answering 404 (the UI's static files and
  /// its single-page fallback). Routes are always tried first, so the fallback costs the API nothing.
  void set_fallback(handler h) { fallback_ = std::move(h); }

  /// Dispatches: fills request.path_params and calls the handler; when no template matches the path, calls
  /// the fallback or answers 404 {"detail":"Not Found"}; 405 {"detail":"Method Not Allowed"} when only the
  /// method differs.
  void dispatch(request& req, responder respond) const;

  struct route {
    std::string method;
    std::string path_template;
    std::string summary;
    std::vector<std::string> segments;
    handler h;
  };
  [[nodiscard]] const std::vector<route>& routes() const { return routes_; }

 private:
  std::vector<route> routes_;
  handler fallback_;
};

}  // namespace osprey::http

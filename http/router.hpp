#pragma once
// Maps (method, path template) to handlers. Templates are literal segments and `{name}` captures,
// e.g. "/api/flows/{id}". A trailing slash is optional on both sides ("/api/flows/" == "/api/flows").
// Literal segments win over captures at the same position ("/api/flows/filter" beats "/api/flows/{id}").

#include <string>
#include <vector>

#include "http/message.hpp"

namespace osprey::http {

class router {
public:
  /// Registers a route. `summary` appears in GET /api/openapi.json.
  void add(std::string method, std::string path_template, std::string summary, handler h);

  /// Dispatches: fills request.path_params and calls the handler; answers 404 {"detail":"Not Found"}
  /// when no template matches the path, 405 {"detail":"Method Not Allowed"} when only the method differs.
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
};

}  // namespace osprey::http

#include "http/message.hpp"

#include <nlohmann/json.hpp>

namespace osprey::http {

const std::string& request::header(const std::string& name) const {
  static const std::string empty;
  const auto it = headers.find(name);
  return it == headers.end() ? empty : it->second;
}

response response::json(int status, std::string body) {
  response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

response response::detail(int status, const std::string& message) {
  // nlohmann escapes quotes, control characters and invalid UTF-8 (replaced, not thrown).
  const nlohmann::json j = {{"detail", message}};
  return json(status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

response response::no_content() {
  response r;
  r.status = 204;
  r.content_type.clear();  // a 204 carries neither a body nor a Content-Type
  return r;
}

}  // namespace osprey::http

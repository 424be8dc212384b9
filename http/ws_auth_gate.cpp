#include "http/ws_auth_gate.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <utility>

#include "http/api_support.hpp"

namespace osprey::http {

using nlohmann::json;

namespace {

/// The route's chosen close reason, else the message saying what was wrong.
std::string reason_or(const std::string& chosen, std::string message) {
  return chosen.empty() ? std::move(message) : chosen;
}

}  // namespace

auth_gate::auth_gate(const websocket_connection& conn, std::size_t max_depth, std::shared_ptr<access_guard> access,
                     api_scope needed, std::string peer, auth_gate_policy policy)
    : legacy_(conn.subprotocol().empty()),
      max_depth_(max_depth),
      access_(std::move(access)),
      needed_(needed),
      peer_(std::move(peer)),
      policy_(std::move(policy)) {
  if (legacy_ && !access_->enabled() && !policy_.require_subprotocol) phase_ = phase::open;
}

void auth_gate::refuse_if_legacy(websocket_connection& conn) const {
  if (legacy_ && policy_.require_subprotocol)
    conn.close(close_code::policy_violation, reason_or(policy_.refusal_reason, "'prefect' subprotocol required"));
  else if (legacy_ && access_->enabled())
    conn.close(close_code::protocol_error,
               reason_or(policy_.refusal_reason, "'prefect' subprotocol required when auth is configured"));
}

bool auth_gate::pass(const std::string& message, const std::shared_ptr<websocket_connection>& conn) {
  switch (phase_.load()) {
    case phase::open: return true;
    case phase::checking:
      conn->close(close_code::policy_violation, "Message sent before authentication finished");
      return false;
    case phase::awaiting_auth: break;
  }
  if (legacy_) return false;  // refused by refuse_if_legacy; nothing it sends counts
  const auto parsed = parse_json(message, max_depth_);
  const auto& j = parsed.value;
  if (!j.is_object() || j.value("type", json()) != "auth") {
    conn->close(close_code::policy_violation, reason_or(policy_.refusal_reason, "Expected 'auth' message"));
    return false;
  }
  if (!access_->enabled()) {
    phase_ = phase::open;
    conn->send_text(R"({"type":"auth_success"})");
    return false;
  }
  const auto token = j.value("token", json());
  if (!token.is_string() || token.get_ref<const std::string&>().empty()) {
    conn->close(close_code::policy_violation, reason_or(policy_.refusal_reason, "Auth required but no token provided"));
    return false;
  }
  phase_ = phase::checking;
  std::weak_ptr<websocket_connection> weak = conn;
  access_->check_token(token.get_ref<const std::string&>(), needed_, peer_,
                       [self = shared_from_this(), weak](std::optional<access_refusal> refused) {
                         auto c = weak.lock();
                         if (!c) return;
                         if (refused) {
                           const auto& chosen = refused->status == 403 ? self->policy_.scope_refusal_reason
                                                                       : self->policy_.refusal_reason;
                           return c->close(close_code::policy_violation, reason_or(chosen, refused->detail));
                         }
                         self->phase_ = phase::open;  // before the answer: the client's next message follows it
                         c->send_text(R"({"type":"auth_success"})");
                       });
  return false;
}

}  // namespace osprey::http

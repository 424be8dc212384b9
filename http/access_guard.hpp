#pragma once
// Who may call the API. Two kinds of credentials, both switchable in the config file:
// - server.auth_string (Prefect's PREFECT_SERVER_API_AUTH_STRING): one shared secret with every right;
// - API keys (domain/api_key.hpp) with a scope, required when server.require_api_key is set and accepted
//   whenever authentication is on.
// A request presents them as "Authorization: Basic base64(<auth string or key>)" (the Prefect client's
// PREFECT_API_AUTH_STRING, also accepted as "user:<key>") or "Authorization: Bearer <key>" (PREFECT_API_KEY);
// a websocket client as the token of its auth message.
//
// Answers: 401 for missing or wrong credentials (Prefect's body, with a `detail` saying why), 403 for a key
// whose scope is too narrow, 429 with Retry-After for a peer address past `failures_allowed` failed attempts
// in a minute. Failures are logged with the peer's address and at most the key's public id, never a secret.
//
// Keys are looked up in the database and remembered for a few seconds, so an accepted request costs no
// database read and a revocation (`osprey api-key revoke`, from any process) takes effect within
// `recheck_after`. A key's last use is recorded at most once a minute.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "domain/api_key.hpp"
#include "domain/time.hpp"
#include "http/message.hpp"
#include "persistence/database.hpp"

namespace osprey::http {

struct access_options {
  std::string auth_string;          ///< server.auth_string ("" = none)
  bool require_api_key = false;     ///< server.require_api_key
  bool health_without_auth = true;  ///< server.health_without_auth
};

/// Why a credential was refused; `status` is the HTTP status a request gets for it (401, 403 or 429).
struct access_refusal {
  int status = 401;
  std::string detail;
  std::chrono::seconds retry_after{0};  ///< 429 only
};

class access_guard : public std::enable_shared_from_this<access_guard> {
 public:
  static constexpr std::size_t failures_allowed = 20;  ///< per peer address and minute
  static constexpr std::chrono::seconds recheck_after{5};

  access_guard(persistence::database db, const clock* time, access_options options);

  /// Whether any credential is asked for at all (auth_string set or keys required).
  [[nodiscard]] bool enabled() const noexcept { return enabled_; }

  /// Calls `next(req, respond)` when `req` may call a route needing `needed`; otherwise answers the refusal.
  /// The probes (GET /api/health, /api/ready) pass without credentials when health_without_auth is set.
  /// `next` may run on a database thread, after this returns (`req` stays valid until `respond` is called).
  void admit(request& req, api_scope needed, responder respond, const std::function<void(request&, responder)>& next);

  /// Judges a websocket's auth token for a route needing `needed`: `done(nullopt)` when accepted, else the
  /// refusal. `done` runs exactly once, now or later on a database thread.
  void check_token(const std::string& token, api_scope needed, const std::string& peer,
                   std::function<void(std::optional<access_refusal>)> done);

 private:
  using verdict_callback = std::function<void(std::optional<access_refusal>)>;
  struct known_key {
    api_key key;
    std::chrono::steady_clock::time_point checked;
    std::chrono::steady_clock::time_point touched;
  };
  struct peer_failures {
    std::chrono::steady_clock::time_point window_start;
    std::size_t count = 0;
  };

  void judge(const std::string& credential, api_scope needed, const std::string& peer, verdict_callback done);
  std::optional<access_refusal> verdict_for(const std::string& text, const api_key* stored, api_scope needed,
                                            const std::string& peer);
  std::optional<access_refusal> throttled(const std::string& peer);
  access_refusal failed(const std::string& peer, std::string detail, const std::string& key_id);
  void remember(const api_key& k);
  std::optional<api_key> fresh(const std::string& key_id);
  void touch_if_due(const api_key& k);

  persistence::database db_;
  const clock* time_;
  access_options options_;
  bool enabled_;
  std::mutex mutex_;
  std::unordered_map<std::string, known_key> keys_;          ///< by key id
  std::unordered_map<std::string, peer_failures> failures_;  ///< by peer address
};

/// The HTTP answer for a refusal.
[[nodiscard]] response refusal_response(const access_refusal& r);

}  // namespace osprey::http

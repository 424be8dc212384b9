#pragma once
// CSRF protection for the API, as Prefect's server (server.csrf_protection): GET /api/csrf-token?client=<id>
// hands out a token, and every POST, PUT, PATCH and DELETE must present it with its client id
// (Prefect-Csrf-Token, Prefect-Csrf-Client) or is answered 403 without reaching its handler. Tokens live in
// the database (so they survive a restart and any server sharing it accepts them); the guard keeps the ones
// it has seen in memory, so an accepted request costs no database read.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "domain/csrf.hpp"
#include "domain/time.hpp"
#include "http/message.hpp"
#include "http/router.hpp"
#include "persistence/database.hpp"

namespace osprey::http {

class csrf_guard : public std::enable_shared_from_this<csrf_guard> {
 public:
  csrf_guard(persistence::database db, const clock* time, std::chrono::seconds token_lifetime);

  /// Calls `next(req, respond)` when `req` may proceed: it changes nothing, or it presents its client's
  /// current token. Otherwise answers 403 with Prefect's detail. `next` may run on a database thread, after
  /// this returns (`req` stays valid until `respond` is called).
  void admit(request& req, responder respond, const handler& next);

  /// GET /api/csrf-token?client=<id>: a new token for the client (replacing its old one), as Prefect's CsrfToken.
  void issue(request& req, responder respond);

 private:
  /// The cached token of `client`, if any and still valid at `now`.
  std::optional<csrf_token> cached(const std::string& client, timestamp now);
  void remember(const csrf_token& t, timestamp now);

  persistence::database db_;
  const clock* time_;
  std::chrono::seconds lifetime_;
  std::mutex mutex_;
  std::unordered_map<std::string, csrf_token> tokens_;  ///< by client id
};

/// Registers GET /api/csrf-token: answered by `guard`, or 422 "CSRF protection is disabled." when it is null
/// (the Prefect client reads that text and stops asking).
void register_csrf_token_route(router& routes, std::shared_ptr<csrf_guard> guard);

}  // namespace osprey::http

#pragma once
// Prefect's CSRF protection (server.csrf_protection): a browser page on another site can make a user's browser
// send requests to a local server, but cannot read the answers. So every state-changing request must carry a
// token that only a reader of GET /api/csrf-token?client=<id> can know, together with that client id
// (headers Prefect-Csrf-Token and Prefect-Csrf-Client). One token per client id, replaced when asked again.

#include <string>
#include <string_view>

#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

using csrf_token_id = typed_id<struct csrf_token_tag>;

/// Prefect's CsrfToken.
struct csrf_token {
  csrf_token_id id;
  timestamp created;
  timestamp updated;
  std::string token;   ///< 64 hex digits from the operating system's random source
  std::string client;  ///< the id the client chose
  timestamp expiration;
};

/// Whether requests with this method change state and so need a token (POST, PUT, PATCH, DELETE).
[[nodiscard]] bool csrf_token_needed(std::string_view method) noexcept;

/// A new token for `client`, valid from `now` for `lifetime`.
[[nodiscard]] csrf_token issue_csrf_token(std::string client, timestamp now, std::chrono::seconds lifetime);

/// What a request presented, judged against the client's stored token (null when it has none).
enum class csrf_verdict { accepted, missing_token, missing_client, invalid };

/// The headers' values ("" when absent) against `stored` at `now`; the token is compared in constant time.
[[nodiscard]] csrf_verdict judge_csrf(std::string_view token, std::string_view client, const csrf_token* stored,
                                      timestamp now) noexcept;

/// Prefect's `detail` for a refusal: "Missing CSRF token.", "Missing client identifier.", "Invalid CSRF token or
/// client identifier." (the client retries with a fresh token on the last one).
[[nodiscard]] const char* csrf_refusal_detail(csrf_verdict v) noexcept;

}  // namespace osprey

#pragma once
// API keys: Osprey's answer to Prefect Cloud's service accounts. An operator creates a key with a scope
// (`osprey api-key create`), hands the text to a client once, and may revoke it later. Only the SHA-256 of the
// key is stored, so a copy of the database cannot be used to call the API.
//
// A key reads "osp_<key id>_<secret>": the key id (12 hex digits) is public and finds the stored row, the secret
// (48 hex digits, 192 bits from the operating system's random source) proves possession. The hash covers the
// whole text and is compared in constant time.
//
// Scopes nest: read < write < admin. read calls every route that changes nothing (GET, and the POST routes that
// only query: filter, count, history...); write also creates, changes and deletes orchestration data, which is
// what flows, workers and the UI need; admin also reaches /api/admin/ (settings, storage, services).

#include <optional>
#include <string>
#include <string_view>

#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

using api_key_id = typed_id<struct api_key_tag>;

enum class api_scope { read, write, admin };

[[nodiscard]] std::string_view to_string(api_scope s) noexcept;
/// "read", "write" or "admin"; nullopt for anything else.
[[nodiscard]] std::optional<api_scope> parse_api_scope(std::string_view text) noexcept;
/// Whether a key with scope `held` may call a route needing `needed`.
[[nodiscard]] constexpr bool scope_covers(api_scope held, api_scope needed) noexcept { return held >= needed; }

/// The scope a route needs, from its method and path template ("/api/flow_runs/{id}/set_state").
[[nodiscard]] api_scope scope_needed(std::string_view method, std::string_view path_template) noexcept;

/// One key as stored (never its text).
struct api_key {
  api_key_id id;
  std::string name;         ///< unique, chosen by the operator ("ci-runner")
  std::string key_id;       ///< the public part of the text: 12 hex digits
  std::string secret_hash;  ///< SHA-256 of the whole text, 64 hex digits
  api_scope scope = api_scope::read;
  timestamp created;
  std::optional<timestamp> expires;  ///< none: valid until revoked
  std::optional<timestamp> revoked;
  std::optional<timestamp> last_used;  ///< updated at most about once a minute per key
};

/// A freshly made key: its row and its text, which is shown once and never stored.
struct issued_api_key {
  api_key record;
  std::string text;
};

/// Longest accepted key name.
inline constexpr std::size_t api_key_name_max = 100;

/// A new key. Throws std::runtime_error when the operating system has no random bytes (a predictable key
/// protects nothing).
[[nodiscard]] issued_api_key issue_api_key(std::string name, api_scope scope, timestamp now,
                                           std::optional<timestamp> expires);

/// The key id of a text shaped like a key ("osp_" + 12 hex + "_" + 48 hex); nullopt for anything else.
[[nodiscard]] std::optional<std::string> api_key_id_of(std::string_view text);

/// SHA-256 of `text` as 64 lower-case hex digits.
[[nodiscard]] std::string api_key_hash(std::string_view text);

enum class api_key_verdict { accepted, unknown, revoked, expired, insufficient_scope };

/// `text` against its stored row (null when none was found) for a route needing `needed` at `now`. The hash
/// is compared in constant time; a wrong secret is `unknown`, as is a missing row, so neither tells a
/// guesser which key ids exist.
[[nodiscard]] api_key_verdict judge_api_key(std::string_view text, const api_key* stored, api_scope needed,
                                            timestamp now);

/// The credential an Authorization header presents: "Bearer <text>" gives <text>; "Basic <base64>" gives the
/// decoded text (the client's PREFECT_API_AUTH_STRING). nullopt when the header has neither shape.
[[nodiscard]] std::optional<std::string> presented_credential(std::string_view authorization);

/// The API key inside a credential: the credential itself, or the part after the first ':' of "user:key"
/// (an auth string spelled like a user and password). nullopt when neither is shaped like a key.
[[nodiscard]] std::optional<std::string> api_key_in(std::string_view credential);

}  // namespace osprey

#pragma once
// Which Prefect client is talking to us. Two headers matter to orchestration:
//   User-Agent: "prefect/3.9.1 (API 0.8.4)"  → the client (library) version, compared against release thresholds
//   X-Prefect-Api-Version: "0.8.4"           → the API version, which gates legacy retry/pause behaviour
// Both are optional: curl, the UI and old clients may send neither.

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace osprey {

/// A release version ordered like Python's packaging.version for the forms Prefect publishes:
/// "3.4.11" < "3.4.12.dev1" < "3.4.12a1" < "3.4.12b2" < "3.4.12rc1" < "3.4.12" < "3.4.12.post1".
/// A local part ("+g1234") is kept in `text` but does not affect ordering. Value type.
struct release_version {
  enum class phase { dev, alpha, beta, rc, final, post };

  int major = 0;
  int minor = 0;
  int patch = 0;
  phase stage = phase::final;
  int stage_number = 0;
  std::string text;  ///< exactly as received, e.g. "3.0.0rc20"

  friend std::strong_ordering operator<=>(const release_version& a, const release_version& b) noexcept;
  friend bool operator==(const release_version& a, const release_version& b) noexcept {
    return (a <=> b) == std::strong_ordering::equal;
  }
};

/// Parses "X.Y.Z" optionally followed by a pre/dev/post/local suffix ("3.0.0rc20", "3.4.12.dev3+g1a2b").
/// Returns nullopt for anything else (including "3.4", "v3.4.1", trailing junk).
std::optional<release_version> parse_release_version(std::string_view text);

/// The client version from a Prefect User-Agent, matching Prefect's
/// `^prefect/(\d+\.\d+\.\d+(?:[a-z.+0-9]+)?) \(API \S+\)$`. Returns nullopt when the header is absent, not
/// a Prefect client, or malformed (Prefect then treats the client as unknown).
std::optional<release_version> parse_prefect_user_agent(std::string_view user_agent);

/// X-Prefect-Api-Version: exactly three dot-separated integers ("0.8.4"). Returns nullopt when malformed;
/// Prefect answers 400 for a malformed header, which is the HTTP layer's call to make.
std::optional<release_version> parse_api_version(std::string_view header);

/// What orchestration knows about the caller. Default: an unknown client (no headers).
struct client_info {
  std::optional<release_version> client_version;  ///< from User-Agent
  std::optional<release_version> api_version;     ///< from X-Prefect-Api-Version

  /// Prefect's `api_version is None or api_version >= 0.8.4`: pause bookkeeping (pause_keys, resuming) applies.
  [[nodiscard]] bool tracks_pauses() const noexcept;
  /// The client renews deployment concurrency leases (client version >= 3.4.11; unknown counts as old).
  [[nodiscard]] bool renews_deployment_leases() const noexcept;
  /// Workers 3.0.0rc20–3.0.3 take deployment slots themselves; the server must not (exact version match).
  [[nodiscard]] bool manages_deployment_concurrency() const noexcept;
};

}  // namespace osprey

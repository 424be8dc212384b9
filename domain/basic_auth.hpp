#pragma once
// The server's shared-secret authentication, as Prefect's PREFECT_SERVER_API_AUTH_STRING: HTTP requests carry
// `Authorization: Basic base64(secret)`, websocket clients send the secret itself as the token of their auth
// message. Comparisons take the same time whatever the input, so a wrong guess teaches nothing.

#include <optional>
#include <string>
#include <string_view>

namespace osprey {

/// Whether an Authorization header value is "Basic <base64 of secret>" (the scheme and its one space exactly as
/// the client sends them; padding required). An empty or malformed header never matches.
[[nodiscard]] bool basic_auth_matches(std::string_view authorization, std::string_view secret) noexcept;

/// The text inside "Basic <base64>" (the scheme and its one space exactly as the client sends them; padding
/// required); nullopt when the header has another shape.
[[nodiscard]] std::optional<std::string> decode_basic_auth(std::string_view authorization);

/// Equality of two secrets in time that depends only on their lengths.
[[nodiscard]] bool same_secret(std::string_view given, std::string_view secret) noexcept;

}  // namespace osprey

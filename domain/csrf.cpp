#include "domain/csrf.hpp"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "domain/basic_auth.hpp"

namespace osprey {

bool csrf_token_needed(std::string_view method) noexcept {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

csrf_token issue_csrf_token(std::string client, timestamp now, std::chrono::seconds lifetime) {
  std::array<unsigned char, 32> bytes{};
  // A predictable token protects nothing: without the OS's random source there is no token at all.
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("no random bytes for a CSRF token");
  static constexpr char digits[] = "0123456789abcdef";
  csrf_token t;
  t.id = csrf_token_id{new_uuid4()};
  t.created = t.updated = now;
  t.token.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    t.token.push_back(digits[b >> 4]);
    t.token.push_back(digits[b & 0x0f]);
  }
  t.client = std::move(client);
  t.expiration = now + lifetime;
  return t;
}

csrf_verdict judge_csrf(std::string_view token, std::string_view client, const csrf_token* stored,
                        timestamp now) noexcept {
  if (token.empty()) return csrf_verdict::missing_token;
  if (client.empty()) return csrf_verdict::missing_client;
  if (!stored || stored->client != client || stored->expiration <= now) return csrf_verdict::invalid;
  return same_secret(token, stored->token) ? csrf_verdict::accepted : csrf_verdict::invalid;
}

const char* csrf_refusal_detail(csrf_verdict v) noexcept {
  switch (v) {
    case csrf_verdict::missing_token: return "Missing CSRF token.";
    case csrf_verdict::missing_client: return "Missing client identifier.";
    case csrf_verdict::invalid: return "Invalid CSRF token or client identifier.";
    case csrf_verdict::accepted: break;
  }
  return "";
}

}  // namespace osprey

#include "domain/api_key.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "domain/basic_auth.hpp"

namespace osprey {
namespace {

constexpr std::string_view key_prefix = "osp_";
constexpr std::size_t key_id_digits = 12;
constexpr std::size_t secret_digits = 48;

std::string to_hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(digits[bytes[i] >> 4]);
    out.push_back(digits[bytes[i] & 0x0f]);
  }
  return out;
}

std::string random_hex(std::size_t digits) {
  std::string bytes(digits / 2, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("no random bytes for an API key");
  return to_hex(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

bool all_hex(std::string_view s) noexcept {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// POST routes that only query: the last segment of their path template names the query.
bool is_query_segment(std::string_view segment) noexcept {
  static constexpr std::string_view queries[] = {
      "filter",          "count",  "paginate",           "history",  "lateness", "next-runs", "count-deployments",
      "count-task-runs", "counts", "concurrency_status", "validate", "next"};
  for (auto q : queries)
    if (segment == q) return true;
  return false;
}

}  // namespace

std::string_view to_string(api_scope s) noexcept {
  switch (s) {
    case api_scope::read: return "read";
    case api_scope::write: return "write";
    case api_scope::admin: return "admin";
  }
  return "read";
}

std::optional<api_scope> parse_api_scope(std::string_view text) noexcept {
  if (text == "read") return api_scope::read;
  if (text == "write") return api_scope::write;
  if (text == "admin") return api_scope::admin;
  return std::nullopt;
}

api_scope scope_needed(std::string_view method, std::string_view path) noexcept {
  if (method == "GET" || method == "HEAD") return api_scope::read;
  if (path.starts_with("/api/admin/")) return api_scope::admin;
  if (method != "POST") return api_scope::write;
  auto trimmed = path;
  if (trimmed.ends_with('/')) trimmed.remove_suffix(1);
  const auto slash = trimmed.rfind('/');
  const auto last = trimmed.substr(slash + 1);
  // /api/events/count-by/{countable}: the query's name is the segment before the parameter.
  if (last.starts_with('{')) {
    const auto before = trimmed.substr(0, slash);
    if (before.ends_with("/count-by")) return api_scope::read;
  }
  return is_query_segment(last) ? api_scope::read : api_scope::write;
}

issued_api_key issue_api_key(std::string name, api_scope scope, timestamp now, std::optional<timestamp> expires) {
  issued_api_key out;
  out.record.id = api_key_id{new_uuid4()};
  out.record.name = std::move(name);
  out.record.key_id = random_hex(key_id_digits);
  out.text = std::string(key_prefix) + out.record.key_id + "_" + random_hex(secret_digits);
  out.record.secret_hash = api_key_hash(out.text);
  out.record.scope = scope;
  out.record.created = now;
  out.record.expires = expires;
  return out;
}

std::optional<std::string> api_key_id_of(std::string_view text) {
  if (text.size() != key_prefix.size() + key_id_digits + 1 + secret_digits || !text.starts_with(key_prefix))
    return std::nullopt;
  const auto id = text.substr(key_prefix.size(), key_id_digits);
  const auto separator = text[key_prefix.size() + key_id_digits];
  const auto secret = text.substr(key_prefix.size() + key_id_digits + 1);
  if (separator != '_' || !all_hex(id) || !all_hex(secret)) return std::nullopt;
  return std::string(id);
}

std::string api_key_hash(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  return to_hex(digest.data(), length);
}

api_key_verdict judge_api_key(std::string_view text, const api_key* stored, api_scope needed, timestamp now) {
  if (!stored || !same_secret(api_key_hash(text), stored->secret_hash)) return api_key_verdict::unknown;
  if (stored->revoked) return api_key_verdict::revoked;
  if (stored->expires && *stored->expires <= now) return api_key_verdict::expired;
  if (!scope_covers(stored->scope, needed)) return api_key_verdict::insufficient_scope;
  return api_key_verdict::accepted;
}

std::optional<std::string> presented_credential(std::string_view authorization) {
  constexpr std::string_view bearer = "Bearer ";
  if (authorization.size() > bearer.size() &&
      (authorization.starts_with(bearer) || authorization.starts_with("bearer ")))
    return std::string(authorization.substr(bearer.size()));
  return decode_basic_auth(authorization);
}

std::optional<std::string> api_key_in(std::string_view credential) {
  if (api_key_id_of(credential)) return std::string(credential);
  const auto colon = credential.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto password = credential.substr(colon + 1);
  if (api_key_id_of(password)) return std::string(password);
  return std::nullopt;
}

}  // namespace osprey

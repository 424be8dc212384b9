#include "domain/basic_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <string>

namespace osprey {

bool same_secret(std::string_view given, std::string_view secret) noexcept {
  if (given.size() != secret.size()) return false;
  return CRYPTO_memcmp(given.data(), secret.data(), secret.size()) == 0;
}

std::optional<std::string> decode_basic_auth(std::string_view authorization) {
  constexpr std::string_view scheme = "Basic ";
  if (!authorization.starts_with(scheme)) return std::nullopt;
  const auto encoded = authorization.substr(scheme.size());
  if (encoded.empty() || encoded.size() % 4 != 0 || encoded.size() > 16384) return std::nullopt;
  // EVP_DecodeBlock decodes whole 4-character groups and counts the padding as zero bytes: take them off.
  std::string decoded(encoded.size() / 4 * 3, '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                      reinterpret_cast<const unsigned char*>(encoded.data()), static_cast<int>(encoded.size()));
  if (n < 0) return std::nullopt;
  std::size_t length = static_cast<std::size_t>(n);
  if (encoded.back() == '=') --length;
  if (encoded[encoded.size() - 2] == '=') --length;
  decoded.resize(length);
  return decoded;
}

bool basic_auth_matches(std::string_view authorization, std::string_view secret) noexcept {
  try {
    const auto decoded = decode_basic_auth(authorization);
    return decoded && same_secret(*decoded, secret);
  } catch (...) {  // out of memory: no match
    return false;
  }
}

}  // namespace osprey

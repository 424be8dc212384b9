#pragma once
// Encryption at rest for the secret values of block documents: AES-256-GCM (OpenSSL EVP) under one key that
// lives in a file beside the database (created 0600 with 32 random bytes on first start).
//
// A sealed value is the text "osprey-aes256gcm:v1:" + base64(nonce[12] || ciphertext || tag[16]) of the
// value's JSON text, with a fresh random nonce per value. Opening checks the tag: a value sealed under another
// key, or altered, is refused rather than returned. Thread-safe: the key is immutable after load.

#include <array>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "domain/status.hpp"

namespace osprey::persistence {

class secret_box {
 public:
  using key_bytes = std::array<unsigned char, 32>;
  explicit secret_box(const key_bytes& key) : key_(key) {}

  /// Reads the key from `path`, or creates the file (mode 0600, parent directories as needed) with a new
  /// random key when it does not exist. Errors (unreadable, wrong size, not creatable) name the file but never
  /// its content.
  static result<std::shared_ptr<const secret_box>> load_or_create(const std::filesystem::path& path);

  /// The sealed text of `value` (any JSON value).
  [[nodiscard]] std::string seal(const nlohmann::json& value) const;
  /// True when `value` is a string in the sealed form (whether or not it opens).
  [[nodiscard]] static bool is_sealed(const nlohmann::json& value);
  /// The value sealed in `sealed`; errc::internal when it does not open under this key.
  [[nodiscard]] result<nlohmann::json> open(const std::string& sealed) const;

 private:
  key_bytes key_;
};

}  // namespace osprey::persistence

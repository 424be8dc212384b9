#include "persistence/secret_box.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

namespace osprey::persistence {
namespace {

constexpr std::string_view sealed_prefix = "osprey-aes256gcm:v1:";
constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;

std::string base64(const std::vector<unsigned char>& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::vector<unsigned char>> unbase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::vector<unsigned char> out(text.size() / 4 * 3);
  const int n =
      EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t size = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  if (!text.empty() && text.back() == '=') --size;
  if (text.size() > 1 && text[text.size() - 2] == '=') --size;
  out.resize(size);
  return out;
}

struct cipher_ctx {
  EVP_CIPHER_CTX* p = EVP_CIPHER_CTX_new();
  ~cipher_ctx() { EVP_CIPHER_CTX_free(p); }
  cipher_ctx() = default;
  cipher_ctx(const cipher_ctx&) = delete;
  cipher_ctx& operator=(const cipher_ctx&) = delete;
};

status errno_status(const std::string& what, const std::filesystem::path& path) {
  return {errc::failed_precondition,
          what + " the block secrets key file " + path.string() + ": " + std::strerror(errno)};
}

}  // namespace

result<std::shared_ptr<const secret_box>> secret_box::load_or_create(const std::filesystem::path& path) {
  key_bytes key{};
  std::error_code ec;
  if (!path.parent_path().empty()) std::filesystem::create_directories(path.parent_path(), ec);
  // O_EXCL: of two servers starting at once on one home, one creates the key and the other reads it.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
      ::close(fd);
      ::unlink(path.c_str());
      return status(errc::internal, "no random bytes for a new block secrets key");
    }
    const bool written = ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written) {
      ::unlink(path.c_str());
      return errno_status("cannot write", path);
    }
    return std::shared_ptr<const secret_box>(std::make_shared<secret_box>(key));
  }
  if (errno != EEXIST) return errno_status("cannot create", path);
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_status("cannot read", path);
  unsigned char extra = 0;
  const auto got = ::read(fd, key.data(), key.size());
  const auto more = ::read(fd, &extra, 1);
  ::close(fd);
  if (got != static_cast<ssize_t>(key.size()) || more != 0)
    return status(errc::failed_precondition, "the block secrets key file " + path.string() + " must hold exactly " +
                                                 std::to_string(key.size()) + " bytes");
  return std::shared_ptr<const secret_box>(std::make_shared<secret_box>(key));
}

std::string secret_box::seal(const nlohmann::json& value) const {
  const std::string plain = value.dump();
  std::vector<unsigned char> out(nonce_size + plain.size() + tag_size);
  RAND_bytes(out.data(), static_cast<int>(nonce_size));
  cipher_ctx ctx;
  int len = 0;
  EVP_EncryptInit_ex(ctx.p, EVP_aes_256_gcm(), nullptr, nullptr, nullptr);
  EVP_CIPHER_CTX_ctrl(ctx.p, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce_size), nullptr);
  EVP_EncryptInit_ex(ctx.p, nullptr, nullptr, key_.data(), out.data());
  EVP_EncryptUpdate(ctx.p, out.data() + nonce_size, &len, reinterpret_cast<const unsigned char*>(plain.data()),
                    static_cast<int>(plain.size()));
  int tail = 0;
  EVP_EncryptFinal_ex(ctx.p, out.data() + nonce_size + len, &tail);
  EVP_CIPHER_CTX_ctrl(ctx.p, EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_size), out.data() + nonce_size + plain.size());
  return std::string(sealed_prefix) + base64(out);
}

bool secret_box::is_sealed(const nlohmann::json& value) {
  return value.is_string() && value.get_ref<const std::string&>().starts_with(sealed_prefix);
}

result<nlohmann::json> secret_box::open(const std::string& sealed) const {
  const status refused(errc::internal, "a block secret does not open with the key in use (was the key file replaced?)");
  if (!sealed.starts_with(sealed_prefix)) return refused;
  auto bytes = unbase64(std::string_view(sealed).substr(sealed_prefix.size()));
  if (!bytes || bytes->size() < nonce_size + tag_size) return refused;
  const std::size_t size = bytes->size() - nonce_size - tag_size;
  std::string plain(size, '\0');
  cipher_ctx ctx;
  int len = 0, tail = 0;
  EVP_DecryptInit_ex(ctx.p, EVP_aes_256_gcm(), nullptr, nullptr, nullptr);
  EVP_CIPHER_CTX_ctrl(ctx.p, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce_size), nullptr);
  EVP_DecryptInit_ex(ctx.p, nullptr, nullptr, key_.data(), bytes->data());
  EVP_DecryptUpdate(ctx.p, reinterpret_cast<unsigned char*>(plain.data()), &len, bytes->data() + nonce_size,
                    static_cast<int>(size));
  EVP_CIPHER_CTX_ctrl(ctx.p, EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_size), bytes->data() + nonce_size + size);
  if (EVP_DecryptFinal_ex(ctx.p, reinterpret_cast<unsigned char*>(plain.data()) + len, &tail) != 1) return refused;
  auto value = nlohmann::json::parse(plain, nullptr, false);
  if (value.is_discarded()) return refused;
  return value;
}

}  // namespace osprey::persistence

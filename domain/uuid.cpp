#include "domain/uuid.hpp"

#include <random>

namespace osprey {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One generator per thread: no locking, and seeded from the OS so ids differ across processes.
std::mt19937_64& thread_rng() {
  thread_local std::mt19937_64 rng{[] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }()};
  return rng;
}

std::array<std::uint8_t, 16> random_bytes() {
  std::array<std::uint8_t, 16> out{};
  auto& rng = thread_rng();
  for (int half = 0; half < 2; ++half) {
    auto word = rng();
    for (int i = 0; i < 8; ++i)
      out[static_cast<std::size_t>(half * 8 + i)] = static_cast<std::uint8_t>(word >> (8 * i));
  }
  return out;
}

}  // namespace

std::optional<uuid> uuid::parse(std::string_view text) {
  const bool hyphenated = text.size() == 36;
  if (!hyphenated && text.size() != 32) return std::nullopt;
  std::array<std::uint8_t, 16> out{};
  std::size_t nibble = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (hyphenated && (i == 8 || i == 13 || i == 18 || i == 23)) {
      if (text[i] != '-') return std::nullopt;
      continue;
    }
    int v = hex_value(text[i]);
    if (v < 0) return std::nullopt;
    out[nibble / 2] = static_cast<std::uint8_t>(out[nibble / 2] | (nibble % 2 == 0 ? v << 4 : v));
    ++nibble;
  }
  return uuid(out);
}

std::string uuid::to_string() const {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(digits[bytes_[i] >> 4]);
    out.push_back(digits[bytes_[i] & 0x0f]);
  }
  return out;
}

bool uuid::is_nil() const noexcept {
  for (auto b : bytes_)
    if (b != 0) return false;
  return true;
}

uuid new_uuid4() {
  auto b = random_bytes();
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  return uuid(b);
}

uuid new_uuid7(timestamp at) {
  auto b = random_bytes();
  auto ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count());
  for (int i = 0; i < 6; ++i) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms >> (8 * (5 - i)));
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x70);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  return uuid(b);
}

}  // namespace osprey

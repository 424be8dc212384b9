#pragma once
// UUIDs as Prefect uses them: random v4 for most rows, time-ordered v7 for states and events.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/time.hpp"

namespace osprey {

/// A 128-bit UUID. Value type; thread-safe to copy.
class uuid {
 public:
  constexpr uuid() = default;
  explicit constexpr uuid(std::array<std::uint8_t, 16> bytes) : bytes_(bytes) {}

  /// Parses the canonical hyphenated form (any case); also accepts 32 hex digits without hyphens.
  /// Returns nullopt for anything else.
  static std::optional<uuid> parse(std::string_view text);

  /// Lower-case hyphenated form, 36 characters.
  [[nodiscard]] std::string to_string() const;
  [[nodiscard]] bool is_nil() const noexcept;
  [[nodiscard]] const std::array<std::uint8_t, 16>& bytes() const noexcept { return bytes_; }

  friend auto operator<=>(const uuid&, const uuid&) = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
};

/// A random (version 4) UUID. Thread-safe.
uuid new_uuid4();
/// A time-ordered (version 7) UUID whose first 48 bits are `at` in Unix milliseconds. Thread-safe.
uuid new_uuid7(timestamp at);

/// A distinct type per kind of id (flow_id, flow_run_id, ...) so they cannot be swapped by mistake.
template <class Tag>
struct typed_id {
  uuid value;
  friend auto operator<=>(const typed_id&, const typed_id&) = default;
  [[nodiscard]] std::string to_string() const { return value.to_string(); }
};

using flow_id = typed_id<struct flow_tag>;
using flow_run_id = typed_id<struct flow_run_tag>;
using task_run_id = typed_id<struct task_run_tag>;
using state_id = typed_id<struct state_tag>;

}  // namespace osprey

template <>
struct std::hash<osprey::uuid> {
  std::size_t operator()(const osprey::uuid& id) const noexcept {
    std::size_t h = 0;
    for (auto b : id.bytes()) h = h * 131 + b;
    return h;
  }
};

#pragma once
// What the fuzz targets share: FUZZ_CHECK for their invariants, and the input as text.
//
// A failed check prints the condition and aborts; libFuzzer reports that as a crash and saves the input.
// (assert() would do the same but is compiled out: the fuzz build is RelWithDebInfo, which defines NDEBUG.)

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace osprey::fuzz {

[[noreturn]] inline void check_failed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", file, line, condition);
  std::abort();
}

/// The fuzzer's bytes as text (request bodies, frames and files are byte strings too).
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace osprey::fuzz

#define FUZZ_CHECK(condition) \
  ((condition) ? static_cast<void>(0) : ::osprey::fuzz::check_failed(#condition, __FILE__, __LINE__))

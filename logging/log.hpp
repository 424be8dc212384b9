#pragma once
// The server's log: one line per message on standard error,
//   2026-12-05T07:50:01.123Z WARNING scheduler: creating a scheduled run failed: ...
// filtered by a threshold the daemon sets once from `logging.level`. Thread-safe: lines never interleave.
// Below the threshold a call costs one relaxed atomic load; build expensive messages only behind enabled().

#include <sstream>
#include <string_view>

namespace osprey::log {

enum class level { debug, info, warning, error };

/// The lowest level written; info until set. Set it once at start (the daemon: from logging.level).
void set_threshold(level threshold) noexcept;
/// "debug", "info", "warning" or "error" (logging.level's values); false, threshold unchanged, otherwise.
bool set_threshold(std::string_view name) noexcept;
[[nodiscard]] bool enabled(level l) noexcept;

/// Writes one line when `l` is at or above the threshold. `component` names the part of the server speaking
/// ("http", "database", "scheduler", ...). Never throws.
void write(level l, std::string_view component, std::string_view message) noexcept;

inline void debug(std::string_view component, std::string_view message) noexcept {
  write(level::debug, component, message);
}
inline void info(std::string_view component, std::string_view message) noexcept {
  write(level::info, component, message);
}
inline void warning(std::string_view component, std::string_view message) noexcept {
  write(level::warning, component, message);
}
inline void error(std::string_view component, std::string_view message) noexcept {
  write(level::error, component, message);
}

/// Writes the parts streamed together (`line(level::warning, "scheduler", "created ", n, " run(s)")`); they are
/// only formatted when `l` is enabled.
template <class... Parts>
void line(level l, std::string_view component, const Parts&... parts) noexcept {
  if (!enabled(l)) return;
  try {
    std::ostringstream out;
    (out << ... << parts);
    write(l, component, out.str());
  } catch (...) {
    write(l, component, "(a log message could not be formatted)");
  }
}

}  // namespace osprey::log

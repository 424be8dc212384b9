#pragma once
// Time as the server sees it: UTC instants with microsecond precision, and an injectable clock
// so that scheduling, backoff and leases can be tested by moving time instead of sleeping.

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace osprey {

/// A UTC instant, microsecond precision (Prefect's and PostgreSQL's resolution).
using timestamp = std::chrono::sys_time<std::chrono::microseconds>;

/// ISO 8601 in UTC with microseconds and an explicit offset: "2026-11-26T02:58:54.123456Z".
std::string format_iso8601(timestamp t);

/// Parses ISO 8601 / RFC 3339 date-times as the Prefect client sends them: 'T' or a space between date and
/// time, optional fraction (any digits; truncated to microseconds), and 'Z', '+HH:MM', '+HHMM' or no offset
/// (naive values are UTC). A bare date "2026-11-26" is midnight UTC. Returns nullopt when malformed, and for
/// instants outside years 1..9999 in UTC (Python's datetime range; format_iso8601 writes four-digit years).
std::optional<timestamp> parse_iso8601(std::string_view text);

/// Where the current time comes from. Implementations are thread-safe.
class clock {
 public:
  virtual ~clock() = default;
  [[nodiscard]] virtual timestamp now() const = 0;
};

/// The real wall clock.
class system_clock final : public clock {
 public:
  [[nodiscard]] timestamp now() const override;
  /// A process-wide instance, for wiring code.
  static const system_clock& instance();
};

/// A clock that only moves when told to; for tests.
class manual_clock final : public clock {
 public:
  explicit manual_clock(timestamp start) : now_(start.time_since_epoch().count()) {}
  [[nodiscard]] timestamp now() const override { return timestamp(std::chrono::microseconds(now_.load())); }
  void advance(std::chrono::microseconds by) { now_ += by.count(); }
  void set(timestamp t) { now_ = t.time_since_epoch().count(); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace osprey

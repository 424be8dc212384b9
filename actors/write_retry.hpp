#pragma once
// How an actor that owns accepted data (the event bus, the task-run recorder) retries a write the database
// refused. A refusal is usually transient — the database is locked past the lock timeout, the PostgreSQL
// connection dropped — so the write is kept and tried again, with exponential backoff, until it commits.
// Only a refusal that is not transient (errc other than unavailable: a row that can never be written) is
// given up, after `max_other_failures` tries, so a poison row cannot be retried forever.

#include <algorithm>
#include <chrono>

#include "domain/status.hpp"

namespace osprey::actors {

struct write_retry {
  std::chrono::milliseconds first_delay{100};  ///< wait after the first refusal; doubles with each one
  std::chrono::milliseconds max_delay{10000};  ///< the longest wait between two tries
  unsigned max_other_failures = 8;             ///< tries before a non-transient refusal is given up

  /// The wait before the next try of a write refused `failures` times (at least 1).
  [[nodiscard]] std::chrono::milliseconds delay_after(unsigned failures) const {
    auto delay = first_delay;
    for (unsigned i = 1; i < failures && delay < max_delay; ++i) delay *= 2;
    return std::min(delay, max_delay);
  }

  /// True when a write refused `failures` times, the last time with `s`, should not be tried again.
  [[nodiscard]] bool gives_up(const status& s, unsigned failures) const {
    return s.code() != errc::unavailable && failures >= max_other_failures;
  }
};

}  // namespace osprey::actors

#pragma once
// Whether this server runs the background services now. Servers sharing one database take turns through a
// lease in the database (actors/cluster_membership.hpp renews it); every periodic service asks before each
// timed pass, so a pass runs on one server at a time. Thread-safe; a default one is never held.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace osprey::actors {

class service_leadership {
 public:
  using steady = std::chrono::steady_clock;

  /// Held until `deadline`: the lease's end as this server counts it (from before the request that renewed
  /// it, minus a margin), so a server that stops renewing stops leading before anyone may take over.
  void hold_until(steady::time_point deadline) noexcept { deadline_.store(deadline.time_since_epoch().count()); }
  void drop() noexcept { deadline_.store(0); }
  [[nodiscard]] bool held() const noexcept { return steady::now().time_since_epoch().count() < deadline_.load(); }

 private:
  std::atomic<steady::rep> deadline_{0};
};

}  // namespace osprey::actors

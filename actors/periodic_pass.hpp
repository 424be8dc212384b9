#pragma once
// The loop the sweeping services share (the cancellation cleanup, the pause expirations): a pass when the
// service starts, one every `interval` and one on (sweep_atom); at most one pass at a time, a pass asked for
// while one runs follows it, and a full batch that changed something is followed at once (more may wait). A
// pass never blocks the actor's scheduler thread: `start_pass` only sends reads and proposals, and the pass
// ends when something sends (committed_atom, std::size_t changed, bool full) to the service.

#include <caf/fwd.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "actors/messages.hpp"

namespace osprey::actors {

struct periodic_pass_options {
  std::chrono::milliseconds interval{5000};
  /// Starts one pass; `service` is the service's handle, to which the pass reports its end (see above).
  std::function<void(caf::actor service)> start_pass;
};

/// Spawns a service. Messages:
///   (sweep_atom)  — run a pass now (besides the periodic ones)
///   (stats_atom) -> (std::uint64_t passes, std::uint64_t changed): passes completed and runs changed so far
caf::actor spawn_periodic_pass(caf::actor_system& system, periodic_pass_options options);

/// Counts the answers to one pass's `expected` proposals; the last answer ends the pass (committed_atom with
/// how many were written and `full`). Thread-safe: answers arrive on any thread.
class pass_tally {
public:
  /// Ends the pass at once when nothing is expected.
  static std::shared_ptr<pass_tally> start(caf::actor service, std::size_t expected, bool full);
  void answered(bool written);

  pass_tally(caf::actor service, std::size_t expected, bool full);

private:
  caf::actor service_;
  std::atomic<std::size_t> pending_;
  std::atomic<std::size_t> written_{0};
  bool full_;
};

}  // namespace osprey::actors

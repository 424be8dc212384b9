#pragma once
// The shape every background service of the daemon shares (the scheduler, late runs, the foreman, the lease
// reaper...): one actor that runs a pass at once, then every `interval`, and when asked (sweep_atom). At most
// one pass runs at a time: a pass asked for meanwhile runs right after it, and a pass that stopped at its batch
// limit (`more`) is followed at once by the next. A pass never blocks the actor's thread: it starts database
// jobs or actor requests and reports when the last of them answered.

#include <caf/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "actors/messages.hpp"
#include "actors/service_leadership.hpp"
#include "domain/time.hpp"

namespace osprey::actors {

/// What a pass reports when it is over.
struct pass_report {
  std::size_t changed = 0;  ///< what the pass changed (runs created, rows marked...), summed into the stats
  bool more = false;        ///< it stopped at its batch limit: run the next pass at once
};

/// Ends a pass: call it exactly once, from any thread.
using pass_done = std::function<void(pass_report)>;

/// One pass of a service: starts its work and returns at once. Passes of one service never overlap, so a pass
/// may keep state for the next one (e.g. a cursor) without a lock.
using service_pass = std::function<void(pass_done)>;

struct periodic_service_options {
  const char* name = "osprey.service";  ///< the actor's name (a string literal)
  std::chrono::milliseconds interval{15000};
  service_pass pass;
  /// Several servers on one database: timed passes run only while this is held (the first when it is gained:
  /// send sweep_atom). Asked-for passes (sweep_atom) always run: every pass is safe to repeat, so a server asked
  /// to act now (a new deployment's runs) does not wait for the leader. None: always runs (one server).
  std::shared_ptr<const service_leadership> leadership{};
};

/// Counts the answers to the `expected` proposals (transitions) of one pass; the last answer ends the pass with
/// how many were written, and asks for the next pass at once when the batch was `full` and something was
/// written (a full batch whose every proposal was refused would only find the same runs again). Thread-safe:
/// answers arrive on any thread.
class pass_tally {
 public:
  /// Ends the pass at once, returning nullptr, when nothing is expected.
  static std::shared_ptr<pass_tally> start(pass_done done, std::size_t expected, bool full);
  void answered(bool written);

  pass_tally(pass_done done, std::size_t expected, bool full);

 private:
  pass_done done_;
  std::atomic<std::size_t> pending_;
  std::atomic<std::size_t> written_{0};
  bool full_;
};

/// What a service has done since the daemon started (GET /api/admin/services).
struct service_status {
  std::uint64_t passes = 0;   ///< passes completed
  std::uint64_t changed = 0;  ///< sum of what they changed
  bool running = false;       ///< a pass is under way
  bool standby = false;       ///< another server runs the timed passes (it holds the services lease)
  std::optional<timestamp> last_pass_finished;
  std::chrono::microseconds last_pass_took{0};
};
using service_status_callback = std::function<void(const service_status&)>;

/// Spawns the service. Messages:
///   (sweep_atom)  — run a pass now (besides the periodic ones)
///   (stats_atom) -> (std::uint64_t passes, std::uint64_t changed): passes completed, sum of what they changed
///   (status_atom, service_status_callback) — calls it with the service's status, on the actor's thread
/// Stop it with an exit message before draining the database.
caf::actor spawn_periodic_service(caf::actor_system& system, periodic_service_options options);

/// Asks a service for its status from outside the actor system; `done` runs on an actor thread. A service that
/// has stopped never calls it: the callback is destroyed unused.
void request_service_status(const caf::actor& service, service_status_callback done);

}  // namespace osprey::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::service_status_callback)

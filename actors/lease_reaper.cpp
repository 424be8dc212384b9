// The lease reaper (see the header).
#include "actors/lease_reaper.hpp"

#include "actors/periodic_service.hpp"
#include "logging/log.hpp"
#include "persistence/concurrency_store.hpp"
#include "persistence/database_calls.hpp"

namespace osprey::actors {
namespace {

/// Reads first; writes only when a lease has expired. A full batch asks for the next pass at once.
void pass(const lease_reaper_options& options, const pass_done& done) {
  persistence::read_value(
      options.db,
      [clock = options.time](persistence::sql_connection& c) {
        return persistence::any_expired_lease(c, clock->now());
      },
      [options, done](const result<bool>& found) {
        if (!found)
          log::line(log::level::warning, "lease_reaper",
                    "looking for expired leases failed: ", found.error().message());
        if (!found || !*found) return done({});
        persistence::write_value(
            options.db,
            [options](persistence::sql_connection& c) {
              return persistence::reap_expired_leases(c, options.time->now(), options.caps, options.batch);
            },
            [options, done](const result<std::size_t>& reaped) {
              if (!reaped) {
                log::line(log::level::warning, "lease_reaper",
                          "releasing expired leases failed: ", reaped.error().message());
                return done({});
              }
              if (*reaped > 0)
                log::line(log::level::info, "lease_reaper", "released ", *reaped, " expired concurrency lease(s)");
              done({*reaped, *reaped >= options.batch});
            });
      });
}

}  // namespace

caf::actor spawn_lease_reaper(caf::actor_system& system, lease_reaper_options options) {
  return spawn_periodic_service(system, {"osprey.lease_reaper", options.interval,
                                         [options](pass_done done) { pass(options, done); }, options.leadership});
}

}  // namespace osprey::actors

// The foreman (see the header).
#include "actors/foreman.hpp"

#include "actors/periodic_service.hpp"
#include "logging/log.hpp"
#include "persistence/database_calls.hpp"

namespace osprey::actors {
namespace {

void report(const persistence::foreman_outcome& out) {
  if (out.total() == 0) return;
  log::line(log::level::info, "foreman", "marked ", out.workers_offline, " worker(s) OFFLINE, ", out.pools_not_ready,
            " work pool(s), ", out.queues_not_ready, " work queue(s) and ", out.deployments_not_ready,
            " deployment(s) NOT_READY");
}

/// Reads first; writes only when something is stale.
void pass(const foreman_options& options, const pass_done& done) {
  persistence::read_value(
      options.db,
      [options](persistence::sql_connection& c) {
        return persistence::find_stale(c, options.time->now(), options.limits).total();
      },
      [options, done](const result<std::size_t>& found) {
        if (!found)
          log::line(log::level::warning, "foreman", "looking for stale workers failed: ", found.error().message());
        if (!found || *found == 0) return done({});
        persistence::write_value(
            options.db,
            [options](persistence::sql_connection& c) {
              return persistence::mark_stale(c, options.time->now(), options.limits);
            },
            [done](const result<persistence::foreman_outcome>& out) {
              if (!out) {
                log::line(log::level::warning, "foreman", "marking stale workers failed: ", out.error().message());
                return done({});
              }
              report(*out);
              done({out->total(), false});
            });
      });
}

}  // namespace

caf::actor spawn_foreman(caf::actor_system& system, foreman_options options) {
  return spawn_periodic_service(system, {"osprey.foreman", options.interval,
                                         [options](pass_done done) { pass(options, done); }, options.leadership});
}

}  // namespace osprey::actors

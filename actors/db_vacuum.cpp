// The database vacuum (see the header).
#include "actors/db_vacuum.hpp"

#include "actors/flow_runs.hpp"
#include "actors/periodic_service.hpp"
#include "logging/log.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/retention_store.hpp"

namespace osprey::actors {
namespace {

/// Second half of a pass: one batch of finished runs past their retention, deleted through their actors.
void vacuum_runs(const pass_done& done, const db_vacuum_options& options, std::size_t events_changed,
                 bool events_more) {
  if (!options.flow_run_retention) return done({events_changed, events_more});
  const auto cutoff = options.time->now() - *options.flow_run_retention;
  persistence::read_value(
      options.db,
      [cutoff, limit = static_cast<std::int64_t>(options.batch)](persistence::sql_connection& c) {
        return persistence::runs_ended_before(c, cutoff, limit);
      },
      [done, options, events_changed, events_more](result<std::vector<flow_run_id>> runs) {
        if (!runs) {
          log::line(log::level::warning, "db_vacuum", "looking for old flow runs failed: ", runs.error().message());
          return done({events_changed, events_more});
        }
        if (runs->empty()) return done({events_changed, events_more});
        remove_flow_runs(
            options.flow_runs, std::move(*runs), [done, events_changed, events_more](const removal_outcome& out) {
              if (!out.error.is_ok()) {
                log::line(log::level::warning, "db_vacuum", "deleting old flow runs failed: ", out.error.message());
              }
              // Look again at once after any deletion: the batch may have been full, and the
              // subflows of the runs just deleted are top-level now. A batch of which nothing
              // could be deleted waits for the next interval rather than finding it again.
              done({events_changed + out.deleted.size(), events_more || !out.deleted.empty()});
            });
      });
}

void pass(const pass_done& done, const db_vacuum_options& options) {
  const auto cutoff = options.time->now() - options.event_retention;
  const auto limit = static_cast<std::int64_t>(options.batch);
  persistence::write_value(
      options.db,
      [cutoff, limit](persistence::sql_connection& c) { return persistence::delete_events_before(c, cutoff, limit); },
      [done, options, limit](result<persistence::events_deleted> deleted) {
        if (!deleted) {
          log::line(log::level::warning, "db_vacuum", "deleting old events failed: ", deleted.error().message());
          return vacuum_runs(done, options, 0, false);
        }
        const auto changed = static_cast<std::size_t>(deleted->resources + deleted->events);
        const bool more = deleted->resources >= limit || deleted->events >= limit;
        vacuum_runs(done, options, changed, more);
      });
}

}  // namespace

caf::actor spawn_db_vacuum(caf::actor_system& system, db_vacuum_options options) {
  return spawn_periodic_service(system, {"osprey.db_vacuum", options.interval,
                                         [options](pass_done done) { pass(done, options); }, options.leadership});
}

}  // namespace osprey::actors

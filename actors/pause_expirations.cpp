// The pause expiration service (see the header).
#include "actors/pause_expirations.hpp"

#include "actors/flow_runs.hpp"
#include "actors/periodic_service.hpp"
#include "domain/run_cleanup.hpp"
#include "logging/log.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/run_cleanup_store.hpp"

namespace osprey::actors {
namespace {

constexpr std::int64_t page = 200;  ///< Paused runs read at a time

void pass(const pass_done& done, const pause_expirations_options& options) {
  persistence::read_value(
      options.db,
      [options](persistence::sql_connection& c) {
        const auto now = options.time->now();
        std::vector<persistence::run_at_state> expired;
        std::optional<flow_run_id> after;
        while (expired.size() < options.batch) {
          auto paused = persistence::paused_runs(c, after, page);
          for (auto& run : paused)
            if (pause_expired(run.current, now) && expired.size() < options.batch) expired.push_back(std::move(run));
          if (paused.size() < static_cast<std::size_t>(page)) break;
          after = paused.back().id;
        }
        return expired;
      },
      [done, options](result<std::vector<persistence::run_at_state>> expired) {
        if (!expired) {
          log::line(log::level::warning, "pause_expirations",
                    "looking for paused runs failed: ", expired.error().message());
          return done({});
        }
        auto tally = pass_tally::start(done, expired->size(), expired->size() >= options.batch);
        const auto now = options.time->now();
        for (const auto& run : *expired) {
          transition_call call{transition_request{pause_expired_state(now), true}, {}};
          call.only_from = run.current.id;
          propose_transition(options.flow_runs, run.id, std::move(call),
                             [tally](const transition_outcome& out) { tally->answered(out.written); });
        }
      });
}

}  // namespace

caf::actor spawn_pause_expirations(caf::actor_system& system, pause_expirations_options options) {
  return spawn_periodic_service(system, {"osprey.pause_expirations", options.interval,
                                         [options](pass_done done) { pass(done, options); }, options.leadership});
}

}  // namespace osprey::actors

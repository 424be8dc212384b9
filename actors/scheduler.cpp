// The deployment scheduler (see the header).
#include "actors/scheduler.hpp"

#include <memory>
#include <mutex>
#include <set>

#include "actors/flow_runs.hpp"
#include "actors/periodic_service.hpp"
#include "domain/deployment.hpp"
#include "domain/orchestration.hpp"
#include "logging/log.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/deployment_store.hpp"

namespace osprey::actors {
namespace {

/// What one read found: the runs to create, and whether the batch of deployments was full.
struct plan {
  std::vector<flow_run_creation> runs;
  std::optional<deployment_id> last;  ///< set when the batch was full: the next pass starts after it
};

run_state scheduled_state(timestamp at, timestamp now) {
  auto s = make_server_state(state_type::scheduled, now);
  s.message = "Flow run scheduled";
  s.details["scheduled_time"] = format_iso8601(at);
  return s;
}

plan plan_runs(persistence::sql_connection& c, const scheduler_options& o, const std::optional<deployment_id>& after) {
  const auto now = o.time->now();
  plan out;
  const auto ids = persistence::deployments_to_schedule(c, now, o.window, o.batch, after);
  if (ids.size() >= o.batch && !ids.empty()) out.last = ids.back();
  for (const auto& id : ids) {
    auto d = persistence::find_deployment(c, id);
    if (!d || d->paused) continue;
    const auto existing = persistence::scheduled_run_keys(c, id, now);
    const std::set<std::string> have(existing.begin(), existing.end());
    for (const auto& s : d->schedules) {
      if (!s.active) continue;
      for (auto at : dates_to_schedule(s.when, now, o.window)) {
        if (have.count(scheduled_run_key(d->id, s.id, at))) continue;
        auto run = scheduled_run(*d, s, at, now);
        run.id = flow_run_id{new_uuid7(now)};
        run.name = generate_run_name();
        out.runs.push_back({std::move(run), scheduled_state(at, now), client_info{}, std::nullopt});
      }
    }
  }
  return out;
}

/// Creates the runs one read found through the registry; the last answer ends the pass. `cursor` is where the
/// next pass starts: after the last deployment of a full batch (then the next pass runs at once), else from the
/// start.
void pass(const scheduler_options& options, const std::shared_ptr<std::optional<deployment_id>>& cursor,
          const pass_done& done) {
  persistence::read_value(
      options.db, [options, after = *cursor](persistence::sql_connection& c) { return plan_runs(c, options, after); },
      [registry = options.flow_runs, cursor, done](result<plan> found) {
        if (!found) {
          log::line(log::level::warning, "scheduler", "reading deployments failed: ", found.error().message());
          cursor->reset();
          return done({});
        }
        *cursor = found->last;
        const bool more = cursor->has_value();
        if (found->runs.empty()) return done({0, more});
        struct tally {
          std::size_t left;
          std::size_t created = 0;
          std::mutex m;
        };
        auto t = std::make_shared<tally>();
        t->left = found->runs.size();
        for (auto& creation : found->runs)
          create_flow_run(registry, std::move(creation), [t, more, done](const creation_outcome& out) {
            std::lock_guard lock(t->m);
            if (out.error.is_ok() && out.created) ++t->created;
            if (!out.error.is_ok())
              log::line(log::level::warning, "scheduler", "creating a scheduled run failed: ", out.error.message());
            if (--t->left > 0) return;
            if (t->created > 0) log::line(log::level::info, "scheduler", "created ", t->created, " scheduled run(s)");
            done({t->created, more});
          });
      });
}

}  // namespace

caf::actor spawn_scheduler(caf::actor_system& system, scheduler_options options) {
  auto cursor = std::make_shared<std::optional<deployment_id>>();
  return spawn_periodic_service(system, {"osprey.scheduler", options.interval,
                                         [options, cursor](pass_done done) { pass(options, cursor, done); }});
}

}  // namespace osprey::actors

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

/// The creations of the runs the deployment's active schedules ask for from `start` within `w`, leaving out
/// the keys in `have`.
void plan_deployment(const deployment& d, timestamp start, const scheduling_window& w, timestamp now,
                     const std::set<std::string>& have, std::vector<flow_run_creation>& out) {
  for (const auto& s : d.schedules) {
    if (!s.active) continue;
    for (auto at : dates_to_schedule(s.when, start, w)) {
      if (have.count(scheduled_run_key(d.id, s.id, at))) continue;
      auto run = scheduled_run(d, s, at, now);
      run.id = flow_run_id{new_uuid7(now)};
      run.name = generate_run_name();
      out.push_back({std::move(run), scheduled_state(at, now), client_info{}, std::nullopt});
    }
  }
}

/// Creates the runs through the registry; `done` gets how many were new once every creation was answered.
void create_all(const flow_run_registry_actor& registry, std::vector<flow_run_creation> runs,
                std::function<void(std::size_t)> done) {
  if (runs.empty()) return done(0);
  struct tally {
    std::size_t left;
    std::size_t created = 0;
    std::mutex m;
  };
  auto t = std::make_shared<tally>();
  t->left = runs.size();
  for (auto& creation : runs)
    create_flow_run(registry, std::move(creation), [t, done](const creation_outcome& out) {
      std::unique_lock lock(t->m);
      if (out.error.is_ok() && out.created) ++t->created;
      if (!out.error.is_ok())
        log::line(log::level::warning, "scheduler", "creating a scheduled run failed: ", out.error.message());
      if (--t->left > 0) return;
      const auto created = t->created;
      lock.unlock();
      done(created);
    });
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
    plan_deployment(*d, now, o.window, now, std::set<std::string>(existing.begin(), existing.end()), out.runs);
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
        create_all(registry, std::move(found->runs), [more, done](std::size_t created) {
          if (created > 0) log::line(log::level::info, "scheduler", "created ", created, " scheduled run(s)");
          done({created, more});
        });
      });
}

}  // namespace

void schedule_deployment_runs(const flow_run_registry_actor& registry, const persistence::database& db,
                              const deployment_id& d, timestamp start, const scheduling_window& window,
                              const clock& time, std::function<void(result<std::size_t>)> done) {
  persistence::read_value(
      db,
      [d, start, window, now = time.now()](persistence::sql_connection& c) -> result<std::vector<flow_run_creation>> {
        std::vector<flow_run_creation> runs;
        if (auto found = persistence::find_deployment(c, d)) plan_deployment(*found, start, window, now, {}, runs);
        return runs;
      },
      [registry, done = std::move(done)](result<std::vector<flow_run_creation>> runs) {
        if (!runs) return done(runs.error());
        create_all(registry, std::move(*runs), [done](std::size_t created) { done(created); });
      });
}

caf::actor spawn_scheduler(caf::actor_system& system, scheduler_options options) {
  auto cursor = std::make_shared<std::optional<deployment_id>>();
  return spawn_periodic_service(
      system, {"osprey.scheduler", options.interval, [options, cursor](pass_done done) { pass(options, cursor, done); },
               options.leadership});
}

}  // namespace osprey::actors

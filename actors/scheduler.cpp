// The deployment scheduler (see the header).
#include "actors/scheduler.hpp"

#include <memory>
#include <mutex>
#include <set>

#include "actors/flow_runs.hpp"
#include "domain/deployment.hpp"
#include "domain/orchestration.hpp"
#include "logging/log.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/deployment_store.hpp"

namespace osprey::actors {
namespace {

struct scheduler_state {
  scheduler_options options;
  bool busy = false;   ///< a pass is between its read and its last creation
  bool again = false;  ///< a pass was asked for while busy
  std::optional<deployment_id> cursor;  ///< where a pass that found a full batch goes on
  std::uint64_t passes = 0;
  std::uint64_t created = 0;
  static inline const char* name = "osprey.scheduler";
};

using scheduler_actor = caf::stateful_actor<scheduler_state>;

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

void pass(scheduler_actor* self) {
  auto& st = self->state;
  if (st.busy) {
    st.again = true;
    return;
  }
  st.busy = true;
  auto me = caf::actor_cast<caf::actor>(self);
  auto options = st.options;
  persistence::read_value(
      options.db, [options, after = st.cursor](persistence::sql_connection& c) { return plan_runs(c, options, after); },
      [me, registry = options.flow_runs](result<plan> found) {
        if (!found) {
          log::line(log::level::warning, "scheduler", "reading deployments failed: ", found.error().message());
          return caf::anon_send(me, committed_atom_v, std::size_t{0}, std::string());
        }
        // The cursor travels as text ("" = the pass reached the end).
        const std::string more = found->last ? found->last->to_string() : std::string();
        if (found->runs.empty()) return caf::anon_send(me, committed_atom_v, std::size_t{0}, more);
        struct tally {
          std::size_t left;
          std::size_t created = 0;
          std::mutex m;
        };
        auto t = std::make_shared<tally>();
        t->left = found->runs.size();
        for (auto& creation : found->runs)
          create_flow_run(registry, std::move(creation), [me, t, more](const creation_outcome& out) {
            std::lock_guard lock(t->m);
            if (out.error.is_ok() && out.created) ++t->created;
            if (!out.error.is_ok())
              log::line(log::level::warning, "scheduler", "creating a scheduled run failed: ", out.error.message());
            if (--t->left == 0) caf::anon_send(me, committed_atom_v, t->created, more);
          });
      });
}

caf::behavior scheduler_behavior(scheduler_actor* self, scheduler_options options) {
  self->state.options = std::move(options);
  pass(self);
  self->delayed_send(self, self->state.options.interval, tick_atom_v);
  return {
      [self](tick_atom) {
        pass(self);
        self->delayed_send(self, self->state.options.interval, tick_atom_v);
      },
      [self](sweep_atom) { pass(self); },
      [self](committed_atom, std::size_t created, const std::string& more) {
        auto& st = self->state;
        st.busy = false;
        ++st.passes;
        st.created += created;
        if (created > 0) log::line(log::level::info, "scheduler", "created ", created, " scheduled run(s)");
        st.cursor.reset();
        if (auto after = uuid::parse(more)) st.cursor = deployment_id{*after};
        if (st.cursor || std::exchange(st.again, false)) pass(self);
      },
      [self](stats_atom) { return std::make_tuple(self->state.passes, self->state.created); },
  };
}

}  // namespace

caf::actor spawn_scheduler(caf::actor_system& system, scheduler_options options) {
  return system.spawn(scheduler_behavior, std::move(options));
}

}  // namespace osprey::actors

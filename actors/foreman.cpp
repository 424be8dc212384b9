// The foreman (see the header).
#include "actors/foreman.hpp"

#include "logging/log.hpp"
#include "persistence/database_calls.hpp"

namespace osprey::actors {
namespace {

struct foreman_state {
  foreman_options options;
  bool busy = false;         ///< a pass is between its read and its completion
  bool again = false;        ///< a pass was asked for while busy
  std::uint64_t passes = 0;  ///< passes completed
  std::uint64_t changed = 0;
  static inline const char* name = "osprey.foreman";
};

using foreman_actor = caf::stateful_actor<foreman_state>;

void report(const persistence::foreman_outcome& out) {
  if (out.total() == 0) return;
  log::line(log::level::info, "foreman", "marked ", out.workers_offline, " worker(s) OFFLINE, ", out.pools_not_ready,
            " work pool(s), ", out.queues_not_ready, " work queue(s) and ", out.deployments_not_ready,
            " deployment(s) NOT_READY");
}

void pass(foreman_actor* self) {
  auto& st = self->state;
  if (st.busy) {
    st.again = true;
    return;
  }
  st.busy = true;
  auto me = caf::actor_cast<caf::actor>(self);
  auto options = st.options;
  persistence::read_value(
      options.db,
      [options](persistence::sql_connection& c) {
        return persistence::find_stale(c, options.time->now(), options.limits).total();
      },
      [me, options](const result<std::size_t>& found) {
        if (!found)
          log::line(log::level::warning, "foreman", "looking for stale workers failed: ", found.error().message());
        if (!found || *found == 0) return caf::anon_send(me, committed_atom_v, std::size_t{0});
        persistence::write_value(
            options.db,
            [options](persistence::sql_connection& c) {
              return persistence::mark_stale(c, options.time->now(), options.limits);
            },
            [me](const result<persistence::foreman_outcome>& out) {
              if (!out)
                log::line(log::level::warning, "foreman", "marking stale workers failed: ", out.error().message());
              else
                report(*out);
              caf::anon_send(me, committed_atom_v, out ? out->total() : std::size_t{0});
            });
      });
}

caf::behavior foreman_behavior(foreman_actor* self, foreman_options options) {
  self->state.options = std::move(options);
  pass(self);
  self->delayed_send(self, self->state.options.interval, tick_atom_v);
  return {
      [self](tick_atom) {
        pass(self);
        self->delayed_send(self, self->state.options.interval, tick_atom_v);
      },
      [self](sweep_atom) { pass(self); },
      [self](committed_atom, std::size_t changed) {
        auto& st = self->state;
        st.busy = false;
        ++st.passes;
        st.changed += changed;
        if (std::exchange(st.again, false)) pass(self);
      },
      [self](stats_atom) { return std::make_tuple(self->state.passes, self->state.changed); },
  };
}

}  // namespace

caf::actor spawn_foreman(caf::actor_system& system, foreman_options options) {
  return system.spawn(foreman_behavior, std::move(options));
}

}  // namespace osprey::actors

// The lease reaper (see the header).
#include "actors/lease_reaper.hpp"

#include "logging/log.hpp"
#include "persistence/concurrency_store.hpp"
#include "persistence/database_calls.hpp"

namespace osprey::actors {
namespace {

struct reaper_state {
  lease_reaper_options options;
  bool busy = false;        ///< a pass is between its read and its completion
  bool again = false;       ///< a pass was asked for while busy
  std::uint64_t passes = 0;  ///< passes completed
  std::uint64_t reaped = 0;
  static inline const char* name = "osprey.lease_reaper";
};

using reaper_actor = caf::stateful_actor<reaper_state>;

void pass(reaper_actor* self) {
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
      [clock = options.time](persistence::sql_connection& c) {
        return persistence::any_expired_lease(c, clock->now());
      },
      [me, options](const result<bool>& found) {
        if (!found)
          log::line(log::level::warning, "lease_reaper",
                    "looking for expired leases failed: ", found.error().message());
        if (!found || !*found) return caf::anon_send(me, committed_atom_v, std::size_t{0});
        persistence::write_value(
            options.db,
            [options](persistence::sql_connection& c) {
              return persistence::reap_expired_leases(c, options.time->now(), options.caps, options.batch);
            },
            [me](const result<std::size_t>& reaped) {
              if (!reaped)
                log::line(log::level::warning, "lease_reaper",
                          "releasing expired leases failed: ", reaped.error().message());
              caf::anon_send(me, committed_atom_v, reaped ? *reaped : std::size_t{0});
            });
      });
}

caf::behavior reaper_behavior(reaper_actor* self, lease_reaper_options options) {
  self->state.options = std::move(options);
  pass(self);
  self->delayed_send(self, self->state.options.interval, tick_atom_v);
  return {
      [self](tick_atom) {
        pass(self);
        self->delayed_send(self, self->state.options.interval, tick_atom_v);
      },
      [self](sweep_atom) { pass(self); },
      [self](committed_atom, std::size_t released) {
        auto& st = self->state;
        st.busy = false;
        ++st.passes;
        st.reaped += released;
        if (released > 0)
          log::line(log::level::info, "lease_reaper", "released ", released, " expired concurrency lease(s)");
        if (released >= st.options.batch || std::exchange(st.again, false)) pass(self);
      },
      [self](stats_atom) { return std::make_tuple(self->state.passes, self->state.reaped); },
  };
}

}  // namespace

caf::actor spawn_lease_reaper(caf::actor_system& system, lease_reaper_options options) {
  return system.spawn(reaper_behavior, std::move(options));
}

}  // namespace osprey::actors

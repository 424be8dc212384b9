// A background service's actor (see the header).
#include "actors/periodic_service.hpp"

#include <caf/all.hpp>

#include <utility>

namespace osprey::actors {
namespace {

struct service_state {
  periodic_service_options options;
  bool busy = false;         ///< a pass is running
  bool again = false;        ///< a pass was asked for while busy
  std::uint64_t passes = 0;  ///< passes completed
  std::uint64_t changed = 0;
  std::chrono::steady_clock::time_point pass_started{};
  std::optional<timestamp> last_pass_finished;
  std::chrono::microseconds last_pass_took{0};
  const char* name = "osprey.service";
};

using service_actor = caf::stateful_actor<service_state>;

void pass(service_actor* self) {
  auto& st = self->state;
  if (st.busy) {
    st.again = true;
    return;
  }
  st.busy = true;
  st.pass_started = std::chrono::steady_clock::now();
  st.options.pass([me = caf::actor_cast<caf::actor>(self)](pass_report report) {
    caf::anon_send(me, committed_atom_v, report.changed, report.more);
  });
}

caf::behavior service_behavior(service_actor* self, periodic_service_options options) {
  self->state.name = options.name;
  self->state.options = std::move(options);
  if (!self->state.options.leadership || self->state.options.leadership->held()) pass(self);
  self->delayed_send(self, self->state.options.interval, tick_atom_v);
  return {
      [self](tick_atom) {
        const auto& leader = self->state.options.leadership;
        if (!leader || leader->held()) pass(self);
        self->delayed_send(self, self->state.options.interval, tick_atom_v);
      },
      [self](sweep_atom) { pass(self); },
      [self](committed_atom, std::size_t changed, bool more) {
        auto& st = self->state;
        st.busy = false;
        ++st.passes;
        st.changed += changed;
        st.last_pass_took =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - st.pass_started);
        st.last_pass_finished =
            std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
        if (std::exchange(st.again, false) || more) pass(self);
      },
      [self](stats_atom) { return std::make_tuple(self->state.passes, self->state.changed); },
      [self](status_atom, const service_status_callback& done) {
        const auto& st = self->state;
        const bool standby = st.options.leadership && !st.options.leadership->held();
        done({st.passes, st.changed, st.busy, standby, st.last_pass_finished, st.last_pass_took});
      },
  };
}

}  // namespace

pass_tally::pass_tally(pass_done done, std::size_t expected, bool full)
    : done_(std::move(done)), pending_(expected), full_(full) {}

std::shared_ptr<pass_tally> pass_tally::start(pass_done done, std::size_t expected, bool full) {
  if (expected == 0) {
    done({});
    return nullptr;
  }
  return std::make_shared<pass_tally>(std::move(done), expected, full);
}

void pass_tally::answered(bool written) {
  if (written) ++written_;
  if (--pending_ > 0) return;
  const auto n = written_.load();
  done_({n, full_ && n > 0});
}

void request_service_status(const caf::actor& service, service_status_callback done) {
  caf::anon_send(service, status_atom_v, std::move(done));
}

caf::actor spawn_periodic_service(caf::actor_system& system, periodic_service_options options) {
  return system.spawn(service_behavior, std::move(options));
}

}  // namespace osprey::actors

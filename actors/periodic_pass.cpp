// The shared loop of the sweeping services (see the header).
#include "actors/periodic_pass.hpp"

#include <utility>

namespace osprey::actors {
namespace {

struct periodic_state {
  periodic_pass_options options;
  bool busy = false;          ///< a pass has started and not yet reported its end
  bool again = false;         ///< a pass was asked for while busy
  std::uint64_t passes = 0;   ///< passes completed
  std::uint64_t changed = 0;  ///< runs changed by them
  static inline const char* name = "osprey.periodic_pass";
};

using periodic_actor = caf::stateful_actor<periodic_state>;

void pass(periodic_actor* self) {
  auto& st = self->state;
  if (st.busy) {
    st.again = true;
    return;
  }
  st.busy = true;
  st.options.start_pass(caf::actor_cast<caf::actor>(self));
}

caf::behavior periodic_behavior(periodic_actor* self, periodic_pass_options options) {
  self->state.options = std::move(options);
  pass(self);
  self->delayed_send(self, self->state.options.interval, tick_atom_v);
  return {
      [self](tick_atom) {
        pass(self);
        self->delayed_send(self, self->state.options.interval, tick_atom_v);
      },
      [self](sweep_atom) { pass(self); },
      [self](committed_atom, std::size_t changed, bool full) {
        auto& st = self->state;
        st.busy = false;
        ++st.passes;
        st.changed += changed;
        // A full batch whose every proposal was refused is not retried at once (the same runs would come back).
        if (std::exchange(st.again, false) || (full && changed > 0)) pass(self);
      },
      [self](stats_atom) { return std::make_tuple(self->state.passes, self->state.changed); },
  };
}

}  // namespace

caf::actor spawn_periodic_pass(caf::actor_system& system, periodic_pass_options options) {
  return system.spawn(periodic_behavior, std::move(options));
}

pass_tally::pass_tally(caf::actor service, std::size_t expected, bool full)
    : service_(std::move(service)), pending_(expected), full_(full) {}

std::shared_ptr<pass_tally> pass_tally::start(caf::actor service, std::size_t expected, bool full) {
  if (expected == 0) {
    caf::anon_send(service, committed_atom_v, std::size_t{0}, false);
    return nullptr;
  }
  return std::make_shared<pass_tally>(std::move(service), expected, full);
}

void pass_tally::answered(bool written) {
  if (written) ++written_;
  if (--pending_ == 0) caf::anon_send(service_, committed_atom_v, written_.load(), full_);
}

}  // namespace osprey::actors

#include <vector>

#include "actors/flow_runs.hpp"

namespace osprey::actors {
namespace {

struct event_bus_state {
  std::vector<caf::actor> subscribers;
  static inline const char* name = "osprey.event_bus";
};

caf::behavior event_bus(caf::stateful_actor<event_bus_state>* self) {
  self->set_down_handler([self](const caf::down_msg& down) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(), [&](const caf::actor& a) { return a.address() == down.source; }),
               subs.end());
  });
  return {
      [self](subscribe_atom, const caf::actor& subscriber) {
        self->monitor(subscriber);
        self->state.subscribers.push_back(subscriber);
      },
      [self](publish_atom, const state_change& change) {
        for (const auto& s : self->state.subscribers) self->send(s, change);
      },
  };
}

}  // namespace

caf::actor spawn_event_bus(caf::actor_system& system) { return system.spawn(event_bus); }

}  // namespace osprey::actors

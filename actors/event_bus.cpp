#include "actors/event_bus.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <iostream>
#include <unordered_set>
#include <utility>
#include <vector>

#include "actors/flow_runs.hpp"
#include "persistence/event_store.hpp"

namespace osprey::actors {
namespace {

struct event_bus_state {
  event_bus_options options;
  std::vector<caf::actor> subscribers;                       ///< state_change subscribers
  std::vector<std::pair<std::uint64_t, event_sink>> sinks;   ///< event subscribers, by token
  std::deque<uuid> recent_order;                             ///< the last delivered ids, oldest first
  std::unordered_set<uuid> recent;
  static inline const char* name = "osprey.event_bus";
};

using bus_actor = caf::stateful_actor<event_bus_state>;

std::atomic<std::uint64_t> next_token{1};

/// Remembers `id`; false when it was delivered recently already.
bool remember(event_bus_state& st, const uuid& id) {
  if (st.options.recent_ids == 0) return true;
  if (!st.recent.insert(id).second) return false;
  st.recent_order.push_back(id);
  if (st.recent_order.size() > st.options.recent_ids) {
    st.recent.erase(st.recent_order.front());
    st.recent_order.pop_front();
  }
  return true;
}

void deliver(bus_actor* self, const event_batch& events) {
  auto& st = self->state;
  for (const auto& e : events) {
    if (!remember(st, e.id)) continue;
    const auto shared = std::make_shared<const event>(e);
    // A sink may unsubscribe another (or itself) only through a message, so iterating here is safe.
    for (const auto& [token, sink] : st.sinks) {
      try {
        sink(shared);
      } catch (const std::exception& ex) {
        std::cerr << "osprey: event subscriber " << token << " threw: " << ex.what() << "\n";
      }
    }
  }
}

/// Stores `events` (when there is a store), then delivers those that were new.
void store_and_deliver(bus_actor* self, event_batch events, publish_callback done) {
  auto& st = self->state;
  const timestamp now = st.options.time->now();
  for (auto& e : events)
    if (!e.received) e.received = now;
  if (!st.options.db) {
    deliver(self, events);
    if (done) done(status::ok());
    return;
  }
  auto batch = std::make_shared<const event_batch>(std::move(events));
  auto inserted = std::make_shared<std::vector<bool>>();
  auto bus = caf::actor_cast<caf::actor>(self);
  st.options.db->write(
      [batch, inserted, now](persistence::sql_connection& c) { *inserted = persistence::insert_events(c, *batch, now); },
      [batch, inserted, bus, done](const status& s) {
        event_batch fresh;
        if (s) {
          for (std::size_t i = 0; i < batch->size() && i < inserted->size(); ++i)
            if ((*inserted)[i]) fresh.push_back((*batch)[i]);
        } else {
          std::cerr << "osprey: storing " << batch->size() << " event(s) failed (delivering them anyway): "
                    << s.message() << "\n";
          fresh = *batch;
        }
        if (!fresh.empty()) caf::anon_send(bus, stored_atom_v, std::move(fresh));
        if (done) done(s);
      });
}

void publish_state_change(bus_actor* self, const state_change& change, const flow_run_event_info& info) {
  for (const auto& s : self->state.subscribers) self->send(s, change);
  store_and_deliver(self, {flow_run_state_event(change, info)}, {});
}

caf::behavior event_bus(bus_actor* self, event_bus_options options) {
  self->state.options = std::move(options);
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
      [self](publish_atom, const state_change& change) { publish_state_change(self, change, {}); },
      [self](publish_atom, const state_change& change, const flow_run_event_info& info) {
        publish_state_change(self, change, info);
      },
      [self](publish_atom, event_batch& events) { store_and_deliver(self, std::move(events), {}); },
      [self](publish_atom, event_batch& events, const publish_callback& done) {
        store_and_deliver(self, std::move(events), done);
      },
      [self](stored_atom, const event_batch& events) { deliver(self, events); },
      [self](subscribe_atom, std::uint64_t token, const event_sink& sink) {
        self->state.sinks.emplace_back(token, sink);
      },
      [self](unsubscribe_atom, std::uint64_t token) {
        auto& sinks = self->state.sinks;
        sinks.erase(std::remove_if(sinks.begin(), sinks.end(), [token](const auto& s) { return s.first == token; }),
                    sinks.end());
      },
  };
}

}  // namespace

caf::actor spawn_event_bus(caf::actor_system& system, event_bus_options options) {
  return system.spawn(event_bus, std::move(options));
}

caf::actor spawn_event_bus(caf::actor_system& system) { return spawn_event_bus(system, event_bus_options{}); }

std::uint64_t subscribe_events(const caf::actor& bus, event_sink sink) {
  const auto token = next_token.fetch_add(1, std::memory_order_relaxed);
  caf::anon_send(bus, subscribe_atom_v, token, std::move(sink));
  return token;
}

void unsubscribe_events(const caf::actor& bus, std::uint64_t token) { caf::anon_send(bus, unsubscribe_atom_v, token); }

void publish_events(const caf::actor& bus, event_batch events, publish_callback done) {
  if (done) caf::anon_send(bus, publish_atom_v, std::move(events), std::move(done));
  else caf::anon_send(bus, publish_atom_v, std::move(events));
}

}  // namespace osprey::actors

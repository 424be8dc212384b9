// One actor per active flow run. Requests queue inside the actor and are handled one at a time:
// decide (pure policy) → write (group commit) → answer → publish. The run's current state is loaded from the
// database when the actor starts, so a stopped actor loses nothing.
#include <deque>

#include "actors/flow_run_actor.hpp"
#include "persistence/flow_run_store.hpp"

namespace osprey::actors {
namespace {

struct queued_request {
  transition_request request;
  caf::response_promise promise;
};

struct flow_run_state {
  flow_run_id run;
  flow_run_options options;
  bool loaded = false;
  bool run_exists = false;
  status load_error;
  std::optional<run_state> current;
  std::deque<queued_request> queue;
  bool writing = false;
  std::optional<transition_outcome> in_flight;  ///< the outcome awaiting its commit
  static inline const char* name = "osprey.flow_run";
};

using flow_run_actor = caf::stateful_actor<flow_run_state>;

void pump(flow_run_actor* self);

void answer_head(flow_run_actor* self, const transition_outcome& outcome) {
  auto& st = self->state;
  st.queue.front().promise.deliver(outcome);
  st.queue.pop_front();
}

// States must have strictly increasing timestamps per run (they are unique per run and order the history).
timestamp next_timestamp(const flow_run_state& st, timestamp proposed_at) {
  if (st.current && proposed_at <= st.current->at) return st.current->at + std::chrono::microseconds(1);
  return proposed_at;
}

void handle_head(flow_run_actor* self) {
  auto& st = self->state;
  auto& head = st.queue.front();
  transition_outcome outcome;
  if (!st.load_error.is_ok()) {
    outcome.error = st.load_error;
    return answer_head(self, outcome);
  }
  if (!st.run_exists) {
    outcome.error = status(errc::not_found, "Flow run " + st.run.to_string() + " not found");
    return answer_head(self, outcome);
  }
  outcome.decision = head.request.force ? transition_decision{} : st.options.policy(st.current, head.request);
  std::optional<run_state> to_write;
  if (outcome.decision.kind == decision_kind::accept) to_write = head.request.proposed;
  else if (outcome.decision.kind == decision_kind::reject && outcome.decision.replacement)
    to_write = outcome.decision.replacement;
  if (!to_write) {
    outcome.state = st.current;
    return answer_head(self, outcome);
  }
  to_write->id = state_id{new_uuid7(st.options.time->now())};
  to_write->at = next_timestamp(st, st.options.time->now());
  if (to_write->name.empty()) to_write->name = default_state_name(to_write->type);
  to_write->details["flow_run_id"] = st.run.to_string();
  outcome.state = to_write;
  outcome.written = true;
  st.in_flight = outcome;
  st.writing = true;
  auto previous = st.current;
  auto self_handle = caf::actor_cast<caf::actor>(self);
  st.options.db.write(
      [run = st.run, state = *to_write, previous](persistence::sql_connection& c) {
        persistence::record_flow_run_state(c, run, state, previous);
      },
      [self_handle](const status& s) { caf::anon_send(self_handle, committed_atom_v, s); });
}

void pump(flow_run_actor* self) {
  auto& st = self->state;
  while (st.loaded && !st.writing && !st.queue.empty()) handle_head(self);
}

void on_committed(flow_run_actor* self, const status& s) {
  auto& st = self->state;
  st.writing = false;
  auto outcome = std::move(*st.in_flight);
  st.in_flight.reset();
  if (!s) {
    outcome.error = s;
    outcome.written = false;
    outcome.state = st.current;
    answer_head(self, outcome);
  } else {
    state_change change{st.run, st.current, *outcome.state};
    st.current = outcome.state;
    answer_head(self, outcome);
    if (st.options.event_bus) self->send(st.options.event_bus, publish_atom_v, change);
  }
  pump(self);
}

caf::behavior flow_run(flow_run_actor* self, flow_run_id run, flow_run_options options) {
  self->state.run = run;
  self->state.options = std::move(options);
  auto self_handle = caf::actor_cast<caf::actor>(self);
  self->state.options.db.read(
      [run, self_handle](persistence::sql_connection& c) {
        auto stored = persistence::load_flow_run_state(c, run);
        caf::anon_send(self_handle, loaded_atom_v, status::ok(), stored.run_exists, stored.current);
      },
      [self_handle](const status& s) {
        if (!s) caf::anon_send(self_handle, loaded_atom_v, s, false, std::optional<run_state>{});
      });
  const auto idle = self->state.options.idle_timeout;
  return {
      [self](transition_atom, const transition_request& request) {
        auto rp = self->make_response_promise();
        self->state.queue.push_back({request, rp});
        pump(self);
        return rp;
      },
      [self](loaded_atom, const status& s, bool exists, const std::optional<run_state>& current) {
        auto& st = self->state;
        st.loaded = true;
        st.load_error = s;
        st.run_exists = exists;
        st.current = current;
        pump(self);
      },
      [self](committed_atom, const status& s) { on_committed(self, s); },
      caf::after(idle) >>
          [self] {
            // Idle: nothing queued and no write in flight. The database holds everything; stop.
            if (self->state.queue.empty() && !self->state.writing) self->quit();
          },
  };
}

}  // namespace

caf::actor spawn_flow_run(caf::actor_system& system, const flow_run_id& run, const flow_run_options& options) {
  return system.spawn(flow_run, run, options);
}

}  // namespace osprey::actors

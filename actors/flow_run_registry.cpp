// Routes each transition and edit to its run's actor, spawning it on demand. An actor that stopped while a
// request was on its way (idle, failed load, deleted run) is replaced and the request re-sent, so stopped
// actors never lose a request.
#include <memory>
#include <mutex>
#include <unordered_map>

#include "actors/flow_run_actor.hpp"
#include "actors/flow_runs.hpp"

namespace osprey::actors {
namespace {

struct registry_state {
  flow_run_options options;
  std::unordered_map<uuid, flow_run_actor> runs;
  /// actor id -> run, so a stopped actor is forgotten in O(1) (thousands stop every second under load).
  std::unordered_map<caf::actor_id, uuid> run_of;
  static inline const char* name = "osprey.flow_run_registry";
};

using registry_actor = flow_run_registry_actor::stateful_pointer<registry_state>;

/// How many times a request follows its run to a fresh actor when the one it was sent to had stopped.
constexpr int resends = 3;

flow_run_actor actor_for(registry_actor self, const flow_run_id& run) {
  auto& runs = self->state.runs;
  if (auto it = runs.find(run.value); it != runs.end()) return it->second;
  auto a = spawn_flow_run(self->system(), run, self->state.options);
  self->monitor(a);
  runs.emplace(run.value, a);
  self->state.run_of.emplace(a.id(), run.value);
  return a;
}

// Sends (atom, request) to the run's actor and hands its answer (`Outcome`: transition_outcome or
// edit_outcome) to `deliver`.
template <class Outcome, class Atom, class Request>
void dispatch(registry_actor self, const flow_run_id& run, Atom atom, const Request& request,
              std::function<void(const Outcome&)> deliver, int attempts_left) {
  auto target = actor_for(self, run);
  self->request(target, caf::infinite, atom, request)
      .then([deliver](const Outcome& outcome) { deliver(outcome); },
            [self, run, atom, request, deliver, attempts_left, target](const caf::error& err) {
              // The actor stopped before our request arrived: forget it, try a fresh one (which loads the run).
              auto it = self->state.runs.find(run.value);
              if (it != self->state.runs.end() && it->second == target) self->state.runs.erase(it);
              if (attempts_left > 0) return dispatch<Outcome>(self, run, atom, request, deliver, attempts_left - 1);
              Outcome failed;
              failed.error = status(errc::unavailable, "flow run actor unavailable: " + caf::to_string(err));
              deliver(failed);
            });
}

flow_run_registry_actor::behavior_type registry(registry_actor self, flow_run_options options) {
  self->state.options = std::move(options);
  self->set_down_handler([self](const caf::down_msg& down) {
    auto& st = self->state;
    const auto found = st.run_of.find(down.source.id());
    if (found == st.run_of.end()) return;
    // The run may already have a newer actor (dispatch replaced this one): only forget this one.
    if (auto it = st.runs.find(found->second); it != st.runs.end() && it->second.id() == down.source.id())
      st.runs.erase(it);
    st.run_of.erase(found);
  });
  // Shutting down the registry shuts down every run actor with it (they would otherwise linger until idle).
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    for (auto& [id, run_actor] : self->state.runs) self->send_exit(run_actor, msg.reason);
    self->state.runs.clear();
    self->state.run_of.clear();
    self->quit(msg.reason);
  });
  return {
      [self](transition_atom, const flow_run_id& run, const transition_call& request) {
        auto rp = self->make_response_promise<transition_outcome>();
        dispatch<transition_outcome>(
            self, run, transition_atom_v, request, [rp](const transition_outcome& o) mutable { rp.deliver(o); },
            resends);
        return rp;
      },
      [self](transition_atom, const flow_run_id& run, const transition_call& request, const transition_callback& done) {
        dispatch<transition_outcome>(self, run, transition_atom_v, request, done, resends);
      },
      [self](edit_atom, const flow_run_id& run, const flow_run_edit& edit) {
        auto rp = self->make_response_promise<edit_outcome>();
        dispatch<edit_outcome>(
            self, run, edit_atom_v, edit, [rp](const edit_outcome& o) mutable { rp.deliver(o); }, resends);
        return rp;
      },
      [self](edit_atom, const flow_run_id& run, const flow_run_edit& edit, const edit_callback& done) {
        dispatch<edit_outcome>(self, run, edit_atom_v, edit, done, resends);
      },
      [self](create_atom, flow_run_creation& creation, const creation_callback& done) {
        create_flow_run_now(self->state.options, std::move(creation), done);
      },
      [self](count_atom) { return self->state.runs.size(); },
  };
}

}  // namespace

flow_run_registry_actor spawn_flow_run_registry(caf::actor_system& system, flow_run_options options) {
  return system.spawn(registry, std::move(options));
}

void propose_transition(const flow_run_registry_actor& registry_handle, const flow_run_id& run, transition_call request,
                        transition_callback done) {
  caf::anon_send(registry_handle, transition_atom_v, run, std::move(request), std::move(done));
}

void create_flow_run(const flow_run_registry_actor& registry_handle, flow_run_creation creation,
                     creation_callback done) {
  caf::anon_send(registry_handle, create_atom_v, std::move(creation), std::move(done));
}

void edit_flow_run(const flow_run_registry_actor& registry_handle, const flow_run_id& run, flow_run_edit edit,
                   edit_callback done) {
  caf::anon_send(registry_handle, edit_atom_v, run, std::move(edit), std::move(done));
}

void remove_flow_runs(const flow_run_registry_actor& registry_handle, std::vector<flow_run_id> runs,
                      std::function<void(removal_outcome)> done) {
  if (runs.empty()) return done({});
  struct gathering {
    std::mutex lock;
    std::vector<flow_run_id> runs;
    std::vector<char> deleted;
    std::size_t waiting;
    status first_error;
    std::function<void(removal_outcome)> done;
  };
  auto g = std::make_shared<gathering>();
  g->runs = std::move(runs);
  g->deleted.assign(g->runs.size(), 0);
  g->waiting = g->runs.size();
  g->done = std::move(done);
  for (std::size_t i = 0; i < g->runs.size(); ++i) {
    edit_flow_run(registry_handle, g->runs[i], {flow_run_edit::kind::remove, nlohmann::json::object()},
                  [g, i](const edit_outcome& outcome) {
                    std::unique_lock guard(g->lock);
                    if (outcome.error && outcome.found) g->deleted[i] = 1;
                    if (!outcome.error && g->first_error) g->first_error = outcome.error;
                    if (--g->waiting > 0) return;
                    removal_outcome out;
                    for (std::size_t k = 0; k < g->runs.size(); ++k)
                      if (g->deleted[k]) out.deleted.push_back(g->runs[k]);
                    out.error = g->first_error;
                    guard.unlock();
                    g->done(std::move(out));
                  });
  }
}

void propose_transitions(const flow_run_registry_actor& registry_handle, std::vector<flow_run_id> runs,
                         transition_call call, std::function<void(std::vector<transition_outcome>)> done) {
  if (runs.empty()) return done({});
  struct gathering {
    std::mutex lock;
    std::vector<transition_outcome> outcomes;
    std::size_t waiting;
    std::function<void(std::vector<transition_outcome>)> done;
  };
  auto g = std::make_shared<gathering>();
  g->outcomes.resize(runs.size());
  g->waiting = runs.size();
  g->done = std::move(done);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    propose_transition(registry_handle, runs[i], call, [g, i](const transition_outcome& outcome) {
      std::unique_lock guard(g->lock);
      g->outcomes[i] = outcome;
      if (--g->waiting > 0) return;
      auto all = std::move(g->outcomes);
      guard.unlock();
      g->done(std::move(all));
    });
  }
}

}  // namespace osprey::actors

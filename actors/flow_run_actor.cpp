// One actor per active flow run. Requests queue inside the actor and are handled one at a time:
// a transition: decide (Prefect's policy, pure) → write (group commit) → answer → publish; for a run with a
// deployment the decision is made inside the write job, with the deployment's concurrency slot;
// an edit of the run's columns: write (group commit) → refresh the cached run from what was stored → answer.
// The run is loaded from the database when the actor starts, so a stopped actor loses nothing; an actor whose
// load failed answers what it holds with the failure and stops (the next request brings a fresh load).
#include <deque>
#include <variant>

#include "actors/flow_run_actor.hpp"
#include "actors/notification_dispatcher.hpp"
#include "actors/task_run_transitions.hpp"
#include "domain/run_bookkeeping.hpp"
#include "persistence/deployment_slots.hpp"
#include "persistence/flow_run_input_store.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/flow_store.hpp"

namespace osprey::actors {
namespace {

struct queued_transition {
  transition_call call;
  caf::typed_response_promise<transition_outcome> promise;
};

struct queued_edit {
  flow_run_edit edit;
  caf::typed_response_promise<edit_outcome> promise;
};

using queued_request = std::variant<queued_transition, queued_edit>;

struct pending_write {
  transition_outcome outcome;
  std::optional<run_state> previous;
  flow_transition_result result;
  flow_run_changes changes;            ///< what the write job stores; applied to the cached run after COMMIT
  std::optional<timestamp> stored_at;  ///< the run's new `updated`, when the job wrote the run
};

/// How often one request may find its run changed by another server (and reload it) before it is answered
/// 409. Each reload means another server committed a write of this run meanwhile, so the system as a whole
/// always progresses; but a server writing one run back to back wins every race against a server that must
/// first reload (a read), so the bound is high: it only stops a run written without pause elsewhere.
constexpr unsigned max_reloads_per_request = 1000;

struct flow_run_state {
  flow_run_id run;
  flow_run_options options;
  bool loaded = false;
  std::optional<osprey::flow_run> record;  ///< nullopt once loaded: the run does not exist
  std::string flow_name;                   ///< for the prefect.flow-run.* events (and notifications)
  std::deque<queued_request> queue;
  std::optional<pending_write> in_flight;  ///< the decision awaiting its commit
  /// A decision being made inside its write job (a run with a deployment); becomes `in_flight` on commit.
  std::shared_ptr<pending_write> deciding;
  bool editing = false;  ///< an edit awaiting its commit
  unsigned reloads = 0;  ///< times the head request found the run stale and reloaded it
  static inline const char* name = "osprey.flow_run";
};

using run_actor = flow_run_actor_with_internals::stateful_pointer<flow_run_state>;

void pump(run_actor self);

// Answers the request at the head of the queue and drops it. The head is a transition when a transition_outcome
// answers it and an edit when an edit_outcome does: only handle_head's branch for that kind (and refuse_all,
// which looks) gets here, so std::get cannot throw.
void answer_head(run_actor self, const transition_outcome& outcome) {
  std::get<queued_transition>(self->state.queue.front()).promise.deliver(outcome);
  self->state.queue.pop_front();
  self->state.reloads = 0;
}

void answer_head(run_actor self, const edit_outcome& outcome) {
  std::get<queued_edit>(self->state.queue.front()).promise.deliver(outcome);
  self->state.queue.pop_front();
  self->state.reloads = 0;
}

constexpr std::chrono::seconds notification_lease{300};

notification_facts facts_of(const flow_run_state& st, const run_state& written) {
  const auto& r = *st.record;
  notification_facts f;
  f.run = st.run;
  f.run_name = r.name;
  f.flow = r.flow;
  f.flow_name = st.flow_name;
  f.tags = r.tags;
  f.deployment_id = r.deployment_id;
  f.parameters = r.parameters;
  f.state = written;
  return f;
}

// A run with a deployment: the slot of its deployment's limit is taken, the policy decides and the result is
// written — and freed or unused slots given back — in one write job (domain/flow_policy.hpp, steps 3 to 6), so
// the check and the increment cannot interleave with another run's. The decision reaches the actor with the
// commit (`deciding`); the job may run twice (batch retry), and only its last run's decision counts.
void decide_in_writer(run_actor self, flow_transition_input input, transition_outcome outcome,
                      std::optional<flow_run_input> response_input) {
  auto& st = self->state;
  auto decided = std::make_shared<pending_write>();
  st.deciding = decided;
  std::shared_ptr<const notifications::notification_rules> rules;
  if (st.options.notifications) rules = st.options.notifications->current();
  std::optional<notification_facts> facts;
  if (rules && rules->settings.enabled && !rules->policies.empty()) facts = facts_of(st, run_state{});
  auto enqueued = std::make_shared<std::vector<persistence::outbox_job>>();
  auto stale = std::make_shared<bool>(false);
  st.options.db.write(
      [decided, stale, input = std::move(input), outcome = std::move(outcome), record = *st.record, rules, facts,
       enqueued, response_input = std::move(response_input), policy = st.options.policy,
       slots = st.options.deployment_slots, owner = st.options.notification_owner](persistence::sql_connection& c) {
        // A job may run twice (batch retry): only the last run's outputs count.
        enqueued->clear();
        *stale = !persistence::claim_flow_run_version(c, input.run.id, record.updated);
        if (*stale) return;
        auto in = input;
        persistence::secure_deployment_slots(c, plan_deployment_concurrency(in), in, slots);
        auto result = policy(in);
        pending_write w{outcome, record.state, result, changes_of(record, result), std::nullopt};
        w.outcome.decision = result.decision;
        w.outcome.state = result.written ? result.written : record.state;
        w.outcome.written = result.written.has_value();
        if (result.written || result.run_changed) {
          persistence::write_flow_transition(c, in.run.id, w.changes.written, w.changes.counters,
                                             w.changes.empirical_policy, in.now);
          w.stored_at = in.now;
        }
        // A key already taken fails the job (constraint → conflict): the resume is rolled back, as in Prefect.
        if (response_input && result.decision.kind == decision_kind::accept && result.written)
          persistence::insert_flow_run_input(c, *response_input);
        if (result.effects.parent_task_state && result.run.parent_task_run_id)
          decide_task_transition(c, result.run.parent_task_run_id->value,
                                 transition_request{*result.effects.parent_task_state, true}, in.now);
        persistence::release_deployment_slots(c, result.effects, *in.run.deployment_id, in.now, slots.caps);
        if (facts && result.written) {
          auto f = *facts;
          f.state = *result.written;
          *enqueued = notifications::enqueue_notifications(c, *rules, f, in.now, owner, notification_lease);
        }
        *decided = std::move(w);
      },
      [self_handle = flow_run_actor_with_internals{self}, enqueued, stale,
       dispatcher = st.options.notification_dispatcher](const status& s) {
        if (s && !enqueued->empty() && dispatcher) caf::anon_send(dispatcher, enqueued_atom_v, std::move(*enqueued));
        caf::anon_send(self_handle, committed_atom_v, s, s && *stale);
      });
}

void handle_transition(run_actor self, const transition_call& call) {
  auto& st = self->state;
  transition_outcome outcome;
  if (!st.record) {
    outcome.error = status(errc::not_found, "Flow run with id " + st.run.to_string() + " not found");
    return answer_head(self, outcome);
  }
  if (call.only_from && (!st.record->state || st.record->state->id != *call.only_from)) {
    outcome.decision = {decision_kind::abort, std::nullopt, "The run's state changed.", {}};
    outcome.state = st.record->state;
    return answer_head(self, outcome);
  }
  flow_transition_input input;
  std::optional<flow_run_input> response_input;  ///< a resume's run input, stored when the resume is accepted
  input.current = st.record->state;
  input.request = call.request;
  if (call.resume) {
    const auto& current = st.record->state;
    if (!current || current->type != state_type::paused) {
      outcome.decision = {decision_kind::abort, std::nullopt, "Cannot resume a flow run that is not paused.", {}};
      return answer_head(self, outcome);
    }
    if (auto keyset = run_input_keyset(*current)) {
      // The caller checked run_input against the schema of the pause it read; this must be the same pause.
      if (!call.input || call.input->keyset != *keyset) {
        outcome.error = status(errc::failed_precondition,
                               "The flow run was paused again while its run input was checked; "
                               "resume it again.");
        return answer_head(self, outcome);
      }
      if (call.input->verdict.refusal) {
        outcome.decision = {decision_kind::reject, std::nullopt, *call.input->verdict.refusal, {}};
        outcome.state = current;
        return answer_head(self, outcome);
      }
      if (!call.input->verdict.value.empty() && (*keyset)["response"].is_string())
        response_input = flow_run_input{flow_run_input_id{new_uuid4()},
                                        st.options.time->now(),
                                        st.options.time->now(),
                                        st.run,
                                        (*keyset)["response"].get<std::string>(),
                                        call.input->verdict.value.dump(),
                                        std::nullopt};
    }
    run_state proposal;
    if (detail_flag(*current, "pause_reschedule")) {
      proposal = make_server_state(state_type::scheduled, st.options.time->now(), "Resuming");
    } else {
      proposal.type = state_type::running;
      proposal.name = default_state_name(state_type::running);
    }
    input.request = transition_request{proposal, false};
  }
  input.run = snapshot_of(*st.record);
  input.now = st.options.time->now();
  input.client = call.client;
  if (input.run.deployment_id)
    return decide_in_writer(self, std::move(input), std::move(outcome), std::move(response_input));
  auto result = st.options.policy(input);
  outcome.decision = result.decision;
  if (!result.written && !result.run_changed) {
    outcome.state = st.record->state;
    return answer_head(self, outcome);
  }
  outcome.state = result.written ? result.written : st.record->state;
  outcome.written = result.written.has_value();
  auto changes = changes_of(*st.record, result);
  if (result.decision.kind != decision_kind::accept || !result.written) response_input.reset();
  st.in_flight = pending_write{outcome, st.record->state, result, changes, input.now};
  flow_run_actor_with_internals self_handle{self};
  // Notifications are matched and written in the same transaction as the state (a transactional outbox):
  // no committed state misses its alerts, no rolled-back one sends any.
  std::shared_ptr<const notifications::notification_rules> rules;
  if (st.options.notifications && result.written) rules = st.options.notifications->current();
  std::optional<notification_facts> facts;
  if (rules && rules->settings.enabled && !rules->policies.empty()) facts = facts_of(st, *result.written);
  auto enqueued = std::make_shared<std::vector<persistence::outbox_job>>();
  auto stale = std::make_shared<bool>(false);
  st.options.db.write(
      [run = st.run, result, changes = std::move(changes), now = input.now, rules, facts, enqueued, stale,
       response_input, decided_from = st.record->updated,
       owner = st.options.notification_owner](persistence::sql_connection& c) {
        enqueued->clear();  // a job may run twice (batch retry): only the last run's outputs count
        *stale = !persistence::write_flow_transition_if_current(c, run, decided_from, changes.written, changes.counters,
                                                                changes.empirical_policy, now);
        if (*stale) return;
        // A key already taken fails the job (constraint → conflict): the resume is rolled back, as in Prefect.
        if (response_input) persistence::insert_flow_run_input(c, *response_input);
        if (result.effects.parent_task_state && result.run.parent_task_run_id)
          decide_task_transition(c, result.run.parent_task_run_id->value,
                                 transition_request{*result.effects.parent_task_state, true}, now);
        if (facts) *enqueued = notifications::enqueue_notifications(c, *rules, *facts, now, owner, notification_lease);
      },
      [self_handle, enqueued, stale, dispatcher = st.options.notification_dispatcher](const status& s) {
        if (s && !enqueued->empty() && dispatcher) caf::anon_send(dispatcher, enqueued_atom_v, std::move(*enqueued));
        caf::anon_send(self_handle, committed_atom_v, s, s && *stale);
      });
}

// The edit is written, then the run is read back in the same transaction: after COMMIT the actor's copy is
// exactly what is stored.
void handle_edit(run_actor self, const flow_run_edit& edit) {
  auto& st = self->state;
  if (!st.record) return answer_head(self, edit_outcome{status::ok(), false});
  st.editing = true;
  auto found = std::make_shared<bool>(false);
  auto stored = std::make_shared<std::optional<osprey::flow_run>>();
  st.options.db.write(
      [run = st.run, edit, found, stored, now = st.options.time->now()](persistence::sql_connection& c) {
        switch (edit.what) {
          case flow_run_edit::kind::update: *found = persistence::update_flow_run(c, run, edit.changes, now); break;
          case flow_run_edit::kind::merge_labels:
            *found = persistence::merge_flow_run_labels(c, run, edit.changes, now);
            break;
          case flow_run_edit::kind::remove: *found = persistence::delete_flow_run(c, run); break;
        }
        *stored = persistence::find_flow_run(c, run);
      },
      [self_handle = flow_run_actor_with_internals{self}, found, stored](const status& s) {
        caf::anon_send(self_handle, edited_atom_v, s, *found, std::move(*stored));
      });
}

void handle_head(run_actor self) {
  const auto& head = self->state.queue.front();
  if (const auto* queued = std::get_if<queued_edit>(&head)) return handle_edit(self, queued->edit);
  handle_transition(self, std::get<queued_transition>(head).call);
}

void pump(run_actor self) {
  auto& st = self->state;
  while (st.loaded && !st.in_flight && !st.deciding && !st.editing && !st.queue.empty()) handle_head(self);
}

// Answers everything queued with `why`, unhandled.
void refuse_all(run_actor self, const status& why) {
  auto& st = self->state;
  while (!st.queue.empty()) {
    if (std::holds_alternative<queued_edit>(st.queue.front())) {
      answer_head(self, edit_outcome{why, false});
    } else {
      transition_outcome refused;
      refused.error = why;
      answer_head(self, refused);
    }
  }
}

void on_edited(run_actor self, const status& s, bool found, std::optional<osprey::flow_run> stored) {
  auto& st = self->state;
  st.editing = false;
  if (s) st.record = std::move(stored);  // a failed write changed nothing: keep the copy
  answer_head(self, edit_outcome{s, s && found});
  pump(self);
  if (!st.record) {
    // The run is gone (deleted): everything queued was answered 404 above. Stop, so the registry forgets
    // this actor and a later request loads the run afresh.
    self->quit();
  }
}

// Reads the run (and its flow's name) on a reader thread; the answer comes back as (loaded_atom).
void load_run(run_actor self) {
  auto& st = self->state;
  st.loaded = false;
  flow_run_actor_with_internals self_handle{self};
  st.options.db.read(
      [run = st.run, self_handle](persistence::sql_connection& c) {
        auto record = persistence::find_flow_run(c, run);
        std::string flow_name;
        if (record)
          if (auto f = persistence::find_flow(c, record->flow)) flow_name = f->name;
        caf::anon_send(self_handle, loaded_atom_v, status::ok(), record, flow_name);
      },
      [self_handle](const status& s) {
        if (!s) caf::anon_send(self_handle, loaded_atom_v, s, std::optional<osprey::flow_run>{}, std::string());
      });
}

void on_committed(run_actor self, const status& s, bool stale) {
  auto& st = self->state;
  if (st.deciding) {
    // Decided in the write job: what it decided (a failed job's may be partial; only its error is used).
    st.in_flight = std::move(*st.deciding);
    st.deciding.reset();
  }
  auto pending = std::move(*st.in_flight);
  st.in_flight.reset();
  if (stale) {
    // Another server wrote the run after this actor read it (several servers on one PostgreSQL): the copy is
    // stale, nothing was written and the decision is void. The head request stays queued and is decided again
    // on the fresh copy.
    if (++st.reloads <= max_reloads_per_request) return load_run(self);
    transition_outcome busy;
    busy.error = status(errc::conflict,
                        "The flow run kept changing on other servers while this transition was "
                        "decided; propose it again.");
    busy.state = st.record->state;
    answer_head(self, busy);
    return pump(self);
  }
  if (!s) {
    pending.outcome.error = s;
    pending.outcome.written = false;
    pending.outcome.state = st.record->state;
    answer_head(self, pending.outcome);
    return pump(self);
  }
  // The database now holds the decision: bring the cached run up to date.
  auto& r = *st.record;
  apply_changes(r, pending.changes);
  if (pending.stored_at) r.updated = *pending.stored_at;
  answer_head(self, pending.outcome);
  if (pending.result.written && st.options.event_bus) {
    flow_run_event_info info;
    info.name = r.name;
    info.run_count = static_cast<int>(r.run_count);
    info.flow = r.flow;
    info.flow_name = st.flow_name;
    info.deployment = r.deployment_id;
    info.tags = r.tags;
    // anon_send: the bus is not typed yet, and a typed actor may send() only to typed actors.
    caf::anon_send(st.options.event_bus, publish_atom_v,
                   state_change{st.run, pending.previous, *pending.result.written}, info);
  }
  pump(self);
}

flow_run_actor_with_internals::behavior_type flow_run_behavior(run_actor self, flow_run_id run,
                                                               flow_run_options options) {
  self->state.run = run;
  self->state.options = std::move(options);
  load_run(self);
  const auto idle = self->state.options.idle_timeout;
  return {
      [self](transition_atom, const transition_call& call) {
        auto rp = self->make_response_promise<transition_outcome>();
        self->state.queue.push_back(queued_transition{call, rp});
        pump(self);
        return rp;
      },
      [self](edit_atom, const flow_run_edit& edit) {
        auto rp = self->make_response_promise<edit_outcome>();
        self->state.queue.push_back(queued_edit{edit, rp});
        pump(self);
        return rp;
      },
      [self](loaded_atom, const status& s, const std::optional<osprey::flow_run>& record,
             const std::string& flow_name) {
        auto& st = self->state;
        if (!s) {
          // The failure is not kept: what waits gets it (503 when the database was busy or locked), and the
          // actor stops, so the registry builds a fresh one — with a fresh load — for the next request.
          refuse_all(self, s);
          return self->quit();
        }
        st.flow_name = flow_name;
        st.loaded = true;
        st.record = record;
        pump(self);
      },
      [self](committed_atom, const status& s, bool stale) { on_committed(self, s, stale); },
      [self](edited_atom, const status& s, bool found, const std::optional<osprey::flow_run>& stored) {
        on_edited(self, s, found, stored);
      },
      caf::after(idle) >>
          [self] {
            // Idle: nothing queued and no write in flight. The database holds everything; stop.
            const auto& st = self->state;
            if (st.loaded && st.queue.empty() && !st.in_flight && !st.deciding && !st.editing) self->quit();
          },
  };
}

}  // namespace

flow_run_actor spawn_flow_run(caf::actor_system& system, const flow_run_id& run, const flow_run_options& options) {
  return system.spawn(flow_run_behavior, run, options);  // the registry sees only the public messages
}

}  // namespace osprey::actors

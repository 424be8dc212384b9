#pragma once
// The flow-run protocol: every message the flow-run registry and the flow-run actors take, and what each one
// answers, as typed actor handles — the compiler checks every send, request and handler against them. Who does
// what (ordering, commits, idle stop) is in actors/flow_runs.hpp; spawning is there too.
//
// The shape every actor protocol of Osprey follows (copy it for a new one):
//   1. the message types (plain structs; they stay in-process, so they travel as "unsafe" types),
//   2. their CAF_ALLOW_UNSAFE_MESSAGE_TYPE lines (types shared by several protocols live in actors/messages.hpp),
//   3. the atoms, in the protocol's own type-ID block,
//   4. the handles: caf::typed_actor<...> with one line and one comment per message — meaning and reply;
//      messages an actor sends only to itself extend the public handle in a second, internal one.

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "actors/messages.hpp"
#include "domain/client_version.hpp"
#include "domain/flow_run.hpp"
#include "domain/flow_run_input.hpp"
#include "domain/orchestration.hpp"
#include "domain/state.hpp"
#include "domain/status.hpp"

namespace osprey::actors {

/// The answer to a proposed transition, sent after the decision was committed (or refused). Task-run
/// transitions (actors/task_run_transitions.hpp) answer with it too.
struct transition_outcome {
  status error;                    ///< not ok: nothing was decided (unknown run, database failure)
  transition_decision decision;    ///< what the policy decided
  std::optional<run_state> state;  ///< the run's state after the call (the new one when written)
  bool written = false;            ///< a state row was committed
};

/// A proposed transition and who proposes it (two orchestration rules depend on the client's version).
struct transition_call {
  transition_request request;
  client_info client;
  /// POST /api/flow_runs/{id}/resume: the actor builds the proposal from the current (paused) state —
  /// Running, or Scheduled "Resuming" when the pause asked for a reschedule; `request` is ignored.
  bool resume = false;
  /// resume of a pause that waits for input: the caller's check of run_input against the schema stored under
  /// `keyset` (domain/flow_run_input.hpp). The actor holds it against the pause it finds: a refusal is
  /// answered REJECT; an accepted resume stores `verdict.value` under keyset["response"] in the transition's
  /// own write job (nothing when the value is empty). Absent, or checked against another keyset (the run was
  /// paused again meanwhile): answered with errc::failed_precondition, nothing decided. A taken
  /// response key fails the write: errc::conflict.
  struct checked_input {
    nlohmann::json keyset;
    run_input_verdict verdict;
  };
  std::optional<checked_input> input = std::nullopt;
  /// Set: decide only while the run's current state is this one; otherwise nothing is decided or written and
  /// the answer is an ABORT ("The run's state changed."). For services that act on a state they read earlier.
  std::optional<state_id> only_from{};
};

/// Completion for callers outside the actor system (HTTP handlers); runs on an actor thread.
using transition_callback = std::function<void(const transition_outcome&)>;

/// A change to a flow run's own columns (PATCH, labels, DELETE). The run's actor applies it in order with the
/// run's transitions, so its copy of the run — what transitions write back and what events and alerts name —
/// never goes stale.
struct flow_run_edit {
  enum class kind { update, merge_labels, remove };
  kind what = kind::update;
  /// update: the FlowRunUpdate keys given (see persistence::update_flow_run); merge_labels: the labels to merge.
  nlohmann::json changes = nlohmann::json::object();
};

/// The answer to an edit, sent after its COMMIT.
struct edit_outcome {
  status error;        ///< not ok: nothing changed (database failure, actor unavailable)
  bool found = false;  ///< false: the run does not exist, nothing changed
};

/// Completion of an edit for callers outside the actor system; runs on an actor thread.
using edit_callback = std::function<void(const edit_outcome&)>;

/// A new flow run (id, name and columns set by the caller) and the first state proposed for it; the registry
/// decides the state with the forced policy (MinimalFlowPolicy plus the global transforms), stores both,
/// matches notification policies in the same transaction, then publishes the state_change.
struct flow_run_creation {
  flow_run run;
  run_state initial;
  client_info client;
  /// Set: the run goes to this work pool's queue named run.work_queue_name, else to its default queue
  /// (not_found when either is missing).
  std::optional<std::string> work_pool_name;
};

/// The answer to a creation, sent after its COMMIT.
struct creation_outcome {
  status error;          ///< not ok: nothing was written (not_found: no such flow; conflict: state refused)
  flow_run stored;       ///< the run as stored (the existing one when `created` is false)
  bool created = false;  ///< false: a run with the same flow and idempotency key existed and is returned
};

/// Completion of a creation for callers outside the actor system; runs once, on a database or actor thread.
using creation_callback = std::function<void(const creation_outcome&)>;

}  // namespace osprey::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::flow_run_creation)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::creation_callback)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::transition_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::transition_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::transition_callback)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::flow_run_edit)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::edit_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::edit_callback)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::optional<osprey::flow_run>)

// Type IDs: actors/messages.hpp's block starts at caf::first_custom_type_id; each protocol header takes the
// next hundred (this one +100, the next +200, ...), so blocks never overlap once CAF assigns ids to atoms.
// Atoms several actors use (committed_atom here) are defined once, in actors/messages.hpp.
CAF_BEGIN_TYPE_ID_BLOCK(osprey_flow_runs, caf::first_custom_type_id + 100)
CAF_ADD_ATOM(osprey_flow_runs, osprey::actors, transition_atom, "transit")
CAF_ADD_ATOM(osprey_flow_runs, osprey::actors, edit_atom, "edit")
CAF_ADD_ATOM(osprey_flow_runs, osprey::actors, count_atom, "count")
CAF_ADD_ATOM(osprey_flow_runs, osprey::actors, loaded_atom, "loaded")
CAF_ADD_ATOM(osprey_flow_runs, osprey::actors, edited_atom, "edited")
CAF_ADD_ATOM(osprey_flow_runs, osprey::actors, create_atom, "create")
CAF_END_TYPE_ID_BLOCK(osprey_flow_runs)

namespace osprey::actors {

/// The registry (spawn_flow_run_registry): routes each request to its run's actor, spawning it on demand.
using flow_run_registry_actor = caf::typed_actor<
    /// Proposes a transition of the run; answered after the decision is committed, or with outcome.error
    /// (not_found for an unknown run, unavailable/busy when the database or the run's actor failed).
    caf::replies_to<transition_atom, flow_run_id, transition_call>::with<transition_outcome>,
    /// The same for callers outside the actor system: no reply; the callback runs once, on an actor thread.
    caf::reacts_to<transition_atom, flow_run_id, transition_call, transition_callback>,
    /// Edits the run's own columns; answered after the COMMIT (found = false: no such run, nothing changed).
    caf::replies_to<edit_atom, flow_run_id, flow_run_edit>::with<edit_outcome>,
    /// The same for callers outside the actor system: no reply; the callback runs once, on an actor thread.
    caf::reacts_to<edit_atom, flow_run_id, flow_run_edit, edit_callback>,
    /// Creates a run with its first state (idempotent by flow and idempotency key); the callback runs once,
    /// after the COMMIT. The run has no actor until its first transition or edit.
    caf::reacts_to<create_atom, flow_run_creation, creation_callback>,
    /// How many flow-run actors are alive (tests and diagnostics).
    caf::replies_to<count_atom>::with<std::size_t>>;

/// One flow run's actor, as the registry sees it. Requests queue and are handled one at a time.
using flow_run_actor = caf::typed_actor<
    /// Decides and commits one transition of this run; the reply is sent after the COMMIT.
    caf::replies_to<transition_atom, transition_call>::with<transition_outcome>,
    /// Writes one edit of this run's columns, then re-reads the run; the reply is sent after the COMMIT.
    caf::replies_to<edit_atom, flow_run_edit>::with<edit_outcome>>;

/// The flow-run actor's own handle: the public messages plus the completions it sends itself from database
/// threads. Nothing outside actors/flow_run_actor.cpp holds one.
using flow_run_actor_with_internals = flow_run_actor::extend<
    /// The run as loaded at start (nullopt: no such run) and its flow's name, or why the load failed.
    caf::reacts_to<loaded_atom, status, std::optional<flow_run>, std::string>,
    /// The in-flight transition's write job finished: ok = committed; true when it was refused because the run
    /// changed in the database since it was loaded (another server wrote it): reload and decide again.
    caf::reacts_to<committed_atom, status, bool>,
    /// The in-flight edit's write job finished: ok = committed; whether the run existed; the run as stored.
    caf::reacts_to<edited_atom, status, bool, std::optional<flow_run>>>;

}  // namespace osprey::actors

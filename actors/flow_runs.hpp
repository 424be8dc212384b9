#pragma once
// Flow-run actors: one actor per active flow run serialises every write of that run — its transitions and
// the edits of its own columns (PATCH, labels, DELETE) — so the copy of the run it keeps is never stale. A
// registry spawns them on demand and routes each request to the run's actor; an actor idle for `idle_timeout`
// stops, and the next request rebuilds it from the database (the source of truth). An actor whose load failed
// answers what it holds with that error and stops, so the next request tries a fresh load; an actor whose run
// was deleted answers what it holds with 404 and stops.
//
// A transition is answered only after its state row is committed (group commit), then published as a
// state_change on the event bus. An edit is answered after its COMMIT. A run with a deployment is decided inside
// its write job: its deployment's concurrency slot is taken, the policy decides, the state is written and unused
// or freed slots are given back in one transaction, so two runs can never take the same last slot.

#include <caf/fwd.hpp>

#include <chrono>
#include <functional>
#include <vector>

#include "actors/event_bus_protocol.hpp"
#include "actors/flow_run_protocol.hpp"
#include "actors/notification_protocol.hpp"
#include "notifications/rules.hpp"
#include "domain/flow_policy.hpp"
#include "persistence/database.hpp"
#include "persistence/deployment_slots.hpp"

namespace osprey::actors {

struct flow_run_options {
  persistence::database db;
  event_bus_actor event_bus;  ///< actors/event_bus.hpp; each committed state change is published there
  transition_policy policy = orchestrate_flow_transition;  ///< Prefect's CoreFlowPolicy / MinimalFlowPolicy
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};
  const clock* time = &system_clock::instance();
  /// Notification policies matched inside each transition's transaction (none: no notifications), and the
  /// dispatcher that receives the outbox jobs once committed, leased to `notification_owner`.
  std::shared_ptr<notifications::policy_book> notifications{};
  notification_dispatcher_actor notification_dispatcher{};
  std::string notification_owner = "osprey";
  /// Deployment concurrency: lease durations, the enqueue wait and the Retry-After caps (Prefect's defaults).
  persistence::deployment_slot_settings deployment_slots{};
};

/// Spawns the registry; its messages and replies are flow_run_registry_actor's (actors/flow_run_protocol.hpp).
flow_run_registry_actor spawn_flow_run_registry(caf::actor_system& system, flow_run_options options);

/// Sends a transition from outside the actor system; `done` runs once on an actor thread.
void propose_transition(const flow_run_registry_actor& registry, const flow_run_id& run, transition_call call,
                        transition_callback done);

/// Sends an edit of the run's columns from outside the actor system; `done` runs once on an actor thread.
void edit_flow_run(const flow_run_registry_actor& registry, const flow_run_id& run, flow_run_edit edit,
                   edit_callback done);

/// What remove_flow_runs did: the runs deleted (in the order given), and the first failure, if any (the
/// runs named in neither were already gone).
struct removal_outcome {
  std::vector<flow_run_id> deleted;
  status error;
};
/// Deletes each run through its actor, all at once (one edit each, batched by group commit); `done` runs once,
/// on an actor thread, after every edit was answered. Bulk deletes go this way so that no warm actor keeps a
/// copy of a run that is gone.
void remove_flow_runs(const flow_run_registry_actor& registry, std::vector<flow_run_id> runs,
                      std::function<void(removal_outcome)> done);
/// One transition per run, all at once; `done` runs once with the outcomes in the order of `runs`.
void propose_transitions(const flow_run_registry_actor& registry, std::vector<flow_run_id> runs, transition_call call,
                         std::function<void(std::vector<transition_outcome>)> done);
/// Sends a creation from outside the actor system; `done` runs once, after the COMMIT (or the refusal).
void create_flow_run(const flow_run_registry_actor& registry, flow_run_creation creation, creation_callback done);

/// What a resume checks inside its database job before it proposes (POST /api/flow_runs/{id}/resume, the
/// resume-flow-run action): for a Paused run whose pause waits for input, `run_input` checked against the
/// schema the pause stored, workspace variables hydrated; nullopt when the run is not paused for input.
std::optional<transition_call::checked_input> check_resume_input(persistence::sql_connection& c, const flow_run_id& run,
                                                                 const nlohmann::json& run_input);

/// What the registry runs for (create_atom, ...): decides the first state, writes the run, its state and the
/// notification jobs in one write job, then publishes the state_change and hands the jobs to the dispatcher.
void create_flow_run_now(const flow_run_options& options, flow_run_creation creation, creation_callback done);

}  // namespace osprey::actors

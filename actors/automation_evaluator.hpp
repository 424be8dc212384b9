#pragma once
// Trigger evaluation of automations (Prefect 3.9.1's triggers service), fed by the event bus.
//
// The evaluator subscribes to the bus and, for every event an enabled automation's event trigger covers,
// queues one write job: read the bucket, evaluate (domain/automation_evaluation.hpp), store the bucket and, when
// the trigger fires, insert the firing's action jobs into the notification outbox (kind "action") in the same
// transaction. So a firing is committed with its actions or not at all: killed after the commit, the dispatcher
// finds the actions in the outbox after the restart; killed before it, nothing fired. Jobs reach the writer in
// the bus's order, and the writer runs them one after another, so buckets see events in order without a lock.
// After the commit the prefect.automation.triggered events are published and the jobs handed to the dispatcher.
//
// Which automations: all enabled ones, loaded in the first job and again in the first job after a
// prefect.automation.created|updated|deleted event passed through the bus (the API publishes those after its
// commit, on this server or, through the bus's peers, on another one sharing the PostgreSQL database).
//
// Several servers: only the holder of the services lease evaluates (the bus delivers every server's events to
// it); the others ignore events. Should two servers evaluate the same event during a lease handover, a firing's
// id is made from what fired (domain/automation_firing.hpp), so the outbox's unique key keeps its actions once.
//
// After a crash: an event is stored by the bus before the evaluator sees it, so a crash can leave events stored
// but never evaluated. Every evaluation marks its event (automation_evaluated_event, same transaction: an event
// is evaluated once), and the proactive pass records the received time through which every event was handled.
// At start (and when the lease is gained) the evaluator first reads back the events received since then, less
// a minute, and evaluates those no mark names, before any event from the bus.
//
// Proactive triggers are evaluated by a periodic pass (every `proactive_interval`, on the lease holder).
//
// Compound and sequence triggers: their event triggers are evaluated like any other; a child's firing is kept
// for its parent (in the same transaction) instead of acting, and the parent fires once the kept firings
// satisfy it (domain composite_ready), forgetting them — acting, or passing its firing to its own parent.

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/event_bus.hpp"
#include "actors/notification_protocol.hpp"
#include "actors/service_leadership.hpp"
#include "domain/automation.hpp"
#include "domain/automation_evaluation.hpp"
#include "persistence/database.hpp"
#include "persistence/notification_store.hpp"

namespace osprey::actors {

/// An event trigger of an enabled automation, with its rules read once: the automation's own trigger, or a
/// child of its compound or sequence trigger (then `parents` holds the composites above it, innermost first).
struct armed_trigger {
  automation owner;
  event_trigger_rules rules;
  std::vector<composite_trigger_rules> parents{};
};
/// The automations' event triggers, those inside compound and sequence triggers included.
std::vector<armed_trigger> arm_triggers(const std::vector<automation>& automations);

/// What one evaluation wrote: the action jobs inserted (new ones only) and the events to publish.
struct automation_evaluation {
  std::vector<persistence::outbox_job> jobs;
  std::vector<event> events;
};

/// Evaluates `e` against every trigger covering it, inside the caller's transaction (see the header). Jobs are
/// leased to `lease_owner` when it is not empty (the caller hands them to its dispatcher after the commit).
automation_evaluation evaluate_event(persistence::sql_connection& conn, const std::vector<armed_trigger>& triggers,
                                     const event& e, timestamp now, const std::string& lease_owner);
/// After a crash (or a lease handover): evaluates the events received since the recorded progress (less a
/// margin) that no evaluation marked, in received order. On a database without progress it records `now`.
automation_evaluation replay_unevaluated_events(persistence::sql_connection& conn,
                                                const std::vector<armed_trigger>& triggers, timestamp now,
                                                const std::string& lease_owner);
/// Evaluates the proactive triggers' buckets at `now` (opening the first one of a trigger without for_each).
automation_evaluation evaluate_proactive(persistence::sql_connection& conn, const std::vector<armed_trigger>& triggers,
                                         timestamp now, const std::string& lease_owner);

struct automation_evaluator_options {
  persistence::database db;
  event_bus_actor bus;
  std::optional<notification_dispatcher_actor> dispatcher{};  ///< gets the committed jobs at once
  std::string owner{};  ///< the dispatcher's lease owner ("" leaves jobs to its sweep)
  const clock* time = &system_clock::instance();
  std::shared_ptr<const service_leadership> leadership{};  ///< none: this server always evaluates
  std::chrono::milliseconds proactive_interval{5000};
};

/// Spawns the evaluator (subscribed to the bus at once) and its proactive pass. Stop both with exit messages.
struct automation_evaluator_actors {
  caf::actor evaluator;
  caf::actor proactive;
};
automation_evaluator_actors spawn_automation_evaluator(caf::actor_system& system, automation_evaluator_options options);

}  // namespace osprey::actors

// The evaluator takes the bus's shared events as they are (one process, never serialised).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::shared_event)

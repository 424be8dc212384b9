// Creating a flow run with its first state (actors/flow_runs.hpp create_flow_run_now). One write job stores
// the run, its state, the subflow's parent task-run state and the notification jobs its state triggers; after
// the COMMIT the state_change is published and the jobs go to the dispatcher, as for any transition.
#include <memory>

#include "actors/event_bus.hpp"
#include "actors/flow_runs.hpp"
#include "actors/notification_dispatcher.hpp"
#include "actors/task_run_transitions.hpp"
#include "domain/run_bookkeeping.hpp"
#include "notifications/rules.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/deployment_store.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/work_pool_store.hpp"

namespace osprey::actors {
namespace {

constexpr std::chrono::seconds notification_lease{300};

struct created_run {
  persistence::flow_run_created created;
  std::string flow_name;
  std::string deployment_name;
  std::vector<persistence::outbox_job> enqueued;
};

/// The queue a run created with `work_pool_name` goes to (Prefect's WorkerLookups): the named queue of the pool,
/// else the pool's default queue; not_found names what is missing.
result<work_queue> resolve_queue(persistence::sql_connection& c, const std::string& pool,
                                 const std::optional<std::string>& queue) {
  if (queue) {
    if (auto q = persistence::find_queue_by_name(c, pool, *queue)) return std::move(*q);
    return status(errc::not_found, "Work pool queue '" + pool + "/" + *queue + "' not found.");
  }
  const auto missing = status(errc::not_found, "Work pool \"" + pool + "\" not found.");
  auto p = persistence::find_pool_by_name(c, pool);
  if (!p) return missing;
  if (auto q = p->default_queue ? persistence::find_queue(c, *p->default_queue) : std::nullopt) return std::move(*q);
  return missing;
}

}  // namespace

void create_flow_run_now(const flow_run_options& options, flow_run_creation creation, creation_callback done) {
  auto run = std::move(creation.run);
  const auto now = options.time->now();
  flow_transition_input input;
  input.request = transition_request{creation.initial, true};
  input.run = snapshot_of(run);
  input.now = now;
  input.client = creation.client;
  auto decided = orchestrate_flow_transition(input);
  if (!decided.written) {
    creation_outcome refused;
    refused.error = status(errc::conflict, "The initial state was refused: " + decided.decision.reason);
    return done(refused);
  }
  const auto initial = *decided.written;
  auto changes = changes_of(run, decided);
  apply_changes(run, changes);
  std::shared_ptr<const notifications::notification_rules> rules;
  if (options.notifications) rules = options.notifications->current();
  if (rules && (!rules->settings.enabled || rules->policies.empty())) rules.reset();
  persistence::write_value(
      options.db,
      [run, initial, pool = std::move(creation.work_pool_name), counters = changes.counters,
       parent_task_state = decided.effects.parent_task_state, now, rules,
       owner = options.notification_owner](persistence::sql_connection& c) -> result<created_run> {
        // The flow must exist: a clear 404 beats a foreign-key conflict.
        auto f = persistence::find_flow(c, run.flow);
        if (!f) return status(errc::not_found, "Flow with id " + run.flow.to_string() + " not found");
        created_run out;
        out.flow_name = f->name;
        auto placed = run;
        if (pool) {
          auto queue = resolve_queue(c, *pool, run.work_queue_name);
          if (!queue) return queue.error();
          placed.work_queue_id = queue->id.value;
          placed.work_queue_name = queue->name;
        }
        out.created = persistence::create_flow_run(c, placed, initial, counters);
        if (!out.created.created) return out;
        // UpdateSubflowParentTask applies to a subflow's first state too (Prefect's create_flow_run sets it
        // through set_flow_run_state): copy it onto the parent's tracking task run.
        if (parent_task_state && run.parent_task_run_id)
          decide_task_transition(c, *run.parent_task_run_id, transition_request{*parent_task_state, true}, now);
        if (run.deployment_id)
          out.deployment_name = persistence::find_deployment_name(c, *run.deployment_id).value_or("");
        if (rules) {
          notification_facts facts;
          facts.run = run.id;
          facts.run_name = run.name;
          facts.flow = run.flow;
          facts.flow_name = f->name;
          facts.tags = run.tags;
          facts.deployment_id = run.deployment_id;
          facts.deployment_name = out.deployment_name;
          facts.parameters = run.parameters;
          facts.state = initial;
          out.enqueued = notifications::enqueue_notifications(c, *rules, facts, now, owner, notification_lease);
        }
        return out;
      },
      [done = std::move(done), bus = options.event_bus,
       dispatcher = options.notification_dispatcher](result<created_run> out) {
        creation_outcome outcome;
        if (!out) {
          outcome.error = out.error();
          return done(outcome);
        }
        const auto& stored = out->created.stored;
        if (out->created.created && stored.state && bus) {
          flow_run_event_info info{stored.name,          static_cast<int>(stored.run_count),
                                   stored.flow,          out->flow_name,
                                   stored.deployment_id, out->deployment_name,
                                   stored.tags};
          caf::anon_send(bus, publish_atom_v, state_change{stored.id, std::nullopt, *stored.state}, info);
        }
        if (!out->enqueued.empty() && dispatcher) caf::anon_send(dispatcher, enqueued_atom_v, std::move(out->enqueued));
        outcome.stored = stored;
        outcome.created = out->created.created;
        done(outcome);
      });
}

}  // namespace osprey::actors

#pragma once
// Internal to actors/: the automation action runner's state and the contract between its files.
// automation_actions.cpp receives each job, runs do-nothing, send-notification and call-webhook, and reports;
// automation_commands.cpp runs the actions on Osprey's own objects (flow runs, deployments, work pools,
// work queues, automations).
//
// Every action ends in exactly one report(): done (action.triggered + action.executed), given up
// (action.triggered + action.failed) or to be retried by the outbox (no event yet). Work done on other
// threads (database jobs, flow-run actors, the transport) comes back through finish(), which sends the
// outcome to the runner, so report() always runs on the runner.

#include <caf/actor.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "actors/automation_actions.hpp"
#include "domain/event.hpp"

namespace osprey::actors::action_runner {

/// How one job ended, and what its action.executed/failed event carries besides Prefect's basics.
struct action_outcome {
  notifiers::verdict verdict = notifiers::verdict::dead;
  std::string reason;
  std::optional<std::chrono::seconds> retry_after;
  std::vector<resource_labels> related;               ///< Prefect's resulting related resources (the target, ...)
  nlohmann::json details = nlohmann::json::object();  ///< Prefect's result details (status_code, ...)

  static action_outcome done(std::vector<resource_labels> related = {},
                             nlohmann::json details = nlohmann::json::object());
  static action_outcome failed(std::string reason, std::vector<resource_labels> related = {},
                               nlohmann::json details = nlohmann::json::object());
};

struct runner_state {
  automation_action_options options;
  delivery_listener_actor listener;
  static inline const char* name = "osprey.automation_actions";
};
using runner = caf::stateful_actor<runner_state>*;

/// Emits the action's events (unless it will be retried) and hands the verdict to the dispatcher.
void report(runner self, persistence::outbox_job job, const action_outcome& outcome);

/// From any thread: sends `outcome` to the runner `self`, which reports it.
void finish(const caf::actor& self, persistence::outbox_job job, const action_outcome& outcome);

/// A related resource {"prefect.resource.id": <kind>.<id>, "prefect.resource.role": role} (and its name).
resource_labels related_resource(const std::string& kind, const uuid& id, const std::string& role,
                                 const std::string& name = {});

// automation_commands.cpp: each takes a job whose action type it runs and ends in report() or finish().

/// change-flow-run-state, cancel-flow-run, suspend-flow-run, resume-flow-run, delete-flow-run.
void run_flow_run_action(runner self, persistence::outbox_job job);
/// run-deployment, pause-deployment, resume-deployment.
void run_deployment_action(runner self, persistence::outbox_job job);
/// pause-work-pool, resume-work-pool, pause-work-queue, resume-work-queue.
void run_work_pool_action(runner self, persistence::outbox_job job);
/// pause-automation, resume-automation.
void run_automation_action(runner self, persistence::outbox_job job);

}  // namespace osprey::actors::action_runner

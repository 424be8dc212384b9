#pragma once
// Runs automation actions: the outbox jobs of kind "action" that actors/automation_evaluator writes with each
// firing. The notification dispatcher routes them here as it routes notifications to notifier actors, and
// records the verdict this actor reports the same way (delivered, retry with backoff, dead after retry.max_age),
// so actions get the outbox's durability, retries and at-least-once delivery.
//
// After an action ends (done, or given up) the actor emits Prefect's prefect.automation.action.triggered and
// prefect.automation.action.executed | failed events; an attempt that will be retried emits nothing yet.
//
// Actions run: do-nothing; send-notification to a Slack, Microsoft Teams, PagerDuty, Opsgenie, Twilio or SendGrid
// block (Prefect's slack-webhook, ms-teams-webhook, pager-duty-webhook, opsgenie-webhook, twilio-sms,
// sendgrid-email), delivered by
// the same notifiers as Osprey's channels, subject and body rendered by domain/template_render; call-webhook
// (a Webhook block: its method, URL and headers, the rendered payload as the body); change-flow-run-state,
// cancel-flow-run, suspend-flow-run, resume-flow-run and delete-flow-run through the run's actor, like the
// API's; run-deployment (parameters rendered, idempotent per job, so a retried action never starts a second
// run); pause/resume of a deployment, work pool, work queue or automation. Targets are selected or inferred
// from the triggering event as Prefect infers them (domain/automation_targets). Any other block, and any
// other action type, fails with a reason that says so.

#include <caf/fwd.hpp>

#include <memory>
#include <mutex>

#include "actors/event_bus.hpp"
#include "actors/flow_run_protocol.hpp"
#include "actors/notification_protocol.hpp"
#include "notifiers/transport.hpp"
#include "persistence/database.hpp"
#include "persistence/secret_box.hpp"

namespace osprey::actors {

/// Actors the runner acts through that the server spawns after it (the flow-run registry needs the
/// dispatcher, and the dispatcher spawns the runner): set once at start, read when an action needs them. An
/// action that finds none yet is retried by the outbox.
class action_peers {
 public:
  void set_flow_runs(flow_run_registry_actor registry);
  [[nodiscard]] flow_run_registry_actor flow_runs() const;

 private:
  mutable std::mutex mutex_;
  flow_run_registry_actor flow_runs_;
};

struct automation_action_options {
  persistence::database db;
  std::shared_ptr<const persistence::secret_box> block_secrets;  ///< opens the notification blocks' secrets
  notifiers::transport transport;
  event_bus_actor bus;
  const clock* time = &system_clock::instance();
  /// Whether notification blocks may send to loopback, link-local and private addresses (Prefect does not
  /// restrict them; Osprey's channels refuse them unless allowed, and so do blocks by default).
  bool allow_private_network = false;
  std::shared_ptr<action_peers> peers = std::make_shared<action_peers>();
};

/// The action runner; it reports each job's verdict to `listener` (the dispatcher) as (sent_atom, result).
notifier_actor spawn_automation_action_runner(caf::actor_system& system, automation_action_options options,
                                              delivery_listener_actor listener);

}  // namespace osprey::actors

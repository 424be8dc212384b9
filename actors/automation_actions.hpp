#pragma once
// Runs automation actions: the outbox jobs of kind "action" that actors/automation_evaluator writes with each
// firing. The notification dispatcher routes them here as it routes notifications to notifier actors, and
// records the verdict this actor reports the same way (delivered, retry with backoff, dead after retry.max_age),
// so actions get the outbox's durability, retries and at-least-once delivery.
//
// After an action ends (done, or given up) the actor emits Prefect's prefect.automation.action.triggered and
// prefect.automation.action.executed | failed events; an attempt that will be retried emits nothing yet.
//
// Actions run today: do-nothing; send-notification to a Slack, Microsoft Teams, PagerDuty, Opsgenie or Twilio
// block (Prefect's slack-webhook, ms-teams-webhook, pager-duty-webhook, opsgenie-webhook, twilio-sms),
// delivered by the same notifiers as Osprey's channels, subject and body rendered by domain/template_render;
// pause-automation and resume-automation. Any other action type fails with a reason that says so.

#include <caf/fwd.hpp>

#include <memory>

#include "actors/event_bus.hpp"
#include "actors/notification_protocol.hpp"
#include "notifiers/transport.hpp"
#include "persistence/database.hpp"
#include "persistence/secret_box.hpp"

namespace osprey::actors {

struct automation_action_options {
  persistence::database db;
  std::shared_ptr<const persistence::secret_box> block_secrets;  ///< opens the notification blocks' secrets
  notifiers::transport transport;
  event_bus_actor bus;
  const clock* time = &system_clock::instance();
  /// Whether notification blocks may send to loopback, link-local and private addresses (Prefect does not
  /// restrict them; Osprey's channels refuse them unless allowed, and so do blocks by default).
  bool allow_private_network = false;
};

/// The action runner; it reports each job's verdict to `listener` (the dispatcher) as (sent_atom, result).
notifier_actor spawn_automation_action_runner(caf::actor_system& system, automation_action_options options,
                                              delivery_listener_actor listener);

}  // namespace osprey::actors

#pragma once
// What a trigger firing produces (Prefect 3.9.1: triggers.py `act`, EventTrigger.create_automation_state_change_event,
// actions.py TriggeredAction): the prefect.automation.triggered event and one triggered action per action of the
// automation, each kept as the JSON an outbox job of kind "action" carries. Pure.
//
// A firing's id is derived from what fired (automation, trigger, bucket key and window, triggering event), not
// drawn at random: the outbox's unique key then makes writing the same firing twice (another server evaluating
// the same event, a replay) write its actions once.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "domain/automation.hpp"
#include "domain/automation_evaluation.hpp"

namespace osprey {

/// The firing's stable id (a UUID made from a SHA-256 of what fired).
uuid firing_id(const automation_id& automation, const std::vector<std::string>& bucket_key, const trigger_firing& f);

/// prefect.automation.triggered: resource prefect.automation.<id> with its name and (an event trigger's) posture,
/// the triggering event as related resource, payload {triggering_labels, triggering_event}. A compound or
/// sequence trigger's event has no posture.
event automation_triggered_event(const automation& a, std::optional<trigger_posture> posture, const trigger_firing& f,
                                 uuid event_id, timestamp triggered);

/// One action to run, as stored in the outbox job's payload.
struct triggered_action {
  std::size_t index = 0;   ///< across actions, then actions_on_trigger (Prefect's action_index)
  nlohmann::json payload;  ///< {automation, action, action_index, triggered, triggering_labels,
                           ///<  triggering_event, automation_triggered_event_id, firing_id}
};

/// The automation's actions for a firing, in Prefect's order: `actions` with the triggering event, then
/// `actions_on_trigger` with the automation.triggered event as theirs.
std::vector<triggered_action> triggered_actions(const automation& a, const trigger_firing& f, const uuid& firing,
                                                timestamp triggered, const event& triggered_event);

}  // namespace osprey

// Trigger firings into events and action payloads (see the header).
#include "domain/automation_firing.hpp"

namespace osprey {
namespace {

using nlohmann::json;

std::string posture_name(trigger_posture p) { return p == trigger_posture::proactive ? "Proactive" : "Reactive"; }

}  // namespace

uuid firing_id(const automation_id& automation, const std::vector<std::string>& bucket_key, const trigger_firing& f) {
  const json what = {automation.to_string(), f.trigger.to_string(), bucket_key, format_iso8601(f.window_start),
                     f.triggering_event ? f.triggering_event->id.to_string() : std::string()};
  return name_based_uuid(what.dump());
}

event automation_triggered_event(const automation& a, std::optional<trigger_posture> posture, const trigger_firing& f,
                                 uuid event_id, timestamp triggered) {
  event e;
  e.id = event_id;
  e.occurred = triggered;
  e.name = "prefect.automation.triggered";
  e.resource = {{"prefect.resource.id", "prefect.automation." + a.id.to_string()}, {"prefect.resource.name", a.name}};
  if (posture) e.resource["prefect.posture"] = posture_name(*posture);
  if (f.triggering_event)
    e.related.push_back({{"prefect.resource.id", "prefect.event." + f.triggering_event->id.to_string()},
                         {"prefect.resource.role", "triggering-event"}});
  e.payload = {{"triggering_labels", f.triggering_labels},
               {"triggering_event", f.triggering_event ? to_json(*f.triggering_event) : json(nullptr)}};
  return e;
}

std::vector<triggered_action> triggered_actions(const automation& a, const trigger_firing& f, const uuid& firing,
                                                timestamp triggered, const event& triggered_event) {
  std::vector<triggered_action> out;
  const json automation_doc = automation_json(a);
  const auto add = [&](const json& action, const json& triggering_event) {
    triggered_action t;
    t.index = out.size();
    t.payload = {{"automation", automation_doc},
                 {"action", action},
                 {"action_index", t.index},
                 {"triggered", format_iso8601(triggered)},
                 {"triggering_labels", f.triggering_labels},
                 {"triggering_event", triggering_event},
                 {"automation_triggered_event_id", triggered_event.id.to_string()},
                 {"firing_id", firing.to_string()}};
    out.push_back(std::move(t));
  };
  const json triggering = f.triggering_event ? to_json(*f.triggering_event) : json(nullptr);
  for (const auto& action : a.actions) add(action, triggering);
  for (const auto& action : a.actions_on_trigger) add(action, to_json(triggered_event));
  return out;
}

}  // namespace osprey

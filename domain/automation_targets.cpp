// Targets and inputs of automation actions (see the header).
#include "domain/automation_targets.hpp"

#include <cctype>
#include <vector>

#include "domain/template_render.hpp"

namespace osprey::automation_targets {
namespace {

using nlohmann::json;

status action_failed(std::string reason) { return status(errc::failed_precondition, std::move(reason)); }

/// Prefect's _id_from_resource_id: "prefect.<kind>.<uuid>" → the uuid, when the kind is `kind`.
std::optional<uuid> id_of_kind(const json& resource_id, const std::string& kind) {
  if (!resource_id.is_string()) return std::nullopt;
  const auto& id = resource_id.get_ref<const std::string&>();
  const auto dot = id.rfind('.');
  if (dot == std::string::npos || id.compare(0, dot, kind) != 0 || dot != kind.size()) return std::nullopt;
  return uuid::parse(id.substr(dot + 1));
}

/// Prefect's _id_of_first_resource_of_kind over event.involved_resources (resource, then related): the first
/// resource of the kind decides, even when its id is not a UUID (then nothing is inferred).
std::optional<uuid> first_of_kind(const json& event, const std::string& kind) {
  const json resource_of_event = event.value("resource", json::object());
  std::vector<const json*> involved{&resource_of_event};
  if (auto related = event.find("related"); related != event.end() && related->is_array())
    for (const auto& r : *related) involved.push_back(&r);
  for (const json* resource : involved) {
    if (!resource->is_object()) continue;
    const auto id = resource->find("prefect.resource.id");
    if (id == resource->end() || !id->is_string()) continue;
    const auto& text = id->get_ref<const std::string&>();
    const auto dot = text.rfind('.');
    if (dot != std::string::npos && text.compare(0, dot, kind) == 0 && dot == kind.size()) return id_of_kind(*id, kind);
  }
  return std::nullopt;
}

struct kind_names {
  const char* field;     ///< the action's id field
  const char* resource;  ///< the resource kind
  const char* words;     ///< as Prefect's messages name it
};

kind_names names_of(target_kind kind) {
  switch (kind) {
    case target_kind::deployment: return {"deployment_id", "prefect.deployment", "deployment"};
    case target_kind::work_pool: return {"work_pool_id", "prefect.work-pool", "work pool"};
    case target_kind::work_queue: return {"work_queue_id", "prefect.work-queue", "work queue"};
  }
  return {"", "", ""};
}

std::string automation_id_of(const json& payload) {
  return payload.value("automation", json::object()).value("id", "");
}

json wrap_v1_template(const std::string& text) {
  // A lone expression keeps its value's type: rendered as JSON, then parsed back.
  std::string_view s = text;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  const bool lone = s.size() >= 4 && s.substr(0, 2) == "{{" && s.substr(s.size() - 2) == "}}" &&
                    s.find("{{", 2) == std::string_view::npos;
  if (!lone) return {{"__prefect_kind", "jinja"}, {"template", text}};
  std::string_view inner = s.substr(2, s.size() - 4);
  while (!inner.empty() && std::isspace(static_cast<unsigned char>(inner.front()))) inner.remove_prefix(1);
  while (!inner.empty() && std::isspace(static_cast<unsigned char>(inner.back()))) inner.remove_suffix(1);
  return {{"__prefect_kind", "json"},
          {"value", {{"__prefect_kind", "jinja"}, {"template", "{{ " + std::string(inner) + " | tojson }}"}}}};
}

bool maybe_template(const json& v) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return s.find("{{") != std::string::npos || s.find("{%") != std::string::npos;
}

void upgrade_in_place(json& parameters) {
  for (auto& [key, value] : parameters.items()) {
    if (value.is_object()) {
      if (!value.contains("__prefect_kind")) upgrade_in_place(value);
    } else if (value.is_array()) {
      for (auto& item : value) {
        if (item.is_object())
          upgrade_in_place(item);
        else if (maybe_template(item))
          item = wrap_v1_template(item.get<std::string>());
      }
    } else if (maybe_template(value)) {
      value = wrap_v1_template(value.get<std::string>());
    }
  }
}

}  // namespace

result<uuid> target_id(const json& payload, target_kind kind) {
  const auto names = names_of(kind);
  const auto& action = payload.value("action", json::object());
  if (action.value("source", "selected") == "selected") {
    if (auto id = uuid::parse(action.value(names.field, ""))) return *id;
    return action_failed(std::string(names.field) + " is required");
  }
  const auto& event = payload.value("triggering_event", json(nullptr));
  if (!event.is_object()) return action_failed(std::string("No event to infer the ") + names.words);
  if (auto id = first_of_kind(event, names.resource)) return *id;
  return action_failed(std::string("No ") + names.words + " could be inferred");
}

result<uuid> flow_run_target(const json& payload) {
  const auto& labels = payload.value("triggering_labels", json::object());
  if (labels.is_object())
    if (auto it = labels.find("prefect.resource.id"); it != labels.end())
      if (auto id = id_of_kind(*it, "prefect.flow-run")) return *id;
  const auto& event = payload.value("triggering_event", json(nullptr));
  if (event.is_object())
    if (auto id = first_of_kind(event, "prefect.flow-run")) return *id;
  return action_failed("No flow run could be inferred");
}

transition_request flow_run_proposal(const json& payload, timestamp now) {
  const auto& action = payload.value("action", json::object());
  const std::string type = action.value("type", "");
  const std::string automation = automation_id_of(payload);
  transition_request r;
  if (type == "cancel-flow-run") {
    r.proposed = make_server_state(state_type::cancelling, now);
    r.proposed.message = "Cancelled by Automation " + automation;
  } else if (type == "suspend-flow-run") {
    // Prefect's Suspended(timeout_seconds=3600): a Paused state that reschedules when resumed.
    r.proposed = make_server_state(state_type::paused, now, "Suspended");
    r.proposed.message = "Suspended by Automation " + automation;
    r.proposed.details["pause_timeout"] = format_iso8601(now + std::chrono::hours(1));
    r.proposed.details["pause_reschedule"] = true;
    r.proposed.details["pause_key"] = nullptr;
  } else {
    const auto type_of = parse_state_type(action.value("state", "COMPLETED"));
    const auto name = action.value("name", json(nullptr));
    r.proposed = make_server_state(type_of.value_or(state_type::completed), now,
                                   name.is_string() ? name.get<std::string>() : std::string());
    const auto message = action.value("message", json(nullptr));
    r.proposed.message = message.is_string() && !message.get_ref<const std::string&>().empty()
                             ? message.get<std::string>()
                             : "State changed by Automation " + automation;
    r.force = action.value("force", false);
  }
  return r;
}

std::string idempotency_key(const json& payload, const uuid& invocation) {
  return "automation " + automation_id_of(payload) + ", action " + std::to_string(payload.value("action_index", 0)) +
         ", invocation " + invocation.to_string();
}

run_state scheduled_run_state(const json& action, timestamp now) {
  const auto after = action.value("schedule_after", json(0));
  const double seconds = after.is_number() ? after.get<double>() : 0.0;
  const auto at = now + std::chrono::duration_cast<timestamp::duration>(std::chrono::duration<double>(seconds));
  auto state = make_server_state(state_type::scheduled, now);
  state.details["scheduled_time"] = format_iso8601(at);
  return state;
}

json template_context(const json& payload) {
  return {{"automation", payload.value("automation", json::object())},
          {"event", payload.value("triggering_event", json(nullptr))},
          {"labels", payload.value("triggering_labels", json::object())},
          {"firing", {{"id", payload.value("firing_id", "")}, {"triggered", payload.value("triggered", "")}}}};
}

json upgrade_v1_templates(json parameters) {
  if (!parameters.is_object()) return json::object();
  upgrade_in_place(parameters);
  return parameters;
}

result<json> render_run_parameters(const json& parameters, const json& context, const variable_lookup& variables) {
  auto rendered = hydrate_run_input(upgrade_v1_templates(parameters), variables,
                                    [&context](const std::string& text) { return render_jinja(text, context); });
  if (!rendered) return action_failed("Unable to render the run's parameters: " + rendered.error().message());
  return rendered;
}

}  // namespace osprey::automation_targets

#include "domain/automation.hpp"

#include <algorithm>
#include <array>

#include "domain/api_key.hpp"
#include "domain/automation_reading.hpp"

namespace osprey {
namespace {

using namespace automation_reading;

bool read_actions(const json& body, const char* key, json& out, automation_problem& problem) {
  const path where{key};
  if (!body[key].is_array()) return fail(problem, where, "Input should be a valid list", "list_type");
  out = json::array();
  for (std::size_t i = 0; i < body[key].size(); ++i) {
    json action;
    if (!read_action(body[key][i], at(where, std::to_string(i)), action, problem)) return false;
    out.push_back(std::move(action));
  }
  return true;
}

/// ResourceSpecification.matches_every_resource_of_kind.
bool matches_every_resource_of_kind(const json& spec, const std::string& prefix) {
  if (!spec.is_object() || spec.empty()) return true;
  if (spec.size() != 1 || !spec.contains("prefect.resource.id")) return false;
  const auto& ids = spec["prefect.resource.id"];
  const std::string every = prefix + ".*";
  if (ids.is_string()) return ids == every;
  return std::any_of(ids.begin(), ids.end(), [&](const json& id) { return id == every; });
}

}  // namespace

std::optional<automation_body> read_automation_body(const nlohmann::json& body, automation_body_kind kind,
                                                    const std::function<uuid()>& new_trigger_id,
                                                    automation_problem& problem) {
  if (!body.is_object()) {
    fail(problem, {}, "Input should be a valid dictionary or object to extract fields from", "model_attributes_type");
    return std::nullopt;
  }
  static constexpr std::array<const char*, 9> known{"name",
                                                    "description",
                                                    "enabled",
                                                    "tags",
                                                    "trigger",
                                                    "actions",
                                                    "actions_on_trigger",
                                                    "actions_on_resolve",
                                                    "owner_resource"};
  for (const auto& [key, value] : body.items()) {
    const bool owner_key = key == "owner_resource";
    const bool is_known = std::find(known.begin(), known.end(), key) != known.end();
    if (!is_known || (owner_key && kind != automation_body_kind::create)) {
      fail(problem, {key}, "Extra inputs are not permitted", "extra_forbidden");
      return std::nullopt;
    }
  }
  automation_body out;
  auto& a = out.fields;
  if (!body.contains("name")) return fail(problem, {"name"}, "Field required", "missing"), std::nullopt;
  if (!read_string(body["name"], {"name"}, a.name, problem)) return std::nullopt;
  if ((out.has_description = body.contains("description")) &&
      !read_string(body["description"], {"description"}, a.description, problem))
    return std::nullopt;
  if ((out.has_enabled = body.contains("enabled")) && !read_bool(body["enabled"], {"enabled"}, a.enabled, problem))
    return std::nullopt;
  if ((out.has_tags = body.contains("tags")) && !read_string_list(body["tags"], {"tags"}, a.tags, problem))
    return std::nullopt;
  if (!body.contains("trigger")) return fail(problem, {"trigger"}, "Field required", "missing"), std::nullopt;
  if (!read_trigger(body["trigger"], {"trigger"}, new_trigger_id, a.trigger, problem)) return std::nullopt;
  if (!body.contains("actions")) return fail(problem, {"actions"}, "Field required", "missing"), std::nullopt;
  if (!read_actions(body, "actions", a.actions, problem)) return std::nullopt;
  if ((out.has_actions_on_trigger = body.contains("actions_on_trigger")) &&
      !read_actions(body, "actions_on_trigger", a.actions_on_trigger, problem))
    return std::nullopt;
  if ((out.has_actions_on_resolve = body.contains("actions_on_resolve")) &&
      !read_actions(body, "actions_on_resolve", a.actions_on_resolve, problem))
    return std::nullopt;
  if (body.contains("owner_resource")) {
    if (!read_optional_string(body["owner_resource"], {"owner_resource"}, out.owner_resource, problem))
      return std::nullopt;
  }
  if (auto loop = check_run_deployment_loops(a)) {
    problem = *loop;
    return std::nullopt;
  }
  return out;
}

std::optional<bool> read_automation_enabled_body(const nlohmann::json& body, automation_problem& problem) {
  if (!body.is_object()) {
    fail(problem, {}, "Input should be a valid dictionary or object to extract fields from", "model_attributes_type");
    return std::nullopt;
  }
  bool enabled = true;
  for (const auto& [key, value] : body.items()) {
    if (key != "enabled")
      return fail(problem, {key}, "Extra inputs are not permitted", "extra_forbidden"), std::nullopt;
    if (!read_bool(value, {"enabled"}, enabled, problem)) return std::nullopt;
  }
  return enabled;
}

std::optional<automation_problem> check_run_deployment_loops(const automation& a) {
  const auto& t = a.trigger;
  if (!a.enabled || t.value("type", "") != "event" || t.value("posture", "") != "Reactive") return std::nullopt;
  const auto& expect = t["expect"];
  const bool flow_run_events = std::any_of(expect.begin(), expect.end(), [](const json& e) {
    return e.get<std::string>().rfind("prefect.flow-run.", 0) == 0;
  });
  if (!flow_run_events) return std::nullopt;
  // Every run a deployment creates passes through these.
  static constexpr std::array<const char*, 4> problematic{"prefect.flow-run.Scheduled", "prefect.flow-run.Pending",
                                                          "prefect.flow-run.Running", "prefect.flow-run.*"};
  const bool risky = std::any_of(expect.begin(), expect.end(), [](const json& e) {
    return std::find(problematic.begin(), problematic.end(), e.get<std::string>()) != problematic.end();
  });
  if (!risky) return std::nullopt;
  for (const auto& action : a.actions) {
    if (action["type"] != "run-deployment") continue;
    if (action["source"] == "inferred")
      return automation_problem{{},
                                "Value error, Running an inferred deployment from a flow run state change event will "
                                "lead to an infinite loop of flow runs.  Please choose a specific deployment and add "
                                "additional filtering labels to the match or match_related for this automation's "
                                "trigger.",
                                "value_error",
                                false};
    if (!matches_every_resource_of_kind(t["match"], "prefect.flow-run")) continue;
    const auto& related = t["match_related"];
    const bool related_open =
        related.is_array()
            ? std::any_of(related.begin(), related.end(),
                          [](const json& r) { return matches_every_resource_of_kind(r, "prefect.flow-run"); })
            : matches_every_resource_of_kind(related, "prefect.flow-run");
    if (related_open)
      return automation_problem{{},
                                "Value error, Running a selected deployment from a flow run state change event may "
                                "lead to an infinite loop of flow runs.  Please include additional filtering labels "
                                "on either match or match_related to narrow down which flow runs will trigger this "
                                "automation to exclude flow runs from the deployment you've selected.",
                                "value_error",
                                false};
  }
  return std::nullopt;
}

std::vector<std::string> automation_related_deployments(const automation& a) {
  std::vector<std::string> out;
  for (const auto& action : a.actions) {
    if (action["type"] != "run-deployment" || action["source"] != "selected" || !action["deployment_id"].is_string())
      continue;
    auto resource = "prefect.deployment." + action["deployment_id"].get<std::string>();
    if (std::find(out.begin(), out.end(), resource) == out.end()) out.push_back(std::move(resource));
  }
  return out;
}

nlohmann::json automation_json(const automation& a) {
  return {{"id", a.id.to_string()},
          {"created", format_iso8601(a.created)},
          {"updated", format_iso8601(a.updated)},
          {"name", a.name},
          {"description", a.description},
          {"enabled", a.enabled},
          {"tags", a.tags},
          {"trigger", a.trigger},
          {"actions", a.actions},
          {"actions_on_trigger", a.actions_on_trigger},
          {"actions_on_resolve", a.actions_on_resolve}};
}

uuid name_based_uuid(std::string_view text) {
  const auto hex = api_key_hash(text);
  std::array<std::uint8_t, 16> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<std::uint8_t>(std::stoi(hex.substr(i * 2, 2), nullptr, 16));
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x80);  // version 8: made by the application
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return uuid(bytes);
}

bool declared_in_config_file(const automation& a) {
  return std::find(a.tags.begin(), a.tags.end(), config_file_tag) != a.tags.end();
}

std::optional<automation> read_config_file_automation(const nlohmann::json& document, automation_problem& problem) {
  const std::string name = document.is_object() ? document.value("name", "") : std::string();
  int next = 0;
  auto trigger_id = [&] {
    return name_based_uuid("osprey config-file trigger " + name + " " + std::to_string(next++));
  };
  auto body = read_automation_body(document, automation_body_kind::create, trigger_id, problem);
  if (!body) return std::nullopt;
  if (body->owner_resource) {
    problem = {};
    problem.location = {"owner_resource"};
    problem.message = "an automation of the config file has no owner resource";
    problem.type = "value_error";
    return std::nullopt;
  }
  auto a = std::move(body->fields);
  a.id = automation_id{name_based_uuid("osprey config-file automation " + a.name)};
  if (!declared_in_config_file(a)) a.tags.push_back(config_file_tag);
  if (auto loop = check_run_deployment_loops(a)) {
    problem = *loop;
    return std::nullopt;
  }
  return a;
}

}  // namespace osprey

#pragma once
// Prefect's automations as the API stores and serves them (Prefect 3.9.1: server/events/schemas/automations.py
// for the triggers, server/events/actions.py for the actions). Reading a body checks what pydantic checks and
// fills every default the way Prefect's answer shows it, so the client's own models parse what we send back.
// The trigger and the action lists are kept as those normalised JSON documents: nothing evaluates them yet.
// Pure: the http layer reads the body, these decide, persistence/automation_store keeps the rows.
//
// Errors: Prefect's trigger and action types are plain (not discriminated) pydantic unions, so Prefect answers
// one error per union member. We report the one error of the member the `type` names, under the member's
// pydantic tag ("EventTrigger", "function-after[selected_deployment_requires_id(), RunDeployment]"), which is
// the entry a person reads; the other members' "Input should be 'do-nothing'" entries are left out.

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/filters.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

using automation_id = typed_id<struct automation_tag>;

/// One automation as stored and answered.
struct automation {
  automation_id id;
  timestamp created;
  timestamp updated;
  std::string name;
  std::string description;
  bool enabled = true;
  std::vector<std::string> tags;
  nlohmann::json trigger = nlohmann::json::object();  ///< event, compound or sequence, defaults filled
  nlohmann::json actions = nlohmann::json::array();   ///< each action with its defaults filled
  nlohmann::json actions_on_trigger = nlohmann::json::array();
  nlohmann::json actions_on_resolve = nlohmann::json::array();
};

/// An AutomationCreate or AutomationUpdate body, read.
struct automation_body {
  automation fields;                          ///< id, created and updated are left for the caller
  std::optional<std::string> owner_resource;  ///< create only: the resource that owns the automation
  /// PUT writes only what the body set (Prefect's exclude_unset); required fields are always set.
  bool has_description = false;
  bool has_enabled = false;
  bool has_tags = false;
  bool has_actions_on_trigger = false;
  bool has_actions_on_resolve = false;
};

enum class automation_body_kind { create, update };

/// Why a body was refused: one pydantic error, located from the body's root (without "body").
using automation_problem = filters::filter_error;

/// Reads a POST (create: also owner_resource) or PUT (update) body. Unknown top-level keys are refused
/// (extra="forbid"); unknown keys inside triggers and actions are dropped (Prefect's models ignore them).
/// Every trigger gets a fresh id from `new_trigger_id`, whatever the client sent (Prefect's reset_ids).
/// nullopt and `problem` filled when the body is refused.
std::optional<automation_body> read_automation_body(const nlohmann::json& body, automation_body_kind kind,
                                                    const std::function<uuid()>& new_trigger_id,
                                                    automation_problem& problem);

/// Prefect's AutomationPartialUpdate (PATCH): {"enabled": bool} (default true), nothing else. nullopt and
/// `problem` filled when refused.
std::optional<bool> read_automation_enabled_body(const nlohmann::json& body, automation_problem& problem);

/// Prefect's prevent_run_deployment_loops on a whole automation: an enabled, reactive event trigger expecting a
/// flow-run state every deployment run passes through, with a run-deployment action that is inferred (always a
/// loop) or selected while neither match nor match_related narrows the flow runs. The problem's location is the
/// body itself. PATCH runs it on the automation as it would become.
std::optional<automation_problem> check_run_deployment_loops(const automation& a);

/// "prefect.deployment.<id>" for each deployment a selected run-deployment action names, once each: the
/// automation's related resources (Prefect's _sync_automation_related_resources).
std::vector<std::string> automation_related_deployments(const automation& a);

/// A UUID made from a SHA-256 of `text` (version 8: made by the application): the same text, the same id.
uuid name_based_uuid(std::string_view text);

/// The tag an automation declared in the config file carries (notifications.automations): the API serves it
/// but refuses to change or delete it; the file is its source.
inline constexpr const char* config_file_tag = "osprey:config-file";
[[nodiscard]] bool declared_in_config_file(const automation& a);

/// An automation of the config file, read as a create body: its id and its triggers' ids are made from its
/// name, so a restart finds the same automation and its trigger state; the config-file tag is added.
/// nullopt and `problem` filled when refused (as the API would refuse the body).
std::optional<automation> read_config_file_automation(const nlohmann::json& document, automation_problem& problem);

/// The automation as Prefect's API answers it (and as its lifecycle events carry it).
nlohmann::json automation_json(const automation& a);

}  // namespace osprey

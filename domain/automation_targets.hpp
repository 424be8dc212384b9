#pragma once
// What an automation action acts on, and with what, read from its outbox job's payload as
// actors/automation_evaluator writes it (automation, action, action_index, triggering_event,
// triggering_labels, firing_id, triggered): Prefect's rules for "selected" and "inferred" targets, the
// states the flow-run actions propose, run-deployment's idempotency key, scheduled time and parameters, and
// the names templates may use. Pure; the action runner (actors/automation_actions) does the acting.
//
// Failures are errc::failed_precondition with Prefect's ActionFailed reason ("No deployment could be
// inferred"): retrying cannot help, so the runner gives the action up at once.

#include <nlohmann/json.hpp>
#include <string>

#include "domain/flow_run_input.hpp"
#include "domain/orchestration.hpp"
#include "domain/status.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey::automation_targets {

/// What a "source: selected | inferred" action acts on.
enum class target_kind { deployment, work_pool, work_queue };

/// The action's `<kind>_id` when its source is "selected"; otherwise the first resource of the triggering
/// event (its resource, then its related ones) whose id is "prefect.<kind>.<uuid>" ("No event to infer the
/// work pool", "No work pool could be inferred").
result<uuid> target_id(const nlohmann::json& payload, target_kind kind);

/// The run a flow-run action acts on: the triggering labels' prefect.resource.id when it names a flow run
/// (a proactive trigger tracking runs has no event), else the triggering event's first flow-run resource
/// ("No flow run could be inferred").
result<uuid> flow_run_target(const nlohmann::json& payload);

/// The state change-flow-run-state, cancel-flow-run or suspend-flow-run proposes (its message names the
/// automation, as Prefect's), and whether it is forced (change-flow-run-state's `force`).
transition_request flow_run_proposal(const nlohmann::json& payload, timestamp now);

/// Prefect's TriggeredAction.idempotency_key: "automation <id>, action <index>, invocation <job id>", so a
/// retried run-deployment never starts a second run.
std::string idempotency_key(const nlohmann::json& payload, const uuid& invocation);

/// run-deployment's first state: Scheduled at `now` plus the action's schedule_after (seconds).
run_state scheduled_run_state(const nlohmann::json& action, timestamp now);

/// The names a template may use: Prefect's _template_context without the objects it fetches from its API
/// (automation, event, labels, firing).
nlohmann::json template_context(const nlohmann::json& payload);

/// run-deployment's parameters as Prefect renders them: plain strings holding Jinja (v1 templates) become
/// placeholders first — a lone `{{ expr }}` keeps its value's type through `| tojson` — then every
/// placeholder is hydrated, templates rendered against `context`, workspace variables looked up. Null
/// parameters give {}. errc::failed_precondition with the hydration error otherwise.
result<nlohmann::json> render_run_parameters(const nlohmann::json& parameters, const nlohmann::json& context,
                                             const variable_lookup& variables);

/// The parameters after the v1 upgrade (callers ask mentions_workspace_variables of it to know whether to
/// read variables first).
nlohmann::json upgrade_v1_templates(nlohmann::json parameters);

}  // namespace osprey::automation_targets

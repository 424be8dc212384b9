#pragma once
// Flow run inputs (Prefect 3.9.1's FlowRunInput, server/api/flow_runs.py): key/value texts attached to a flow
// run. `pause_flow_run(wait_for_input=Model)` stores the model's JSON schema under the pause's keyset, and
// `POST /flow_runs/{id}/resume` checks `run_input` against it before storing it under the keyset's response
// key; `send_input` / `receive_input` exchange values through the same rows. The pure rules: key names,
// the pause's keyset, Prefect's hydration of UI placeholders and the check of a resume's run input.

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "domain/field_problem.hpp"
#include "domain/state.hpp"
#include "domain/status.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

using flow_run_input_id = typed_id<struct flow_run_input_tag>;

/// One row of `flow_run_input`. `value` is the text as given (the client sends JSON text; Prefect stores it
/// unparsed and answers it back as text/plain).
struct flow_run_input {
  flow_run_input_id id;
  timestamp created;
  timestamp updated;
  flow_run_id flow_run;
  std::string key;
  std::string value;
  std::optional<std::string> sender;
};

/// Prefect's key rule (raise_on_name_alphanumeric_dashes_only): only a-z, 0-9 and '-' (the empty key
/// passes, as in Prefect). The problem's field is "key". Prefect raises it inside the route and answers 500;
/// Osprey answers the problem as a 422.
std::optional<field_problem> check_flow_run_input_key(const std::string& key);

/// The keys a pause that waits for input names (state_details.run_input_keyset: "schema", "response",
/// "description"); nullopt when the state has none (null, absent or not an object).
std::optional<nlohmann::json> run_input_keyset(const run_state& paused);

/// Looks a workspace variable up by name: its value, or nullopt when there is none.
using variable_lookup = std::function<std::optional<nlohmann::json>(const std::string& name)>;

/// True when `value` holds a {"__prefect_kind": "workspace_variable"} placeholder anywhere (the caller then
/// needs the variables to hydrate it).
bool mentions_workspace_variables(const nlohmann::json& value);

/// Renders one Jinja template's text (domain/template_render.hpp with the caller's context).
using jinja_renderer = std::function<result<std::string>(const std::string& template_text)>;

/// Prefect's schema_tools.hydrate with raise_on_error, render_jinja and render_workspace_variables, as resume
/// uses it: {"__prefect_kind": "json", "value": "<text>"} → the parsed value, "none" → its value,
/// "workspace_variable" → the variable's value, an unknown kind → its "value"; a placeholder without its key
/// is dropped from its parent ("json", "workspace_variable") or an error ("none", "jinja"). A "jinja"
/// placeholder is rendered by `render`; without one (run input: the client renders nothing there) it is kept
/// only when its template is plain text, and one with `{{`, `{%` or `{#` is an error. Errors carry Prefect's
/// message ("Invalid JSON: ...", "Variable 'x' not found in workspace.", "Invalid jinja: ...") as
/// errc::invalid_argument. A top-level removal hydrates to {}.
result<nlohmann::json> hydrate_run_input(const nlohmann::json& value, const variable_lookup& variable,
                                         const jinja_renderer& render = {});

/// What resume decides about its run input when the paused state has a keyset.
struct run_input_verdict {
  nlohmann::json value = nlohmann::json::object();  ///< the hydrated input, to store when accepted
  std::optional<std::string> refusal;               ///< set: Prefect's REJECT reason; nothing is stored
};

/// Prefect's order: hydrate (refusal "Error hydrating run input: ..."), the stored schema (nullopt: "Run
/// input schema not found."; not JSON: "Run input schema is not valid JSON."), then the schema check
/// (domain/parameter_schema; "Reason: Validation failed ..."). A null `run_input` counts as {}.
run_input_verdict check_run_input(const nlohmann::json& run_input, const std::optional<std::string>& schema_text,
                                  const variable_lookup& variable);

}  // namespace osprey

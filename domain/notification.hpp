#pragma once
// Notification policies as the domain sees them: which flow-run state changes notify which channels, and
// the text they carry. Pure: matching, what a policy decides for a state change, alert identity and template
// rendering. Writing the outbox rows lives in notifications/, delivery in actors/ and notifiers/.
//
// Templates use Prefect 2's `{placeholder}` syntax ("{flow_name}/{flow_run_name} is {flow_run_state_name}").
// `{{` and `}}` write literal braces. An unknown placeholder is an error when the template is validated
// (Prefect answers 422 for the same), so rendering never meets one.

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/state.hpp"
#include "domain/status.hpp"
#include "domain/uuid.hpp"

namespace osprey {

/// Which runs and states a policy fires for. Every present criterion must hold (AND); within a list any
/// entry may match (OR); an empty list matches everything.
struct state_match {
  std::vector<std::string> state_names;  ///< exact state names ("Failed", "Crashed", "TimedOut", "Late")
  std::vector<std::string> state_types;  ///< upper-case types ("FAILED", "CRASHED")
  std::vector<std::string> tags_any;     ///< the run has at least one of these tags
  std::vector<std::string> tags_none;    ///< the run has none of these tags (empty: no exclusion)
  std::vector<std::string> flows;        ///< globs (`*`, `?`) on the flow name
  std::vector<std::string> deployments;  ///< globs on the deployment name (a run without one never matches)
};

/// Whether and how a policy closes the alerts it opened.
enum class dedup_scope { flow_run, deployment };

/// What a notification announces: a trigger (a policy's match held), a resolve (a later state closes the alert
/// a trigger opened; chat, mail and SMS get a recovery message), a test (`osprey notifications test`), or an
/// automation's action (written with the trigger firing that causes it; run by actors/automation_actions).
enum class notification_kind { trigger, resolve, test, action };
/// "trigger", "resolve", "test", "action" (the outbox spelling).
const char* to_string(notification_kind kind) noexcept;
/// The kind to_string spells `text`; nullopt for anything else.
std::optional<notification_kind> parse_notification_kind(std::string_view text);

struct notification_policy {
  std::string name;  ///< unique; names outbox rows
  bool is_active = true;
  std::string source = "file";  ///< "file" (config, read-only over the API) or "api"
  std::optional<uuid> id;       ///< set for policies stored in the database
  state_match match;
  std::vector<std::string> channels;            ///< channel names, in order
  std::optional<std::string> message_template;  ///< nullopt: default_message_template
  /// Later states that resolve this policy's open alerts (PagerDuty resolve, Opsgenie close); empty: never.
  std::vector<std::string> resolve_on = {"Completed"};
  dedup_scope scope = dedup_scope::flow_run;  ///< which alerts a resolving state closes
  bool send_resolved = false;                 ///< also send a "recovered" message to chat/mail/SMS channels
  std::chrono::milliseconds group_wait{0};    ///< fold messages arriving within this window into one (0: off)
};

/// What a state change is matched and rendered against: the run and its new state.
struct notification_facts {
  flow_run_id run;
  std::string run_name;
  flow_id flow;
  std::string flow_name;
  std::vector<std::string> tags;
  std::optional<uuid> deployment_id;
  std::string deployment_name;  ///< "" when the run has no deployment
  nlohmann::json parameters = nlohmann::json::object();
  run_state state;
};

/// Whether the run and its new state satisfy every criterion of `match` (see state_match).
bool matches(const state_match& match, const notification_facts& facts);

/// What one policy does about one committed state change.
struct notification_decision {
  bool trigger = false;  ///< the policy's match holds: notify each of its channels
  bool resolve = false;  ///< the state is named in resolve_on: close the alerts the policy opened
};
notification_decision decide_notification(const notification_policy& policy, const notification_facts& facts);

/// Whether a resolve goes to a channel: always to one that closes alerts itself (PagerDuty, Opsgenie), to the
/// others (chat, mail, SMS) only when the policy sends a recovery message (send_resolved).
bool sends_resolve(const notification_policy& policy, bool channel_closes_alerts);

/// The alert identity a policy uses for a run: "osprey/<policy>/<flow run id>", or ".../deployment/<id>" for
/// deployment-scoped policies (runs without a deployment fall back to the run). Repeats and the resolve of an
/// alert carry it, so the service folds them (PagerDuty dedup_key, Opsgenie alias, e-mail thread).
std::string dedup_key_for(const notification_policy& policy, const notification_facts& facts);

/// What a notification says, rendered from the policy's templates when the state change commits.
struct notification_text {
  /// The plain rendered title for every kind: the notifier adds what marks a resolve or a test
  /// ("Recovered: ", notifiers::headline), so it is never prefixed here.
  std::string title;
  std::string message;  ///< the policy's message_template, or default_message_template
};
notification_text render_notification(const notification_policy& policy, const nlohmann::json& values);

/// The placeholders a template may use, sorted: Prefect 2's set plus deployment_name, deployment_id,
/// flow_run_tags and policy_name.
const std::vector<std::string>& template_placeholders();

/// Prefect 2's default message (leading and trailing newline removed).
std::string_view default_message_template();

/// The subject line every channel with a title uses ("Prefect flow run notification" in Prefect 2); ours
/// names the run: "Flow run {flow_name}/{flow_run_name} entered state {flow_run_state_name}".
std::string_view default_title_template();

/// ok, or invalid_argument naming the first unknown placeholder and the allowed ones, or an unbalanced brace.
status validate_template(std::string_view tmpl);

/// The values of every placeholder for one state change. `ui_url` is the base for {flow_run_url}
/// ("" gives Prefect 2's "http://ephemeral-prefect/api" base). Timestamps print like Python's str(datetime):
/// "2024-12-11 18:59:17.212585+00:00"; {flow_run_state_type} is the plain type ("FAILED");
/// {flow_run_tags} is the tags joined with ", "; {flow_run_state_message} is "" when there is none.
nlohmann::json template_values(const notification_facts& facts, std::string_view policy_name, std::string_view ui_url);

/// Replaces every placeholder with its value from `values` (strings as-is, other JSON dumped). Assumes a
/// validated template; an unknown placeholder is left as written.
std::string render_template(std::string_view tmpl, const nlohmann::json& values);

}  // namespace osprey

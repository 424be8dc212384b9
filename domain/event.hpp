#pragma once
// Events as Prefect defines them: something that happened (`event`, e.g. "prefect.flow-run.Running") to a
// resource at a time (`occurred`), with related resources and a free-form payload. Clients send them over
// WS /api/events/in and POST /api/events; the server stamps `received` and emits its own
// (prefect.flow-run.<State>) for every flow-run state it writes.
//
// Also the EventFilter of /api/events/filter and WS /api/events/out, with an in-memory matcher that agrees
// with the SQL of persistence/event_store.cpp (the live stream and the backfill must select the same events).
//
// Pure: values and functions only, no I/O; safe to use from any thread.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/json_text.hpp"
#include "domain/state.hpp"
#include "domain/status.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

/// Limits of Prefect's server settings (events.maximum_*), checked by parse_event().
inline constexpr std::size_t max_event_name_length = 1024;
inline constexpr std::size_t max_labels_per_resource = 500;
inline constexpr std::size_t max_related_resources = 100;
inline constexpr std::size_t max_event_bytes = 1'500'000;  ///< serialised size of one event

/// A resource's labels (string → string). Every resource has a non-empty "prefect.resource.id"; related
/// resources also a non-empty "prefect.resource.role".
using resource_labels = std::map<std::string, std::string>;

inline constexpr std::string_view resource_id_label = "prefect.resource.id";
inline constexpr std::string_view resource_role_label = "prefect.resource.role";

struct event {
  uuid id;  ///< client-assigned; the server de-duplicates by it
  timestamp occurred;
  std::string name;  ///< Prefect's `event` field
  resource_labels resource;
  std::vector<resource_labels> related;
  nlohmann::json payload = nlohmann::json::object();
  std::optional<uuid> follows;        ///< an event known to have happened just before this one
  std::optional<timestamp> received;  ///< stamped by the server on receipt (a ReceivedEvent has it)

  /// The primary resource's id ("" only for an event that was never validated).
  [[nodiscard]] const std::string& resource_id() const;
};

/// Reads and validates one Event object. Unknown keys are ignored and so is a client-sent "received" (the
/// server stamps its own). Errors are errc::invalid_argument with a message that starts with the offending
/// field: "resource: the prefect.resource.id label is required".
result<event> parse_event(const nlohmann::json& j);
/// Same, from the text of one message; also refuses text larger than max_event_bytes, invalid JSON and JSON
/// nested deeper than `max_depth` (domain/json_text.hpp).
result<event> parse_event_text(std::string_view text, std::size_t max_depth = default_json_max_depth);
/// A stored or streamed ReceivedEvent (as written by to_json) back into an event, keeping `received`.
result<event> parse_received_event(const nlohmann::json& j);

/// Prefect's ReceivedEvent shape: {id, occurred, event, resource, related, payload, follows, received};
/// `received` only when set.
nlohmann::json to_json(const event& e);

// ---------------------------------------------------------------------------------------------------------
// Filters. Empty lists mean "no constraint" (as in Prefect, where an empty list is falsy).

/// Label name → glob patterns, any of which may match. Patterns use `*` and `?` (everything else is literal,
/// as in the SQL translation); a leading `!` negates one pattern. A missing label never matches, not even a
/// negated pattern; a label with no patterns matches nothing, except prefect.resource.id (and, in related and
/// any_resource filters, prefect.resource.role), where no patterns means no constraint, as in Prefect's SQL.
using label_patterns = std::vector<std::pair<std::string, std::vector<std::string>>>;

struct event_resource_criteria {
  std::vector<std::string> ids;
  std::vector<std::string> id_prefixes;
  label_patterns labels;
};

struct event_related_criteria {
  std::vector<std::string> ids;
  std::vector<std::string> roles;  ///< when empty, only related resources (role != "") are considered
  std::vector<std::pair<std::string, std::string>> resources_in_roles;  ///< (id, role) pairs, any may match
  label_patterns labels;  ///< prefect.resource.role here compares exactly (as Prefect's SQL does)

  [[nodiscard]] bool empty() const {
    return ids.empty() && roles.empty() && resources_in_roles.empty() && labels.empty();
  }
};

struct event_any_resource_criteria {
  std::vector<std::string> ids;
  std::vector<std::string> id_prefixes;
  label_patterns labels;

  [[nodiscard]] bool empty() const { return ids.empty() && id_prefixes.empty() && labels.empty(); }
};

enum class event_order { ascending, descending };

/// Prefect's EventFilter. Every present criterion must hold (AND); within one criterion list, any value.
struct event_filter {
  timestamp since;                                        ///< inclusive; default: start of today (UTC) minus 180 days
  timestamp until;                                        ///< inclusive; default: now
  std::vector<std::string> prefixes;                      ///< event name starts with one of these
  std::vector<std::string> exclude_prefixes;              ///< ... and with none of these
  std::vector<std::string> names;                         ///< event name is one of these
  std::vector<std::string> exclude_names;                 ///< ... and none of these
  std::optional<event_resource_criteria> resource;        ///< the primary resource
  std::vector<event_related_criteria> related;            ///< each must match some resource (see roles)
  std::vector<event_any_resource_criteria> any_resource;  ///< each must match the primary or a related one
  std::vector<uuid> ids;
  event_order order = event_order::descending;
};

/// A filter with the defaults above and no criteria.
event_filter default_event_filter(timestamp now);

/// Reads an EventFilter (null or absent: the defaults). Unknown keys are refused (Prefect's filters forbid
/// extras); null values mean "absent". Not supported, refused with a message saying so: a non-blank
/// `text` query and `resource.distinct: true`. Errors are errc::invalid_argument naming the field.
result<event_filter> parse_event_filter(const nlohmann::json& j, timestamp now);

/// The filter as JSON that parse_event_filter reads back to an equal filter (used in page tokens).
nlohmann::json to_json(const event_filter& f);

/// Limits how far back the filter looks: since = max(since, earliest).
void clamp_since(event_filter& f, timestamp earliest);

/// Whether `e` passes every criterion of `f` (the same rules as the SQL in persistence/event_store.cpp).
bool matches(const event_filter& f, const event& e);

/// One label's patterns against its value (nullptr: the label is missing); see label_patterns.
bool label_matches(const std::vector<std::string>& patterns, const std::string* value);

// ---------------------------------------------------------------------------------------------------------
// Server-emitted flow-run state events.

/// What the server knows about a flow run when it emits a state event. Empty/absent parts are left out of
/// the event. (The flow-run actors fill in what they have; see flow_run_state_event.)
struct flow_run_event_info {
  std::string name;              ///< prefect.resource.name
  std::optional<int> run_count;  ///< prefect.run-count
  std::optional<flow_id> flow;   ///< related resource, role "flow"
  std::string flow_name;
  std::optional<uuid> deployment;  ///< related resource, role "deployment"
  std::string deployment_name;
  std::vector<std::string> tags;  ///< related resources prefect.tag.<tag>, role "tag" (sorted, unique)
};

/// State messages longer than this are shortened (middle elided) in events, as Prefect does.
inline constexpr std::size_t max_event_state_message = 100'000;

/// The `prefect.flow-run.<state name>` event of a written state: id = the state's id, occurred = its
/// timestamp, payload {intended: {from, to}, initial_state, validated_state}, follows = the previous state's
/// id when the two are less than 5 minutes apart. `received` is left unset (the bus stamps it).
event flow_run_state_event(const state_change& change, const flow_run_event_info& info = {});

}  // namespace osprey

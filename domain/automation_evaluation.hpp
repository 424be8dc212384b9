#pragma once
// How an event trigger counts events (Prefect 3.9.1: server/events/triggers.py `reactive_evaluation` and
// `evaluate`, schemas/automations.py EventTrigger, schemas/events.py ResourceSpecification). Pure: the
// evaluation actor reads the bucket for (automation, trigger, bucketing key), asks react() or evaluate() what
// it becomes, and stores that and the firings in one transaction.
//
// A bucket is the one open time window [start, end) per trigger and bucketing key, counting the expected
// events in it. Reactive triggers fire as soon as the count reaches `threshold` and then ignore events until
// the window ends; proactive triggers fire when a window ends with fewer than `threshold` events.
//
// Label patterns are Python's fnmatchcase with `*` and `?` (domain/glob.hpp); `[...]` classes are literal here.

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/event.hpp"
#include "domain/status.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

/// Prefect's ResourceSpecification: label → patterns, every label must match one of its patterns.
using resource_spec = std::vector<std::pair<std::string, std::vector<std::string>>>;

enum class trigger_posture { reactive, proactive };

/// What evaluation needs of an EventTrigger's normalised document (domain/automation.hpp).
struct event_trigger_rules {
  uuid id;
  resource_spec match;
  std::vector<resource_spec> match_related;  ///< every one must include some related resource
  std::vector<std::string> after;
  std::vector<std::string> expect;
  std::vector<std::string> for_each;  ///< sorted, as Prefect zips them with the bucketing key
  trigger_posture posture = trigger_posture::reactive;
  std::int64_t threshold = 1;
  std::chrono::microseconds within{0};
};

/// Reads an "event" trigger document as automation_json stores it. errc::invalid_argument for anything else.
result<event_trigger_rules> read_event_trigger_rules(const nlohmann::json& trigger);

/// Prefect's `matches`: a glob, negated by a leading "!"; a missing label (nullptr) never matches.
bool label_pattern_matches(std::string_view pattern, const std::string* value);
/// Every label of `spec` has a pattern matching the resource's value (an empty spec matches everything).
bool resource_spec_matches(const resource_spec& spec, const resource_labels& resource);

/// Whether the trigger looks at the event at all: event name (expect ∪ after, or anything when expect is
/// empty), match on the resource and every match_related on the related resources.
bool trigger_covers(const event_trigger_rules& trigger, const event& e);
/// The event counts towards the threshold (no expect: every event does).
bool trigger_expects(const event_trigger_rules& trigger, std::string_view event_name);
/// The event opens a window (never when `after` is empty).
bool trigger_starts_after(const event_trigger_rules& trigger, std::string_view event_name);
/// Prefect's Event.find_resource_label: "related:<role>:<label>" reads the first related resource with that
/// role; anything else the primary resource.
std::optional<std::string> find_resource_label(const event& e, std::string_view label);
/// One value per for_each label (sorted), "" where the event has none.
std::vector<std::string> bucketing_key(const event_trigger_rules& trigger, const event& e);

/// One stored bucket (table automation_bucket).
struct trigger_bucket {
  std::vector<std::string> key;
  timestamp start;
  timestamp end;
  std::int64_t count = 0;
  std::optional<event> last_event;
};

/// A trigger that fired: what its actions and the prefect.automation.triggered event are made of.
struct trigger_firing {
  uuid trigger;
  std::map<std::string, std::string> triggering_labels;  ///< for_each label → bucket key value
  std::optional<event> triggering_event;                 ///< the event, or the bucket's last one (proactive)
  std::int64_t count = 0;                                ///< events counted in the bucket that fired
  timestamp window_start;                                ///< the bucket's window, for a unique firing key
};

/// What one evaluation leaves behind: the bucket to store for the key (nullopt: none, delete it), and the
/// firings (at most two: a late window's event can close one window and fire in the next).
struct trigger_step {
  std::optional<trigger_bucket> bucket;
  std::vector<trigger_firing> firings;
};

/// An event the trigger covers, against the bucket stored for its bucketing key (if any).
trigger_step react(const event_trigger_rules& trigger, std::optional<trigger_bucket> stored, const event& e);
/// The periodic evaluation of a stored bucket at `now` (proactive triggers; expired reactive windows).
trigger_step evaluate_bucket(const event_trigger_rules& trigger, trigger_bucket bucket, timestamp now);
/// The bucket a proactive trigger without for_each keeps open when it has none: [now, now + within).
trigger_bucket initial_proactive_bucket(const event_trigger_rules& trigger, timestamp now);

// ---------------------------------------------------------------------------------------------------------------
// Compound and sequence triggers (Prefect's CompositeTrigger and evaluate_composite_trigger): a child trigger's
// firing does not act; it is kept for its parent (the newest one per child), and the parent fires — acting, or
// passing its own firing up to its parent — once the kept firings satisfy it.

struct composite_trigger_rules {
  uuid id;
  bool sequence = false;
  std::vector<uuid> children;  ///< in order: a sequence's expected firing order
  std::size_t expected = 1;  ///< child firings needed: any → 1, all → every child, N → N; a sequence: every child
  std::optional<std::chrono::microseconds> within;  ///< kept firings older than this (from the newest) no longer count
};

/// Reads a "compound" or "sequence" trigger document as automation_json stores it (not its children).
result<composite_trigger_rules> read_composite_trigger_rules(const nlohmann::json& trigger);

/// One child's firing kept for its parent (table composite_trigger_child_firing).
struct child_firing {
  uuid child;   ///< the child trigger
  uuid firing;  ///< the firing's id (domain/automation_firing.hpp firing_id)
  timestamp fired;
  trigger_firing what;
};

/// Whether the kept firings satisfy the parent: a compound needs `expected` of them; a sequence needs every
/// child's, fired in the children's order.
bool composite_ready(const composite_trigger_rules& parent, const std::vector<child_firing>& kept);

/// A trigger_firing as the composite_trigger_child_firing row keeps it, and back (nullopt: unreadable).
nlohmann::json child_firing_document(const trigger_firing& f);
std::optional<trigger_firing> child_firing_from_document(const nlohmann::json& doc);

/// How far back a first bucket starts, so events arriving slightly out of order still count (Prefect's
/// PRECEDING_EVENT_LOOKBACK).
inline constexpr std::chrono::minutes preceding_event_lookback{15};

}  // namespace osprey

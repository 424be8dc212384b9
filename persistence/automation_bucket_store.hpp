#pragma once
// Trigger evaluation state (table `automation_bucket`, one row per automation, trigger and bucketing key) and
// the automations the evaluator loads. Run on a connection the caller owns, inside the caller's transaction, so
// that a bucket change and the outbox jobs of the firing it causes commit together; they throw sql_error.

#include <optional>
#include <string>
#include <vector>

#include "domain/automation.hpp"
#include "domain/automation_evaluation.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// Every enabled automation, by id.
std::vector<automation> enabled_automations(sql_connection& conn);
/// What changes whenever an automation is created, updated, enabled, disabled or deleted: their number and
/// newest `updated`. The evaluator compares it to learn that another server changed them.
std::string automations_fingerprint(sql_connection& conn);

std::optional<trigger_bucket> find_bucket(sql_connection& conn, const automation_id& automation, const uuid& trigger,
                                          const std::vector<std::string>& key);
/// Stores `bucket` as the one of (automation, trigger, key); nullopt deletes it.
void store_bucket(sql_connection& conn, const automation_id& automation, const uuid& trigger,
                  const std::vector<std::string>& key, const std::optional<trigger_bucket>& bucket, timestamp now);
/// Every bucket of the trigger (the periodic pass evaluates them).
std::vector<trigger_bucket> trigger_buckets(sql_connection& conn, const automation_id& automation, const uuid& trigger);
/// Deletes every bucket whose window ended at or before `older_than` (Prefect's sweep_closed_buckets): a closed
/// reactive window is never read again, and each for_each key would otherwise keep one for ever.
void sweep_closed_buckets(sql_connection& conn, timestamp older_than);
/// Deletes the buckets of the automation's triggers other than `keep` (its trigger was replaced).
void forget_other_triggers(sql_connection& conn, const automation_id& automation, const std::vector<uuid>& keep);

/// Keeps `f` as the newest firing of its child trigger for the composite `parent` (replacing the one before).
void keep_child_firing(sql_connection& conn, const automation_id& automation, const uuid& parent, const child_firing& f,
                       timestamp now);
/// The firings kept for `parent`, oldest first.
std::vector<child_firing> kept_child_firings(sql_connection& conn, const automation_id& automation, const uuid& parent);
/// Forgets the firings kept for `parent` that fired before `before` (every one without a bound).
void forget_child_firings(sql_connection& conn, const automation_id& automation, const uuid& parent,
                          std::optional<timestamp> before = std::nullopt);

// The evaluator's progress (see actors/automation_evaluator.hpp, "After a crash").

/// Marks the event evaluated; false when it already was (it must not be counted again).
bool mark_event_evaluated(sql_connection& conn, const uuid& event, timestamp received);
/// The received time through which every event was handled; nullopt before it was first recorded.
std::optional<timestamp> evaluation_progress(sql_connection& conn);
void record_evaluation_progress(sql_connection& conn, timestamp handled_through, timestamp now);
/// Forgets the marks of events received before `before` (replays never read back that far).
void forget_evaluated_events(sql_connection& conn, timestamp before);

}  // namespace osprey::persistence

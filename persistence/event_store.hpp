#pragma once
// Named queries for events (tables `events` and `event_resources`, migration 5d55e5789a1a). Functions run on a
// connection the caller owns, inside the caller's transaction, and throw sql_error.
//
// Filters (domain/event.hpp) become SQL that selects exactly what domain::matches() accepts. Lists travel as
// one JSON-array parameter each (json_each on SQLite, jsonb_array_elements_text on PostgreSQL), so a query's
// text depends only on which criteria are present, not on how many values they hold: PostgreSQL's per-connection
// prepared-statement cache stays small.

#include <cstdint>
#include <vector>

#include "domain/event.hpp"
#include "domain/event_counts.hpp"
#include "persistence/multi_row.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// Stores the events not stored yet (by id; a repeated id — stored earlier or earlier in `events` — is
/// skipped) with one event_resources row per resource. Every event must have `received` set. Returns, per
/// input event, whether it was new.
std::vector<bool> insert_events(sql_connection& conn, const std::vector<event>& events, timestamp recorded);

/// The same write split in two, so that its CPU work (JSON serialised, row ids drawn, rows cut into multi-row
/// statements) can be done before the write, off the writer thread. A prepared insert may run more than once
/// (a rolled-back batch is retried); it only reads itself.
struct event_insert {
  std::vector<uuid> ids;  ///< the events' ids, in input order
  /// INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id, in chunks.
  std::vector<chunk_statements::statement> events;
  /// Every event's event_resources rows, written when every event is new (else those of the new ones are made).
  std::vector<chunk_statements::statement> resources;
  timestamp recorded{};
};
event_insert prepare_event_insert(const std::vector<event>& events, timestamp recorded);
/// Writes `prepared`, made from these `events`; returns what insert_events returns.
std::vector<bool> insert_prepared_events(sql_connection& conn, const std::vector<event>& events,
                                         const event_insert& prepared);
/// The same for events held in several batches (the event bus writes the publications that wait together as
/// one insert): pointers into them, in order; they must outlive the call.
using event_refs = std::vector<const event*>;
event_insert prepare_event_insert(const event_refs& events, timestamp recorded);
std::vector<bool> insert_prepared_events(sql_connection& conn, const event_refs& events, const event_insert& prepared);

/// Events matching `filter` in its order (occurred, then id, both ascending or both descending), at most
/// `limit` of them after skipping `offset`.
std::vector<event> query_events(sql_connection& conn, const event_filter& filter, std::int64_t limit,
                                std::int64_t offset);

/// The stored events among `ids`, in the order of `ids` (an id not stored is left out).
std::vector<event> events_with_ids(sql_connection& conn, const std::vector<uuid>& ids);

/// Events stored at or after `since` by the database's clock (events.updated: when their transaction
/// began), oldest first; when there are more than `limit`, the newest `limit` of them.
std::vector<event> events_stored_since(sql_connection& conn, timestamp since, std::int64_t limit);

/// Events received after `after` (exclusive), in received order (then id), at most `limit`: what the trigger
/// evaluator reads back after a crash.
std::vector<event> events_received_after(sql_connection& conn, timestamp after, std::int64_t limit);

/// How many events match `filter`.
std::int64_t count_events(sql_connection& conn, const event_filter& filter);

/// Events matching `filter` grouped by event name (label: the name) or by resource id (label: the resource's
/// prefect.resource.name, else prefect.name, else its id), for POST /api/events/count-by.
enum class event_grouping { event, resource };
std::vector<event_group> group_events(sql_connection& conn, const event_filter& filter, event_grouping by);

/// When each event matching `filter` occurred (the time spans of count-by are cut in domain/event_counts).
std::vector<timestamp> event_times(sql_connection& conn, const event_filter& filter);

}  // namespace osprey::persistence

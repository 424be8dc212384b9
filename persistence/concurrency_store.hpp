#pragma once
// Global concurrency limits (concurrency_limit_v2) and the leases on their slots (concurrency_lease).
// Run on a connection the caller owns, inside the caller's transaction; throw sql_error.
//
// Row queries first, then the slot operations the API and the lease reaper run as ONE write job each. Every
// slot operation reads the rows it changes inside that job (PostgreSQL: SELECT ... FOR UPDATE, in id order so
// two servers never deadlock; SQLite: the writer already holds the database lock), lets domain/concurrency.hpp
// decide, and writes the result: check and increment can never interleave with another increment, whatever
// the group commit puts in the same transaction. A refusal is an outcome, not an error, so it never fails
// its batch; a job that runs twice (the batch retry) simply decides again on the rolled-back rows.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/concurrency.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

// ---- limits ----

/// Inserts `l` (id and timestamps set by the caller). Throws sql_error kind constraint when the name is taken.
void insert_limit(sql_connection& conn, const concurrency_limit& l);
std::optional<concurrency_limit> find_limit(sql_connection& conn, const concurrency_limit_id& id);
std::optional<concurrency_limit> find_limit_by_name(sql_connection& conn, const std::string& name);
/// The stored limits among `names` (missing names are skipped), by name.
std::vector<concurrency_limit> limits_named(sql_connection& conn, const std::vector<std::string>& names);
/// `limit` limits from `offset`, by name.
std::vector<concurrency_limit> list_limits(sql_connection& conn, std::int64_t limit, std::int64_t offset);
/// Replaces every column of the stored limit with `l`'s (same id). False when there is none. Throws
/// kind constraint when the new name is taken.
bool update_limit(sql_connection& conn, const concurrency_limit& l);
bool delete_limit(sql_connection& conn, const concurrency_limit_id& id);

// ---- leases ----

void insert_lease(sql_connection& conn, const concurrency_lease& lease);
std::optional<concurrency_lease> find_lease(sql_connection& conn, const concurrency_lease_id& id);
/// Moves the expiration of a stored lease (expired or not: until the reaper took it, it still holds its
/// slots). False when there is no such lease.
bool renew_lease(sql_connection& conn, const concurrency_lease_id& id, timestamp expiration, timestamp now);
/// Deletes the lease without giving its slots back (Prefect's revoke_lease). False when there was none.
bool revoke_lease(sql_connection& conn, const concurrency_lease_id& id);
/// True when some lease expired before `now` (the reaper's cheap look before it writes).
bool any_expired_lease(sql_connection& conn, timestamp now);
/// Leases holding slots of `limit` that have not expired at `now`, oldest first.
std::vector<concurrency_lease> leases_holding(sql_connection& conn, const concurrency_limit_id& limit, timestamp now);

// ---- slot operations (each one whole write job) ----

struct acquire_request {
  std::vector<std::string> names;
  std::int64_t slots = 1;
  acquire_mode mode = acquire_mode::concurrency;
  /// With a lease: how long it lasts and who holds it. Without (POST /increment): slots are taken bare.
  std::optional<std::chrono::microseconds> lease_duration;
  std::optional<lease_holder> holder;
};

struct acquire_outcome {
  acquire_decision decision;
  std::vector<concurrency_limit> limits;      ///< every stored limit named, as read (active or not), by name
  std::optional<concurrency_lease_id> lease;  ///< granted with a lease on at least one limit: stored lease
};

/// Takes slots (and stores a lease) or records the refusal, in the caller's write transaction.
acquire_outcome acquire_slots(sql_connection& conn, const acquire_request& request, timestamp now,
                              const slot_wait_caps& caps);

/// POST /decrement: gives `slots` back to every active limit among `names`; returns every limit named.
std::vector<concurrency_limit> release_named(sql_connection& conn, const std::vector<std::string>& names,
                                             std::int64_t slots, std::optional<double> occupancy_seconds, timestamp now,
                                             const slot_wait_caps& caps);

/// Deletes the lease and gives its slots back (occupancy = its age). Returns the lease, or nullopt when
/// there was none (already released or reaped: nothing changes).
std::optional<concurrency_lease> release_lease(sql_connection& conn, const concurrency_lease_id& id, timestamp now,
                                               const slot_wait_caps& caps);

/// Releases up to `max` leases that expired before `now`, oldest first; returns how many.
std::size_t reap_expired_leases(sql_connection& conn, timestamp now, const slot_wait_caps& caps, std::size_t max);

/// Deletes every lease on `limit` without touching slot counts (the v1 reset and delete: the count is reset
/// or the limit goes). Returns how many.
std::size_t drop_leases_on(sql_connection& conn, const concurrency_limit_id& limit);

// ---- the v1 tag API, on the v2 limits named "tag:<tag>" (as Prefect 3.9.1 maps it) ----

struct tag_acquire_outcome {
  enum class verdict { granted, zero_limit, full } result = verdict::granted;
  std::string tag;                        ///< zero_limit / full: the tag that refused
  std::vector<concurrency_limit> limits;  ///< granted: the active tag limits that gave a slot, in `tags` order
};

/// One slot on every active "tag:<tag>" limit for task run `task_run`, under a lease that never needs renewing
/// (v1 clients cannot renew); all or nothing, no denied-slot bookkeeping (as Prefect's v1 route).
tag_acquire_outcome acquire_tag_slots(sql_connection& conn, const std::vector<std::string>& tags, const uuid& task_run,
                                      timestamp now, const slot_wait_caps& caps);
/// Releases the leases `task_run` holds on the "tag:<tag>" limits; returns those limits.
std::vector<concurrency_limit> release_tag_slots(sql_connection& conn, const std::vector<std::string>& tags,
                                                 const uuid& task_run, timestamp now, const slot_wait_caps& caps);
/// The v1 reset: drops every lease on `l`, sets its active slots to 0, then gives one slot under a v1 lease to
/// each task run in `holders`.
void reset_tag_limit(sql_connection& conn, const concurrency_limit& l, const std::vector<uuid>& holders, timestamp now);

}  // namespace osprey::persistence

#pragma once
// Named queries for notification policies and the delivery outbox. Run on a connection the caller owns,
// inside the caller's transaction; throw sql_error.
//
// The outbox is written in the same transaction as the state change that caused it (a transactional
// outbox), so a committed state never lacks its notifications and a rolled-back one never has any.
// Rows move pending -> delivered | dead; a pending row may carry a lease (lease_owner, lease_expires_at)
// while one sender works on it. One server owns a database, so at start every lease is released.
//
// The payload column is JSON: the notifier's title, message and values, plus "group_wait_ms" and
// "parts_done", which outbox_job holds as fields (group_wait, parts_done). Rows written by any earlier
// version read the same way.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/notification.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// Where an outbox row is in its life: pending (to send; maybe leased) -> delivered | dead.
enum class outbox_status { pending, delivered, dead };
/// "pending", "delivered", "dead" (the stored spelling).
const char* to_string(outbox_status status) noexcept;
/// The status to_string spells `text`; nullopt for anything else.
std::optional<outbox_status> parse_outbox_status(std::string_view text);

/// One outbox row.
struct outbox_job {
  uuid id;
  timestamp created;
  std::string policy_name;
  std::string channel_name;
  std::optional<flow_run_id> flow_run;
  std::optional<state_id> state;
  std::string state_name;
  std::string dedup_key;
  notification_kind kind = notification_kind::trigger;
  /// What the notifier renders: {"title", "message", "values": {template values}}.
  nlohmann::json payload = nlohmann::json::object();
  /// The policy's group_wait when the job was enqueued: a trigger waits this long for others of its policy,
  /// to be sent folded into one message (0: sent at once).
  std::chrono::milliseconds group_wait{0};
  /// Indexes of the requests already delivered (Twilio: one per recipient), so a retry sends only the rest.
  std::vector<int> parts_done;
  outbox_status status = outbox_status::pending;
  std::int64_t attempts = 0;
  timestamp next_attempt_at;
  std::optional<std::string> lease_owner;
  std::optional<timestamp> lease_expires_at;
  std::optional<std::string> last_error;
  std::optional<timestamp> delivered_at;
};

/// Inserts the jobs; a job whose (policy, channel, state, kind) already exists is skipped (a replayed
/// transition must not notify twice). Returns the jobs actually inserted.
std::vector<outbox_job> insert_outbox_jobs(sql_connection& conn, const std::vector<outbox_job>& jobs);

/// Trigger jobs with `dedup_key` not yet followed by a resolve job of the same channel: the alerts a
/// recovery should close.
std::vector<outbox_job> open_alerts(sql_connection& conn, const std::string& dedup_key);

/// Releases every lease (at server start: the previous process is gone). Returns the rows released.
std::int64_t release_all_leases(sql_connection& conn);

/// Leases up to `limit` pending jobs due at `now` that nobody holds (or whose lease expired), oldest due
/// first, to `owner` until `lease_until`; returns them.
std::vector<outbox_job> lease_due_jobs(sql_connection& conn, const std::string& owner, timestamp now,
                                       timestamp lease_until, std::int64_t limit);

/// The earliest next_attempt_at of an unleased pending job, if any.
std::optional<timestamp> next_due_time(sql_connection& conn);

void mark_delivered(sql_connection& conn, const uuid& job, std::int64_t attempts, timestamp now);
/// Back to pending without a lease, due at `next_attempt`; records `job.parts_done` (the parts delivered so far).
void mark_retry(sql_connection& conn, const outbox_job& job, std::int64_t attempts, timestamp next_attempt,
                const std::string& error, timestamp now);
void mark_dead(sql_connection& conn, const uuid& job, std::int64_t attempts, const std::string& error, timestamp now);

/// Moves a dead (or pending) job back to pending, due now, attempts reset. False when no such job.
bool requeue_job(sql_connection& conn, const uuid& job, timestamp now);

/// Jobs with `status` (nullopt: any), newest first.
std::vector<outbox_job> list_outbox(sql_connection& conn, std::optional<outbox_status> status, std::int64_t limit);
std::optional<outbox_job> find_outbox_job(sql_connection& conn, const uuid& job);

struct outbox_counts {
  std::int64_t pending = 0;
  std::int64_t delivered = 0;
  std::int64_t dead = 0;
};
outbox_counts count_outbox(sql_connection& conn);

// --- policies ---------------------------------------------------------------------------------------------

/// Every stored policy, by name.
std::vector<notification_policy> list_policies(sql_connection& conn);
/// What changes whenever a policy is inserted, updated or deleted: their number and newest `updated` as text.
/// Several servers on one database compare it to learn that another server changed the policies.
std::string policies_fingerprint(sql_connection& conn);
std::optional<notification_policy> find_policy(sql_connection& conn, const uuid& id);
/// Inserts a policy (its id must be set). Throws sql_error kind constraint when the name is taken.
void insert_policy(sql_connection& conn, const notification_policy& policy, timestamp now);
/// Replaces the stored policy with the same id. False when there is none.
bool update_policy(sql_connection& conn, const notification_policy& policy, timestamp now);
bool delete_policy(sql_connection& conn, const uuid& id);
/// Makes the stored `source = 'file'` policies exactly `policies` (inserting, updating, deleting by name);
/// ids of policies that already existed are kept. An API policy with a file policy's name is replaced.
void sync_file_policies(sql_connection& conn, const std::vector<notification_policy>& policies, timestamp now);

}  // namespace osprey::persistence

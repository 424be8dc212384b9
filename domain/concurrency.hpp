#pragma once
// Prefect's global concurrency limits (v2) as pure rules: request validation, slot decay, the decision to
// grant or refuse slots, the bookkeeping of a release, and the Retry-After of a refusal. No I/O: the store
// reads the rows inside a write job, asks these functions, and writes what they return.
//
// Arithmetic follows Prefect 3.9.1's SQL (server/models/concurrency_limits_v2.py) value for value:
//   active after decay = max(0, active_slots - floor(slot_decay_per_second * seconds since `updated`))
//   denied after decay = max(0, denied_slots - floor(rate * seconds since `updated`)), rate = the decay when
//                        set, else 1 / clamp(avg_slot_occupancy_seconds, 0.1, wait cap of the limit)
// and every change of a row sets `updated` = now (Prefect's onupdate), which restarts both decays.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/field_problem.hpp"
#include "domain/status.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

using concurrency_limit_id = typed_id<struct concurrency_limit_tag>;
using concurrency_lease_id = typed_id<struct concurrency_lease_tag>;

/// A global concurrency limit (Prefect's ConcurrencyLimitV2) as stored. Tag limits of the v1 API are the
/// limits named "tag:<tag>".
struct concurrency_limit {
  concurrency_limit_id id;
  timestamp created;
  timestamp updated;  ///< the decays count from here
  bool active = true;
  std::string name;
  std::int64_t limit = 0;
  std::int64_t active_slots = 0;  ///< as stored; see active_slots_after_decay()
  std::int64_t denied_slots = 0;
  double slot_decay_per_second = 0;
  double avg_slot_occupancy_seconds = 2.0;
};

/// Who holds a lease (Prefect's ConcurrencyLeaseHolder).
struct lease_holder {
  std::string type;  ///< flow_run | task_run | deployment
  uuid id;
};

/// Slots taken from some limits until released or expired (Prefect's ResourceLease with its metadata).
struct concurrency_lease {
  concurrency_lease_id id;
  timestamp created;
  timestamp expiration;
  std::vector<concurrency_limit_id> resource_ids;  ///< the limits whose slots it holds
  std::int64_t slots = 0;
  std::optional<lease_holder> holder;
};

enum class acquire_mode { concurrency, rate_limit };

/// The caps on a refusal's wait when a limit has no decay (Prefect's defaults: tag limits
/// server.tasks.tag_concurrency_slot_wait_seconds = 10, others
/// server.concurrency.maximum_concurrency_slot_wait_seconds = 30).
struct slot_wait_caps {
  double tag_seconds = 10;
  double other_seconds = 30;
  /// The cap of the limit named `name` ("tag:..." takes tag_seconds).
  [[nodiscard]] double for_limit(const std::string& name) const;
};

// ---- validation (the messages are pydantic's) ----

/// Lease durations the API accepts, in seconds (Prefect: 60 <= lease_duration <= 86400).
inline constexpr double min_lease_seconds = 60;
inline constexpr double max_lease_seconds = 86400;
/// The largest slot count stored (PostgreSQL INTEGER columns); larger limits are refused, denied slots stop here.
inline constexpr std::int64_t max_slot_count = 2147483647;
/// The TTL of leases taken through the v1 API, whose clients cannot renew (Prefect: ~100 years).
inline constexpr std::chrono::hours v1_lease_ttl{24 * 365 * 100};

/// Checks a limit's fields as ConcurrencyLimitV2Create/Update do (name like any Prefect name; limit,
/// active_slots and denied_slots >= 0 and, unlike Prefect, <= max_slot_count; slot_decay_per_second >= 0).
/// Returns the first problem, if any.
std::optional<field_problem> validate_limit(const concurrency_limit& l);

/// "concurrency" / "rate_limit"; nullopt for anything else.
std::optional<acquire_mode> parse_acquire_mode(const std::string& text);

// ---- decay ----

std::int64_t active_slots_after_decay(const concurrency_limit& l, timestamp now);
std::int64_t denied_slots_after_decay(const concurrency_limit& l, timestamp now, const slot_wait_caps& caps);

// ---- acquire ----

enum class acquire_verdict {
  granted,         ///< every active limit took the slots (no active limit at all also counts)
  locked,          ///< some active limit is full: 423 with Retry-After
  too_many_slots,  ///< 422 "Slots requested is greater than the limit"
  needs_decay,     ///< 422: rate_limit mode on a limit without slot decay
};

struct acquire_decision {
  acquire_verdict verdict = acquire_verdict::granted;
  /// The rows to store: granted → every active limit with slots taken (and its denied slots decayed);
  /// locked → every active limit with `slots` more denied slots. Empty for the 422 verdicts.
  std::vector<concurrency_limit> changed;
  std::string detail;              ///< the 422 detail
  double retry_after_average = 0;  ///< locked: the mean wait in seconds before jitter
};

/// Decides a request for `slots` slots on `limits` (every stored limit named in the request, active or not),
/// at `now`. Pure; `slots` > 0.
acquire_decision decide_acquire(const std::vector<concurrency_limit>& limits, std::int64_t slots, acquire_mode mode,
                                timestamp now, const slot_wait_caps& caps);

// ---- release ----

/// `l` after `slots` slots were given back at `now` (active slots never below 0, denied slots decayed). With
/// `occupancy_seconds` (> 0) the average occupancy moves towards occupancy / slots (at least 0.1 s) as a
/// running average over the last 2 * limit samples.
concurrency_limit released(const concurrency_limit& l, std::int64_t slots, std::optional<double> occupancy_seconds,
                           timestamp now, const slot_wait_caps& caps);

// ---- Retry-After ----

/// Prefect's clamped_poisson_interval: an exponential variate with mean `average`, clamped to
/// [c * average, 1.3 * average] where c keeps the mean about `average`. `uniform` in [0, 1] picks the point
/// (0 → lower bound, 1 → upper bound). 0 when average <= 0.
double clamped_poisson_interval(double average, double uniform);

/// Seconds as Prefect writes the Retry-After header (Python's repr of a float, e.g. "0.6931471805599453").
std::string format_retry_after(double seconds);

/// Seconds between two instants, as a double.
double seconds_between(timestamp from, timestamp to);

}  // namespace osprey

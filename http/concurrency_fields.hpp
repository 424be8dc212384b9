#pragma once
// Internal to http/: reading the bodies of the concurrency-limit routes the way FastAPI/pydantic validate them
// (lax ints, bounds, literals; the first refusal becomes a 422 with pydantic's message and type), and
// Prefect's JSON shapes of limits and leases.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "domain/concurrency.hpp"
#include "http/message.hpp"

namespace osprey::http::concurrency_fields {

/// Reads named fields of one JSON object; each reader returns false after filling error() on the first
/// refusal. Absent and null fields leave `out` as it is (set defaults first) unless marked required.
class reader {
 public:
  explicit reader(const nlohmann::json& body) : body_(body) {}

  /// An integer (a JSON integer, or a float without a fraction, as pydantic's lax mode) with min <= v.
  /// `strict_min` makes the bound exclusive (pydantic's gt).
  bool integer(const char* key, std::int64_t& out, std::int64_t min, bool strict_min = false, bool required = false);
  /// A number in [min, max].
  bool number(const char* key, double& out, double min, double max);
  bool boolean(const char* key, bool& out);
  bool string(const char* key, std::string& out, bool required = false);
  /// A list of strings with at least `min_items` items.
  bool strings(const char* key, std::vector<std::string>& out, std::size_t min_items, bool required);
  bool uuid_value(const char* key, std::optional<uuid>& out, bool required);
  /// "concurrency" | "rate_limit".
  bool mode(const char* key, acquire_mode& out);
  /// A ConcurrencyLeaseHolder {"type": "flow_run"|"task_run"|"deployment", "id": uuid}.
  bool holder(const char* key, std::optional<lease_holder>& out);
  /// Accepts the key and ignores its value (deprecated parameters).
  bool ignored(const char* key);
  /// Fails on the first key no reader asked for (extra="forbid").
  bool finish();

  [[nodiscard]] const response& error() const { return error_; }
  /// True when the key is present and not null.
  [[nodiscard]] bool given(const char* key) const;

 private:
  const nlohmann::json* find(const char* key);
  bool fail(const std::string& location, const std::string& message, const std::string& type);

  const nlohmann::json& body_;
  std::vector<std::string> seen_;
  response error_;
};

/// The body of a route whose parameters all have defaults: an empty body or `null` reads as {}.
std::optional<nlohmann::json> optional_object_body(const request& req, response& error);

/// Prefect's ConcurrencyLimitV2 (create answer): every column as stored.
nlohmann::json limit_json(const concurrency_limit& l);
/// Prefect's GlobalConcurrencyLimitResponse (read, filter): active slots after decay at `now`.
nlohmann::json global_limit_json(const concurrency_limit& l, timestamp now);
/// Prefect's MinimalConcurrencyLimitResponse {id, name, limit}.
nlohmann::json minimal_json(const concurrency_limit& l, const std::string& name);
/// Prefect's v1 ConcurrencyLimit {id, created, updated, tag, concurrency_limit, active_slots: [task run ids]}.
nlohmann::json v1_limit_json(const concurrency_limit& l, const std::vector<concurrency_lease>& holding);

/// 423 Locked with Prefect's Retry-After: the mean wait jittered by clamped_poisson_interval.
response locked(double average_wait_seconds);
/// 409 as Prefect answers a unique-key violation.
response integrity_conflict();

}  // namespace osprey::http::concurrency_fields

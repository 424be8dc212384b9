#pragma once
// Internal to http/: the bodies of the work-pool and work-queue routes read as Prefect's action models validate
// them (WorkPoolCreate/Update, WorkQueueCreate/Update: extra keys refused, names without / % & > <), and
// Prefect's JSON shapes of pools, queues and workers (WorkPoolResponse, WorkQueueResponse, WorkerResponse).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "domain/filters.hpp"
#include "domain/work_pool.hpp"
#include "http/message.hpp"

namespace osprey::http::work_pool_fields {

/// A PATCH field: absent (nullopt), or set to a value or to null (the inner optional empty).
template <class T>
using patch = std::optional<std::optional<T>>;

struct pool_update {
  patch<std::string> description;
  std::optional<bool> is_paused;
  std::optional<nlohmann::json> base_job_template;
  patch<std::int64_t> concurrency_limit;
  std::optional<nlohmann::json> storage_configuration;
  /// True when a key other than is_paused / concurrency_limit is set (reserved pools refuse those).
  bool touches_more_than_pause_or_limit = false;
};

struct queue_update {
  std::optional<std::string> name;
  patch<std::string> description;
  std::optional<bool> is_paused;
  patch<std::int64_t> concurrency_limit;
  std::optional<std::int64_t> priority;
  patch<timestamp> last_polled;
  std::optional<nlohmann::json> filter;
};

/// WorkPoolCreate onto `pool` (name, description, type, base_job_template, is_paused, concurrency_limit,
/// storage_configuration). False with a 422 in `error`.
bool read_pool_create(const nlohmann::json& body, work_pool& pool, response& error);
bool read_pool_update(const nlohmann::json& body, pool_update& out, response& error);
/// WorkQueueCreate onto `queue`; `priority` is set only when the body gives one.
bool read_queue_create(const nlohmann::json& body, work_queue& queue, std::optional<std::int64_t>& priority,
                       response& error);
bool read_queue_update(const nlohmann::json& body, queue_update& out, response& error);

/// The update applied to `pool` (status decided by the caller).
void apply(const pool_update& u, work_pool& pool);
/// The update applied to `queue`, except priority and status (decided by the caller).
void apply(const queue_update& u, work_queue& queue);

/// WorkPoolResponse; active_slots only when the pool has a concurrency limit.
nlohmann::json pool_json(const work_pool& pool, std::optional<std::int64_t> active_slots = std::nullopt);
/// WorkQueueResponse.
nlohmann::json queue_json(const work_queue& queue, std::optional<std::int64_t> active_slots = std::nullopt);
/// WorkerResponse.
nlohmann::json worker_json(const worker& w);

/// The body of a filter or count route: the filter under `filter_key` (null when absent), limit (LimitBody:
/// 0..200, default 200; null means the default) and offset (>= 0). Other keys are ignored, as FastAPI ignores
/// unknown keys of a body made of several parameters. An empty body reads as {}.
struct listing {
  nlohmann::json body;  ///< the whole body, for routes with more parameters
  nlohmann::json filter;
  std::int64_t limit = 200;
  std::int64_t offset = 0;
};
std::optional<listing> read_listing(const request& req, const char* filter_key, response& error);

/// A filter parsed by domain/filters (parse_work_pool_filter, ...): nullopt inside when `value` is null; on
/// failure false with the 422 in `error`.
template <class F, class Parse>
bool parse_filter(const nlohmann::json& value, const char* key, Parse parse, std::optional<F>& out, response& error);

/// Prefect's 404 details.
response pool_not_found(const std::string& pool);
response queue_not_found(const std::string& pool, const std::string& queue);

/// The 422 for a refused filter body (plain {"detail"} for LimitBody-style refusals).
response filter_refusal(const std::string& location, const std::string& message, const std::string& type);

template <class F, class Parse>
bool parse_filter(const nlohmann::json& value, const char* key, Parse parse, std::optional<F>& out, response& error) {
  if (value.is_null()) return true;
  filters::filter_error refused;
  auto parsed = parse(value, {key}, refused);
  if (!parsed) {
    std::string where;
    for (const auto& part : refused.location) where += (where.empty() ? "" : ".") + part;
    error = filter_refusal(where, refused.message, refused.type);
    return false;
  }
  out = std::move(*parsed);
  return true;
}

}  // namespace osprey::http::work_pool_fields

#pragma once
// Prefect's filter grammar (reference §2.11) as a typed tree. Every POST …/filter, …/count and …/paginate body
// is parsed here, validated the way Prefect's request models validate it (unknown keys refused, types checked,
// UUIDs, datetimes and enums parsed, Prefect's limit/offset/page defaults and bounds), and handed on to
// persistence/filter_sql.hpp, which compiles it to SQL. Pure: no SQL, no HTTP.
//
// The tree mirrors PrefectHQ/prefect src/prefect/server/schemas/filters.py: one struct per filter model, one
// criterion struct per kind of column. A criterion that is present but empty matches everything (Prefect's
// `sa.true()`), so it still counts when its filter combines with "or_".
//
// Semantics kept from Prefect on purpose:
//   * `any_` with an empty list matches nothing; `not_any_` and `all_` with an empty list are ignored.
//   * `like_` is a case-insensitive substring match; an empty string is ignored.
//   * `before_` / `after_` are inclusive. A flow run's start_time criterion compares
//     COALESCE(start_time, expected_start_time), as Prefect does.
//   * Task runs' `flow_run_id.is_null_` defaults to false: {"flow_run_id": {}} means "has a flow run".
//   * A filter object present in the body (even `{}`) makes its cross-entity EXISTS required: flows filtered
//     by `flow_runs: {}` are the flows that have at least one run.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "domain/state.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey::filters {

/// How a filter combines its criteria: the body's "operator": "and_" (default) or "or_".
enum class op { and_, or_ };

template <class T>
using list = std::optional<std::vector<T>>;  ///< nullopt: the key was absent or null

/// An id column: any_, not_any_, is_null_.
struct id_criterion {
  list<uuid> any;
  list<uuid> not_any;
  std::optional<bool> is_null;
  op combine = op::and_;
};

/// A text column: any_, not_any_, like_ (substring, case-insensitive), startswith_ (any of, case-insensitive),
/// is_null_.
struct text_criterion {
  list<std::string> any;
  list<std::string> not_any;
  std::optional<std::string> like;
  list<std::string> startswith;
  std::optional<bool> is_null;
  op combine = op::and_;
};

/// A JSON array of tags: all_ (superset), any_ (overlap), is_null_ (true: no tags).
struct tags_criterion {
  list<std::string> all;
  list<std::string> any;
  std::optional<bool> is_null;
  op combine = op::and_;
};

/// A timestamp column: before_ (<=), after_ (>=), is_null_.
struct time_criterion {
  std::optional<timestamp> before;
  std::optional<timestamp> after;
  std::optional<bool> is_null;
};

/// An integer column: ge_, le_.
struct int_criterion {
  std::optional<std::int64_t> ge;
  std::optional<std::int64_t> le;
};

/// A yes/no criterion: FlowFilter.deployment.is_null_, DeploymentFilter.paused.eq_,
/// TaskRunFilter.subflow_runs.exists_. nullopt value: no condition.
struct bool_criterion {
  std::optional<bool> value;
  op combine = op::and_;
};

/// A run's current state: type {any_, not_any_}, name {any_, not_any_}.
struct state_criterion {
  list<state_type> type_any;
  list<state_type> type_not_any;
  list<std::string> name_any;
  list<std::string> name_not_any;
  op combine = op::and_;
};

/// FlowRun.created_by (JSON {id, type, display_value}): id_ (any of), type_ (any of), is_null_.
struct created_by_criterion {
  list<uuid> id_any;
  list<std::string> type_any;
  std::optional<bool> is_null;
  op combine = op::and_;
};

/// Log text search, parsed from Prefect's query syntax: space-separated terms match any (OR); `-term` or `!term`
/// excludes; `+term` is required; "quoted phrases" (with \" escapes) are one term. Case-insensitive substring
/// matching against "<message> <logger name>".
struct text_search {
  std::string query;  ///< as given (at most 200 characters)
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  std::vector<std::string> required;
};
/// Splits a text-search query into its terms (never fails; an empty query has no terms).
text_search parse_text_search(const std::string& query);

struct flow_filter {
  op combine = op::and_;
  std::optional<id_criterion> id;            ///< any_, not_any_
  std::optional<bool_criterion> deployment;  ///< is_null_ (true: flows without deployments), operator
  std::optional<text_criterion> name;        ///< any_, like_
  std::optional<tags_criterion> tags;        ///< all_, is_null_, operator
};

struct flow_run_filter {
  op combine = op::and_;
  std::optional<id_criterion> id;                           ///< any_, not_any_
  std::optional<text_criterion> name;                       ///< any_, like_
  std::optional<tags_criterion> tags;                       ///< all_, any_, is_null_, operator
  std::optional<id_criterion> deployment_id;                ///< any_, is_null_, operator
  std::optional<text_criterion> work_queue_name;            ///< any_, is_null_, operator
  std::optional<state_criterion> state;                     ///< type{any_, not_any_}, name{any_, not_any_}, operator
  std::optional<text_criterion> flow_version;               ///< any_
  std::optional<time_criterion> start_time;                 ///< before_, after_, is_null_
  std::optional<time_criterion> end_time;                   ///< before_, after_, is_null_
  std::optional<time_criterion> expected_start_time;        ///< before_, after_
  std::optional<time_criterion> next_scheduled_start_time;  ///< before_, after_
  std::optional<id_criterion> parent_flow_run_id;           ///< any_ (subflows of these runs), operator
  std::optional<id_criterion> parent_task_run_id;           ///< any_, is_null_, operator
  std::optional<text_criterion> idempotency_key;            ///< any_, not_any_
  std::optional<created_by_criterion> created_by;           ///< id_, type_, is_null_, operator
};

struct task_run_filter {
  op combine = op::and_;
  std::optional<id_criterion> id;                     ///< any_
  std::optional<text_criterion> name;                 ///< any_, like_
  std::optional<tags_criterion> tags;                 ///< all_, is_null_, operator
  std::optional<state_criterion> state;               ///< type{any_}, name{any_}, operator
  std::optional<time_criterion> start_time;           ///< before_, after_, is_null_
  std::optional<time_criterion> end_time;             ///< before_, after_, is_null_
  std::optional<time_criterion> expected_start_time;  ///< before_, after_
  std::optional<bool_criterion> subflow_runs;         ///< exists_ (true: parents of subflow runs)
  std::optional<id_criterion> flow_run_id;            ///< any_, is_null_ (defaults to false), operator
};

struct deployment_filter {
  op combine = op::and_;
  std::optional<id_criterion> id;                         ///< any_, not_any_
  std::optional<text_criterion> name;                     ///< any_, like_
  std::optional<text_criterion> flow_or_deployment_name;  ///< like_ (deployment name or its flow's name)
  std::optional<bool_criterion> paused;                   ///< eq_
  std::optional<tags_criterion> tags;                     ///< all_, any_, is_null_, operator
  std::optional<text_criterion> work_queue_name;          ///< any_
  // concurrency_limit {ge_, le_, is_null_} is accepted and ignored, as Prefect does (deprecated).
};

struct work_pool_filter {
  op combine = op::and_;
  std::optional<id_criterion> id;      ///< any_
  std::optional<text_criterion> name;  ///< any_
  std::optional<text_criterion> type;  ///< any_
};

struct work_queue_filter {
  op combine = op::and_;
  std::optional<id_criterion> id;      ///< any_
  std::optional<text_criterion> name;  ///< any_, startswith_
};

/// WorkerFilter (the workers of one pool).
struct worker_filter {
  op combine = op::and_;
  std::optional<time_criterion> last_heartbeat_time;  ///< before_, after_
  std::optional<text_criterion> status;               ///< any_, not_any_ (ONLINE, OFFLINE)
};

struct log_filter {
  op combine = op::and_;
  std::optional<int_criterion> level;       ///< ge_, le_
  std::optional<time_criterion> at;         ///< body key "timestamp": before_, after_
  std::optional<id_criterion> flow_run_id;  ///< any_
  std::optional<id_criterion> task_run_id;  ///< any_, is_null_
  std::optional<text_search> text;          ///< query
};

/// The filters of one request body; each present filter narrows the result (AND), cross-entity ones through
/// EXISTS (flow runs whose flow matches `flows`, …). Body keys: flows, flow_runs, task_runs, deployments,
/// work_pools, work_pool_queues.
struct filter_set {
  std::optional<flow_filter> flows;
  std::optional<flow_run_filter> flow_runs;
  std::optional<task_run_filter> task_runs;
  std::optional<deployment_filter> deployments;
  std::optional<work_pool_filter> work_pools;
  std::optional<work_queue_filter> work_queues;  ///< body key "work_pool_queues"
};

enum class flow_sort { created_desc, updated_desc, name_asc, name_desc };
enum class flow_run_sort {
  id_desc,
  start_time_asc,
  start_time_desc,
  expected_start_time_asc,
  expected_start_time_desc,
  name_asc,
  name_desc,
  next_scheduled_start_time_asc,
  end_time_desc
};
enum class task_run_sort {
  id_desc,
  expected_start_time_asc,
  expected_start_time_desc,
  name_asc,
  name_desc,
  next_scheduled_start_time_asc,
  end_time_desc
};
enum class log_sort { timestamp_asc, timestamp_desc };
enum class deployment_sort { created_desc, updated_desc, name_asc, name_desc };

/// Wire names ("NAME_ASC", …).
const char* to_string(flow_sort s) noexcept;
const char* to_string(flow_run_sort s) noexcept;
const char* to_string(task_run_sort s) noexcept;
const char* to_string(log_sort s) noexcept;
const char* to_string(deployment_sort s) noexcept;

/// PREFECT_SERVER_API_DEFAULT_LIMIT: the limit when none is given, and the largest one accepted.
inline constexpr std::int64_t default_limit = 200;

/// Which rows of the ordered result to return. For paginate bodies `offset` = (page - 1) * limit (saturating).
struct page_window {
  std::int64_t limit = default_limit;
  std::int64_t offset = 0;
  std::int64_t page = 1;  ///< paginate only

  /// Pages needed for `count` rows at this limit (0 when limit is 0), as Prefect's pagination responses say.
  [[nodiscard]] std::int64_t pages(std::int64_t count) const { return limit > 0 ? (count + limit - 1) / limit : 0; }
};

/// Which route the body is for: filter (sort, limit, offset), count (filters only) or paginate (sort, limit,
/// page).
enum class body_kind { filter, count, paginate };

template <class Sort>
struct query {
  filter_set filters;
  Sort sort{};
  page_window window;
};
using flow_query = query<flow_sort>;              ///< default sort NAME_ASC
using flow_run_query = query<flow_run_sort>;      ///< default sort ID_DESC
using task_run_query = query<task_run_sort>;      ///< default sort ID_DESC
using deployment_query = query<deployment_sort>;  ///< default sort NAME_ASC

struct log_query {
  std::optional<log_filter> logs;
  log_sort sort = log_sort::timestamp_asc;
  page_window window;
};

/// Why a body was refused, shaped like one pydantic error: where (["flow_runs", "name", "like_"]), what, and
/// pydantic's error type ("extra_forbidden", "uuid_parsing", "enum", …).
struct filter_error {
  std::vector<std::string> location;
  std::string message;
  std::string type;
  /// Prefect answers out-of-range limits from route code (HTTPException): 422 {"detail": message} only.
  bool plain_detail = false;

  /// "flow_runs.name.like_: Input should be a valid string".
  [[nodiscard]] std::string describe() const;
};

/// Parse a whole request body (a JSON object; null values mean "absent", as FastAPI treats them). Success fills
/// the result; failure returns nullopt and fills `error`. Accepted top-level keys (anything else is refused):
///   flows routes:     flows, flow_runs, task_runs, deployments, work_pools (+ "work_queues", which the Prefect
///                     client sends to /flows/filter and Prefect ignores; ignored here too)
///   flow_runs routes: flows, flow_runs, task_runs, deployments, work_pools, work_pool_queues
///   task_runs routes: flows, flow_runs, task_runs, deployments
///   logs/filter:      logs, sort, limit, offset
/// plus sort/limit/offset (filter) or sort/limit/page (paginate); count takes filters only (sort, limit, offset
/// and page are accepted there and ignored, as Prefect ignores them).
std::optional<flow_query> parse_flow_query(const nlohmann::json& body, body_kind kind, filter_error& error);
std::optional<flow_run_query> parse_flow_run_query(const nlohmann::json& body, body_kind kind, filter_error& error);
std::optional<task_run_query> parse_task_run_query(const nlohmann::json& body, body_kind kind, filter_error& error);
/// deployments routes: flows, flow_runs, task_runs, deployments, work_pools, work_pool_queues.
std::optional<deployment_query> parse_deployment_query(const nlohmann::json& body, body_kind kind, filter_error& error);
std::optional<log_query> parse_log_query(const nlohmann::json& body, filter_error& error);

/// Single filter objects, for routes with other body shapes (e.g. the /api/logs/out WebSocket filter).
/// `location` prefixes error locations.
std::optional<flow_filter> parse_flow_filter(const nlohmann::json& value, const std::vector<std::string>& location,
                                             filter_error& error);
std::optional<flow_run_filter> parse_flow_run_filter(const nlohmann::json& value,
                                                     const std::vector<std::string>& location, filter_error& error);
std::optional<task_run_filter> parse_task_run_filter(const nlohmann::json& value,
                                                     const std::vector<std::string>& location, filter_error& error);
std::optional<deployment_filter> parse_deployment_filter(const nlohmann::json& value,
                                                         const std::vector<std::string>& location, filter_error& error);
std::optional<work_pool_filter> parse_work_pool_filter(const nlohmann::json& value,
                                                       const std::vector<std::string>& location, filter_error& error);
std::optional<work_queue_filter> parse_work_queue_filter(const nlohmann::json& value,
                                                         const std::vector<std::string>& location, filter_error& error);
std::optional<worker_filter> parse_worker_filter(const nlohmann::json& value, const std::vector<std::string>& location,
                                                 filter_error& error);
std::optional<log_filter> parse_log_filter(const nlohmann::json& value, const std::vector<std::string>& location,
                                           filter_error& error);

}  // namespace osprey::filters

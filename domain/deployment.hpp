#pragma once
// A deployment and its schedules as Prefect 3.9.1 models them (Deployment, DeploymentSchedule), and the pure
// rules around them: how a re-applied deployment's schedules are replaced, the flow runs a schedule asks for,
// and how a run created from a deployment takes the deployment's defaults. JSON-typed fields stay JSON.

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "domain/concurrency.hpp"
#include "domain/flow_run.hpp"
#include "domain/schedule.hpp"
#include "domain/status.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

using deployment_id = typed_id<struct deployment_tag>;
using deployment_schedule_id = typed_id<struct deployment_schedule_tag>;

struct deployment_schedule {
  deployment_schedule_id id;
  timestamp created{};
  timestamp updated{};
  deployment_id deployment;
  schedule when;
  bool active = true;
  std::optional<std::int64_t> max_scheduled_runs;
  nlohmann::json parameters = nlohmann::json::object();
  std::optional<std::string> slug;
};

struct deployment {
  deployment_id id;
  timestamp created{};
  timestamp updated{};
  std::string name;
  flow_id flow;
  std::optional<std::string> version;
  std::optional<std::string> description;
  bool paused = false;
  std::vector<deployment_schedule> schedules;
  std::optional<std::int64_t> concurrency_limit;  ///< the value of its own limit "deployment:<id>", as Prefect keeps it
  nlohmann::json concurrency_options;             ///< null or {collision_strategy, grace_period_seconds}
  std::optional<uuid> concurrency_limit_id;       ///< the global limit its runs take slots of
  std::optional<::osprey::concurrency_limit> global_concurrency_limit;  ///< that limit, read with the deployment
  nlohmann::json job_variables = nlohmann::json::object();              ///< column infra_overrides
  nlohmann::json parameters = nlohmann::json::object();
  std::vector<std::string> tags;
  nlohmann::json labels = nlohmann::json::object();
  std::optional<std::string> work_queue_name;
  std::optional<uuid> work_queue_id;
  std::optional<std::string> work_pool_name;  ///< read through work_queue → work_pool, never stored here
  std::optional<timestamp> last_polled;
  nlohmann::json parameter_openapi_schema;  ///< null or a JSON Schema object
  bool enforce_parameter_schema = true;
  std::optional<std::string> path;
  std::optional<std::string> entrypoint;
  nlohmann::json pull_steps;  ///< null or a list
  std::optional<uuid> storage_document_id;
  std::optional<uuid> infrastructure_document_id;
  nlohmann::json created_by;
  nlohmann::json updated_by;
  std::string status = "NOT_READY";  ///< READY once polled
};

/// A schedule as a create or update request gives it (DeploymentScheduleCreate / DeploymentScheduleUpdate):
/// absent fields are nullopt.
struct schedule_change {
  std::optional<schedule> when;
  std::optional<bool> active;
  std::optional<std::int64_t> max_scheduled_runs;
  std::optional<nlohmann::json> parameters;
  std::optional<std::string> slug;
  std::optional<std::string> replaces;
};

/// What PATCH /api/deployments/{id} does with the schedules it is given, by Prefect's rule:
///  - not every existing schedule has a slug: replace them all with the given ones (re-serving a flow, whose
///    schedules carry no slug, takes this path);
///  - every existing and every given schedule has a slug: patch the ones whose slug (or `replaces`) names an
///    existing schedule, create the others, keep the rest;
///  - the existing ones all have slugs but a given one has none: refuse (422), nothing is changed.
struct schedule_plan {
  bool replace_all = false;  ///< delete every schedule, create `create`
  std::vector<schedule_change> create;
  std::vector<std::pair<deployment_schedule_id, schedule_change>> patch;
  std::optional<std::string> refusal;  ///< the 422 detail; nothing may be written
};
schedule_plan plan_schedule_update(const std::vector<deployment_schedule>& existing,
                                   const std::vector<schedule_change>& given);

/// The idempotency key of the run `schedule` asks for at `at` (Prefect's "scheduled {deployment} {schedule}
/// {time}"): the same date of the same schedule can never be inserted twice, whatever restarts in between.
std::string scheduled_run_key(const deployment_id& d, const deployment_schedule_id& s, timestamp at);

/// The flow run a schedule asks for at `at`: Scheduled at `at`, auto_scheduled, tags "auto-scheduled" + the
/// deployment's, parameters = the deployment's overlaid with the schedule's, created_by naming the schedule.
/// The caller gives the run its id and name.
flow_run scheduled_run(const deployment& d, const deployment_schedule& s, timestamp at, timestamp now);

/// What a run created from a deployment asks for beyond the run itself (Prefect's DeploymentFlowRunCreate).
struct deployment_run_request {
  flow_run run;                                          ///< name, context, idempotency key, labels, job variables, ...
  nlohmann::json parameters = nlohmann::json::object();  ///< laid over the deployment's
  std::vector<std::string> tags;                         ///< added to the deployment's
  std::optional<bool> enforce;                           ///< enforce_parameter_schema; unset: the deployment's
  std::optional<std::string> work_queue_name;            ///< a queue of the deployment's pool
};

/// A queue of a pool found by name: its id and name; nullopt when the pool has no such queue.
struct named_queue {
  uuid id;
  std::string name;
};
using queue_finder = std::function<std::optional<named_queue>(const std::string& pool, const std::string& queue)>;

/// The run `r` and the deployment make together (Prefect's create_flow_run_from_deployment): parameters
/// merged and checked against the schema when enforced (errc::conflict with Prefect's detail), the
/// deployment's tags, queue, infrastructure and labels (prefect.flow.id, prefect.deployment.id), the
/// requested queue looked up in the deployment's pool (errc::invalid_argument without a pool, not_found when
/// the pool has no such queue).
result<flow_run> merge_deployment_run(const deployment& d, deployment_run_request r, const queue_finder& find_queue);

}  // namespace osprey

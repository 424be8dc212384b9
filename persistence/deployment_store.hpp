#pragma once
// Named queries for deployments, their schedules, and the flow runs the scheduler manages. Run on a connection
// the caller owns, inside the caller's transaction; throw sql_error.
//
// A deployment read here comes with its schedules (newest first) and its work pool's name (through its work
// queue). Schedules are stored as Prefect's schedule JSON and parsed back with domain/schedule.hpp; a stored
// schedule that no longer parses (its time zone left the system database) is skipped.

#include <optional>
#include <string>
#include <vector>

#include "domain/deployment.hpp"
#include "domain/schedule.hpp"
#include "domain/uuid.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// The deployment's name; nullopt when there is no such deployment (a run may outlive its deployment).
std::optional<std::string> find_deployment_name(sql_connection& conn, const uuid& deployment);
std::optional<deployment> find_deployment(sql_connection& conn, const deployment_id& id);
std::optional<deployment> find_deployment_by_name(sql_connection& conn, const flow_id& flow, const std::string& name);
/// By the flow's name and the deployment's name (GET /api/deployments/name/{flow}/{deployment}).
std::optional<deployment> find_deployment_by_names(sql_connection& conn, const std::string& flow_name,
                                                   const std::string& name);

/// Deployments matching `where` (SQL over alias `d`, from filter_sql's deployment_where), ordered.
std::vector<deployment> select_deployments(sql_connection& conn, const std::string& where, const sql_params& params,
                                           const std::string& order_by, std::int64_t limit, std::int64_t offset);
std::int64_t count_deployments(sql_connection& conn, const std::string& where, const sql_params& params);

/// Inserts `d` (its columns; schedules are written separately).
void insert_deployment(sql_connection& conn, const deployment& d);
/// Writes every column of `d` except id, created, flow_id and name. Returns false when it does not exist.
bool update_deployment(sql_connection& conn, const deployment& d);
/// Returns false when it did not exist. Its schedules go with it; its runs keep running without it.
bool delete_deployment(sql_connection& conn, const deployment_id& id);
/// The ids of the flow's deployments.
std::vector<deployment_id> deployment_ids_of_flow(sql_connection& conn, const flow_id& f);
/// Sets `paused`; returns false when the deployment does not exist.
bool set_deployment_paused(sql_connection& conn, const deployment_id& id, bool paused, timestamp now);
/// Prefect's pause_deployment / resume_deployment: sets `paused`; a pause also deletes the deployment's
/// auto-scheduled runs still Scheduled. errc::not_found "Deployment not found".
status pause_deployment(sql_connection& conn, const deployment_id& id, bool paused, timestamp now);
/// Marks the deployments polled by a runner: status READY, last_polled = now.
void mark_deployments_polled(sql_connection& conn, const std::vector<uuid>& ids, timestamp now);

void insert_schedule(sql_connection& conn, const deployment_schedule& s);
/// Writes when, active, max_scheduled_runs, parameters and slug. Returns false when no such schedule of `d`.
bool update_schedule(sql_connection& conn, const deployment_schedule& s);
bool delete_schedule(sql_connection& conn, const deployment_id& d, const deployment_schedule_id& s);
void delete_schedules(sql_connection& conn, const deployment_id& d);
std::vector<deployment_schedule> schedules_of(sql_connection& conn, const deployment_id& d);

/// Deletes the deployment's flow runs that are still Scheduled and never ran (Prefect's _delete_scheduled_runs;
/// AwaitingConcurrencySlot runs are kept): only auto-scheduled ones when `auto_only`, only those due after
/// `now` when `future_only`. Returns how many.
std::int64_t delete_scheduled_runs(sql_connection& conn, const deployment_id& d, bool auto_only, bool future_only,
                                   timestamp now);

/// Up to `batch` non-paused deployments, in id order after `after` (nullopt: from the start), having an active
/// schedule with fewer than `w.min_runs` auto-scheduled runs still due from `now`, or none due past
/// now + w.min_time (Prefect's scheduler query, per schedule).
std::vector<deployment_id> deployments_to_schedule(sql_connection& conn, timestamp now, const scheduling_window& w,
                                                   std::size_t batch, const std::optional<deployment_id>& after);

/// The idempotency keys of the deployment's auto-scheduled runs due from `from` on (so the scheduler only
/// asks for the runs that are missing; the unique key still guards against a race).
std::vector<std::string> scheduled_run_keys(sql_connection& conn, const deployment_id& d, timestamp from);

/// Work pool lookups for deployments (the pools' own routes live elsewhere).
struct work_queue_ref {
  uuid id;
  std::string name;
};
/// The pool's queue named `queue` (nullopt: the pool's default queue). not_found-style outcomes as values:
/// `pool_found` false when there is no such pool; `queue` nullopt when the pool has no such queue.
struct work_queue_lookup {
  bool pool_found = false;
  std::optional<work_queue_ref> queue;
};
work_queue_lookup find_work_queue(sql_connection& conn, const std::string& pool,
                                  const std::optional<std::string>& queue);

}  // namespace osprey::persistence

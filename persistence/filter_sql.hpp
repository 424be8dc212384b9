#pragma once
// Compiles the filter tree of domain/filters.hpp into SQL for either dialect: a WHERE fragment with its
// parameters, and the ORDER BY of each sort. The one place the filter grammar meets SQL; every filter, count and
// paginate route goes through it.
//
// Every value the user sent travels as a $N parameter, never as SQL text. Lists travel as one JSON-array
// parameter each (PostgreSQL: jsonb_array_elements_text($N::jsonb); SQLite: json_each($N)), so a statement's text
// depends only on the filter's shape and the drivers' prepared-statement caches stay small.
//
// Dialect notes: tags are JSON arrays (PostgreSQL jsonb `@>` / `?|`; SQLite json_each); like_ is a
// case-insensitive substring match with %, _ and \ in the user's text escaped (PostgreSQL ILIKE; SQLite LIKE,
// which folds ASCII case only, as Prefect on SQLite does); SQLite timestamps compare as text, which works
// because they are stored in one fixed-width UTC format. NULLs sort as each dialect sorts them (PostgreSQL:
// last ascending, first descending; SQLite the opposite), as they do under Prefect.
//
// Pure and thread-safe: nothing here touches a connection.

#include <optional>
#include <string>

#include "domain/filters.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// A WHERE condition (without the keyword) and its parameters, numbered $1.. in the order of `params`.
/// It reads the runs' own (denormalised) state columns and never the state tables, so counts and aggregates run
/// without joining them.
/// `sql` is empty when nothing is filtered. Pass both unchanged to select_*/count_* of the matching store.
struct sql_where {
  std::string sql;
  sql_params params;
  /// Tables joined to the main one (`JOIN flow_run r1 ON ...`), which `sql` may name; only task_run_count_where
  /// sets it, and only count_task_runs reads it.
  std::string joins{};
};

/// Flows (alias `f`, as select_flows/count_flows use) matching `filters.flows`, having a deployment matching
/// `deployments` (and, through its work queue, `work_pools` / `work_queues`), and a flow run matching
/// `flow_runs` with a task run matching `task_runs`.
sql_where flow_where(dialect d, const filters::filter_set& filters);

/// Flow runs (alias `r`) matching `filters.flow_runs`, whose flow matches `flows`, whose deployment matches
/// `deployments`, whose work queue matches `work_queues` and its pool `work_pools`, and having a task run
/// matching `task_runs`.
sql_where flow_run_where(dialect d, const filters::filter_set& filters);

/// Task runs (alias `t`) matching `filters.task_runs`, whose flow run matches `flow_runs` and, through it, whose
/// flow, deployment, work queue and pool match the rest.
sql_where task_run_where(dialect d, const filters::filter_set& filters);

/// The same task runs, for a query that reads a sorted page of them (ORDER BY ... LIMIT): the flow run is
/// matched per task run (a correlated EXISTS on its primary key), so SQLite walks the sort's index and stops at
/// the page's end. task_run_where's IN list suits counts, which visit every match anyway: for a page of the
/// task runs of a week's 233,000 flow runs, the IN made SQLite collect and sort 1.2 M task runs (6 s). Flow runs
/// named by id (the flow-run page: flow_runs.id.any_) keep the IN: their few task runs come from the flow_run_id
/// index, where the EXISTS walked all 500,000 task runs of a 100,000-run file to fill a page it never filled (3 s).
sql_where task_run_page_where(dialect d, const filters::filter_set& filters);

/// The same task runs, for count_task_runs (`joins` may be set). On SQLite a condition on their flow runs joins
/// the flow run by its primary key: an IN list made SQLite copy every matching flow run's id into a temporary
/// index before counting (the runs page's count of a week's 1.1 M task runs: 320 ms, 130 ms with the join and the
/// id-carrying expected_start_time index). PostgreSQL keeps task_run_where's IN, which it plans as a semi-join.
sql_where task_run_count_where(dialect d, const filters::filter_set& filters);

/// Deployments (alias `d`) matching `filters.deployments`, whose flow matches `flows`, having a flow run
/// matching `flow_runs` (with a task run matching `task_runs`), whose work queue and pool match.
sql_where deployment_where(dialect d, const filters::filter_set& filters);

/// Work pools (alias `wp`), work queues (alias `wq`) and workers (alias `w`) matching `filter` (nullopt: all).
sql_where work_pool_where(dialect d, const std::optional<filters::work_pool_filter>& filter);
sql_where work_queue_where(dialect d, const std::optional<filters::work_queue_filter>& filter);
sql_where worker_where(dialect d, const std::optional<filters::worker_filter>& filter);

/// Logs (alias `l`) matching `filter` (nullopt: all).
sql_where log_where(dialect d, const std::optional<filters::log_filter>& filter);

/// ORDER BY lists (without the keyword) over the aliases above, as Prefect's sort enums define them; where the
/// sort key is not unique, ties are broken by id so that pages are stable.
std::string order_by(filters::flow_sort sort);
std::string order_by(filters::flow_run_sort sort);
std::string order_by(filters::task_run_sort sort);
std::string order_by(filters::log_sort sort);
std::string order_by(filters::deployment_sort sort);  ///< alias `d`

}  // namespace osprey::persistence

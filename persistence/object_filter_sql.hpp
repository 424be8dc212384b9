#pragma once
// Compiles the variable and artifact filters of domain/object_filters.hpp into SQL for either dialect, as
// filter_sql.hpp does for the run filters (whose conventions hold here too: every user value a $N parameter,
// lists one JSON-array parameter each, like_ a case-insensitive substring with its wildcards escaped, an empty
// any_ matching nothing). An artifact body's run filters are compiled by filter_sql.hpp and nested here.
// Pure and thread-safe.

#include <string>

#include "domain/object_filters.hpp"
#include "persistence/filter_sql.hpp"

namespace osprey::persistence {

/// Variables (alias `v`) matching `filter` (nullopt: all).
sql_where variable_where(dialect d, const std::optional<filters::variable_filter>& filter);

/// Artifacts (alias `a`; `collection`: rows of artifact_collection, whose id criterion is latest_id) matching
/// `q.artifacts`, whose flow run matches `q.runs.flow_runs` (its flow `flows`, its deployment `deployments`) and
/// whose task run matches `q.runs.task_runs`.
sql_where artifact_where(dialect d, const filters::artifact_query& q, bool collection);

/// Automations (alias `a`) matching `filter` (nullopt: all).
sql_where automation_where(dialect d, const std::optional<filters::automation_filter>& filter);

/// ORDER BY lists over the aliases above, as Prefect's VariableSort / ArtifactSort / ArtifactCollectionSort, ties
/// broken by id so that pages are stable.
std::string order_by(filters::variable_sort sort);
std::string order_by(filters::artifact_sort sort);
std::string order_by(filters::automation_sort sort);

}  // namespace osprey::persistence

#pragma once
// The candidates of the cancellation cleanup and pause expiration services (actors/run_cleanup.hpp): read-only
// queries, each bounded by `limit`. Run on a connection the caller owns; throw sql_error. What is done with a
// candidate is decided afresh by its run's policy when the service proposes a state, so a candidate that moved
// on between the read and the proposal is harmless.

#include <cstdint>
#include <optional>
#include <vector>

#include "domain/flow_run.hpp"
#include "domain/state.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// Non-terminal task runs (SCHEDULED, PENDING, RUNNING, PAUSED, CANCELLING) of flow runs that became Cancelled
/// at or after `cancelled_since` (Prefect looks back one day), by id.
std::vector<uuid> open_task_runs_of_cancelled_runs(sql_connection& conn, timestamp cancelled_since, std::int64_t limit);

/// A subflow whose containing flow run (its parent task run's flow run) is Cancelled.
struct orphaned_subflow {
  flow_run_id id;
  state_type current;
  bool has_deployment = false;
};
/// Subflows in SCHEDULED, PENDING, RUNNING, PAUSED or CANCELLING whose containing flow run is Cancelled, by id.
std::vector<orphaned_subflow> orphaned_subflows(sql_connection& conn, std::int64_t limit);

/// A flow run and the id of its current state, as read.
struct run_at_state {
  flow_run_id id;
  run_state current;
};
/// Flow runs in CANCELLING since at or before `since`, the oldest first.
std::vector<run_at_state> cancelling_since(sql_connection& conn, timestamp since, std::int64_t limit);

/// Flow runs in PAUSED with their current state, by id, from the first id after `after` (paging).
std::vector<run_at_state> paused_runs(sql_connection& conn, const std::optional<flow_run_id>& after,
                                      std::int64_t limit);

}  // namespace osprey::persistence

#pragma once
// Flow run inputs (table `flow_run_input`): named queries. Run on a connection the caller owns, inside the
// caller's transaction; throw sql_error (kind constraint when (flow_run_id, key) is taken or the run is gone).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/flow_run_input.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// Whether the flow run exists (an input's foreign key; checked first so that a missing run is told apart from
/// a taken key).
bool input_owner_exists(sql_connection& conn, const flow_run_id& run);

/// Inserts `in` (id and timestamps set by the caller).
void insert_flow_run_input(sql_connection& conn, const flow_run_input& in);

std::optional<flow_run_input> find_flow_run_input(sql_connection& conn, const flow_run_id& run, const std::string& key);

/// The run's inputs whose key starts with `prefix` (compared as text: `%` and `_` are plain characters),
/// leaving out `exclude_keys`, oldest first; at most `limit` (negative: no limit).
std::vector<flow_run_input> filter_flow_run_inputs(sql_connection& conn, const flow_run_id& run,
                                                   const std::string& prefix, std::int64_t limit,
                                                   const std::vector<std::string>& exclude_keys);

/// False when the run has no input under `key`.
bool delete_flow_run_input(sql_connection& conn, const flow_run_id& run, const std::string& key);

}  // namespace osprey::persistence

#pragma once
// Internal to persistence/: reading a run state from the seven columns every state table shares.

#include "domain/state.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// Reads id, type, name, timestamp, message, state_details, data from consecutive columns starting at `first`.
run_state state_from_columns(const sql_row& row, std::size_t first);

}  // namespace osprey::persistence

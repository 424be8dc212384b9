#pragma once
// Internal to persistence/: the SQL pieces the block stores share (columns, row readers, filter clauses).

#include <string>

#include "persistence/block_store.hpp"

namespace osprey::persistence::block_sql {

/// Appends `v` to `params` and returns its placeholder ("$3").
std::string bind(sql_params& params, sql_value v);

/// "bt.id, bt.created, ..." for a block_type aliased `alias`.
std::string type_columns(const std::string& alias);
/// Reads the type columns starting at column `first`.
block_type type_from(const sql_row& row, std::size_t first);

/// A condition on block_type `alias` ("1=1" when the filter sets nothing).
std::string type_condition(dialect d, const block_type_filter& f, const std::string& alias, sql_params& params);
/// A condition on block_schema `alias`.
std::string schema_condition(dialect d, const block_schema_filter& f, const std::string& alias, sql_params& params);

/// `column IN (the list's items)`, the list bound as one JSON parameter.
std::string in_texts(dialect d, const std::string& column, const std::vector<std::string>& items, sql_params& params);
std::string in_ids(dialect d, const std::string& column, const std::vector<uuid>& items, sql_params& params);

}  // namespace osprey::persistence::block_sql

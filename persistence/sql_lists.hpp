#pragma once
// A list of values bound as one parameter, for `column [NOT] IN (...)`, on either dialect. PostgreSQL gets an
// array (`column = ANY($N::uuid[])`), which its planner sizes from the array's length; a JSON list unpacked with
// jsonb_array_elements_text is always guessed at 100 rows, which sent a one-flow filter over a million-run
// database through every run of every flow. SQLite reads a JSON array with json_each.

#include <string>
#include <vector>

#include "persistence/sql.hpp"

namespace osprey::persistence {

/// The parameter to bind for `values`: a PostgreSQL array literal, or a JSON array for SQLite.
sql_value list_parameter(dialect d, const std::vector<std::string>& values);

/// `column IN` (or `NOT IN`, with `negate`) the list bound at `placeholder` ("$3"), whose elements PostgreSQL
/// reads as `pg_type` ("uuid", "text"). `alias` names SQLite's json_each rows: unique within the statement.
std::string in_list(dialect d, const std::string& column, const std::string& placeholder, const char* pg_type,
                    bool negate, const std::string& alias = "e");

}  // namespace osprey::persistence

#pragma once
// Variables (table `variable`): named queries. Run on a connection the caller owns, inside the caller's
// transaction; throw sql_error (kind constraint when a name is taken: uq_variable__name).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/variable.hpp"
#include "persistence/filter_sql.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// Inserts `v` (id and timestamps set by the caller).
void insert_variable(sql_connection& conn, const variable& v);
std::optional<variable> find_variable(sql_connection& conn, const variable_id& id);
std::optional<variable> find_variable_by_name(sql_connection& conn, const std::string& name);
/// Replaces name, value, tags and updated of the stored variable with `v`'s (same id). False when there is none.
bool update_variable(sql_connection& conn, const variable& v);
bool delete_variable(sql_connection& conn, const variable_id& id);

/// Variables matching `where` (persistence/object_filter_sql.hpp, alias `v`), ordered by `order_by`.
std::vector<variable> select_variables(sql_connection& conn, const sql_where& where, const std::string& order_by,
                                       std::int64_t limit, std::int64_t offset);
std::int64_t count_variables(sql_connection& conn, const sql_where& where);

}  // namespace osprey::persistence

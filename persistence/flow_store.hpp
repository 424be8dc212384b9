#pragma once
// Named queries for flows. Functions run on a connection the caller owns, inside the caller's transaction,
// and throw sql_error (the writer/reader that runs them converts it to a status).

#include <optional>
#include <string>

#include "domain/flow.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

struct flow_upsert {
  flow stored;
  bool created = false;  ///< false: a flow with this name already existed and is returned unchanged
};

/// Inserts `candidate` unless a flow with its name exists (names are unique); returns the stored row.
flow_upsert upsert_flow(sql_connection& conn, const flow& candidate);

std::optional<flow> find_flow(sql_connection& conn, const flow_id& id);

/// Replaces the tags of flow `f.id` with `f.tags` and sets `f.updated`; false when there is no such flow.
bool update_flow_tags(sql_connection& conn, const flow& f);

/// Flows matching `where` (SQL over alias `f`, $1.. params; empty = all), ordered by `order_by`.
std::vector<flow> select_flows(sql_connection& conn, const std::string& where, const sql_params& params,
                               const std::string& order_by, std::int64_t limit, std::int64_t offset);
std::int64_t count_flows(sql_connection& conn, const std::string& where, const sql_params& params);
std::optional<flow> find_flow_by_name(sql_connection& conn, const std::string& name);
/// The ids of the flow's runs, oldest first.
std::vector<flow_run_id> flow_run_ids_of_flow(sql_connection& conn, const flow_id& f);
/// Deletes the flow; what still refers to it (deployments, runs created meanwhile) cascades. False when absent.
bool delete_flow(sql_connection& conn, const flow_id& f);

}  // namespace osprey::persistence

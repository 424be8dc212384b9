#pragma once
// Automations (tables `automation`, `automation_related_resource`): named queries. Run on a connection the
// caller owns, inside the caller's transaction; they throw sql_error. Deleting an automation also deletes its
// evaluation state (buckets, held events, child firings), as Prefect does, in that order.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/automation.hpp"
#include "persistence/filter_sql.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// Inserts `a` (id and timestamps set by the caller).
void insert_automation(sql_connection& conn, const automation& a);
std::optional<automation> find_automation(sql_connection& conn, const automation_id& id);
/// Replaces every stored field of the automation with `a`'s (same id). False when there is none.
bool update_automation(sql_connection& conn, const automation& a);
bool delete_automation(sql_connection& conn, const automation_id& id);

/// Automations matching `where` (persistence/object_filter_sql.hpp, alias `a`), ordered by `order_by`; a
/// negative limit means none.
std::vector<automation> select_automations(sql_connection& conn, const sql_where& where, const std::string& order_by,
                                           std::int64_t limit, std::int64_t offset);
std::int64_t count_automations(sql_connection& conn, const sql_where& where);

/// Relates the automation to `resource_id` (Prefect's relate_automation_to_resource): an existing relation
/// keeps being owned once it was.
void relate_automation(sql_connection& conn, const automation_id& id, const std::string& resource_id, bool owned,
                       timestamp now);
/// Replaces the automation's relations to deployments it does not belong to with `deployment_resources`.
void sync_automation_deployments(sql_connection& conn, const automation_id& id,
                                 const std::vector<std::string>& deployment_resources, timestamp now);

/// Automations related to `resource_id` (only those it owns when `owned_only`), by name, created at or before
/// `created_before` when given.
std::vector<automation> automations_related_to(sql_connection& conn, const std::string& resource_id, bool owned_only,
                                               std::optional<timestamp> created_before = std::nullopt);

/// What storing the config file's automations changed.
struct file_automation_changes {
  std::vector<automation> created, updated, deleted;
};
/// Makes the stored config-file automations (tagged config_file_tag) exactly `declared`: new ones inserted,
/// changed ones replaced (their created time kept), those no longer declared deleted. An automation of the API
/// holding a declared one's id is replaced too (the file wins).
file_automation_changes sync_file_automations(sql_connection& conn, const std::vector<automation>& declared,
                                              timestamp now);

}  // namespace osprey::persistence

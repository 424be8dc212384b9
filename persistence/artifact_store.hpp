#pragma once
// Artifacts (table `artifact`) and the latest artifact of each key (table `artifact_collection`), kept in step
// as Prefect 3.9.1 keeps them (server/models/artifacts.py): creating a keyed artifact makes it its key's latest;
// updating an artifact updates the collection row that points at it; deleting a key's latest points the
// collection at the key's next newest artifact, or drops the row when none is left. Each operation below is
// meant to be one whole write job. Run on a connection the caller owns, inside the caller's transaction; throw
// sql_error.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/artifact.hpp"
#include "persistence/filter_sql.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// Inserts `a` (id and timestamps set by the caller) and, when it has a key, makes it the key's latest
/// (a new collection row gets `collection_id`).
void insert_artifact(sql_connection& conn, const artifact& a, const uuid& collection_id);

std::optional<artifact> find_artifact(sql_connection& conn, const artifact_id& id);
/// The collection row of `key` (Prefect's read_latest_artifact answers it).
std::optional<artifact_collection> find_latest_artifact(sql_connection& conn, const std::string& key);

/// What PATCH /artifacts/{id} changes: only the fields the body named (an explicit null included).
struct artifact_update {
  std::optional<nlohmann::json> data;
  std::optional<std::optional<std::string>> description;
  std::optional<nlohmann::json> metadata;
};

/// Applies `change` (and updated = now) to the artifact and to the collection row whose latest it is. False
/// when neither exists.
bool update_artifact(sql_connection& conn, const artifact_id& id, const artifact_update& change, timestamp now);

/// Deletes the artifact, repairing its key's collection first. False when there is none.
bool delete_artifact(sql_connection& conn, const artifact_id& id);

/// Artifacts / collection rows matching `where` (persistence/object_filter_sql.hpp, alias `a`).
std::vector<artifact> select_artifacts(sql_connection& conn, const sql_where& where, const std::string& order_by,
                                       std::int64_t limit, std::int64_t offset);
std::int64_t count_artifacts(sql_connection& conn, const sql_where& where);
std::vector<artifact_collection> select_artifact_collections(sql_connection& conn, const sql_where& where,
                                                             const std::string& order_by, std::int64_t limit,
                                                             std::int64_t offset);
std::int64_t count_artifact_collections(sql_connection& conn, const sql_where& where);

}  // namespace osprey::persistence

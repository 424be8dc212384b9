#pragma once
// The server's default result storage (GET/PUT/DELETE /api/admin/storage, `prefect result-storage`): one block
// document that clients without their own result storage setting write results to. Kept as Prefect keeps it,
// under the key "server-default-result-storage" of the configuration table. Deleting the block document, its
// schema or its type clears it (persistence/block_store.hpp's deletes call clear_default_result_storage_for).

#include <optional>

#include "domain/block.hpp"
#include "domain/time.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// The configured block document, if any.
std::optional<block_document_id> default_result_storage(sql_connection& conn);

/// Why `document` cannot be the default: errc::not_found when it does not exist, errc::invalid_argument when its
/// schema lacks the "write-path" capability (Prefect's words); ok otherwise.
status check_result_storage_block(sql_connection& conn, const block_document_id& document);

void set_default_result_storage(sql_connection& conn, const block_document_id& document, timestamp now);
void clear_default_result_storage(sql_connection& conn);

/// Clears the default when it is one of these: a document, every document of a schema, of a type.
void clear_default_result_storage_for(sql_connection& conn, const block_document_id& document);
void clear_default_result_storage_for(sql_connection& conn, const block_schema_id& schema);
void clear_default_result_storage_for(sql_connection& conn, const block_type_id& type);

}  // namespace osprey::persistence

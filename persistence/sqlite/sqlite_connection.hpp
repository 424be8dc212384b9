#pragma once
// SQLite driver (SQLiteCpp). WAL journal so readers never wait behind the writer; foreign keys on;
// `synchronous` from the options (FULL by default: a commit survives power loss).

#include <memory>

#include "persistence/sql.hpp"

namespace osprey::persistence {

/// Opens (and creates) the file, its parent directory, and applies the connection pragmas.
result<std::unique_ptr<sql_connection>> open_sqlite(const database_target& target, const connection_options& options);

/// Rewrites `$N` placeholders to SQLite's `?N`, leaving quoted text alone.
std::string to_sqlite_placeholders(std::string_view sql);

}  // namespace osprey::persistence

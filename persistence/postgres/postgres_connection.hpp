#pragma once
// PostgreSQL driver (libpqxx 6.4). Session time zone is UTC; statements are prepared once per connection
// and reused; `lock_timeout` follows the configured busy timeout.

#include <memory>

#include "persistence/sql.hpp"

namespace osprey::persistence {

result<std::unique_ptr<sql_connection>> open_postgres(const database_target& target, const connection_options& options);

}  // namespace osprey::persistence

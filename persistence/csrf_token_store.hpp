#pragma once
// CSRF tokens (table `csrf_token`, one row per client id). Run on a connection the caller owns, inside the
// caller's transaction; throw sql_error.

#include <optional>
#include <string>

#include "domain/csrf.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// Stores `t` as its client's token, replacing the one it had (which keeps its row id and `created`), and
/// deletes every token expired at `t.updated`. Returns the row as stored.
csrf_token put_csrf_token(sql_connection& conn, const csrf_token& t);

/// The client's token, if it has one that has not expired at `now`.
std::optional<csrf_token> find_csrf_token(sql_connection& conn, const std::string& client, timestamp now);

}  // namespace osprey::persistence

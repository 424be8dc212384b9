#pragma once
// API keys (table `api_key`, domain/api_key.hpp). Run on a connection the caller owns, inside the caller's
// transaction; throw sql_error (a second key with the same name is a constraint error).

#include <optional>
#include <string>
#include <vector>

#include "domain/api_key.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

void insert_api_key(sql_connection& conn, const api_key& k);

/// Every key, revoked ones included, oldest first.
std::vector<api_key> list_api_keys(sql_connection& conn);

/// The key whose public id is `key_id`, revoked or not.
std::optional<api_key> find_api_key_by_key_id(sql_connection& conn, const std::string& key_id);

/// Revokes the key named `name_or_id` (its name, its row id or its key id) at `now`. Returns the key as it
/// was found (nullopt when none matches); a key already revoked keeps its first revocation time.
std::optional<api_key> revoke_api_key(sql_connection& conn, const std::string& name_or_id, timestamp now);

/// Records that the key with row id `id` was used at `now`.
void touch_api_key(sql_connection& conn, const api_key_id& id, timestamp now);

}  // namespace osprey::persistence

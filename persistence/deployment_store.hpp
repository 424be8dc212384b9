#pragma once
// Named queries for deployments. Functions run on a connection the caller owns, inside the caller's
// transaction, and throw sql_error (the writer/reader that runs them converts it to a status).

#include <optional>
#include <string>

#include "domain/uuid.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// The deployment's name; nullopt when there is no such deployment (a run may outlive its deployment).
std::optional<std::string> find_deployment_name(sql_connection& conn, const uuid& deployment);

}  // namespace osprey::persistence

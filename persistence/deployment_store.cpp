#include "persistence/deployment_store.hpp"

namespace osprey::persistence {

std::optional<std::string> find_deployment_name(sql_connection& conn, const uuid& deployment) {
  auto rows = conn.query("SELECT name FROM deployment WHERE id = $1", {id(deployment)});
  if (rows.empty()) return std::nullopt;
  return rows[0].text(0);
}

}  // namespace osprey::persistence

#include "config/settings.hpp"

namespace osprey::config {

std::string settings::effective_database_url() const {
  if (!database.url.empty()) return database.url;
  // "sqlite:///" followed by the absolute path: the SQLAlchemy convention, hence four slashes.
  return "sqlite:///" + (home / "osprey.db").string();
}

}  // namespace osprey::config

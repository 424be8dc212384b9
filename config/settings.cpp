#include "config/settings.hpp"

namespace osprey::config {

std::string settings::effective_database_url() const {
  if (!database.url.empty()) return database.url;
  // "sqlite:///" followed by the absolute path: the SQLAlchemy convention, hence four slashes.
  return "sqlite:///" + (home / "osprey.db").string();
}

std::filesystem::path settings::effective_encryption_key_file() const {
  if (!encryption.key_file.empty()) return encryption.key_file;
  return home / "block_secrets.key";
}

std::filesystem::path settings::effective_ui_dir() const {
  if (!server.ui.dir.empty()) return server.ui.dir;
  return home / "ui";
}

}  // namespace osprey::config

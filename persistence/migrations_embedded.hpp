#pragma once
// The raw migration texts compiled into the binary (generated source; see embed_migrations.cmake).

#include <string>
#include <vector>

namespace osprey::persistence {

struct embedded_revision {
  const char* id;
  const char* slug;
  const char* message;
  const char* up[2];  ///< [sqlite, postgresql]
  const char* down[2];
};

const std::vector<embedded_revision>& embedded_revisions();

}  // namespace osprey::persistence

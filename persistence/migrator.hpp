#pragma once
// Schema migrations: one linear chain of revisions, with SQL per dialect (persistence/migrations/).
// Revisions have stable 12-hex ids and a one-line message. The applied revision is kept in
// `osprey_schema_version`; every step runs in its own transaction, so a failed step leaves the database
// at the previous revision.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "persistence/sql.hpp"

namespace osprey::persistence {

/// One revision of the schema, as compiled into the binary.
struct revision {
  std::string id;         ///< "4f1c2a9b7d3e"
  std::string slug;       ///< "core_runs"
  std::string message;    ///< one line
  std::string up_sql[2];  ///< indexed by dialect
  std::string down_sql[2];
};

/// All revisions in apply order (oldest first).
const std::vector<revision>& all_revisions();

/// One step of a plan: apply `rev` up or down.
struct migration_step {
  const revision* rev = nullptr;
  bool up = true;
};

struct schema_status {
  std::optional<std::string> current;    ///< nullopt: nothing applied ("base")
  std::vector<const revision*> applied;  ///< oldest first
  std::vector<const revision*> pending;  ///< oldest first
  bool unknown_current = false;          ///< the database names a revision this binary does not know
};

/// Works on one connection owned by the caller; not thread-safe.
class migrator {
 public:
  explicit migrator(sql_connection& conn) : conn_(conn) {}

  result<schema_status> status();

  /// Plans an upgrade to `target`: "head", a revision id (or unique prefix), or "+N".
  result<std::vector<migration_step>> plan_upgrade(const std::string& target);
  /// Plans a downgrade to `target`: "-N" (N steps back), "base", or a revision id/prefix that stays applied.
  result<std::vector<migration_step>> plan_downgrade(const std::string& target);

  /// The SQL a step runs, including the version bookkeeping (for --dry-run).
  [[nodiscard]] std::string step_sql(const migration_step& step) const;

  /// Applies steps in order, each in its own transaction; `on_step` is told before each runs.
  osprey::status apply(const std::vector<migration_step>& steps,
                       const std::function<void(const migration_step&)>& on_step = {});

  /// Drops every table Osprey's revisions create (and the version table), then upgrades to head.
  osprey::status reset(const std::function<void(const migration_step&)>& on_step = {});

  /// PostgreSQL: makes sure pg_trgm is enabled, creating it when allowed; otherwise fails with the exact
  /// statement a database administrator must run. No-op on SQLite.
  osprey::status ensure_extensions();

 private:
  result<std::optional<std::string>> current_revision();
  result<const revision*> find_revision(const std::string& id_or_prefix) const;

  sql_connection& conn_;
};

}  // namespace osprey::persistence

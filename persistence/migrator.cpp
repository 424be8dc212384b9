#include "persistence/migrator.hpp"

#include <algorithm>
#include <regex>
#include <set>

#include "persistence/migrations_embedded.hpp"

namespace osprey::persistence {
namespace {

constexpr const char* version_table_ddl =
    "CREATE TABLE IF NOT EXISTS osprey_schema_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)";

std::size_t index_of(dialect d) { return d == dialect::sqlite ? 0 : 1; }

// Tables a revision creates, read from its up-script, so `reset` drops exactly what Osprey owns.
std::vector<std::string> created_tables(const std::string& sql) {
  static const std::regex create(R"re(CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"?([A-Za-z_][A-Za-z0-9_]*)"?)re",
                                 std::regex::icase);
  std::vector<std::string> out;
  for (std::sregex_iterator it(sql.begin(), sql.end(), create), end; it != end; ++it) out.push_back((*it)[1]);
  return out;
}

}  // namespace

const std::vector<revision>& all_revisions() {
  static const std::vector<revision> revisions = [] {
    std::vector<revision> out;
    for (const auto& e : embedded_revisions())
      out.push_back(revision{e.id, e.slug, e.message, {e.up[0], e.up[1]}, {e.down[0], e.down[1]}});
    return out;
  }();
  return revisions;
}

result<std::optional<std::string>> migrator::current_revision() {
  try {
    conn_.execute_script(version_table_ddl);
    auto rows = conn_.query("SELECT version_num FROM osprey_schema_version");
    if (rows.empty()) return std::optional<std::string>{};
    return std::optional<std::string>{rows.front().text(0)};
  } catch (const sql_error& e) {
    return to_status(e, "reading the schema revision");
  }
}

result<schema_status> migrator::status() {
  auto current = current_revision();
  if (!current) return current.error();
  schema_status out;
  out.current = *current;
  const auto& revs = all_revisions();
  std::size_t applied = 0;
  if (out.current) {
    auto it = std::find_if(revs.begin(), revs.end(), [&](const revision& r) { return r.id == *out.current; });
    if (it == revs.end()) {
      out.unknown_current = true;
      return out;
    }
    applied = static_cast<std::size_t>(it - revs.begin()) + 1;
  }
  for (std::size_t i = 0; i < revs.size(); ++i) (i < applied ? out.applied : out.pending).push_back(&revs[i]);
  return out;
}

result<const revision*> migrator::find_revision(const std::string& id_or_prefix) const {
  const revision* found = nullptr;
  for (const auto& r : all_revisions()) {
    if (r.id == id_or_prefix) return &r;
    if (!id_or_prefix.empty() && r.id.rfind(id_or_prefix, 0) == 0) {
      if (found) return osprey::status(errc::invalid_argument, "revision prefix '" + id_or_prefix + "' is ambiguous");
      found = &r;
    }
  }
  if (!found)
    return osprey::status(errc::invalid_argument,
                          "unknown revision '" + id_or_prefix + "'; `osprey server database status` lists them");
  return found;
}

result<std::vector<migration_step>> migrator::plan_upgrade(const std::string& target) {
  auto st = status();
  if (!st) return st.error();
  if (st->unknown_current)
    return osprey::status(errc::failed_precondition,
                          "the database is at revision " + *st->current +
                              ", which this version of Osprey does not know (it is newer); upgrade Osprey");
  const auto& revs = all_revisions();
  const std::size_t applied = st->applied.size();
  std::size_t goal = revs.size();
  if (target == "head" || target.empty()) {
    goal = revs.size();
  } else if (target[0] == '+') {
    try {
      goal = std::min(revs.size(), applied + static_cast<std::size_t>(std::stoul(target.substr(1))));
    } catch (...) {
      return osprey::status(errc::invalid_argument, "bad relative revision '" + target + "'; use +N, e.g. +1");
    }
  } else {
    auto rev = find_revision(target);
    if (!rev) return rev.error();
    goal = static_cast<std::size_t>(*rev - revs.data()) + 1;
    if (goal < applied)
      return osprey::status(
          errc::invalid_argument,
          "revision " + (*rev)->id + " is older than the current one; use `downgrade -r " + (*rev)->id + "`");
  }
  std::vector<migration_step> steps;
  for (std::size_t i = applied; i < goal; ++i) steps.push_back({&revs[i], true});
  return steps;
}

result<std::vector<migration_step>> migrator::plan_downgrade(const std::string& target) {
  auto st = status();
  if (!st) return st.error();
  if (st->unknown_current)
    return osprey::status(errc::failed_precondition, "the database is at revision " + *st->current +
                                                         ", which this version of Osprey does not know");
  const auto& revs = all_revisions();
  const std::size_t applied = st->applied.size();
  std::size_t goal = 0;  // number of revisions that stay applied
  if (target == "base") {
    goal = 0;
  } else if (!target.empty() && target[0] == '-') {
    std::size_t n = 0;
    try {
      n = static_cast<std::size_t>(std::stoul(target.substr(1)));
    } catch (...) {
      return osprey::status(errc::invalid_argument, "bad relative revision '" + target + "'; use -N, e.g. -1");
    }
    if (n > applied)
      return osprey::status(errc::invalid_argument, "cannot go back " + std::to_string(n) + " revisions: only " +
                                                        std::to_string(applied) + " applied");
    goal = applied - n;
  } else {
    auto rev = find_revision(target);
    if (!rev) return rev.error();
    goal = static_cast<std::size_t>(*rev - revs.data()) + 1;
    if (goal > applied)
      return osprey::status(errc::invalid_argument,
                            "revision " + (*rev)->id + " is not applied yet; use `upgrade -r " + (*rev)->id + "`");
  }
  std::vector<migration_step> steps;
  for (std::size_t i = applied; i > goal; --i) steps.push_back({&revs[i - 1], false});
  return steps;
}

std::string migrator::step_sql(const migration_step& step) const {
  const auto d = index_of(conn_.dialect());
  const auto& revs = all_revisions();
  const auto pos = static_cast<std::size_t>(step.rev - revs.data());
  std::string sql = step.up ? step.rev->up_sql[d] : step.rev->down_sql[d];
  if (!sql.empty() && sql.back() != '\n') sql += '\n';
  sql += "DELETE FROM osprey_schema_version;\n";
  const revision* now_at = step.up ? step.rev : (pos > 0 ? &revs[pos - 1] : nullptr);
  if (now_at) sql += "INSERT INTO osprey_schema_version (version_num) VALUES ('" + now_at->id + "');\n";
  return sql;
}

osprey::status migrator::apply(const std::vector<migration_step>& steps,
                               const std::function<void(const migration_step&)>& on_step) {
  if (!steps.empty()) {
    if (auto s = ensure_extensions(); !s) return s;
  }
  for (const auto& step : steps) {
    if (on_step) on_step(step);
    const std::string context =
        std::string(step.up ? "upgrading to " : "downgrading from ") + step.rev->id + " (" + step.rev->slug + ")";
    auto s = in_write_transaction(conn_, context, [&](sql_connection& c) {
      c.execute_script(version_table_ddl);
      c.execute_script(step_sql(step));
    });
    if (!s) return s;
  }
  return osprey::status::ok();
}

osprey::status migrator::reset(const std::function<void(const migration_step&)>& on_step) {
  std::vector<std::string> tables;
  for (const auto& r : all_revisions())
    for (auto& t : created_tables(r.up_sql[index_of(conn_.dialect())])) tables.push_back(t);
  tables.emplace_back("osprey_schema_version");
  std::reverse(tables.begin(), tables.end());  // dependents were created later: drop them first
  const bool pg = conn_.dialect() == dialect::postgresql;
  auto dropped = in_write_transaction(conn_, "dropping Osprey's tables", [&](sql_connection& c) {
    if (!pg) c.execute_script("PRAGMA defer_foreign_keys = ON");
    for (const auto& t : tables) c.execute_script("DROP TABLE IF EXISTS " + t + (pg ? " CASCADE" : ""));
  });
  if (!dropped) return dropped;
  auto plan = plan_upgrade("head");
  if (!plan) return plan.error();
  return apply(*plan, on_step);
}

osprey::status migrator::ensure_extensions() {
  if (conn_.dialect() != dialect::postgresql) return osprey::status::ok();
  try {
    if (!conn_.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").empty()) return osprey::status::ok();
    auto who = conn_.query("SELECT current_database(), current_user");
    const std::string db = who.front().text(0), user = who.front().text(1);
    if (conn_.query("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").empty())
      return {errc::failed_precondition,
              "PostgreSQL extension pg_trgm is not installed on the database server. Install PostgreSQL's contrib "
              "modules there (Debian: apt-get install postgresql-contrib), then run, connected to database '" +
                  db + "' as a superuser: CREATE EXTENSION IF NOT EXISTS pg_trgm;"};
    try {
      conn_.execute_script("CREATE EXTENSION IF NOT EXISTS pg_trgm");
    } catch (const sql_error& e) {
      return {errc::failed_precondition, "PostgreSQL extension pg_trgm is not enabled in database '" + db +
                                             "' and user '" + user + "' may not create it (" + e.what() +
                                             "). Ask a database administrator to run, connected to "
                                             "database '" +
                                             db + "': CREATE EXTENSION IF NOT EXISTS pg_trgm;"};
    }
    return osprey::status::ok();
  } catch (const sql_error& e) {
    return to_status(e, "checking PostgreSQL extensions");
  }
}

}  // namespace osprey::persistence

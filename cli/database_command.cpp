// `osprey server database reset|upgrade|downgrade|status`: the same verbs as `prefect server database`; and
// `vacuum`, which gives the space of deleted rows back (after the db_vacuum service or big deletions).
#include <unistd.h>

#include <iostream>

#include "cli/commands.hpp"
#include "persistence/migrator.hpp"
#include "persistence/retention_store.hpp"

namespace osprey::cli {
namespace {

struct database_flags {
  bool yes = false;
  bool dry_run = false;
  std::string revision;
};

// Destructive verbs ask first; without a terminal there is nobody to ask, so they refuse.
bool confirmed(bool yes, const std::string& question) {
  if (yes) return true;
  if (!isatty(STDIN_FILENO)) {
    std::cerr << "osprey: refusing to continue without confirmation: standard input is not a terminal. "
                 "Pass -y/--yes to confirm.\n";
    return false;
  }
  std::cout << question << " [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

void fail_if(const status& s) {
  if (s) return;
  std::cerr << "osprey: " << s.message() << "\n";
  throw CLI::RuntimeError(s.code() == errc::invalid_argument ? exit_usage : exit_failure);
}

void print_step(const persistence::migration_step& step) {
  std::cout << (step.up ? "  upgrading   -> " : "  downgrading <- ") << step.rev->id << "  " << step.rev->message
            << "\n";
}

void run_plan(persistence::migrator& m, const std::vector<persistence::migration_step>& plan, bool dry_run,
              const std::string& done_message) {
  if (plan.empty()) {
    std::cout << "Nothing to do: the database is already at the requested revision.\n";
    return;
  }
  if (dry_run) {
    std::cout << "-- Dry run: the SQL below is what would run; nothing was changed.\n";
    for (const auto& step : plan) {
      std::cout << "\n-- " << (step.up ? "upgrade to " : "downgrade from ") << step.rev->id << ": " << step.rev->message
                << "\nBEGIN;\n"
                << m.step_sql(step) << "COMMIT;\n";
    }
    return;
  }
  fail_if(m.apply(plan, print_step));
  std::cout << done_message << "\n";
}

std::string current_label(persistence::migrator& m) {
  auto st = m.status();
  if (!st || !st->current) return "base (empty)";
  return *st->current;
}

}  // namespace

void register_database_commands(CLI::App& server, common_options& opts) {
  auto* db =
      server.add_subcommand("database", "Manage the database: reset, upgrade, downgrade, status (the schema), vacuum");
  db->require_subcommand(1);
  auto flags = std::make_shared<database_flags>();

  auto* reset = db->add_subcommand("reset", "Drop every table Osprey owns (ALL DATA) and re-apply the schema");
  reset->add_flag("-y,--yes", flags->yes, "Do not ask for confirmation");
  add_config_option(*reset, opts);
  reset->callback([&opts, flags] {
    auto db_conn = open_configured_database(opts);
    if (!confirmed(flags->yes, "Reset the database at " + db_conn.target.display + "? This deletes all data."))
      throw CLI::RuntimeError(exit_refused);
    persistence::migrator m(*db_conn.conn);
    std::cout << "Resetting " << db_conn.target.display << "\n";
    fail_if(m.reset(print_step));
    std::cout << "Database reset; schema at " << current_label(m) << ".\n";
  });

  auto* upgrade = db->add_subcommand("upgrade", "Upgrade the schema (to head unless -r says otherwise)");
  upgrade->add_flag("-y,--yes", flags->yes, "Do not ask for confirmation");
  upgrade->add_option("-r,--revision", flags->revision, "Target: head (default), a revision id, or +N")
      ->default_str("head");
  upgrade->add_flag("--dry-run", flags->dry_run, "Print the SQL that would run; change nothing");
  add_config_option(*upgrade, opts);
  upgrade->callback([&opts, flags] {
    auto db_conn = open_configured_database(opts);
    persistence::migrator m(*db_conn.conn);
    auto plan = m.plan_upgrade(flags->revision.empty() ? "head" : flags->revision);
    if (!plan) fail_if(plan.error());
    if (!flags->dry_run && !plan->empty() &&
        !confirmed(flags->yes, "Upgrade the database at " + db_conn.target.display + " by " +
                                   std::to_string(plan->size()) + " revision(s)?"))
      throw CLI::RuntimeError(exit_refused);
    run_plan(m, *plan, flags->dry_run, "Upgraded; schema at " + (plan->empty() ? "" : plan->back().rev->id) + ".");
  });

  auto* downgrade = db->add_subcommand("downgrade", "Downgrade the schema (one revision unless -r says otherwise)");
  downgrade->add_flag("-y,--yes", flags->yes, "Do not ask for confirmation");
  downgrade->add_option("-r,--revision", flags->revision, "Target: -1 (default), -N, a revision id, or base")
      ->default_str("-1")
      ->allow_extra_args(false);
  downgrade->add_flag("--dry-run", flags->dry_run, "Print the SQL that would run; change nothing");
  add_config_option(*downgrade, opts);
  downgrade->callback([&opts, flags] {
    auto db_conn = open_configured_database(opts);
    persistence::migrator m(*db_conn.conn);
    auto plan = m.plan_downgrade(flags->revision.empty() ? "-1" : flags->revision);
    if (!plan) fail_if(plan.error());
    if (!flags->dry_run && !plan->empty() &&
        !confirmed(flags->yes, "Downgrade the database at " + db_conn.target.display + " by " +
                                   std::to_string(plan->size()) + " revision(s)? Data in dropped tables is lost."))
      throw CLI::RuntimeError(exit_refused);
    std::string done;
    run_plan(m, *plan, flags->dry_run, "");
    if (!flags->dry_run && !plan->empty()) std::cout << "Downgraded; schema at " << current_label(m) << ".\n";
  });

  auto* vacuum = db->add_subcommand(
      "vacuum", "Give the space of deleted rows back (SQLite: rebuild the file; PostgreSQL: VACUUM ANALYZE)");
  add_config_option(*vacuum, opts);
  vacuum->callback([&opts] {
    auto db_conn = open_configured_database(opts);
    std::cout << "Vacuuming " << db_conn.target.display << "\n";
    if (db_conn.target.dialect == persistence::dialect::sqlite) {
      std::cout << "(SQLite holds its write lock until this ends: a running server's writes wait for it.)\n";
    }
    try {
      const auto report = persistence::vacuum_database(*db_conn.conn);
      const auto mib = [](std::int64_t bytes) { return std::to_string((bytes + (1 << 19)) >> 20) + " MiB"; };
      std::cout << "Done: " << mib(report.bytes_before) << " before, " << mib(report.bytes_after) << " after.\n";
    } catch (const std::exception& e) {
      std::cerr << "osprey: vacuum failed: " << e.what()
                << (db_conn.target.dialect == persistence::dialect::sqlite
                        ? " (SQLite needs free disk space about the size of the database file, and no long write "
                          "in progress)\n"
                        : "\n");
      throw CLI::RuntimeError(exit_failure);
    }
  });

  auto* status_cmd = db->add_subcommand("status", "Show the current revision and the pending ones");
  add_config_option(*status_cmd, opts);
  status_cmd->callback([&opts] {
    auto db_conn = open_configured_database(opts);
    persistence::migrator m(*db_conn.conn);
    auto st = m.status();
    if (!st) fail_if(st.error());
    std::cout << "Database: " << db_conn.target.display << "\n";
    if (st->unknown_current) {
      std::cout << "Current revision: " << *st->current << " (unknown to this Osprey; is the database newer?)\n";
      throw CLI::RuntimeError(exit_failure);
    }
    std::cout << "Current revision: " << (st->current ? *st->current : "base (empty)");
    if (!st->applied.empty()) std::cout << "  " << st->applied.back()->message;
    std::cout << "\n";
    if (st->pending.empty()) {
      std::cout << "Up to date (head).\n";
      return;
    }
    std::cout << "Pending revisions (" << st->pending.size() << "):\n";
    for (const auto* r : st->pending) std::cout << "  " << r->id << "  " << r->message << "\n";
  });
}

}  // namespace osprey::cli

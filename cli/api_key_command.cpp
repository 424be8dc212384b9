// `osprey api-key create|ls|revoke`: the API keys a server with server.require_api_key (or an auth string)
// accepts (domain/api_key.hpp). Works on the configured database directly, so the first key can be made before
// any client can authenticate; running servers see a new key at once and a revocation within seconds.
#include <iomanip>
#include <iostream>

#include "cli/commands.hpp"
#include "domain/api_key.hpp"
#include "persistence/api_key_store.hpp"
#include "persistence/migrator.hpp"

namespace osprey::cli {
namespace {

struct api_key_flags {
  std::string name;
  std::string scope = "write";
  int expires_in_days = 0;
  std::string key;
};

[[noreturn]] void fail(const std::string& message, int code = exit_failure) {
  std::cerr << "osprey: " << message << "\n";
  throw CLI::RuntimeError(code);
}

/// The key table must exist: bring the schema to head as the server's start would, or say how.
void ensure_schema(configured_database& db) {
  persistence::migrator m(*db.conn);
  auto plan = m.plan_upgrade("head");
  if (!plan) fail(plan.error().message());
  if (plan->empty()) return;
  if (!db.loaded.values.database.migrate_on_start)
    fail("the database schema is " + std::to_string(plan->size()) +
         " revision(s) behind and database.migrate_on_start is off; run `osprey server database upgrade` first");
  std::cerr << "Migrating the database schema (" << plan->size() << " revision(s))...\n";
  if (auto s = m.apply(*plan, [](const persistence::migration_step&) {}); !s) fail(s.message());
}

template <class Fn>
void in_transaction(configured_database& db, const std::string& what, Fn&& body) {
  auto s = persistence::in_write_transaction(*db.conn, what, std::forward<Fn>(body));
  if (!s) fail(s.code() == errc::conflict ? what + ": a key with that name already exists" : s.message());
}

std::string when(const std::optional<timestamp>& t) { return t ? format_iso8601(*t) : "-"; }

void create(configured_database& db, const api_key_flags& f) {
  if (f.name.empty() || f.name.size() > api_key_name_max)
    fail("--name must be 1 to " + std::to_string(api_key_name_max) + " characters", exit_usage);
  const auto scope = parse_api_scope(f.scope);
  if (!scope) fail("--scope must be read, write or admin (got '" + f.scope + "')", exit_usage);
  if (f.expires_in_days < 0) fail("--expires-in-days must not be negative", exit_usage);
  const auto now = system_clock::instance().now();
  std::optional<timestamp> expires;
  if (f.expires_in_days > 0) expires = now + std::chrono::days(f.expires_in_days);
  auto issued = issue_api_key(f.name, *scope, now, expires);
  in_transaction(db, "creating API key '" + f.name + "'",
                 [&](persistence::sql_connection& c) { persistence::insert_api_key(c, issued.record); });
  std::cout << issued.text << "\n";
  std::cerr << "Created API key '" << f.name << "' (scope " << to_string(*scope) << ", key id " << issued.record.key_id
            << (expires ? ", expires " + format_iso8601(*expires) : std::string()) << ").\n"
            << "It is shown only now. Give it to clients as PREFECT_API_AUTH_STRING (HTTP and websockets) or\n"
            << "PREFECT_API_KEY (HTTP only).\n";
}

void list(configured_database& db) {
  std::vector<api_key> keys;
  in_transaction(db, "listing API keys", [&](persistence::sql_connection& c) { keys = persistence::list_api_keys(c); });
  if (keys.empty()) {
    std::cout << "No API keys. Make one with `osprey api-key create --name NAME --scope read|write|admin`.\n";
    return;
  }
  std::cout << std::left << std::setw(24) << "NAME" << std::setw(14) << "KEY ID" << std::setw(7) << "SCOPE"
            << std::setw(9) << "STATE" << std::setw(28) << "CREATED" << std::setw(28) << "EXPIRES"
            << "LAST USED\n";
  const auto now = system_clock::instance().now();
  for (const auto& k : keys) {
    const char* state = k.revoked ? "revoked" : (k.expires && *k.expires <= now) ? "expired" : "active";
    std::cout << std::setw(24) << k.name << std::setw(14) << k.key_id << std::setw(7) << to_string(k.scope)
              << std::setw(9) << state << std::setw(28) << format_iso8601(k.created) << std::setw(28) << when(k.expires)
              << when(k.last_used) << "\n";
  }
}

void revoke(configured_database& db, const std::string& which) {
  const auto now = system_clock::instance().now();
  std::optional<api_key> found;
  in_transaction(db, "revoking API key '" + which + "'",
                 [&](persistence::sql_connection& c) { found = persistence::revoke_api_key(c, which, now); });
  if (!found) fail("no API key named '" + which + "' (see `osprey api-key ls`)");
  if (found->revoked != now) {
    std::cout << "API key '" << found->name << "' was already revoked at " << when(found->revoked) << ".\n";
    return;
  }
  std::cout << "Revoked API key '" << found->name << "' (key id " << found->key_id
            << "); running servers refuse it within seconds.\n";
}

}  // namespace

void register_api_key_commands(CLI::App& app, common_options& opts) {
  auto* keys = app.add_subcommand("api-key", "Manage the API keys clients authenticate with");
  keys->require_subcommand(1);
  auto flags = std::make_shared<api_key_flags>();

  auto* create_cmd = keys->add_subcommand("create", "Make a key and print it (once)");
  create_cmd->add_option("-n,--name", flags->name, "A unique name for the key (who or what uses it)")->required();
  create_cmd->add_option("-s,--scope", flags->scope, "read, write (default) or admin")->default_str("write");
  create_cmd->add_option("--expires-in-days", flags->expires_in_days, "Days until the key expires (0: never)");
  add_config_option(*create_cmd, opts);
  create_cmd->callback([&opts, flags] {
    auto db = open_configured_database(opts);
    ensure_schema(db);
    create(db, *flags);
  });

  auto* ls = keys->add_subcommand("ls", "List the keys (never their text)");
  add_config_option(*ls, opts);
  ls->callback([&opts] {
    auto db = open_configured_database(opts);
    ensure_schema(db);
    list(db);
  });

  auto* revoke_cmd = keys->add_subcommand("revoke", "Revoke a key by name, key id or row id");
  revoke_cmd->add_option("key", flags->key, "The key's name, key id or row id")->required();
  add_config_option(*revoke_cmd, opts);
  revoke_cmd->callback([&opts, flags] {
    auto db = open_configured_database(opts);
    ensure_schema(db);
    revoke(db, flags->key);
  });
}

}  // namespace osprey::cli

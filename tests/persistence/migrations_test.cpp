// Schema migrations, on SQLite and PostgreSQL: status, upgrade and downgrade along the revision chain,
// every downgrade exactly undoing its upgrade, the `-r` target forms, dry runs, reset, and the pg_trgm
// extension check.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "domain/uuid.hpp"
#include "persistence/migrator.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using persistence::dialect;
using persistence::migrator;
using persistence::revision;

namespace {

const std::vector<revision>& revs() { return persistence::all_revisions(); }
const std::string& head_id() { return revs().back().id; }

// The shortest prefix (at least 4 characters) of `id` that names one revision only.
std::string unique_prefix(const std::string& id) {
  for (std::size_t n = 4; n < id.size(); ++n) {
    const auto prefix = id.substr(0, n);
    int matches = 0;
    for (const auto& r : revs()) matches += r.id.rfind(prefix, 0) == 0 ? 1 : 0;
    if (matches == 1) return prefix;
  }
  return id;
}

// Every column of every row, one line per row: a comparable dump of a catalog query.
std::string dump(persistence::sql_connection& conn, const std::string& sql) {
  std::string out;
  for (const auto& row : conn.query(sql)) {
    for (std::size_t i = 0; i < row.size(); ++i) out += (i ? " | " : "") + row.text(i);
    out += '\n';
  }
  return out;
}

// The whole schema as text: tables, columns, indexes and constraints, in a stable order.
std::string schema_fingerprint(persistence::sql_connection& conn) {
  if (conn.dialect() == dialect::sqlite)
    return dump(conn, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name, tbl_name");
  return dump(conn,
              "SELECT table_name::text, ordinal_position::text, column_name::text, data_type::text, "
              "is_nullable::text, coalesce(column_default::text, '') FROM information_schema.columns "
              "WHERE table_schema = 'public' ORDER BY 1, 2") +
         dump(conn,
              "SELECT tablename::text, indexname::text, indexdef FROM pg_indexes "
              "WHERE schemaname = 'public' ORDER BY 1, 2") +
         dump(conn,
              "SELECT conrelid::regclass::text, conname::text, pg_get_constraintdef(oid) FROM pg_constraint "
              "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2");
}

std::set<std::string> table_names(persistence::sql_connection& conn) {
  const char* sql = conn.dialect() == dialect::sqlite
                        ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                        : "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'";
  std::set<std::string> out;
  for (const auto& row : conn.query(sql)) out.insert(row.text(0));
  return out;
}

class Migrations : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    conn_ = db_.connect();
    ASSERT_TRUE(conn_);
    migrator_.emplace(*conn_);
  }

  migrator& m() { return *migrator_; }

  ::testing::AssertionResult upgrade(const std::string& target) {
    auto plan = m().plan_upgrade(target);
    if (!plan) return ::testing::AssertionFailure() << "plan_upgrade(" << target << "): " << plan.error().message();
    return applied(m().apply(*plan), "upgrade to " + target);
  }

  ::testing::AssertionResult downgrade(const std::string& target) {
    auto plan = m().plan_downgrade(target);
    if (!plan) return ::testing::AssertionFailure() << "plan_downgrade(" << target << "): " << plan.error().message();
    return applied(m().apply(*plan), "downgrade to " + target);
  }

  static ::testing::AssertionResult applied(const status& s, const std::string& what) {
    if (s) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << ": " << s.message();
  }

  std::optional<std::string> current() {
    auto st = m().status();
    EXPECT_TRUE(st) << st.error().message();
    return st ? st->current : std::nullopt;
  }

  std::string fingerprint() { return schema_fingerprint(*conn_); }

  void insert_flow(const std::string& name) {
    conn_->execute("INSERT INTO flow (id, name) VALUES ($1, $2)",
                   {persistence::id(new_uuid4()), persistence::text(name)});
  }

  std::int64_t count_flows() { return conn_->query("SELECT count(*) FROM flow").front().integer(0); }

  [[nodiscard]] std::size_t dialect_index() const { return GetParam() == dialect::sqlite ? 0 : 1; }

  osprey::testing::scratch_database db_{GetParam()};
  std::unique_ptr<persistence::sql_connection> conn_;
  std::optional<migrator> migrator_;
};

TEST_P(Migrations, FreshDatabaseHasEveryRevisionPendingAndUpgradesToHead) {
  auto fresh = m().status();
  ASSERT_TRUE(fresh) << fresh.error().message();
  EXPECT_EQ(fresh->current, std::nullopt);
  EXPECT_TRUE(fresh->applied.empty());
  ASSERT_EQ(fresh->pending.size(), revs().size());
  for (std::size_t i = 0; i < revs().size(); ++i) EXPECT_EQ(fresh->pending[i], &revs()[i]);

  ASSERT_TRUE(upgrade("head"));

  auto at_head = m().status();
  ASSERT_TRUE(at_head) << at_head.error().message();
  EXPECT_EQ(at_head->current, head_id());
  EXPECT_EQ(at_head->applied.size(), revs().size());
  EXPECT_TRUE(at_head->pending.empty());
  EXPECT_FALSE(at_head->unknown_current);
}

TEST_P(Migrations, RoundTripToBaseAndBackGivesTheSameSchema) {
  ASSERT_EQ(current(), std::nullopt);  // status() creates the (empty) version table
  const auto empty = fingerprint();
  ASSERT_TRUE(upgrade("head"));
  const auto a = fingerprint();
  EXPECT_NE(a, empty);

  ASSERT_TRUE(downgrade("base"));
  EXPECT_EQ(current(), std::nullopt);
  const auto left = table_names(*conn_);
  EXPECT_TRUE(left.empty() || left == std::set<std::string>{"osprey_schema_version"}) << ::testing::PrintToString(left);
  EXPECT_EQ(fingerprint(), empty);

  ASSERT_TRUE(upgrade("head"));
  EXPECT_EQ(fingerprint(), a);
}

TEST_P(Migrations, EveryDowngradeExactlyUndoesItsUpgrade) {
  ASSERT_EQ(current(), std::nullopt);
  std::vector<std::string> before;  // before[i]: the schema before revision i was applied
  for (const auto& r : revs()) {
    before.push_back(fingerprint());
    ASSERT_TRUE(upgrade("+1"));
    ASSERT_EQ(current(), r.id);
  }
  for (std::size_t i = revs().size(); i-- > 0;) {
    ASSERT_TRUE(downgrade("-1"));
    EXPECT_EQ(current(), i > 0 ? std::optional(revs()[i - 1].id) : std::nullopt);
    EXPECT_EQ(fingerprint(), before[i]) << "downgrading " << revs()[i].id << " " << revs()[i].slug;
  }
}

TEST_P(Migrations, UpgradeTargets) {
  ASSERT_GE(revs().size(), 5u);
  ASSERT_TRUE(upgrade("+1"));
  EXPECT_EQ(current(), revs()[0].id);
  ASSERT_TRUE(upgrade(revs()[2].id));
  EXPECT_EQ(current(), revs()[2].id);
  ASSERT_TRUE(upgrade(unique_prefix(revs()[4].id)));
  EXPECT_EQ(current(), revs()[4].id);
  ASSERT_TRUE(upgrade("head"));
  EXPECT_EQ(current(), head_id());

  auto nothing_left = m().plan_upgrade("+1");
  ASSERT_TRUE(nothing_left);
  EXPECT_TRUE(nothing_left->empty());
}

TEST_P(Migrations, DowngradeTargets) {
  const auto n = revs().size();
  ASSERT_GE(n, 5u);
  ASSERT_TRUE(upgrade("head"));
  ASSERT_TRUE(downgrade("-1"));
  EXPECT_EQ(current(), revs()[n - 2].id);
  ASSERT_TRUE(downgrade("-2"));
  EXPECT_EQ(current(), revs()[n - 4].id);
  ASSERT_TRUE(downgrade(revs()[1].id));  // the named revision stays applied
  EXPECT_EQ(current(), revs()[1].id);
  ASSERT_TRUE(downgrade("base"));
  EXPECT_EQ(current(), std::nullopt);
}

TEST_P(Migrations, BadTargetsAreRejected) {
  ASSERT_TRUE(upgrade(revs()[1].id));
  auto invalid = [](const auto& plan) { return !plan && plan.error().code() == errc::invalid_argument; };

  EXPECT_TRUE(invalid(m().plan_upgrade("ffffffffffff"))) << "unknown revision";
  EXPECT_TRUE(invalid(m().plan_downgrade("ffffffffffff"))) << "unknown revision";
  EXPECT_TRUE(invalid(m().plan_downgrade("-3"))) << "more steps back than applied";
  EXPECT_TRUE(invalid(m().plan_upgrade(revs()[0].id))) << "upgrade to an older revision";
  EXPECT_TRUE(invalid(m().plan_downgrade(revs()[3].id))) << "downgrade to a revision not applied yet";
  EXPECT_EQ(current(), revs()[1].id);
}

TEST_P(Migrations, DryRunShowsTheSqlAndChangesNothing) {
  ASSERT_TRUE(upgrade(revs()[1].id));
  const auto schema = fingerprint();

  auto up = m().plan_upgrade("+1");
  ASSERT_TRUE(up);
  ASSERT_EQ(up->size(), 1u);
  const auto up_sql = m().step_sql(up->front());
  EXPECT_NE(up_sql.find(revs()[2].up_sql[dialect_index()]), std::string::npos);
  EXPECT_NE(up_sql.find("DELETE FROM osprey_schema_version"), std::string::npos);
  EXPECT_NE(up_sql.find("INSERT INTO osprey_schema_version (version_num) VALUES ('" + revs()[2].id + "')"),
            std::string::npos);

  auto down = m().plan_downgrade("-1");
  ASSERT_TRUE(down);
  ASSERT_EQ(down->size(), 1u);
  const auto down_sql = m().step_sql(down->front());
  EXPECT_NE(down_sql.find(revs()[1].down_sql[dialect_index()]), std::string::npos);
  EXPECT_NE(down_sql.find("INSERT INTO osprey_schema_version (version_num) VALUES ('" + revs()[0].id + "')"),
            std::string::npos);

  EXPECT_EQ(current(), revs()[1].id);
  EXPECT_EQ(fingerprint(), schema);
}

TEST_P(Migrations, ResetDropsAllDataAndReappliesTheSchema) {
  ASSERT_TRUE(upgrade("head"));
  const auto schema = fingerprint();
  insert_flow("doomed");
  ASSERT_EQ(count_flows(), 1);

  ASSERT_TRUE(applied(m().reset(), "reset"));

  EXPECT_EQ(current(), head_id());
  EXPECT_EQ(count_flows(), 0);
  EXPECT_EQ(fingerprint(), schema);
}

TEST_P(Migrations, FlowNamesAreUniqueAndUpsertsOnThemWork) {
  ASSERT_TRUE(upgrade("head"));
  insert_flow("etl");
  try {
    insert_flow("etl");
    ADD_FAILURE() << "a second flow named etl was accepted";
  } catch (const persistence::sql_error& e) {
    EXPECT_EQ(e.what_kind(), persistence::sql_error::kind::constraint) << e.what();
  }
  const auto changed = conn_->execute("INSERT INTO flow (id, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                                      {persistence::id(new_uuid4()), persistence::text("etl")});
  EXPECT_EQ(changed, 0);
  EXPECT_EQ(count_flows(), 1);
}

INSTANTIATE_TEST_SUITE_P(Dialects, Migrations, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

// ---- PostgreSQL only: the pg_trgm extension -------------------------------------------------------

std::string random_hex(int digits) {
  std::random_device rd;
  std::mt19937_64 rng(rd());
  std::string s;
  for (int i = 0; i < digits; ++i) s.push_back("0123456789abcdef"[rng() % 16]);
  return s;
}

// postgresql://user@host/db -> postgresql://<user>@host/db (trust authentication: no password).
std::string with_user(const std::string& url, const std::string& user) {
  const auto authority = url.find("://") + 3;
  const auto at = url.find('@', authority);
  const auto slash = url.find('/', authority);
  const bool has_user = at != std::string::npos && (slash == std::string::npos || at < slash);
  return url.substr(0, authority) + user + "@" + url.substr(has_user ? at + 1 : authority);
}

// A login role that may use the scratch database and its public schema but may not create in the
// database itself, so it cannot create extensions (pg_trgm is trusted: CREATE on the database would do).
class limited_role {
 public:
  limited_role(persistence::sql_connection& admin, const std::string& database)
      : admin_(admin), name_("osprey_limited_" + random_hex(8)) {
    admin_.execute_script("CREATE ROLE " + name_ + " LOGIN");
    admin_.execute_script("GRANT ALL ON DATABASE " + database + " TO " + name_);
    admin_.execute_script("REVOKE CREATE ON DATABASE " + database + " FROM " + name_ + ", PUBLIC");
    admin_.execute_script("GRANT CREATE, USAGE ON SCHEMA public TO " + name_);
  }
  ~limited_role() {
    try {
      admin_.execute_script("DROP OWNED BY " + name_);
      admin_.execute_script("DROP ROLE " + name_);
    } catch (const persistence::sql_error&) {
      // A leftover role on the throwaway test server is harmless.
    }
  }
  limited_role(const limited_role&) = delete;
  limited_role& operator=(const limited_role&) = delete;
  [[nodiscard]] const std::string& name() const { return name_; }

 private:
  persistence::sql_connection& admin_;
  std::string name_;
};

class PostgresExtensions : public ::testing::Test {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    admin_ = db_.connect();
    ASSERT_TRUE(admin_);
  }

  bool has_pg_trgm() { return !admin_->query("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").empty(); }

  osprey::testing::scratch_database db_{dialect::postgresql};
  std::unique_ptr<persistence::sql_connection> admin_;  // a superuser, connected to the scratch database
};

TEST_F(PostgresExtensions, UpgradeEnablesPgTrgm) {
  admin_->execute_script("DROP EXTENSION IF EXISTS pg_trgm");
  migrator m(*admin_);
  auto plan = m.plan_upgrade("head");
  ASSERT_TRUE(plan);
  ASSERT_TRUE(m.apply(*plan));
  EXPECT_TRUE(has_pg_trgm());
}

TEST_F(PostgresExtensions, ARoleThatMayNotCreateTheExtensionIsToldWhatToAskFor) {
  admin_->execute_script("DROP EXTENSION IF EXISTS pg_trgm");
  const auto database = admin_->query("SELECT current_database()").front().text(0);
  limited_role role(*admin_, database);
  auto target = persistence::parse_database_url(with_user(db_.url(), role.name()));
  ASSERT_TRUE(target);
  {
    auto conn = persistence::open_connection(*target);
    ASSERT_TRUE(conn) << conn.error().message();
    ASSERT_EQ((*conn)->query("SELECT current_user").front().text(0), role.name());
    migrator m(**conn);

    const auto s = m.ensure_extensions();
    EXPECT_EQ(s.code(), errc::failed_precondition) << s.message();
    EXPECT_NE(s.message().find("CREATE EXTENSION IF NOT EXISTS pg_trgm"), std::string::npos) << s.message();

    auto plan = m.plan_upgrade("head");
    ASSERT_TRUE(plan) << plan.error().message();
    EXPECT_EQ(m.apply(*plan).code(), errc::failed_precondition) << "upgrade went ahead without pg_trgm";
    auto st = m.status();
    ASSERT_TRUE(st);
    EXPECT_EQ(st->current, std::nullopt);
  }
  EXPECT_FALSE(has_pg_trgm());

  // Once an administrator has created it, the limited role can upgrade.
  admin_->execute_script("CREATE EXTENSION pg_trgm");
  auto conn = persistence::open_connection(*target);
  ASSERT_TRUE(conn) << conn.error().message();
  migrator m(**conn);
  auto plan = m.plan_upgrade("head");
  ASSERT_TRUE(plan);
  const auto s = m.apply(*plan);
  EXPECT_TRUE(s) << s.message();
}

}  // namespace

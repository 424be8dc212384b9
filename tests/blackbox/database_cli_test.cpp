// `osprey server database reset|upgrade|downgrade|status|vacuum`, driven through the real binary on SQLite and
// PostgreSQL: what each verb prints, what it changes, and that it refuses to change anything unconfirmed.
#include <gtest/gtest.h>

#include "domain/uuid.hpp"
#include "persistence/migrator.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using osprey::testing::command_result;
using osprey::testing::run_osprey;
using persistence::dialect;

namespace {

const std::vector<persistence::revision>& revs() { return persistence::all_revisions(); }
const std::string& head_id() { return revs().back().id; }

// EXPECT_TRUE(mentions(out, "x")) / EXPECT_FALSE(...): failures show the whole output.
::testing::AssertionResult mentions(const std::string& out, const std::string& part) {
  if (out.find(part) != std::string::npos)
    return ::testing::AssertionSuccess() << "output mentions '" << part << "':\n" << out;
  return ::testing::AssertionFailure() << "output does not mention '" << part << "':\n" << out;
}

class DatabaseCli : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override { OSPREY_SKIP_IF_UNAVAILABLE(db_); }

  command_result osprey(std::vector<std::string> args) {
    args.insert(args.begin(), {"server", "database"});
    return run_osprey(args, {{"OSPREY_DATABASE_URL", db_.url()}, {"OSPREY_HOME", home_.path().string()}});
  }

  // Runs and expects exit code 0.
  command_result ok(const std::vector<std::string>& args) {
    auto r = osprey(args);
    EXPECT_EQ(r.exit_code, 0) << described(r);
    return r;
  }

  // The revision the database is at, read directly (not through the CLI).
  std::optional<std::string> current() {
    auto conn = db_.connect();
    auto st = persistence::migrator(*conn).status();
    EXPECT_TRUE(st) << st.error().message();
    return st ? st->current : std::nullopt;
  }

  void insert_flow(const std::string& name) {
    db_.connect()->execute("INSERT INTO flow (id, name) VALUES ($1, $2)",
                           {persistence::id(new_uuid4()), persistence::text(name)});
  }

  std::int64_t count_flows() { return db_.connect()->query("SELECT count(*) FROM flow").front().integer(0); }

  osprey::testing::scratch_database db_{GetParam()};
  osprey::testing::scratch_dir home_;
};

TEST_P(DatabaseCli, StatusListsPendingRevisionsUpgradeAppliesThemAll) {
  auto fresh = ok({"status"});
  EXPECT_TRUE(mentions(fresh.out, "base"));
  EXPECT_TRUE(mentions(fresh.out, "Pending revisions (" + std::to_string(revs().size()) + ")"));
  for (const auto& r : revs()) EXPECT_TRUE(mentions(fresh.out, r.id + "  " + r.message));

  auto upgraded = ok({"upgrade", "-y"});
  for (const auto& r : revs()) EXPECT_TRUE(mentions(upgraded.out, "upgrading   -> " + r.id));
  EXPECT_EQ(current(), head_id());

  auto after = ok({"status"});
  EXPECT_TRUE(mentions(after.out, "Current revision: " + head_id()));
  EXPECT_TRUE(mentions(after.out, "Up to date"));
  EXPECT_FALSE(mentions(after.out, "Pending"));
}

TEST_P(DatabaseCli, DowngradeAndUpgradeTargets) {
  const auto n = revs().size();
  ok({"upgrade", "-y"});

  auto one_back = ok({"downgrade", "-y", "-r", "-1"});
  EXPECT_TRUE(mentions(one_back.out, "downgrading <- " + head_id()));
  EXPECT_FALSE(mentions(one_back.out, "downgrading <- " + revs()[n - 2].id));
  EXPECT_EQ(current(), revs()[n - 2].id);
  EXPECT_TRUE(mentions(ok({"status"}).out, "Current revision: " + revs()[n - 2].id));

  ok({"downgrade", "-y", "-r", "base"});
  EXPECT_EQ(current(), std::nullopt);
  EXPECT_TRUE(mentions(ok({"status"}).out, "Pending revisions (" + std::to_string(n) + ")"));

  ok({"upgrade", "-y", "-r", revs()[2].id.substr(0, 6)});
  EXPECT_EQ(current(), revs()[2].id);
}

TEST_P(DatabaseCli, DryRunPrintsTheSqlAndChangesNothing) {
  auto up = ok({"upgrade", "--dry-run"});
  EXPECT_TRUE(mentions(up.out, "CREATE TABLE"));
  EXPECT_TRUE(mentions(up.out, "osprey_schema_version"));
  EXPECT_EQ(current(), std::nullopt);

  ok({"upgrade", "-y"});
  auto down = ok({"downgrade", "--dry-run", "-r", "base"});
  EXPECT_TRUE(mentions(down.out, "DROP TABLE"));
  EXPECT_EQ(current(), head_id());
}

TEST_P(DatabaseCli, DestructiveVerbsRefuseWithoutConfirmation) {
  ok({"upgrade", "-y", "-r", revs()[2].id});  // far enough for the flow table
  insert_flow("keep-me");

  for (const auto& verb : {"reset", "upgrade", "downgrade"}) {
    auto r = osprey({verb});
    EXPECT_EQ(r.exit_code, 3) << verb << ": " << described(r);
    EXPECT_TRUE(mentions(r.out, "-y")) << verb;
  }
  EXPECT_EQ(current(), revs()[2].id);
  EXPECT_EQ(count_flows(), 1);
}

TEST_P(DatabaseCli, ResetWipesDataAndReappliesTheSchema) {
  ok({"upgrade", "-y"});
  insert_flow("doomed");

  auto reset = ok({"reset", "-y"});
  for (const auto& r : revs()) EXPECT_TRUE(mentions(reset.out, "upgrading   -> " + r.id));
  EXPECT_EQ(current(), head_id());
  EXPECT_EQ(count_flows(), 0);
}

TEST_P(DatabaseCli, VacuumGivesDeletedSpaceBackAndKeepsTheData) {
  ok({"upgrade", "-y"});
  const std::string padding(4000, 'x');
  {
    auto conn = db_.connect();
    conn->begin_write();
    for (int i = 0; i < 500; ++i) {
      conn->execute("INSERT INTO flow (id, name) VALUES ($1, $2)",
                    {persistence::id(new_uuid4()), persistence::text("flow-" + std::to_string(i) + "-" + padding)});
    }
    conn->execute("DELETE FROM flow WHERE name <> $1", {persistence::text("flow-0-" + padding)});
    conn->commit();
  }

  auto r = ok({"vacuum"});

  EXPECT_TRUE(mentions(r.out, "Done: "));
  EXPECT_EQ(count_flows(), 1);
  if (GetParam() == dialect::sqlite) {  // PostgreSQL's plain VACUUM reuses the space rather than shrinking files
    const auto before = r.out.find(" MiB before, ");
    ASSERT_NE(before, std::string::npos) << r.out;
    const auto number_start = r.out.rfind(' ', before - 1) + 1;
    const auto after_start = before + std::string(" MiB before, ").size();
    EXPECT_GT(std::stoll(r.out.substr(number_start, before - number_start)), std::stoll(r.out.substr(after_start)))
        << r.out;
  }
}

TEST_P(DatabaseCli, UnknownRevisionIsAClearError) {
  for (const auto& verb : {"upgrade", "downgrade"}) {
    auto r = osprey({verb, "-y", "-r", "ffffffffffff"});
    EXPECT_NE(r.exit_code, 0) << verb;
    EXPECT_TRUE(mentions(r.out, "unknown revision 'ffffffffffff'")) << verb;
  }
  EXPECT_EQ(current(), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(Dialects, DatabaseCli, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

TEST(DatabaseCliInput, UnsupportedUrlSchemeIsAUsageError) {
  osprey::testing::scratch_dir home;
  auto r = run_osprey({"server", "database", "status"},
                      {{"OSPREY_DATABASE_URL", "mysql://x"}, {"OSPREY_HOME", home.path().string()}});
  EXPECT_EQ(r.exit_code, 2) << described(r);
  EXPECT_TRUE(mentions(r.out, "mysql"));
}

TEST(OspreyHelp, EveryLevelDescribesItself) {
  struct expectation {
    std::vector<std::string> args;
    std::vector<std::string> words;
  };
  const std::vector<expectation> cases = {
      {{"--help"}, {"Prefect", "server"}},
      {{"server", "--help"}, {"database"}},
      {{"server", "database", "--help"}, {"reset", "upgrade", "downgrade", "status"}},
      {{"server", "database", "downgrade", "--help"}, {"--revision", "base", "--dry-run", "--yes"}},
  };
  osprey::testing::scratch_dir home;
  for (const auto& c : cases) {
    auto r = run_osprey(c.args, {{"OSPREY_HOME", home.path().string()}});
    EXPECT_EQ(r.exit_code, 0) << ::testing::PrintToString(c.args) << ": " << described(r);
    for (const auto& word : c.words) EXPECT_TRUE(mentions(r.out, word)) << ::testing::PrintToString(c.args);
  }
}

}  // namespace

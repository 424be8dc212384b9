// Flow run inputs on real SQLite and PostgreSQL: a key is unique per run, the prefix filter reads oldest first,
// leaves out excluded keys and treats '%' and '_' as plain characters, and deleting a run deletes its inputs.
#include <gtest/gtest.h>

#include "persistence/flow_run_input_store.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/migrator.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;

namespace {

class FlowRunInputStore : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    conn_ = db_.connect();
    persistence::migrator m(*conn_);
    ASSERT_TRUE(m.reset());
    flow f;
    f.id = flow_id{new_uuid4()};
    f.created = f.updated = now_;
    f.name = "inputs";
    write([&](auto& c) {
      const auto stored = persistence::upsert_flow(c, f).stored;
      persistence::insert_flow_run(c, {run_, stored.id, "a-run", now_});
    });
  }

  template <class Fn>
  void write(Fn&& fn) {
    auto s = persistence::in_write_transaction(*conn_, "test", fn);
    ASSERT_TRUE(s) << s.message();
  }

  status insert(const std::string& key, std::chrono::seconds later = 0s) {
    flow_run_input in{
        flow_run_input_id{new_uuid4()}, now_ + later, now_ + later, run_, key, "\"" + key + "\"", "tester"};
    return persistence::in_write_transaction(*conn_, "test",
                                             [&](auto& c) { persistence::insert_flow_run_input(c, in); });
  }

  std::vector<std::string> keys(const std::string& prefix, std::int64_t limit, std::vector<std::string> exclude = {}) {
    std::vector<std::string> out;
    write([&](auto& c) {
      for (const auto& in : persistence::filter_flow_run_inputs(c, run_, prefix, limit, exclude)) out.push_back(in.key);
    });
    return out;
  }

  osprey::testing::scratch_database db_{GetParam()};
  std::unique_ptr<persistence::sql_connection> conn_;
  flow_run_id run_{new_uuid4()};
  timestamp now_ = parse_iso8601("2026-12-05T08:00:00Z").value();
};

TEST_P(FlowRunInputStore, AKeyIsUniquePerRun) {
  ASSERT_TRUE(insert("paused-1-schema"));
  EXPECT_EQ(insert("paused-1-schema").code(), errc::conflict);
  std::optional<flow_run_input> found;
  write([&](auto& c) { found = persistence::find_flow_run_input(c, run_, "paused-1-schema"); });
  ASSERT_TRUE(found);
  EXPECT_EQ(found->value, "\"paused-1-schema\"");
  EXPECT_EQ(found->sender, "tester");
  write([&](auto& c) { EXPECT_TRUE(persistence::input_owner_exists(c, run_)); });
  write([&](auto& c) { EXPECT_FALSE(persistence::input_owner_exists(c, flow_run_id{new_uuid4()})); });
}

TEST_P(FlowRunInputStore, TheFilterReadsOldestFirstWithoutExcludedKeys) {
  ASSERT_TRUE(insert("numberdata-auto-b", 2s));
  ASSERT_TRUE(insert("numberdata-auto-a", 1s));
  ASSERT_TRUE(insert("other", 0s));
  EXPECT_EQ(keys("numberdata-auto", 1), std::vector<std::string>{"numberdata-auto-a"});
  EXPECT_EQ(keys("numberdata-auto", 10, {"numberdata-auto-a"}), std::vector<std::string>{"numberdata-auto-b"});
  EXPECT_EQ(keys("", -1).size(), 3u);
  EXPECT_TRUE(keys("numberdata_auto", 10).empty());  // '_' is not a wildcard
  EXPECT_TRUE(keys("%", 10).empty());
}

TEST_P(FlowRunInputStore, DeletingARunDeletesItsInputs) {
  ASSERT_TRUE(insert("k"));
  write([&](auto& c) { EXPECT_TRUE(persistence::delete_flow_run_input(c, run_, "k")); });
  write([&](auto& c) { EXPECT_FALSE(persistence::delete_flow_run_input(c, run_, "k")); });
  ASSERT_TRUE(insert("k2"));
  write([&](auto& c) { c.execute("DELETE FROM flow_run WHERE id = $1", {persistence::id(run_)}); });
  EXPECT_TRUE(keys("", 10).empty());
}

INSTANTIATE_TEST_SUITE_P(D, FlowRunInputStore, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace

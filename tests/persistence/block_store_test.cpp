// Blocks on real SQLite and PostgreSQL: every system schema's checksum computed here equals the one Prefect computed
// (so clients find them), secret values never reach the database file in plain text, and a secret sealed under
// another key is refused rather than returned.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "domain/block_checksum.hpp"
#include "persistence/block_store.hpp"
#include "persistence/migrator.hpp"
#include "persistence/system_blocks.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using nlohmann::json;
using persistence::dialect;

namespace {

TEST(SystemBlockCatalog, ChecksumsMatchThePinnedPrefect) {
  const auto& catalog = persistence::system_block_catalog();
  ASSERT_TRUE(catalog.is_object());
  EXPECT_EQ(catalog["prefect_version"], "3.9.1");
  ASSERT_GE(catalog["block_types"].size(), 50u);
  for (const auto& t : catalog["block_types"])
    EXPECT_EQ(block_schema_checksum(t["block_schema"]["fields"]), t["block_schema"]["checksum"]) << t["slug"];
}

TEST(SecretKeyFile, IsCreatedOwnerOnlyAndReadBack) {
  osprey::testing::scratch_dir dir;
  const auto path = dir.path() / "sub" / "key";
  auto first = persistence::secret_box::load_or_create(path);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto second = persistence::secret_box::load_or_create(path);
  ASSERT_TRUE(second);
  auto opened = (*second)->open((*first)->seal(json{{"k", "v"}}));
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, json({{"k", "v"}}));
  std::ofstream(dir.path() / "short") << "abc";
  EXPECT_FALSE(persistence::secret_box::load_or_create(dir.path() / "short"));
}

class BlockStore : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    conn_ = db_.connect();
    persistence::migrator m(*conn_);
    ASSERT_TRUE(m.reset());
    write([&](auto& c) { persistence::register_system_blocks(c, persistence::system_block_catalog(), now_); });
  }

  template <class Fn>
  void write(Fn&& fn) {
    auto s = persistence::in_write_transaction(*conn_, "test", fn);
    ASSERT_TRUE(s) << s.message();
  }

  /// Saves a Secret document holding `value` under `box`; returns its id.
  block_document_id save_secret(const persistence::secret_box& box, const std::string& name, const json& value) {
    block_document d;
    d.id = block_document_id{new_uuid4()};
    d.created = d.updated = now_;
    d.name = name;
    d.data = {{"value", value}};
    write([&](auto& c) {
      auto type = persistence::find_block_type_by_slug(c, "secret");
      persistence::block_schema_filter of_type;
      of_type.block_type_id_any = std::vector<uuid>{type->id.value};
      auto schemas = persistence::list_block_schemas(c, of_type, 1, 0);
      d.type = type->id;
      d.schema = schemas.at(0).schema.id;
      persistence::insert_block_document(c, box, d, {}, now_);
    });
    return d.id;
  }

  osprey::testing::scratch_database db_{GetParam()};
  std::unique_ptr<persistence::sql_connection> conn_;
  timestamp now_ = parse_iso8601("2026-05-01T10:00:00Z").value();
  persistence::secret_box box_{persistence::secret_box::key_bytes{1, 2, 3}};
};

TEST_P(BlockStore, SecretValuesAreNotStoredInPlainText) {
  const auto id = save_secret(box_, "api", "plain-text-secret-4711");
  save_secret(box_, "login", {{"password", "plain-text-password-815"}});
  for (const auto& row : conn_->query("SELECT CAST(data AS TEXT) FROM block_document"))
    EXPECT_EQ(row.text(0).find("plain-text"), std::string::npos) << row.text(0);
  if (GetParam() == dialect::sqlite) {
    conn_.reset();  // checkpoints the WAL into the file
    std::string bytes;
    for (const auto* suffix : {"", "-wal"}) {
      std::ifstream f(db_.url().substr(std::string("sqlite:///").size()) + suffix, std::ios::binary);
      bytes.append(std::istreambuf_iterator<char>(f), {});
    }
    ASSERT_GT(bytes.size(), 0u);
    EXPECT_EQ(bytes.find("plain-text"), std::string::npos);
    conn_ = db_.connect();
  }
  std::optional<persistence::full_block_document> read;
  auto s = persistence::in_transaction(*conn_, persistence::transaction_kind::read, "test",
                                       [&](auto& c) { read = persistence::find_block_document(c, box_, id, true); });
  ASSERT_TRUE(s) << s.message();
  ASSERT_TRUE(read);
  EXPECT_EQ(read->doc.data, json({{"value", "plain-text-secret-4711"}}));
}

TEST_P(BlockStore, ASecretSealedUnderAnotherKeyIsRefused) {
  const auto id = save_secret(box_, "api", "s");
  persistence::secret_box other{persistence::secret_box::key_bytes{9}};
  auto s = persistence::in_transaction(*conn_, persistence::transaction_kind::read, "test",
                                       [&](auto& c) { persistence::find_block_document(c, other, id, true); });
  EXPECT_FALSE(s);
  EXPECT_EQ(s.message().find("\"s\""), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(D, BlockStore, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace

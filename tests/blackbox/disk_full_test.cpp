// Disk full against the built daemon on a real SQLite file whose size is capped (database.sqlite_max_size_mb):
// SQLite refuses to grow it with a genuine SQLITE_FULL, exactly as on a full disk. Before the fix: a bare 500 per
// write, /api/ready 200 throughout, and one log line per failed request.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/scratch.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::string_view refused_detail =
    "The database is out of disk space; writes are refused until space is freed";

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

/// 20 logs of 10 KB: about 200 KB a request.
json log_batch() {
  json logs = json::array();
  for (int i = 0; i < 20; ++i)
    logs.push_back({{"name", "filler"},
                    {"level", 20},
                    {"message", std::string(10'000, 'x')},
                    {"timestamp", "2026-01-01T00:00:00Z"},
                    {"flow_run_id", nullptr},
                    {"task_run_id", nullptr}});
  return logs;
}

class DiskFullTest : public ::testing::Test {
 protected:
  /// A daemon whose database file may grow by one to two MiB beyond its migrated schema: a few log batches fit.
  void start() {
    const std::map<std::string, std::string> env = {{"OSPREY_HOME", home_.path().string()},
                                                    {"OSPREY_DATABASE_URL", db_.url()}};
    ASSERT_EQ(run_osprey({"server", "database", "upgrade", "-y"}, env).exit_code, 0);
    auto conn = db_.connect();
    const auto bytes =
        conn->query("PRAGMA page_count").at(0).integer(0) * conn->query("PRAGMA page_size").at(0).integer(0);
    auto capped = env;
    capped["OSPREY_DATABASE_SQLITE_MAX_SIZE_MB"] = std::to_string(bytes / (1 << 20) + 2);
    daemon_ = std::make_unique<daemon>(capped);
    ASSERT_TRUE(daemon_->started()) << daemon_->output();
  }

  http_reply post(const std::string& path, const json& body) {
    return http_request("POST", daemon_->base_url() + path, body.dump());
  }
  http_reply ready() { return http_request("GET", daemon_->base_url() + "/api/ready"); }

  bool output_has(const std::string& line) {
    return wait_until([&] { return daemon_->output().find(line) != std::string::npos; }, 10s);
  }

  scratch_database db_{persistence::dialect::sqlite};
  scratch_dir home_;
  std::unique_ptr<daemon> daemon_;
};

TEST_F(DiskFullTest, WritesGet503NamingTheCauseReadinessFailsAndTheLogSaysItOnce) {
  start();
  ASSERT_EQ(ready().status, 200);
  http_reply refused;
  for (int i = 0; i < 100 && refused.status != 503; ++i) {
    refused = post("/api/logs/", log_batch());
    ASSERT_TRUE(refused.status == 201 || refused.status == 503) << refused.status << " " << refused.body;
  }
  ASSERT_EQ(refused.status, 503) << "the capped file never filled up";
  ASSERT_GT(db_.connect()->query("SELECT count(*) FROM log").at(0).integer(0), 0) << "nothing fitted: no room to free";
  const auto body = json::parse(refused.body, nullptr, false);
  EXPECT_TRUE(body.value("detail", "").starts_with(refused_detail)) << refused.body;
  EXPECT_EQ(refused.headers["retry-after"], "1");

  const auto not_ready = ready();
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_EQ(json::parse(not_ready.body, nullptr, false), (json{{"detail", refused_detail}})) << not_ready.body;

  for (int i = 0; i < 20; ++i) {  // the condition lasts: every write is refused the same way
    EXPECT_EQ(post("/api/logs/", log_batch()).status, 503);
    EXPECT_EQ(
        post("/api/flows/", {{"name", "flow-" + std::to_string(i)}, {"labels", {{"big", std::string(200'000, 'n')}}}})
            .status,
        503);
  }
  ASSERT_TRUE(output_has("database: The database is out of disk space"));
  EXPECT_EQ(count(daemon_->output(), "out of disk space"), 1u) << daemon_->output();
  EXPECT_EQ(count(daemon_->output(), "internal error"), 0u) << daemon_->output();

  // Space is freed (SQLite reuses the pages of deleted rows): the next write commits and ends the episode.
  db_.connect()->execute("DELETE FROM log");
  EXPECT_EQ(post("/api/logs/", log_batch()).status, 201);
  EXPECT_EQ(ready().status, 200);
  ASSERT_TRUE(output_has("database: the database accepts writes again"));
  EXPECT_EQ(count(daemon_->output(), "accepts writes again"), 1u);
  EXPECT_EQ(count(daemon_->output(), "out of disk space"), 1u);
}

// The same on a genuinely full file system: a small tmpfs (mounting needs root, as in CI; elsewhere the test
// says why it skips). SQLite then fails with ENOSPC on its WAL, not on a page cap.
class TmpfsDiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mount_point_ = home_.path() / "small-disk";
    std::filesystem::create_directories(mount_point_);
    if (::mount("tmpfs", mount_point_.c_str(), "tmpfs", 0, "size=8m") != 0)
      GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno) << "); run as root to test a full disk";
    mounted_ = true;
  }
  void TearDown() override {
    daemon_.reset();  // SIGKILL: nothing may hold the file system
    if (mounted_) ::umount2(mount_point_.c_str(), MNT_DETACH);
  }

  /// Fills the file system but for `left` bytes.
  void fill_leaving(std::uintmax_t left) {
    const auto space = std::filesystem::space(mount_point_);
    std::ofstream filler(mount_point_ / "filler", std::ios::binary);
    const std::string chunk(64 * 1024, 'f');
    for (std::uintmax_t written = 0; space.available > left && written < space.available - left;
         written += chunk.size())
      filler.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  }

  http_reply post(const std::string& path, const json& body) {
    return http_request("POST", daemon_->base_url() + path, body.dump());
  }

  scratch_dir home_;
  std::filesystem::path mount_point_;
  bool mounted_ = false;
  std::unique_ptr<daemon> daemon_;
};

TEST_F(TmpfsDiskFullTest, AFullFileSystemGets503AndWritesResumeWhenSpaceIsFreed) {
  daemon_ = std::make_unique<daemon>(std::map<std::string, std::string>{
      {"OSPREY_HOME", home_.path().string()},
      {"OSPREY_DATABASE_URL", "sqlite:///" + (mount_point_ / "osprey.db").string()}});
  ASSERT_TRUE(daemon_->started()) << daemon_->output();
  fill_leaving(1 << 20);
  http_reply refused;
  int accepted = 0;
  for (int i = 0; i < 100 && refused.status != 503; ++i) {
    refused = post("/api/logs/", log_batch());
    ASSERT_TRUE(refused.status == 201 || refused.status == 503) << refused.status << " " << refused.body;
    accepted += refused.status == 201;
  }
  ASSERT_EQ(refused.status, 503) << "the file system never filled up";
  EXPECT_TRUE(json::parse(refused.body, nullptr, false).value("detail", "").starts_with(refused_detail))
      << refused.body;
  EXPECT_EQ(http_request("GET", daemon_->base_url() + "/api/ready").status, 503);
  EXPECT_EQ(http_request("GET", daemon_->base_url() + "/api/health").status, 200);  // alive, just full

  std::filesystem::remove(mount_point_ / "filler");
  EXPECT_TRUE(wait_until([&] { return post("/api/logs/", log_batch()).status == 201; }, 30s));
  EXPECT_EQ(http_request("GET", daemon_->base_url() + "/api/ready").status, 200);
  const auto stored = post("/api/logs/filter", {{"limit", 200}});
  ASSERT_EQ(stored.status, 200) << stored.body;
  EXPECT_GE(json::parse(stored.body).size(), static_cast<std::size_t>(accepted) * 20) << "accepted logs were lost";
}

}  // namespace
}  // namespace osprey::testing

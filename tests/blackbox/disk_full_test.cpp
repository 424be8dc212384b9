// Disk full against the built daemon on a real SQLite file whose size is capped (database.sqlite_max_size_mb):
// SQLite refuses to grow it with a genuine SQLITE_FULL, exactly as on a full disk. Before the fix: a bare 500 per
// write, /api/ready 200 throughout, and one log line per failed request.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "tests/support/scratch.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::string_view refused_detail = "The database is out of disk space; writes are refused until space is freed";

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

class DiskFullTest : public ::testing::Test {
protected:
  /// A daemon whose database file may grow by one to two MiB beyond its migrated schema: a few log batches fit.
  void start() {
    const std::map<std::string, std::string> env = {{"OSPREY_HOME", home_.path().string()},
                                                    {"OSPREY_DATABASE_URL", db_.url()}};
    ASSERT_EQ(run_osprey({"server", "database", "upgrade", "-y"}, env).exit_code, 0);
    auto conn = db_.connect();
    const auto bytes = conn->query("PRAGMA page_count").at(0).integer(0) * conn->query("PRAGMA page_size").at(0).integer(0);
    auto capped = env;
    capped["OSPREY_DATABASE_SQLITE_MAX_SIZE_MB"] = std::to_string(bytes / (1 << 20) + 2);
    daemon_ = std::make_unique<daemon>(capped);
    ASSERT_TRUE(daemon_->started()) << daemon_->output();
  }

  http_reply post(const std::string& path, const json& body) {
    return http_request("POST", daemon_->base_url() + path, body.dump());
  }
  http_reply ready() { return http_request("GET", daemon_->base_url() + "/api/ready"); }

  /// 20 logs of 10 KB: about 200 KB a request.
  static json log_batch() {
    json logs = json::array();
    for (int i = 0; i < 20; ++i)
      logs.push_back({{"name", "filler"}, {"level", 20}, {"message", std::string(10'000, 'x')},
                      {"timestamp", "2026-01-01T00:00:00Z"}, {"flow_run_id", nullptr}, {"task_run_id", nullptr}});
    return logs;
  }

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
    EXPECT_EQ(post("/api/flows/", {{"name", "flow-" + std::to_string(i) + std::string(200'000, 'n')}}).status, 503);
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

}  // namespace
}  // namespace osprey::testing

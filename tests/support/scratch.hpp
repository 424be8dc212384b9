#pragma once
// Test plumbing: scratch directories, scratch databases on both dialects, a daemon process and a small
// HTTP client. Real parts only: real SQLite files, a real PostgreSQL server, the real osprey binary.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "persistence/sql.hpp"

namespace osprey::testing {

/// A fresh directory under /tmp, removed with its contents on destruction.
class scratch_dir {
 public:
  scratch_dir();
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// The maintenance URL of the test PostgreSQL server (OSPREY_TEST_POSTGRES_URL), or nullopt.
std::optional<std::string> postgres_admin_url();
/// True when tests must fail rather than skip without PostgreSQL (OSPREY_REQUIRE_POSTGRES=1, set by CI).
bool postgres_required();

/// An empty database of one dialect: a new SQLite file, or a new PostgreSQL database created on the test
/// server (dropped on destruction). `available()` is false when PostgreSQL is not configured.
class scratch_database {
 public:
  explicit scratch_database(persistence::dialect d);
  ~scratch_database();
  scratch_database(const scratch_database&) = delete;
  scratch_database& operator=(const scratch_database&) = delete;

  [[nodiscard]] bool available() const { return !url_.empty(); }
  [[nodiscard]] const std::string& url() const { return url_; }
  [[nodiscard]] persistence::database_target target() const;
  /// A new connection to this database (asserting success).
  [[nodiscard]] std::unique_ptr<persistence::sql_connection> connect() const;
  /// connect(), with the schema first upgraded to the newest revision (asserting success).
  [[nodiscard]] std::unique_ptr<persistence::sql_connection> connect_at_head() const;

 private:
  persistence::dialect dialect_;
  scratch_dir dir_;
  std::string url_;
  std::string pg_name_;
};

/// Skips the current test when the dialect's server is not available (fails instead under CI).
#define OSPREY_SKIP_IF_UNAVAILABLE(db)                                                                   \
  do {                                                                                                   \
    if (!(db).available()) {                                                                             \
      if (::osprey::testing::postgres_required()) FAIL() << "PostgreSQL is required but not configured"; \
      GTEST_SKIP() << "PostgreSQL not configured (set OSPREY_TEST_POSTGRES_URL)";                        \
    }                                                                                                    \
  } while (0)

/// Names parameterised tests after the dialect: INSTANTIATE_TEST_SUITE_P(D, T, all_dialects(), dialect_test_name).
inline std::vector<persistence::dialect> all_dialects() {
  return {persistence::dialect::sqlite, persistence::dialect::postgresql};
}
template <class ParamInfo>
std::string dialect_test_name(const ParamInfo& param_info) {
  return persistence::to_string(param_info.param);
}

/// Calls `condition` until it returns true or `deadline` passes; returns its last answer.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds deadline);

/// Result of running a command to completion.
struct command_result {
  int exit_code = -1;
  std::string out;  ///< stdout and stderr interleaved
};

/// The exit code and output, for a failure message.
inline std::string described(const command_result& r) {
  return "exit code " + std::to_string(r.exit_code) + ", output:\n" + r.out;
}

/// The osprey binary under test ($OSPREY_BINARY, set by ctest; else ./osprey next to the tests dir).
std::string osprey_binary();

/// Runs osprey with `args` and extra environment, stdin from /dev/null, and waits (up to 2 minutes).
command_result run_osprey(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});

/// A running `osprey server start` with its own OSPREY_HOME, on a free port.
class daemon {
 public:
  /// Starts and waits until it prints where it listens (or exits). `extra_args` follow `server start --port 0`;
  /// with `free_port` false they follow `server start` alone (the port then comes from them, env or file).
  daemon(std::map<std::string, std::string> env, std::vector<std::string> extra_args = {}, bool free_port = true);
  ~daemon();  ///< SIGKILLs the process if still running.
  daemon(const daemon&) = delete;
  daemon& operator=(const daemon&) = delete;

  [[nodiscard]] bool started() const { return port_ != 0; }
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] std::string output();  ///< everything printed so far
  void send_signal(int sig);
  /// Closes our end of its output pipe, as when whatever reads its output (a `| tee`, a log shipper) goes away.
  void close_output();
  /// Waits for the process to exit; returns its exit code, or -1 on timeout.
  int wait_exit(std::chrono::milliseconds deadline);

 private:
  void pump(std::chrono::milliseconds wait);
  int pid_ = -1;
  int out_fd_ = -1;
  int port_ = 0;
  int exit_code_ = -1;
  bool exited_ = false;
  std::string output_;
};

struct http_reply {
  long status = 0;  ///< 0 when the connection failed
  std::string body;
  std::map<std::string, std::string> headers;  ///< lower-case names
};

/// A blocking HTTP/1.1 request (libcurl), loopback only.
http_reply http_request(const std::string& method, const std::string& url, const std::string& body = "",
                        const std::vector<std::string>& headers = {"Content-Type: application/json"});

}  // namespace osprey::testing

// `osprey server start` as an operator meets it: what it prints, where its data lives, how settings reach it,
// how it refuses to start, and that stopping it (SIGINT/SIGTERM) loses no answered write.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "tests/support/scratch.hpp"

namespace osprey::testing {
namespace {

using namespace std::chrono_literals;
using persistence::dialect;

/// A TCP socket bound to 127.0.0.1 (port 0: any free one); closed on destruction.
class bound_socket {
public:
  explicit bound_socket(int port = 0) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ok_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && listen(fd_, 4) == 0;
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~bound_socket() { close(fd_); }
  bound_socket(const bound_socket&) = delete;
  bound_socket& operator=(const bound_socket&) = delete;
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] int port() const { return port_; }

private:
  int fd_;
  int port_ = 0;
  bool ok_ = false;
};

/// A loopback port that was free a moment ago.
int free_port() { return bound_socket().port(); }

/// Removes a variable from this process's environment (inherited by spawned daemons) for one scope.
class without_env {
public:
  explicit without_env(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) saved_ = v;
    unsetenv(name);
  }
  ~without_env() {
    if (saved_) setenv(name_, saved_->c_str(), 1);
  }
  without_env(const without_env&) = delete;
  without_env& operator=(const without_env&) = delete;

private:
  const char* name_;
  std::optional<std::string> saved_;
};

void write_file(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

bool listens_at(const std::string& host, int port) {
  return http_request("GET", "http://" + host + ":" + std::to_string(port) + "/api/health").status == 200;
}

// ---- on each dialect ----

class ServerLifecycleTest : public ::testing::TestWithParam<dialect> {
protected:
  void SetUp() override { OSPREY_SKIP_IF_UNAVAILABLE(db_); }
  std::map<std::string, std::string> env() const {
    return {{"OSPREY_HOME", home_.path().string()}, {"OSPREY_DATABASE_URL", db_.url()}};
  }

  scratch_database db_{GetParam()};
  scratch_dir home_;
};

TEST_P(ServerLifecycleTest, PrintsWhereItListensAndStopsCleanlyOnSigintAndSigterm) {
  for (int sig : {SIGINT, SIGTERM}) {
    daemon d(env());
    ASSERT_TRUE(d.started()) << d.output();
    EXPECT_NE(d.output().find("listening on http://127.0.0.1:" + std::to_string(d.port())), std::string::npos)
        << d.output();
    EXPECT_NE(d.output().find(db_.url()), std::string::npos) << d.output();
    EXPECT_TRUE(listens_at("127.0.0.1", d.port()));
    d.send_signal(sig);
    EXPECT_EQ(d.wait_exit(30s), 0) << strsignal(sig) << "\n" << d.output();
    EXPECT_NE(d.output().find("Stopped cleanly"), std::string::npos) << d.output();
  }
}

TEST_P(ServerLifecycleTest, RefusesAnOutdatedSchemaWhenMigrateOnStartIsOff) {
  auto vars = env();
  vars["OSPREY_DATABASE_MIGRATE_ON_START"] = "false";
  daemon d(vars);
  EXPECT_FALSE(d.started());
  EXPECT_NE(d.wait_exit(30s), 0);
  EXPECT_NE(d.output().find("osprey server database upgrade"), std::string::npos) << d.output();
}

TEST_P(ServerLifecycleTest, LosesNoAnsweredWriteWhenStoppedMidStream) {
  auto d = std::make_unique<daemon>(env());
  ASSERT_TRUE(d->started()) << d->output();
  constexpr int threads = 8;
  std::atomic<int> answered{0};
  std::atomic<bool> stop{false};
  std::vector<std::vector<std::string>> acknowledged(threads);
  std::vector<std::string> unexpected;
  std::mutex unexpected_mutex;
  {
    std::vector<std::jthread> writers;
    for (int t = 0; t < threads; ++t) {
      writers.emplace_back([&, t, url = d->base_url() + "/api/flows/"] {
        for (int i = 0; !stop; ++i) {
          const std::string name = "w" + std::to_string(t) + "-" + std::to_string(i);
          auto r = http_request("POST", url, R"({"name":")" + name + "\"}");
          if (r.status == 201 || r.status == 200) {
            acknowledged[t].push_back(name);
            ++answered;
          } else {
            // Refused or reset once the server stops listening; 503 while the writer drains. Nothing else.
            if (r.status != 0 && r.status != 503) {
              std::lock_guard lock(unexpected_mutex);
              unexpected.push_back(std::to_string(r.status) + " " + r.body);
            }
            return;
          }
        }
      });
    }
    EXPECT_TRUE(wait_until([&] { return answered >= 200; }, 30s));
    d->send_signal(SIGTERM);
    EXPECT_EQ(d->wait_exit(30s), 0) << d->output();
    stop = true;
  }
  EXPECT_TRUE(unexpected.empty()) << unexpected.front();
  EXPECT_NE(d->output().find("Stopped cleanly"), std::string::npos) << d->output();

  std::set<std::string> stored;
  for (const auto& row : db_.connect()->query("SELECT name FROM flow")) stored.insert(row.text(0));
  int checked = 0;
  for (const auto& names : acknowledged) {
    for (const auto& name : names) {
      EXPECT_TRUE(stored.contains(name)) << name << " was acknowledged but is missing";
      ++checked;
    }
  }
  EXPECT_GE(checked, 200);

  // And a restarted server serves them.
  d = std::make_unique<daemon>(env());
  ASSERT_TRUE(d->started()) << d->output();
  for (const auto& names : acknowledged) {
    if (names.empty()) continue;
    EXPECT_EQ(http_request("GET", d->base_url() + "/api/flows/name/" + names.back()).status, 200) << names.back();
  }
}

INSTANTIATE_TEST_SUITE_P(D, ServerLifecycleTest, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

// ---- dialect-independent ----

TEST(ServerLifecycle, KeepsTheDefaultDatabaseUnderHomeDotOsprey) {
  without_env no_home("OSPREY_HOME");
  without_env no_url("OSPREY_DATABASE_URL");
  without_env no_config("OSPREY_CONFIG");
  scratch_dir home;
  daemon d({{"HOME", home.path().string()}});
  ASSERT_TRUE(d.started()) << d.output();
  const auto db_file = home.path() / ".osprey" / "osprey.db";
  EXPECT_TRUE(std::filesystem::exists(db_file)) << d.output();
  EXPECT_NE(d.output().find(db_file.string()), std::string::npos) << d.output();
  EXPECT_FALSE(std::filesystem::exists(home.path() / ".prefect"));
}

TEST(ServerLifecycle, KeepsTheDefaultDatabaseInOspreyHome) {
  without_env no_url("OSPREY_DATABASE_URL");
  without_env no_config("OSPREY_CONFIG");
  scratch_dir home, osprey_home;
  daemon d({{"HOME", home.path().string()}, {"OSPREY_HOME", osprey_home.path().string()}});
  ASSERT_TRUE(d.started()) << d.output();
  EXPECT_TRUE(std::filesystem::exists(osprey_home.path() / "osprey.db")) << d.output();
  EXPECT_FALSE(std::filesystem::exists(home.path() / ".osprey"));
}

// `osprey server start | tee log` and Ctrl+C: tee dies too, and writing "Received SIGINT" once raised SIGPIPE,
// killing the server before it drained its writes.
TEST(ServerLifecycle, StopsCleanlyWhenWhatReadItsOutputIsGone) {
  scratch_dir home;
  daemon d({{"OSPREY_HOME", home.path().string()}});
  ASSERT_TRUE(d.started()) << d.output();
  d.close_output();
  d.send_signal(SIGINT);
  EXPECT_EQ(d.wait_exit(30s), 0) << "141 is death by SIGPIPE";
}

// 127.0.0.0/8 is all loopback on Linux, so three hosts tell file, environment and flag apart.
TEST(ServerLifecycle, TakesHostAndPortFromFlagOverEnvironmentOverFile) {
  without_env no_port("OSPREY_PORT");
  without_env no_host("OSPREY_HOST");
  scratch_dir home;
  const auto config = home.path() / "osprey.yaml";
  const int file_port = free_port(), env_port = free_port(), flag_port = free_port();
  write_file(config, "server:\n  host: 127.0.0.2\n  port: " + std::to_string(file_port) + "\n");
  const std::map<std::string, std::string> base = {{"OSPREY_HOME", home.path().string()}};
  auto with_env = base;
  with_env["OSPREY_HOST"] = "127.0.0.3";
  with_env["OSPREY_PORT"] = std::to_string(env_port);

  struct attempt {
    std::map<std::string, std::string> env;
    std::vector<std::string> args;
    std::string host;
    int port;
  };
  const std::vector<attempt> attempts = {
      {base, {"--config", config.string()}, "127.0.0.2", file_port},
      {with_env, {"--config", config.string()}, "127.0.0.3", env_port},
      {with_env, {"--config", config.string(), "--host", "127.0.0.1", "--port", std::to_string(flag_port)},
       "127.0.0.1", flag_port},
  };
  for (const auto& a : attempts) {
    daemon d(a.env, a.args, /*free_port=*/false);
    ASSERT_TRUE(d.started()) << d.output();
    EXPECT_EQ(d.port(), a.port) << d.output();
    EXPECT_NE(d.output().find("listening on http://" + a.host + ":" + std::to_string(a.port)), std::string::npos)
        << d.output();
    EXPECT_TRUE(listens_at(a.host, a.port)) << a.host << ":" << a.port;
  }
}

TEST(ServerLifecycle, RefusesABadConfigFileListingEveryError) {
  scratch_dir home;
  const auto config = home.path() / "osprey.yaml";
  write_file(config, "server:\n  port: 99999\n  colour: blue\n");
  daemon d({{"OSPREY_HOME", home.path().string()}}, {"--config", config.string()}, /*free_port=*/false);
  EXPECT_FALSE(d.started());
  EXPECT_EQ(d.wait_exit(30s), 2) << d.output();
  EXPECT_NE(d.output().find(config.string() + ":2: server.port"), std::string::npos) << d.output();
  EXPECT_NE(d.output().find(config.string() + ":3: server.colour"), std::string::npos) << d.output();
  EXPECT_EQ(d.output().find("listening"), std::string::npos) << d.output();
  EXPECT_FALSE(std::filesystem::exists(home.path() / "osprey.db"));
}

TEST(ServerLifecycle, NamesTheAddressWhenThePortIsTaken) {
  scratch_dir home;
  bound_socket taken;
  ASSERT_TRUE(taken.ok());
  const std::string port = std::to_string(taken.port());
  daemon d({{"OSPREY_HOME", home.path().string()}}, {"--port", port}, /*free_port=*/false);
  EXPECT_FALSE(d.started());
  const int code = d.wait_exit(30s);
  EXPECT_NE(code, 0);
  EXPECT_LT(code, 128) << "killed by a signal";
  EXPECT_NE(d.output().find("127.0.0.1:" + port), std::string::npos) << d.output();
}

TEST(ServerLifecycle, ExplainsAnUnreachablePostgresqlServer) {
  scratch_dir home;
  daemon d({{"OSPREY_HOME", home.path().string()}, {"OSPREY_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/x"}});
  EXPECT_FALSE(d.started());
  const int code = d.wait_exit(30s);
  EXPECT_NE(code, 0);
  EXPECT_LT(code, 128) << "killed by a signal";
  EXPECT_NE(d.output().find("cannot connect to PostgreSQL at postgresql://nobody@127.0.0.1:1/x"), std::string::npos)
      << d.output();
}

}  // namespace
}  // namespace osprey::testing

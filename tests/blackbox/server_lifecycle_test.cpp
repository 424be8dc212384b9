// `osprey server start` as an operator meets it: what it prints, where its data lives, how settings reach it,
// how it refuses to start, and that stopping it (SIGINT/SIGTERM) loses no answered write.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <regex>
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

/// A plain TCP connection to 127.0.0.1:port, for clients that misbehave on purpose.
class raw_connection {
 public:
  explicit raw_connection(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval timeout{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~raw_connection() { close(fd_); }
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;
  [[nodiscard]] bool connected() const { return connected_; }
  void send_text(const std::string& text) { (void)::send(fd_, text.data(), text.size(), MSG_NOSIGNAL); }
  /// The bytes that arrive next ("" after 10 s of silence or when closed).
  std::string receive() {
    char buf[4096];
    const auto n = recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  }

 private:
  int fd_;
  bool connected_ = false;
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

// One SQLite file serves one server; on PostgreSQL a second server joins the first.
TEST_P(ServerLifecycleTest, ASecondServerOnTheDatabaseIsRefusedOnSqliteAndJoinsOnPostgresql) {
  daemon first(env());
  ASSERT_TRUE(first.started()) << first.output();
  daemon second(env());
  if (GetParam() == dialect::sqlite) {
    EXPECT_FALSE(second.started());
    EXPECT_EQ(second.wait_exit(30s), 1) << second.output();
    EXPECT_NE(second.output().find("127.0.0.1:" + std::to_string(first.port())), std::string::npos) << second.output();
    EXPECT_NE(second.output().find("run several servers on PostgreSQL"), std::string::npos) << second.output();
    // Once the first is gone — even killed — the file is free again.
    first.send_signal(SIGKILL);
    first.wait_exit(10s);
    daemon third(env());
    EXPECT_TRUE(third.started()) << third.output();
  } else {
    ASSERT_TRUE(second.started()) << second.output();
    auto conn = db_.connect();
    EXPECT_TRUE(
        wait_until([&] { return conn->query("SELECT count(*) FROM server_instance").front().integer(0) == 2; }, 15s));
    second.send_signal(SIGTERM);
    EXPECT_EQ(second.wait_exit(30s), 0) << second.output();
    EXPECT_EQ(conn->query("SELECT count(*) FROM server_instance").front().integer(0), 1) << "a clean stop leaves";
  }
}

TEST_P(ServerLifecycleTest, RefusesAnOutdatedSchemaWhenMigrateOnStartIsOff) {
  auto vars = env();
  vars["OSPREY_DATABASE_MIGRATE_ON_START"] = "false";
  daemon d(vars);
  EXPECT_FALSE(d.started());
  EXPECT_NE(d.wait_exit(30s), 0);
  EXPECT_NE(d.output().find("osprey server database upgrade"), std::string::npos) << d.output();
  EXPECT_EQ(d.output().find("listening"), std::string::npos) << d.output();

  auto upgrade = run_osprey({"server", "database", "upgrade", "--yes"}, vars);
  ASSERT_EQ(upgrade.exit_code, 0) << upgrade.out;
  daemon current(vars);
  EXPECT_TRUE(current.started()) << current.output();
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
// logging.level debug logs every request with its status and time; the default (info) logs none.
TEST(ServerLifecycle, LogsRequestsAtDebugLevelOnly) {
  scratch_dir home;
  for (const std::string level : {"debug", "info"}) {
    daemon d({{"OSPREY_HOME", home.path().string()}, {"OSPREY_LOGGING_LEVEL", level}});
    ASSERT_TRUE(d.started()) << d.output();
    ASSERT_EQ(http_request("GET", d.base_url() + "/api/health").status, 200);
    ASSERT_EQ(http_request("GET", d.base_url() + "/api/flows/not-a-uuid").status, 422);
    const std::regex health(R"(DEBUG http: GET /api/health -> 200 in \d+ us)");
    if (level == "debug") {
      EXPECT_TRUE(wait_until([&] { return d.output().find("/api/flows/not-a-uuid -> 422") != std::string::npos; }, 10s))
          << d.output();
      EXPECT_TRUE(std::regex_search(d.output(), health)) << d.output();
    } else {
      d.send_signal(SIGTERM);
      EXPECT_EQ(d.wait_exit(30s), 0) << d.output();
      EXPECT_EQ(d.output().find("DEBUG"), std::string::npos) << d.output();
    }
  }
}

TEST(ServerLifecycle, StopsCleanlyWhenWhatReadItsOutputIsGone) {
  scratch_dir home;
  daemon d({{"OSPREY_HOME", home.path().string()}});
  ASSERT_TRUE(d.started()) << d.output();
  d.close_output();
  d.send_signal(SIGINT);
  EXPECT_EQ(d.wait_exit(30s), 0) << "141 is death by SIGPIPE";
}

TEST(ServerLifecycle, StopsWithinTheGraceDespiteIdleAndStalledClients) {
  scratch_dir home;
  daemon d({{"OSPREY_HOME", home.path().string()}, {"OSPREY_SERVER_SHUTDOWN_GRACE_SECONDS", "1"}});
  ASSERT_TRUE(d.started()) << d.output();
  raw_connection idle(d.port()), stalled(d.port());
  ASSERT_TRUE(idle.connected() && stalled.connected());
  idle.send_text("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(idle.receive().starts_with("HTTP/1.1 200")) << "the idle connection is kept alive";
  stalled.send_text("POST /api/flows/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"na");
  d.send_signal(SIGTERM);
  EXPECT_EQ(d.wait_exit(10s), 0) << d.output();  // the default grace would be 30 s
}

TEST(ServerLifecycle, ConnectionsAndRequestHeadsBeyondTheirLimitsAreRefusedWithAReason) {
  scratch_dir home;
  daemon d({{"OSPREY_HOME", home.path().string()},
            {"OSPREY_SERVER_MAX_CONNECTIONS", "3"},
            {"OSPREY_SERVER_MAX_HEADER_BYTES", "2048"},
            {"OSPREY_SERVER_KEEP_ALIVE_TIMEOUT_SECONDS", "60"}});
  ASSERT_TRUE(d.started()) << d.output();
  const std::string health = "GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n";
  {
    raw_connection a(d.port()), b(d.port()), c(d.port());
    for (auto* conn : {&a, &b, &c}) {  // each answered, so each is open on the server's side
      conn->send_text(health);
      ASSERT_TRUE(conn->receive().starts_with("HTTP/1.1 200"));
    }
    raw_connection extra(d.port());
    const auto refused = extra.receive();
    EXPECT_TRUE(refused.starts_with("HTTP/1.1 503")) << refused;
    EXPECT_NE(refused.find("server.max_connections = 3"), std::string::npos) << refused;
    a.send_text(health);  // the open ones still work
    EXPECT_TRUE(a.receive().starts_with("HTTP/1.1 200"));
  }
  // Once they are closed, new connections are served again.
  ASSERT_TRUE(wait_until([&] { return listens_at("127.0.0.1", d.port()); }, 10s));
  raw_connection big(d.port());
  big.send_text("GET /api/health HTTP/1.1\r\nHost: x\r\nX-Padding: " + std::string(3000, 'p') + "\r\n\r\n");
  EXPECT_TRUE(big.receive().starts_with("HTTP/1.1 431"));
  EXPECT_NE(d.output().find("refusing clients: connections at their limit of 3"), std::string::npos) << d.output();
}

// 127.0.0.0/8 is all loopback on Linux, so three hosts tell file, environment and flag apart.
TEST(ServerLifecycle, TakesHostAndPortFromFlagOverEnvironmentOverFile) {
  without_env no_port("OSPREY_PORT");
  without_env no_host("OSPREY_HOST");
  scratch_dir home;
  const auto config = home.path() / "osprey.yaml";
  int file_port = 0, env_port = 0, flag_port = 0;
  {
    bound_socket a, b, c;  // held together, so the three ports differ
    file_port = a.port(), env_port = b.port(), flag_port = c.port();
  }
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
      {with_env,
       {"--config", config.string(), "--host", "127.0.0.1", "--port", std::to_string(flag_port)},
       "127.0.0.1",
       flag_port},
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

TEST(ServerLifecycle, ExplainsAnUnreachablePostgresqlServerWithoutShowingThePassword) {
  scratch_dir home;
  for (const std::string url : {"postgresql://nobody@127.0.0.1:1/x", "postgresql://nobody:secret@127.0.0.1:1/x"}) {
    daemon d({{"OSPREY_HOME", home.path().string()}, {"OSPREY_DATABASE_URL", url}});
    EXPECT_FALSE(d.started());
    const int code = d.wait_exit(30s);
    EXPECT_NE(code, 0);
    EXPECT_LT(code, 128) << "killed by a signal";
    EXPECT_NE(d.output().find("cannot connect to PostgreSQL at postgresql://nobody"), std::string::npos) << d.output();
    EXPECT_NE(d.output().find("127.0.0.1:1/x"), std::string::npos) << d.output();
    EXPECT_EQ(d.output().find("secret"), std::string::npos) << d.output();
  }
}

}  // namespace
}  // namespace osprey::testing

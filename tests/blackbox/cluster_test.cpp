// Three servers on one PostgreSQL behind HAProxy (round robin, as a user would run them). Writers drive flow
// runs through the load balancer — create, Running, Failed (which a policy alerts to a loopback Slack), logs —
// while one server is killed with kill -9. Then: everything any server acknowledged is stored, every Failed run
// is alerted (the dead server's outbox jobs are taken over), at no moment do two servers run the timed service
// passes, and the late-runs service marks each overdue run Late exactly once.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/http_receiver.hpp"
#include "tests/support/scratch.hpp"

extern char** environ;

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;
using namespace std::chrono_literals;

const char* const haproxy_binary = "/usr/sbin/haproxy";

/// HAProxy in the foreground, round robin over `backends`, health-checked; stopped with the object.
class load_balancer {
 public:
  load_balancer(const scratch_dir& dir, const std::vector<int>& backends) : port_(unused_port()) {
    const auto config = (dir.path() / "haproxy.cfg").string();
    std::ofstream out(config);
    out << "global\n  maxconn 2000\n"
           "defaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n"
           "  retries 3\n  option redispatch\n"
           "frontend api\n  bind 127.0.0.1:"
        << port_
        << "\n  default_backend osprey\n"
           "backend osprey\n  balance roundrobin\n  option httpchk GET /api/health\n"
           "  default-server inter 300ms fall 1 rise 1\n";
    for (std::size_t i = 0; i < backends.size(); ++i)
      out << "  server s" << i << " 127.0.0.1:" << backends[i] << " check\n";
    out.close();
    std::vector<std::string> args{haproxy_binary, "-db", "-f", config};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, haproxy_binary, nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
  }
  ~load_balancer() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  load_balancer(const load_balancer&) = delete;
  load_balancer& operator=(const load_balancer&) = delete;

  [[nodiscard]] bool running() const { return pid_ > 0; }
  [[nodiscard]] std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::uint16_t port_;
  pid_t pid_ = -1;
};

struct acknowledged {
  std::mutex mutex;
  std::set<std::string> created;              ///< flow run ids answered 201
  std::map<std::string, std::string> failed;  ///< id -> name of runs whose Failed was accepted
  std::set<std::string> logs;                 ///< messages of log batches answered 201
};

bool accepted(const http_reply& r) { return r.status == 201 && json::parse(r.body).value("status", "") == "ACCEPT"; }

/// One writer: run after run until `stop`, through the load balancer; records only what was acknowledged.
void write(const std::string& base, const std::string& flow_id, int writer, const std::atomic<bool>& stop,
           acknowledged& acked) {
  for (int i = 0; !stop; ++i) {
    const auto name = "w" + std::to_string(writer) + "-" + std::to_string(i);
    const auto created =
        http_request("POST", base + "/api/flow_runs/",
                     json{{"flow_id", flow_id}, {"name", name}, {"state", {{"type", "PENDING"}}}}.dump());
    if (created.status != 201) continue;
    const auto id = json::parse(created.body)["id"].get<std::string>();
    {
      std::lock_guard lock(acked.mutex);
      acked.created.insert(id);
    }
    const auto set_state = [&](const char* type) {
      return http_request("POST", base + "/api/flow_runs/" + id + "/set_state",
                          json{{"state", {{"type", type}}}}.dump());
    };
    if (!accepted(set_state("RUNNING"))) continue;
    json logs = json::array();
    for (int n = 0; n < 3; ++n)
      logs.push_back({{"name", "cluster"},
                      {"level", 20},
                      {"message", name + "/" + std::to_string(n)},
                      {"timestamp", "2026-01-01T00:00:00Z"},
                      {"flow_run_id", id},
                      {"task_run_id", nullptr}});
    if (http_request("POST", base + "/api/logs/", logs.dump()).status == 201) {
      std::lock_guard lock(acked.mutex);
      for (const auto& l : logs) acked.logs.insert(l["message"].get<std::string>());
    }
    if (accepted(set_state("FAILED"))) {
      std::lock_guard lock(acked.mutex);
      acked.failed[id] = name;
    }
  }
}

/// How many of the servers at `bases` run the late-runs service's timed passes now (not standby).
int leaders(const std::vector<std::string>& bases) {
  int n = 0;
  for (const auto& base : bases) {
    const auto r = http_request("GET", base + "/api/admin/services");
    if (r.status != 200) continue;
    for (const auto& row : json::parse(r.body))
      if (row["name"] == "late_runs" && row["enabled"] == true && row["standby"] == false) ++n;
  }
  return n;
}

class ClusterTest : public ::testing::Test {
 protected:
  // The channel's rate limit (per server) is below the rate of failures, so each server holds a queue of
  // alerts it leased and has not sent yet: the killed server dies with some, which the survivors must take
  // over (else they would wait out the 5-minute lease).
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    if (access(haproxy_binary, X_OK) != 0) {
      if (std::getenv("OSPREY_REQUIRE_POSTGRES"))
        FAIL() << haproxy_binary << " is missing: scripts/install-deps.sh installs it";
      GTEST_SKIP() << "haproxy is not installed";
    }
    config_ = (home_.path() / "osprey.yaml").string();
    std::ofstream(config_) << "notifications:\n  channels:\n"
                              "    - {name: chat, type: slack, allow_private_network: true, url: \""
                           << slack_.base_url()
                           << "/services/T0/B0/X\", rate_limit: {per_second: 40, burst: 5}}\n"
                              "  policies:\n    - {name: failures, match: {state_names: [Failed]}, channels: [chat]}\n";
  }

  std::unique_ptr<daemon> start_server() {
    // One home for all: the servers of one database must share its block-secrets key file.
    std::map<std::string, std::string> env{{"OSPREY_HOME", home_.path().string()},
                                           {"OSPREY_DATABASE_URL", db_.url()},
                                           {"OSPREY_SERVICES_CLUSTER_HEARTBEAT_SECONDS", "1"},
                                           {"OSPREY_SERVICES_CLUSTER_DEAD_AFTER_SECONDS", "3"},
                                           {"OSPREY_SERVICES_LATE_RUNS_LOOP_SECONDS", "1"},
                                           {"OSPREY_SERVICES_LATE_RUNS_AFTER_SECONDS", "1"}};
    auto d = std::make_unique<daemon>(env, std::vector<std::string>{"--config", config_});
    EXPECT_TRUE(d->started()) << d->output();
    return d;
  }

  scratch_database db_{dialect::postgresql};
  scratch_dir home_;
  http_receiver slack_;
  std::string config_;
};

TEST_F(ClusterTest, KillingOneOfThreeServersLosesNoWriteAndNoAlertAndNoServiceRunsTwice) {
  std::vector<std::unique_ptr<daemon>> servers;
  for (int i = 0; i < 3; ++i) {
    servers.push_back(start_server());
    ASSERT_TRUE(servers.back()->started());
  }
  load_balancer lb(home_, {servers[0]->port(), servers[1]->port(), servers[2]->port()});
  ASSERT_TRUE(lb.running());
  ASSERT_TRUE(wait_until([&] { return http_request("GET", lb.base_url() + "/api/health").status == 200; }, 10s));
  std::vector<std::string> bases;
  for (const auto& s : servers) bases.push_back(s->base_url());
  ASSERT_TRUE(wait_until([&] { return leaders(bases) == 1; }, 15s)) << "no server took the services lease";

  const auto flow = http_request("POST", lb.base_url() + "/api/flows/", R"({"name":"cluster"})");
  ASSERT_EQ(flow.status, 201) << flow.body;
  const auto flow_id = json::parse(flow.body)["id"].get<std::string>();

  // Overdue Scheduled runs for the late-runs service, created through different servers.
  std::vector<std::string> overdue;
  for (int i = 0; i < 12; ++i) {
    const auto r = http_request(
        "POST", lb.base_url() + "/api/flow_runs/",
        json{{"flow_id", flow_id},
             {"name", "overdue-" + std::to_string(i)},
             {"state", {{"type", "SCHEDULED"}, {"state_details", {{"scheduled_time", "2026-01-01T00:00:00Z"}}}}}}
            .dump());
    ASSERT_EQ(r.status, 201) << r.body;
    overdue.push_back(json::parse(r.body)["id"].get<std::string>());
  }

  acknowledged acked;
  std::atomic<bool> stop{false};
  std::atomic<int> most_leaders{0};
  std::atomic<bool> killed{false};
  std::thread watcher([&] {
    while (!stop) {
      std::vector<std::string> alive{bases[0], bases[2]};
      if (!killed) alive.push_back(bases[1]);
      int n = leaders(alive);
      int seen = most_leaders.load();
      while (n > seen && !most_leaders.compare_exchange_weak(seen, n)) {
      }
      std::this_thread::sleep_for(100ms);  // sampling period of the observer, not synchronisation
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) writers.emplace_back([&, w] { write(lb.base_url(), flow_id, w, stop, acked); });
  const auto failed_count = [&] {
    std::lock_guard lock(acked.mutex);
    return acked.failed.size();
  };
  const bool warmed = wait_until([&] { return failed_count() >= 150; }, 60s);
  servers[1]->send_signal(SIGKILL);
  killed = true;
  const auto at_kill = failed_count();
  const bool kept_going = wait_until([&] { return failed_count() >= at_kill + 150; }, 60s);
  stop = true;
  for (auto& t : writers) t.join();
  watcher.join();
  ASSERT_TRUE(warmed) << "the writers never got going";
  EXPECT_TRUE(kept_going) << "the two survivors did not take the load";
  servers[1]->wait_exit(10s);

  // Every acknowledged write is stored.
  auto conn = db_.connect();
  std::set<std::string> runs, failed, messages;
  for (const auto& row : conn->query("SELECT id, state_type FROM flow_run")) {
    runs.insert(row.id(0).to_string());
    if (row.text(1) == "FAILED") failed.insert(row.id(0).to_string());
  }
  for (const auto& row : conn->query("SELECT message FROM log")) messages.insert(row.text(0));
  std::size_t lost_runs = 0, lost_states = 0, lost_logs = 0;
  for (const auto& id : acked.created) lost_runs += !runs.contains(id);
  for (const auto& [id, name] : acked.failed) lost_states += !failed.contains(id);
  for (const auto& m : acked.logs) lost_logs += !messages.contains(m);
  EXPECT_EQ(lost_runs, 0u) << "of " << acked.created.size() << " acknowledged runs";
  EXPECT_EQ(lost_states, 0u) << "of " << acked.failed.size() << " acknowledged Failed states";
  EXPECT_EQ(lost_logs, 0u) << "of " << acked.logs.size() << " acknowledged logs";

  // Every acknowledged Failed run is alerted, the killed server's pending deliveries included.
  std::map<std::string, int> alerts;  // run name -> alerts received
  std::size_t missing = 0;
  const bool all_alerted = wait_until(
      [&] {
        alerts.clear();
        for (const auto& r : slack_.requests()) {
          const auto text = json::parse(r.body).value("text", "");
          const auto slash = text.find("cluster/");
          if (slash == std::string::npos) continue;
          const auto end = text.find(' ', slash);
          ++alerts[text.substr(slash + 8, end - slash - 8)];
        }
        missing = 0;
        for (const auto& [id, name] : acked.failed) missing += !alerts.contains(name);
        return missing == 0;
      },
      60s);
  EXPECT_TRUE(all_alerted) << missing << " of " << acked.failed.size() << " Failed runs were never alerted";
  std::size_t repeated = 0;
  for (const auto& [name, n] : alerts) repeated += static_cast<std::size_t>(n - 1);
  // At-least-once: only deliveries in flight on the killed server may be sent again.
  EXPECT_LE(repeated, acked.failed.size() / 10) << "alerts sent more than once";

  // Never two servers running the timed passes; one of the survivors runs them now.
  EXPECT_LE(most_leaders.load(), 1);
  EXPECT_TRUE(wait_until([&] { return leaders({bases[0], bases[2]}) == 1; }, 15s));
  // The dead server is gone from the membership, the survivors are there.
  EXPECT_TRUE(
      wait_until([&] { return conn->query("SELECT count(*) FROM server_instance").front().integer(0) == 2; }, 15s));

  // Each overdue run became Late exactly once, whichever server marked it.
  for (const auto& id : overdue) {
    ASSERT_TRUE(wait_until(
        [&] {
          return conn->query("SELECT state_name FROM flow_run WHERE id = $1", {persistence::text(id)})
                     .front()
                     .text(0) == "Late";
        },
        30s))
        << id;
    const auto lates = conn->query("SELECT count(*) FROM flow_run_state WHERE flow_run_id = $1 AND name = 'Late'",
                                   {persistence::text(id)});
    EXPECT_EQ(lates.front().integer(0), 1) << id;
  }
}

}  // namespace
}  // namespace osprey::testing

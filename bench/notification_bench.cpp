// Notification delivery benchmark: N flow runs fail at a target rate under a matching policy; every alert must
// reach the receiver, and the figures say how fast and how late.
//
//   build/bench/notification_bench [--runs 10000] [--rate 1000] [--connections 64] [--threads 2]
//                                  [--database-url URL] [--osprey PATH] [--settle 35] [--deadline 120]
//                                  [--keep]
//
// 1. Starts an HTTP receiver in this process (tests/support/http_receiver, answers 202 like PagerDuty's
//    Events API), writes a config with one PagerDuty channel pointing at it (`api_url`, rate limit 100,000/s)
//    and the policy {match: {state_names: [Failed]}, channels: [pager]}, and starts the built
//    `osprey server start --port 0 --config F` with OSPREY_HOME in a scratch directory. The database is a
//    fresh SQLite file there unless --database-url is given (use an empty database: the outbox check reads
//    every pending job). The server inherits this process's environment, so e.g.
//    OSPREY_DATABASE_SQLITE_SYNCHRONOUS=NORMAL applies to it.
// 2. Setup (not timed): one flow, then --runs flow runs (PENDING), each set RUNNING. Then --settle seconds
//    (default 35: the server stops a run's actor after 30 s idle, so every run fails the way a run that has
//    been running a while does, and the figures do not depend on how long the setup took; --settle 1 keeps
//    the actors warm), then until the server's CPU is quiet.
// 3. Failing (timed): run i is due at t0 + i/rate. --connections keep-alive connections spread over --threads
//    threads take the next due run, wait for its time and POST /api/flow_runs/{id}/set_state FAILED. Open
//    loop: when every connection is busy the next run is late, and its set_state latency counts from when it
//    was due (so a server that falls behind shows it), besides the latency from the moment it was sent.
// 4. Waits (up to --deadline s) until the receiver has seen the dedup key "osprey/failures/<id>" of every run,
//    then until GET /api/notifications/outbox?status=pending is empty (and nothing is dead).
// 5. Prints the figures. Delivery latency "answer→alert" = the receiver's arrival time − the set_state
//    answer's arrival (the state was committed before it was answered; the alert races the answer, so it can
//    be slightly negative), "sent→alert" counts from the request; all on this process's steady clock. Also
//    the server's CPU (per thread) during the failing and delivering, and its peak RSS (VmHWM). Exit 1 when
//    an alert is missing, a set_state failed, or the outbox still holds pending or dead jobs.
//
// --automations N: the same traffic through automations instead of a policy. The config has no channel and
// lets blocks reach loopback; setup creates a Webhook block pointing at the receiver and N automations: N - 1
// reactive ones expecting events that never come (each one still looked at for every event: the evaluation
// cost of many loaded automations) and one on prefect.flow-run.Failed (for_each the run) whose call-webhook
// action posts {"dedup_key": "osprey/failures/<resource id>"}. The figures are then event→action: the failed
// state committed, its event stored and evaluated, the action's job committed, run and received.
//
// Loopback only: the server listens on 127.0.0.1 and the channel points at 127.0.0.1.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "bench/api_bench_client.hpp"
#include "tests/support/http_receiver.hpp"

extern char** environ;

using namespace osprey::bench;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct options {
  std::string osprey;  ///< "" = <this executable's directory>/../osprey
  std::string database_url;
  unsigned runs = 10000;
  double rate = 1000;
  unsigned connections = 64;
  unsigned threads = 2;
  double deadline = 120;
  double settle = 35;  ///< seconds between setup and failing (the server's run actors stop after 30 s idle)
  bool keep = false;
  unsigned automations = 0;  ///< > 0: automations instead of a policy (see the header, "--automations")
};

[[noreturn]] void usage(const std::string& problem) {
  if (!problem.empty()) std::fprintf(stderr, "notification_bench: %s\n", problem.c_str());
  std::fprintf(stderr,
               "usage: notification_bench [--runs N] [--rate PER_S] [--connections C] [--threads T]\n"
               "                          [--database-url URL] [--osprey PATH] [--settle S] [--deadline S] [--keep]\n"
               "                          [--automations N]\n");
  std::exit(2);
}

options parse_options(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage("missing value after " + a);
      return argv[++i];
    };
    auto number = [&]() {
      const auto text = value();
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      if (end == text.c_str() || *end || v < 0) usage("bad number for " + a + ": " + text);
      return v;
    };
    if (a == "--runs")
      o.runs = static_cast<unsigned>(number());
    else if (a == "--rate")
      o.rate = number();
    else if (a == "--connections")
      o.connections = static_cast<unsigned>(number());
    else if (a == "--threads")
      o.threads = static_cast<unsigned>(number());
    else if (a == "--deadline")
      o.deadline = number();
    else if (a == "--settle")
      o.settle = number();
    else if (a == "--database-url")
      o.database_url = value();
    else if (a == "--osprey")
      o.osprey = value();
    else if (a == "--keep")
      o.keep = true;
    else if (a == "--automations")
      o.automations = static_cast<unsigned>(number());
    else if (a == "-h" || a == "--help")
      usage("");
    else
      usage("unknown option " + a);
  }
  if (o.runs == 0 || o.connections == 0 || o.threads == 0 || o.rate <= 0 || o.deadline <= 0)
    usage("--runs, --rate, --connections, --threads and --deadline must be > 0");
  return o;
}

/// The server this run started (-1: none running), stopped by fail(): std::exit runs no destructors.
pid_t started_server = -1;

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "notification_bench: %s\n", why.c_str());
  if (started_server > 0) {
    kill(started_server, SIGTERM);
    int status = 0;
    waitpid(started_server, &status, 0);
  }
  std::exit(1);
}

// ---- the server process ----

struct proc_times {
  double cpu_s = 0;                                       ///< user + system of the whole process
  std::map<int, std::pair<std::string, double>> threads;  ///< tid -> (comm, cpu s)
};

/// utime + stime (fields 14, 15) of a /proc/.../stat line, in seconds; comm in `name`.
double stat_cpu(const std::string& path, std::string* name = nullptr) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return 0;
  const auto open = line.find('('), close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos) return 0;
  if (name) *name = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i)
    if (i == 14 || i == 15) ticks += std::strtod(field.c_str(), nullptr);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

proc_times read_times(pid_t pid) {
  proc_times t;
  const std::string base = "/proc/" + std::to_string(pid);
  t.cpu_s = stat_cpu(base + "/stat");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(base + "/task", ec)) {
    std::string name;
    const double cpu = stat_cpu(entry.path().string() + "/stat", &name);
    t.threads[std::atoi(entry.path().filename().c_str())] = {name, cpu};
  }
  return t;
}

/// A field of /proc/<pid>/status in kB ("VmHWM", "VmRSS"); 0 if unreadable.
long status_kb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  return 0;
}

class server_process {
 public:
  server_process(const std::string& exe, const fs::path& home, const fs::path& config, const std::string& db_url)
      : log_(home / "server.log") {
    std::vector<std::string> args = {exe,      "server",      "start",    "--host",        "127.0.0.1",
                                     "--port", "0",           "--config", config.string(), "--database-url",
                                     db_url,   "--log-level", "warning"};
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
      if (std::string_view(*e).rfind("OSPREY_HOME=", 0) != 0) env.emplace_back(*e);
    env.push_back("OSPREY_HOME=" + home.string());
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    const int rc = posix_spawn(&pid_, exe.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) fail("cannot start " + exe + ": " + std::strerror(rc));
    started_server = pid_;
  }
  ~server_process() { stop(); }
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  /// Waits for "listening on http://127.0.0.1:PORT" in the server's output; returns the port.
  std::string wait_listening(std::chrono::seconds limit) {
    const auto deadline = steady::now() + limit;
    const std::string marker = "listening on http://127.0.0.1:";
    while (steady::now() < deadline) {
      const auto text = log();
      if (auto at = text.find(marker); at != std::string::npos) {
        const auto from = at + marker.size();
        const auto end = text.find_first_not_of("0123456789", from);
        if (end != std::string::npos && end > from) return text.substr(from, end - from);
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = started_server = -1;
        fail("the server exited; its output:\n" + text);
      }
      std::this_thread::sleep_for(20ms);
    }
    fail("the server did not report its port within " + std::to_string(limit.count()) + " s; its output:\n" + log());
  }

  [[nodiscard]] std::string log() const {
    std::ifstream in(log_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  [[nodiscard]] pid_t pid() const { return pid_; }

  /// SIGTERM, up to 30 s for a clean stop, then SIGKILL. Returns the exit status (-1 if killed or unknown).
  int stop() {
    if (pid_ <= 0) return -1;
    started_server = -1;
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 3000; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(10ms);
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return -1;
  }

 private:
  fs::path log_;
  pid_t pid_ = -1;
};

// ---- HTTP load ----

/// Runs `workers` coroutines made by `make(i)` spread over `threads` io_contexts; returns when all ended.
void run_workers(unsigned threads, unsigned workers,
                 const std::function<asio::awaitable<void>(unsigned worker)>& make) {
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  for (unsigned t = 0; t < threads; ++t) contexts.push_back(std::make_unique<asio::io_context>(1));
  for (unsigned w = 0; w < workers; ++w) asio::co_spawn(*contexts[w % threads], make(w), asio::detached);
  std::vector<std::thread> pool;
  for (auto& c : contexts) pool.emplace_back([&c] { c->run(); });
  for (auto& t : pool) t.join();
}

struct endpoint_info {
  target where;
  tcp::resolver::results_type endpoints;
};

/// One request on a fresh connection, from this thread.
reply request_once(const endpoint_info& at, bhttp::verb verb, const std::string& path, const std::string& body) {
  asio::io_context io;
  reply out;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        http_client http(co_await asio::this_coro::executor, at.where, at.endpoints);
        out = co_await http.request(verb, path, body);
      },
      asio::detached);
  io.run();
  return out;
}

std::string describe(const reply& r) {
  if (r.status == 0) return "transport error: " + r.error;
  return "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
}

std::string set_state_body(const char* type, const char* name) {
  return std::string(R"({"state":{"type":")") + type + R"(","name":")" + name +
         R"(","message":null,"state_details":{"transition_id":")" + uuid4() + R"("},"data":null},"force":false})";
}

struct failure_timing {
  steady::time_point due{}, sent{}, answered{};
  bool ok = false;
};

// ---- statistics ----

struct distribution {
  std::vector<double> ms;
  [[nodiscard]] std::string summary() {
    std::sort(ms.begin(), ms.end());
    if (ms.empty()) return "(none)";
    char text[200];
    std::snprintf(text, sizeof text, "p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  (min %.2f) ms", percentile(ms, 50),
                  percentile(ms, 90), percentile(ms, 99), ms.back(), ms.front());
    return text;
  }
};

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

fs::path self_directory() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : exe.parent_path();
}

/// --automations: a Webhook block on the receiver, `count` - 1 automations that never fire and one that calls
/// the webhook for every failed run.
void create_automations(const endpoint_info& at, const std::string& receiver_url, unsigned count) {
  auto json_of = [&](bhttp::verb verb, const std::string& path, const std::string& body) {
    auto r = request_once(at, verb, path, body);
    auto parsed = nlohmann::json::parse(r.body, nullptr, false);
    if (!r.ok() || parsed.is_discarded()) fail(path + ": " + describe(r));
    return parsed;
  };
  const auto type = json_of(bhttp::verb::get, "/api/block_types/slug/webhook", "");
  const auto schemas = json_of(bhttp::verb::post, "/api/block_schemas/filter",
                               nlohmann::json{{"block_schemas", {{"block_type_id", {{"any_", {type["id"]}}}}}}}.dump());
  if (!schemas.is_array() || schemas.empty()) fail("no block schema for the webhook block type");
  const auto block = json_of(
      bhttp::verb::post, "/api/block_documents/",
      nlohmann::json{
          {"name", "bench-hook"},
          {"block_type_id", type["id"]},
          {"block_schema_id", schemas[0]["id"]},
          {"data", {{"url", receiver_url + "/hook"}, {"method", "POST"}, {"headers", nlohmann::json::object()}}}}
          .dump());
  for (unsigned i = 0; i + 1 < count; ++i) {
    const nlohmann::json quiet = {{"name", "quiet-" + std::to_string(i)},
                                  {"trigger",
                                   {{"type", "event"},
                                    {"expect", {"bench.never." + std::to_string(i)}},
                                    {"posture", "Reactive"},
                                    {"threshold", 1},
                                    {"within", 0}}},
                                  {"actions", {{{"type", "do-nothing"}}}}};
    json_of(bhttp::verb::post, "/api/automations/", quiet.dump());
  }
  const nlohmann::json firing = {{"name", "failures"},
                                 {"description", "bench"},
                                 {"trigger",
                                  {{"type", "event"},
                                   {"match", {{"prefect.resource.id", "prefect.flow-run.*"}}},
                                   {"expect", {"prefect.flow-run.Failed"}},
                                   {"for_each", {"prefect.resource.id"}},
                                   {"posture", "Reactive"},
                                   {"threshold", 1},
                                   {"within", 0}}},
                                 {"actions",
                                  {{{"type", "call-webhook"},
                                    {"block_document_id", block["id"]},
                                    {"payload", R"({"dedup_key": "osprey/failures/{{ event.resource.id }}"})"}}}}};
  json_of(bhttp::verb::post, "/api/automations/", firing.dump());
  std::printf("automations %u loaded (%u never fire; one calls the webhook per failed run)\n", count, count - 1);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const auto opt = parse_options(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  const std::string osprey = opt.osprey.empty() ? (self_directory().parent_path() / "osprey").string() : opt.osprey;
  if (access(osprey.c_str(), X_OK) != 0) fail(osprey + " is not an executable; build it or pass --osprey PATH");

  char scratch_template[] = "/tmp/osprey-notification-bench.XXXXXX";
  if (!mkdtemp(scratch_template)) fail("cannot create a scratch directory");
  const fs::path scratch = scratch_template;
  const std::string db_url =
      opt.database_url.empty() ? "sqlite:///" + (scratch / "osprey.db").string() : opt.database_url;

  // 1. The receiver (PagerDuty's answer) and the server.
  osprey::testing::http_receiver receiver;
  receiver.set_default({202,
                        {{"Content-Type", "application/json"}},
                        R"({"status":"success","message":"Event processed","dedup_key":"x"})",
                        std::chrono::milliseconds(0)});
  const auto config = scratch / "config.yaml";
  if (opt.automations > 0)
    std::ofstream(config) << "notifications:\n  blocks_allow_private_network: true\n";
  else
    std::ofstream(config) << "notifications:\n"
                             "  ui_url: http://127.0.0.1:4200\n"
                             "  channels:\n"
                             "    - name: pager\n"
                             "      type: pagerduty\n"
                             "      allow_private_network: true\n"
                             "      routing_key: R0UTINGKEY0000000000000000000001\n"
                             "      api_url: \""
                          << receiver.base_url()
                          << "\"\n"
                             "      rate_limit: {per_second: 100000, burst: 100000}\n"
                             "  policies:\n"
                             "    - name: failures\n"
                             "      match: {state_names: [Failed]}\n"
                             "      channels: [pager]\n";
  server_process server(osprey, scratch, config, db_url);
  const auto port = server.wait_listening(60s);
  endpoint_info at;
  {
    std::string why;
    auto parsed = parse_url("http://127.0.0.1:" + port + "/api", why);
    if (!parsed) fail(why);
    at.where = *parsed;
    asio::io_context io;
    tcp::resolver resolver(io);
    at.endpoints = resolver.resolve(at.where.host, at.where.port);
  }
  std::printf("server      pid %d, http://127.0.0.1:%s/api, database %s\n", server.pid(), port.c_str(),
              opt.database_url.empty() ? "SQLite (fresh file)" : opt.database_url.c_str());
  std::printf("receiver    %s (PagerDuty Events API stand-in, answers 202)\n", receiver.base_url().c_str());
  std::printf("host        %u cores; bench: %u runs at %.0f/s, %u connections on %u threads\n",
              std::thread::hardware_concurrency(), opt.runs, opt.rate, opt.connections, opt.threads);
  std::fflush(stdout);

  if (opt.automations > 0) create_automations(at, receiver.base_url(), opt.automations);

  // 2. Setup: one flow, N running flow runs.
  auto flow = request_once(at, bhttp::verb::post, "/api/flows/", R"({"name":"notification-bench","tags":[]})");
  const auto flow_json = nlohmann::json::parse(flow.body, nullptr, false);
  if (!flow.ok() || !flow_json.is_object() || !flow_json.contains("id")) fail("POST /api/flows/: " + describe(flow));
  const std::string flow_id = flow_json["id"];
  std::vector<std::string> run_ids(opt.runs);
  std::atomic<unsigned> next{0};
  std::atomic<unsigned> setup_errors{0};
  std::mutex error_mutex;
  std::string first_error;
  auto note_error = [&](const std::string& what) {
    std::lock_guard lock(error_mutex);
    if (first_error.empty()) first_error = what;
  };
  const auto setup_started = steady::now();
  run_workers(opt.threads, std::min(opt.connections, 16U), [&](unsigned) -> asio::awaitable<void> {
    http_client http(co_await asio::this_coro::executor, at.where, at.endpoints);
    for (unsigned i; (i = next++) < opt.runs;) {
      auto created =
          co_await http.request(bhttp::verb::post, "/api/flow_runs/",
                                R"({"flow_id":")" + flow_id + R"(","name":"bench-run-)" + std::to_string(i) +
                                    R"(","parameters":{},"tags":[],"state":{"type":"PENDING","name":"Pending"}})");
      const auto body = nlohmann::json::parse(created.body, nullptr, false);
      if (!created.ok() || !body.is_object() || !body.contains("id")) {
        ++setup_errors;
        note_error("create flow run: " + describe(created));
        continue;
      }
      run_ids[i] = body["id"];
      auto running = co_await http.request(bhttp::verb::post, "/api/flow_runs/" + run_ids[i] + "/set_state",
                                           set_state_body("RUNNING", "Running"));
      if (!running.ok() || running.body.find("\"ACCEPT\"") == std::string::npos) {
        ++setup_errors;
        note_error("set_state RUNNING: " + describe(running));
      }
    }
  });
  if (setup_errors) fail(std::to_string(setup_errors.load()) + " setup requests failed; first: " + first_error);
  std::printf("setup       %u flow runs created and RUNNING in %.1f s\n", opt.runs,
              elapsed_ms(setup_started, steady::now()) / 1000);
  std::fflush(stdout);
  // Settle: by default long enough for every run actor to go idle and stop (flow_run_options::idle_timeout,
  // 30 s), so the runs fail the way long-running runs do (the actor is started again and loads the run),
  // whatever the setup took; then until the server is idle (< 5% of a core), at most 60 s more.
  std::this_thread::sleep_for(std::chrono::duration<double>(opt.settle));
  double quiet_for = 0;
  for (int i = 0; i < 120; ++i) {
    const double before = read_times(server.pid()).cpu_s;
    std::this_thread::sleep_for(500ms);
    quiet_for = read_times(server.pid()).cpu_s - before;
    if (quiet_for < 0.025) break;
  }
  std::printf("settle      %.0f s, then server CPU %.0f%% of a core\n", opt.settle, quiet_for * 200);
  std::fflush(stdout);
  if (receiver.count() != 0) fail("the receiver got requests before any run failed");

  // 3. Failing, open loop at --rate.
  std::vector<failure_timing> timing(opt.runs);
  std::unordered_map<std::string, std::size_t> index_of;
  const std::string key_prefix = opt.automations > 0 ? "osprey/failures/prefect.flow-run." : "osprey/failures/";
  for (std::size_t i = 0; i < run_ids.size(); ++i) index_of[key_prefix + run_ids[i]] = i;
  next = 0;
  std::atomic<unsigned> failures{0};
  const auto period = std::chrono::duration<double>(1.0 / opt.rate);
  const auto server_before = read_times(server.pid());
  const double client_cpu_before = process_cpu_seconds();
  const auto t0 = steady::now() + 100ms;
  run_workers(opt.threads, opt.connections, [&](unsigned) -> asio::awaitable<void> {
    http_client http(co_await asio::this_coro::executor, at.where, at.endpoints);
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (unsigned i; (i = next++) < opt.runs;) {
      auto& t = timing[i];
      t.due = t0 + std::chrono::duration_cast<steady::duration>(period * i);
      timer.expires_at(t.due);
      co_await timer.async_wait(nothrow);
      t.sent = steady::now();
      auto r = co_await http.request(bhttp::verb::post, "/api/flow_runs/" + run_ids[i] + "/set_state",
                                     set_state_body("FAILED", "Failed"));
      t.answered = steady::now();
      t.ok = r.ok() && r.body.find("\"ACCEPT\"") != std::string::npos;
      if (!t.ok) {
        ++failures;
        note_error("set_state FAILED: " + describe(r));
      }
    }
  });
  const double client_cpu_failing = process_cpu_seconds() - client_cpu_before;
  steady::time_point last_answer = t0, first_sent = timing.front().sent;
  for (const auto& t : timing) last_answer = std::max(last_answer, t.answered);

  // 4. Every dedup key at the receiver.
  const auto deadline =
      steady::now() + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(opt.deadline));
  std::vector<std::optional<steady::time_point>> received(opt.runs);
  std::size_t unique = 0, duplicates = 0, foreign = 0, parsed_upto = 0;
  std::size_t expected = opt.runs - failures.load();  // runs whose failure was acknowledged
  while (true) {
    if (receiver.count() > parsed_upto) {
      const auto requests = receiver.requests();
      for (; parsed_upto < requests.size(); ++parsed_upto) {
        const auto& r = requests[parsed_upto];
        const auto body = nlohmann::json::parse(r.body, nullptr, false);
        const auto key = body.is_object() ? body.value("dedup_key", "") : std::string();
        auto it = index_of.find(key);
        if (r.target != (opt.automations > 0 ? "/hook" : "/v2/enqueue") || it == index_of.end()) {
          ++foreign;
          continue;
        }
        auto& slot = received[it->second];
        if (slot)
          ++duplicates;
        else {
          slot = r.received;
          ++unique;
        }
      }
    }
    if (unique >= expected || steady::now() > deadline) break;
    std::this_thread::sleep_for(unique + 100 >= expected ? 5ms : 50ms);
  }
  const auto all_seen = steady::now();
  const auto server_after = read_times(server.pid());
  const double server_cpu = server_after.cpu_s - server_before.cpu_s;

  // ... and nothing left pending (the dispatcher records each delivery after its reply; give it a moment).
  std::size_t pending = 0, dead = 0;
  const auto outbox_deadline = steady::now() + 30s;
  double outbox_settled_s = -1;
  for (;;) {
    auto r = request_once(at, bhttp::verb::get, "/api/notifications/outbox?status=pending&limit=10000", "");
    auto body = nlohmann::json::parse(r.body, nullptr, false);
    if (!r.ok() || !body.is_array()) fail("GET /api/notifications/outbox: " + describe(r));
    pending = body.size();
    if (pending == 0) {
      outbox_settled_s = elapsed_ms(all_seen, steady::now()) / 1000;
      break;
    }
    if (steady::now() > outbox_deadline) break;
    std::this_thread::sleep_for(50ms);
  }
  {
    auto r = request_once(at, bhttp::verb::get, "/api/notifications/outbox?status=dead&limit=10000", "");
    auto body = nlohmann::json::parse(r.body, nullptr, false);
    if (r.ok() && body.is_array()) dead = body.size();
  }
  const long peak_rss_kb = status_kb(server.pid(), "VmHWM");
  const long rss_kb = status_kb(server.pid(), "VmRSS");
  const int server_exit = server.stop();

  // 5. Figures.
  distribution set_state_from_due, set_state_from_sent, from_answer, from_sent;
  steady::time_point first_receipt = steady::time_point::max(), last_receipt{};
  std::size_t late_starts = 0;
  for (std::size_t i = 0; i < timing.size(); ++i) {
    const auto& t = timing[i];
    first_sent = std::min(first_sent, t.sent);
    set_state_from_due.ms.push_back(elapsed_ms(t.due, t.answered));
    set_state_from_sent.ms.push_back(elapsed_ms(t.sent, t.answered));
    if (t.sent - t.due > 5ms) ++late_starts;
    if (!received[i]) continue;
    first_receipt = std::min(first_receipt, *received[i]);
    last_receipt = std::max(last_receipt, *received[i]);
    from_answer.ms.push_back(elapsed_ms(t.answered, *received[i]));
    from_sent.ms.push_back(elapsed_ms(t.sent, *received[i]));
  }
  const double failing_s = elapsed_ms(first_sent, last_answer) / 1000;
  const double delivering_s = unique ? elapsed_ms(first_sent, last_receipt) / 1000 : 0;
  const std::size_t missing = opt.runs - unique;

  if (opt.automations > 0)
    std::printf("\n== automation actions: %u flow runs → FAILED, %u automations loaded, call-webhook per run\n",
                opt.runs, opt.automations);
  else
    std::printf("\n== notification delivery: %u flow runs → FAILED, policy 'failures' → PagerDuty channel\n", opt.runs);
  std::printf("runs failed           %u (set_state errors: %u%s%s)\n", opt.runs - failures.load(), failures.load(),
              first_error.empty() ? "" : "; first: ", first_error.c_str());
  std::printf("target rate           %.0f/s\n", opt.rate);
  std::printf("achieved failure rate %.0f/s  (%u runs, first sent → last answer %.2f s; %zu sent >5 ms late)\n",
              failing_s > 0 ? opt.runs / failing_s : 0.0, opt.runs, failing_s, late_starts);
  std::printf("set_state (from due)  %s\n", set_state_from_due.summary().c_str());
  std::printf("set_state (from sent) %s\n", set_state_from_sent.summary().c_str());
  std::printf("alerts received       %zu  (unique dedup keys %zu of %u, missing %zu, duplicates %zu, other %zu)\n",
              parsed_upto, unique, opt.runs, missing, duplicates, foreign);
  std::printf(
      "delivery throughput   %.0f/s  (first sent → last alert %.2f s; last alert %.3f s after the last "
      "answer)\n",
      delivering_s > 0 ? static_cast<double>(unique) / delivering_s : 0.0, delivering_s,
      unique ? elapsed_ms(last_answer, last_receipt) / 1000 : 0.0);
  std::printf("latency answer→alert  %s\n", from_answer.summary().c_str());
  std::printf("latency sent→alert    %s\n", from_sent.summary().c_str());
  std::printf(
      "outbox                pending %zu, dead %zu%s\n", pending, dead,
      outbox_settled_s >= 0
          ? ("  (no pending job " + std::to_string(outbox_settled_s).substr(0, 5) + " s after the last alert)").c_str()
          : "");
  std::printf("server CPU            %.2f s over %.2f s (%.2f cores; %.3f ms per alert)\n", server_cpu,
              elapsed_ms(first_sent, all_seen) / 1000,
              server_cpu / std::max(1e-9, elapsed_ms(first_sent, all_seen) / 1000),
              unique ? 1000 * server_cpu / static_cast<double>(unique) : 0.0);
  {
    std::vector<std::tuple<double, int, std::string>> busiest;
    for (const auto& [tid, info] : server_after.threads) {
      auto before = server_before.threads.find(tid);
      const double used = info.second - (before == server_before.threads.end() ? 0 : before->second.second);
      if (used > 0) busiest.emplace_back(used, tid, info.first);
    }
    std::sort(busiest.rbegin(), busiest.rend());
    std::string line;
    for (std::size_t i = 0; i < busiest.size() && i < 8; ++i) {
      char part[96];
      std::snprintf(part, sizeof part, "%s%s/%d %.2f s", i ? ", " : "", std::get<2>(busiest[i]).c_str(),
                    std::get<1>(busiest[i]), std::get<0>(busiest[i]));
      line += part;
    }
    std::printf("server threads (CPU)  %s\n", line.c_str());
  }
  std::printf("bench CPU (failing)   %.2f s (load generator and receiver, this process)\n", client_cpu_failing);
  std::printf("server peak RSS       %.1f MiB (VmHWM; VmRSS at the end %.1f MiB)\n", peak_rss_kb / 1024.0,
              rss_kb / 1024.0);
  std::printf("server exit           %d\n", server_exit);

  const bool good = missing == 0 && failures == 0 && pending == 0 && dead == 0;
  std::printf("result                %s\n", good ? "OK: every alert delivered" : "FAILED");
  if (!good || opt.keep) {
    std::printf("scratch kept          %s (server.log, config.yaml)\n", scratch.c_str());
  } else {
    std::error_code ec;
    fs::remove_all(scratch, ec);
  }
  return good ? 0 : 1;
}

// API benchmark: the traffic of many Prefect clients running flows, against any Prefect-compatible server on
// this machine (Osprey on SQLite or PostgreSQL, or the real `prefect server start`), measured the same way.
//
//   build/bench/api_bench --url http://127.0.0.1:4200/api [--clients 16] [--seconds 20 | --runs-per-client N]
//                         [--warmup 3] [--tasks-per-run 5] [--logs-per-run 10] [--threads 1] [--json]
//
// Each client is a coroutine with its own keep-alive HTTP connection and its own /api/events/in websocket,
// closed-loop (it waits for each answer before the next request). After POST /api/flows/ once, every
// iteration is one flow run the way the Prefect engine drives it (reference/prefect-api.md §1(b),(c),(f)):
//   1. POST /api/flow_runs/                      {flow_id, state: PENDING, ...}            → 201
//   2. POST /api/flow_runs/{id}/set_state        RUNNING (force false)                      → ACCEPT
//   3. per task: prefect.task-run.Pending, .Running, .Completed events over the websocket, then a ping; the
//      pong says the server has read them all ("task_run_events" latency = first event written → pong)
//   4. POST /api/logs/                           a batch of --logs-per-run records          → 201
//   5. POST /api/flow_runs/{id}/set_state        COMPLETED                                  → ACCEPT
// Like the Prefect client, requests answered 408/429/502/503 (or failing in transport) are retried with
// backoff, up to 5 times; the latency then includes the retries.
//
// Events have no per-event answer, so two more figures say when the server has *recorded* them: every 50 ms a
// sampler takes a just-finished task run and polls GET /api/task_runs/{id} ("event_to_visible": its Completed
// event written → the task run reads back COMPLETED), and after the clients stop, the benchmark waits (up to
// --drain-timeout) until every client's last task run reads back COMPLETED, then counts this benchmark's
// COMPLETED task runs with POST /api/task_runs/count when the server has it. A Prefect-style websocket server
// may answer pings before its application has read the frames, so "task_run_events" (→ pong) is not a
// recording latency.
//
// Only ops of runs that started after the warm-up count; throughput = count / (end of the last measured run −
// end of warm-up). Loopback targets only (127.0.0.0/8, ::1, localhost).
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <nlohmann/json.hpp>

#include "bench/api_bench_client.hpp"

using namespace osprey::bench;
using namespace std::chrono_literals;

namespace {

struct options {
  std::string url = "http://127.0.0.1:4200/api";
  unsigned clients = 16;
  unsigned runs_per_client = 0;  ///< 0: run for `seconds`
  double seconds = 10;
  double warmup = 2;
  unsigned tasks_per_run = 5;
  unsigned logs_per_run = 10;
  unsigned threads = 1;
  double drain_timeout = 120;
  bool json = false;
  std::string label;
};

enum op : std::size_t { create_run, set_running, set_completed, task_events, logs_batch, event_visible, op_count };
constexpr std::array<const char*, op_count> op_keys = {"flow_run_create", "set_state_running", "set_state_completed",
                                                       "task_run_events", "logs_batch",        "event_to_visible"};

/// What one client did; touched only from that client's strand until the io_context has stopped.
struct client_state {
  std::array<samples, op_count> ops;
  std::uint64_t runs_measured = 0;
  std::uint64_t events_measured = 0, events_total = 0, task_runs_total = 0, logs_measured = 0;
  steady::time_point last_measured_end{};
  steady::time_point events_done{};  ///< when its last event was confirmed by a pong
  std::string last_task_run;         ///< id of its last task run (to wait for in the drain phase)
  std::string fatal;                 ///< why it stopped early, "" if it did not
};

/// A task run whose Completed event was just written, for the sampler.
struct probe {
  std::string task_run_id;
  steady::time_point sent;
  bool measured;
};

struct shared_state {
  options opt;
  target where;
  tcp::resolver::results_type endpoints;
  std::string tag;       ///< unique per benchmark invocation: put on every task run, to count them afterwards
  std::string task_key;  ///< same for every task run ("<fn>-<hash>" like the engine's)
  bool events_enabled = true;
  steady::time_point measure_start, measure_end;
  std::atomic<unsigned> clients_running{0};
  steady::time_point clients_finished_at{};  ///< written by the last client to stop
  double client_cpu_at_finish = 0;           ///< process CPU seconds then
  std::atomic<unsigned> errors_printed{0};
  std::atomic<bool> want_probe{false};  ///< set by the sampler; the next client to finish a task run clears it
  std::mutex probe_mutex;
  std::deque<probe> offered;  ///< probes handed to the sampler (guarded by probe_mutex)
  samples sampler;            ///< event_visible; the sampler's strand only
  std::vector<client_state> clients;
  // Drain phase results.
  double drain_seconds = -1;          ///< -1: not every last task run became visible in time
  long long recorded_task_runs = -1;  ///< -1: the server has no POST /task_runs/count

  [[nodiscard]] std::string path(const std::string& rest) const { return where.base_path + rest; }
};

void report_error(shared_state& sh, const char* what, const reply& r) {
  if (sh.errors_printed.fetch_add(1) >= 5) return;
  std::fprintf(stderr, "api_bench: %s failed: %s%s %.300s\n", what, r.error.c_str(),
               r.status ? ("HTTP " + std::to_string(r.status)).c_str() : "", r.body.c_str());
}

bool retryable(const reply& r) {
  return r.status == 0 || r.status == 408 || r.status == 429 || r.status == 502 || r.status == 503;
}

steady::duration seconds_to_duration(double s) {
  return std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(s));
}

/// One request with the Prefect client's retry policy; records its latency (from the first attempt to the
/// final answer) in `into` when `measured`. nullopt (and an error counted) when the final answer is not 2xx or
/// lacks `must_contain`.
asio::awaitable<std::optional<reply>> call(shared_state& sh, http_client& http, samples& into, bool measured,
                                           const char* what, bhttp::verb verb, const std::string& path,
                                           std::string body, std::string_view must_contain = {}) {
  const auto started = steady::now();
  asio::steady_timer backoff(co_await asio::this_coro::executor);
  for (int attempt = 0;; ++attempt) {
    auto r = co_await http.request(verb, path, body);
    if (retryable(r) && attempt < 5) {
      if (measured) ++into.retries;
      const auto wait = r.retry_after_seconds ? std::chrono::milliseconds(r.retry_after_seconds * 1000)
                                              : std::min<std::chrono::milliseconds>(100ms * (1 << attempt), 2s);
      backoff.expires_after(wait);
      co_await backoff.async_wait(nothrow);
      continue;
    }
    const bool good = r.ok() && (must_contain.empty() || r.body.find(must_contain) != std::string::npos);
    if (measured) {
      if (good)
        into.ms.push_back(elapsed_ms(started, steady::now()));
      else
        ++into.errors;
    }
    if (!good) {
      report_error(sh, what, r);
      co_return std::nullopt;
    }
    co_return r;
  }
}

// ---- request bodies, shaped like the Prefect 3.9 client's ----

std::string flow_run_create_body(const std::string& flow_id) {
  return R"({"flow_id":")" + flow_id +
         R"(","flow_version":"bench","name":null,"parameters":{},"context":{},"tags":[],"parent_task_run_id":null,)"
         R"("state":{"type":"PENDING","name":"Pending","message":null,"state_details":{},"data":null},)"
         R"("empirical_policy":{"retries":0,"retry_delay":0}})";
}

std::string set_state_body(const std::string& flow_run_id, const char* type, const char* name) {
  return std::string(R"({"state":{"type":")") + type + R"(","name":")" + name +
         R"(","message":null,"state_details":{"flow_run_id":")" + flow_run_id + R"(","transition_id":")" + uuid4() +
         R"("},"data":null},"force":false})";
}

std::string logs_body(const std::string& flow_run_id, unsigned count, const std::string& task_run_id) {
  const auto now = iso8601(std::chrono::system_clock::now());
  std::string out = "[";
  out.reserve(count * 220 + 2);
  for (unsigned i = 0; i < count; ++i) {
    if (i) out += ',';
    out += R"({"name":"prefect.task_runs","level":20,"message":"Finished in state Completed() - bench log line )" +
           std::to_string(i) + R"(","timestamp":")" + now + R"(","flow_run_id":")" + flow_run_id +
           R"(","task_run_id":)" + (task_run_id.empty() ? std::string("null") : "\"" + task_run_id + "\"") + "}";
  }
  return out + "]";
}

/// One task run's identity and the context its events carry.
struct task_context {
  std::string id, name, dynamic_key;
  const std::string* flow_run_id;
  const std::string* flow_run_name;
  const std::string* flow_id;
  const shared_state* sh;
};

struct state_step {
  const char* type;
  const char* name;
  const char* from_type;  ///< nullptr for the first state
  const char* from_name;
  int run_count;
};
constexpr std::array<state_step, 3> task_lifecycle = {{{"PENDING", "Pending", nullptr, nullptr, 0},
                                                       {"RUNNING", "Running", "PENDING", "Pending", 1},
                                                       {"COMPLETED", "Completed", "RUNNING", "Running", 1}}};

/// `emit_task_run_state_change_event` (prefect/utilities/engine): resource prefect.task-run.<id> with
/// orchestration "client", related flow run / flow / tag, payload {intended, initial_state, validated_state,
/// task_run}.
std::string task_event(const task_context& t, const state_step& s, const std::string& event_id,
                       const std::string& occurred, const std::string& follows, const std::string& pending_at,
                       const std::string& running_at, double run_seconds) {
  std::string e;
  e.reserve(2048);
  e += R"({"id":")" + event_id + R"(","occurred":")" + occurred + R"(","event":"prefect.task-run.)" + s.name + '"';
  e += R"(,"resource":{"prefect.resource.id":"prefect.task-run.)" + t.id + R"(","prefect.resource.name":")" + t.name +
       R"(","prefect.run-count":")" + std::to_string(s.run_count) +
       R"(","prefect.state-message":"","prefect.state-name":")" + s.name + R"(","prefect.state-timestamp":")" +
       occurred + R"(","prefect.state-type":")" + s.type + R"(","prefect.orchestration":"client"})";
  e += R"(,"related":[{"prefect.resource.id":"prefect.tag.)" + t.sh->tag + R"(","prefect.resource.role":"tag"},)";
  e += R"({"prefect.resource.id":"prefect.flow-run.)" + *t.flow_run_id +
       R"(","prefect.resource.role":"flow-run","prefect.resource.name":")" + *t.flow_run_name + R"("},)";
  e += R"({"prefect.resource.id":"prefect.flow.)" + *t.flow_id +
       R"(","prefect.resource.role":"flow","prefect.resource.name":"osprey-bench"}])";
  e += R"(,"payload":{"intended":{"from":)" + (s.from_type ? "\"" + std::string(s.from_type) + "\"" : "null") +
       R"(,"to":")" + s.type + R"("},"initial_state":)";
  if (s.from_type)
    e += std::string(R"({"type":")") + s.from_type + R"(","name":")" + s.from_name +
         R"(","message":"","state_details":{}})";
  else
    e += "null";
  e += std::string(R"(,"validated_state":{"type":")") + s.type + R"(","name":")" + s.name +
       R"(","message":"","state_details":{},"data":null})";
  e += R"(,"task_run":{"name":")" + t.name + R"(","flow_run_run_count":1,"run_count":)" + std::to_string(s.run_count) +
       R"(,"task_key":")" + t.sh->task_key + R"(","dynamic_key":")" + t.dynamic_key +
       R"(","empirical_policy":{"max_retries":0,"retry_delay_seconds":0.0,"retries":0,"retry_delay":0},"tags":[")" +
       t.sh->tag + R"("],"labels":{},"task_inputs":{},"expected_start_time":")" + pending_at + '"';
  if (s.run_count > 0) e += R"(,"start_time":")" + running_at + '"';
  if (std::strcmp(s.type, "COMPLETED") == 0) e += R"(,"end_time":")" + occurred + '"';
  e += R"(,"total_run_time":)" + std::to_string(run_seconds) + "}}";
  e += R"(,"follows":)" + (follows.empty() ? std::string("null") : "\"" + follows + "\"") + "}";
  return e;
}

/// Strictly increasing wall-clock times: the server keys task-run states on (task run, timestamp).
std::chrono::system_clock::time_point next_time(std::chrono::system_clock::time_point& last) {
  auto now = std::chrono::system_clock::now();
  if (now <= last) now = last + 1us;
  last = now;
  return now;
}

// ---- the client ----

asio::awaitable<void> run_events(shared_state& sh, client_state& me, event_stream& events, bool measured,
                                 const std::string& flow_run_id, const std::string& flow_run_name,
                                 const std::string& flow_id, std::chrono::system_clock::time_point& clock) {
  const auto started = steady::now();
  for (unsigned i = 0; i < sh.opt.tasks_per_run; ++i) {
    task_context t{uuid7(std::chrono::system_clock::now()), {}, uuid4(), &flow_run_id, &flow_run_name, &flow_id, &sh};
    t.name = "bench_task-" + t.dynamic_key.substr(0, 3);
    std::string follows, pending_at, running_at;
    std::chrono::system_clock::time_point running_time{};
    for (const auto& step : task_lifecycle) {
      const auto at = next_time(clock);
      const auto occurred = iso8601(at);
      if (step.run_count == 0) pending_at = occurred;
      if (std::strcmp(step.type, "RUNNING") == 0) running_at = occurred, running_time = at;
      const double run_seconds =
          std::strcmp(step.type, "COMPLETED") == 0 ? std::chrono::duration<double>(at - running_time).count() : 0.0;
      const auto id = uuid7(at);
      if (!co_await events.send(task_event(t, step, id, occurred, follows, pending_at, running_at, run_seconds))) {
        ++me.ops[task_events].errors;
        co_return;
      }
      follows = id;
      ++me.events_total;
      if (measured) ++me.events_measured;
    }
    ++me.task_runs_total;
    me.last_task_run = t.id;
    if (sh.want_probe.exchange(false)) {
      std::lock_guard lock(sh.probe_mutex);
      sh.offered.push_back(probe{t.id, steady::now(), measured});
    }
  }
  if (!co_await events.checkpoint(started, measured ? &me.ops[task_events] : nullptr)) ++me.ops[task_events].errors;
}

double cpu_seconds();

/// Counts a client out when its coroutine ends, whichever way.
struct client_exit {
  shared_state& sh;
  ~client_exit() {
    if (--sh.clients_running == 0) {
      sh.clients_finished_at = steady::now();
      sh.client_cpu_at_finish = cpu_seconds();
    }
  }
};

asio::awaitable<void> run_client(shared_state& sh, client_state& me) {
  const client_exit exit_guard{sh};
  const auto executor = co_await asio::this_coro::executor;
  http_client http(executor, sh.where, sh.endpoints);
  samples unmeasured;
  auto flow = co_await call(sh, http, unmeasured, false, "POST /flows/", bhttp::verb::post, sh.path("/flows/"),
                            R"({"name":"osprey-bench","tags":[],"labels":{}})");
  std::string flow_id;
  if (flow) flow_id = nlohmann::json::parse(flow->body, nullptr, false).value("id", "");
  if (flow_id.empty()) {
    me.fatal = "could not create the flow";
    co_return;
  }
  std::shared_ptr<event_stream> events;
  if (sh.events_enabled && sh.opt.tasks_per_run > 0) {
    events = std::make_shared<event_stream>(executor);
    if (auto problem = co_await events->open(sh.where, sh.endpoints); !problem.empty()) {
      me.fatal = "events websocket: " + problem;
      co_return;
    }
  }
  auto event_clock = std::chrono::system_clock::now();
  for (;;) {
    const auto started = steady::now();
    const bool measured = started >= sh.measure_start;
    if (sh.opt.runs_per_client ? me.runs_measured >= sh.opt.runs_per_client : started >= sh.measure_end) break;
    if (events && events->failed()) {
      me.fatal = "events websocket closed by the server";
      break;
    }
    std::uint64_t errors = 0;
    for (const auto& s : me.ops) errors += s.errors;
    if (errors > 100) {
      me.fatal = "more than 100 failed requests";
      break;
    }
    auto created = co_await call(sh, http, me.ops[create_run], measured, "create flow run", bhttp::verb::post,
                                 sh.path("/flow_runs/"), flow_run_create_body(flow_id));
    if (!created) continue;
    const auto run = nlohmann::json::parse(created->body, nullptr, false);
    const std::string run_id = run.is_object() ? run.value("id", "") : "";
    const std::string run_name = run.is_object() ? run.value("name", "") : "";
    const std::string set_state = sh.path("/flow_runs/" + run_id + "/set_state");
    if (!co_await call(sh, http, me.ops[set_running], measured, "set_state RUNNING", bhttp::verb::post, set_state,
                       set_state_body(run_id, "RUNNING", "Running"), "\"ACCEPT\""))
      continue;
    if (events) co_await run_events(sh, me, *events, measured, run_id, run_name, flow_id, event_clock);
    if (sh.opt.logs_per_run > 0 &&
        co_await call(sh, http, me.ops[logs_batch], measured, "POST /logs/", bhttp::verb::post, sh.path("/logs/"),
                      logs_body(run_id, sh.opt.logs_per_run, me.last_task_run)) &&
        measured)
      me.logs_measured += sh.opt.logs_per_run;
    if (!co_await call(sh, http, me.ops[set_completed], measured, "set_state COMPLETED", bhttp::verb::post, set_state,
                       set_state_body(run_id, "COMPLETED", "Completed"), "\"ACCEPT\""))
      continue;
    if (measured) {
      ++me.runs_measured;
      me.last_measured_end = steady::now();
    }
  }
  if (events) {
    if (!co_await events->wait_for_pongs(60s) && me.fatal.empty()) me.fatal = "events were not all confirmed";
    me.events_done = steady::now();
    co_await events->close();
  }
}

/// Asks for the next task run a client finishes every `sample_every` and polls the oldest one not yet seen until it
/// reads back COMPLETED. Servers record events roughly in arrival order, so while the oldest is not visible
/// the newer ones are not either: one GET per poll however large the backlog, and the latency distribution
/// stays fair when the server falls behind. Keeps following the samples taken after the clients stopped,
/// up to --drain-timeout.
asio::awaitable<void> run_sampler(shared_state& sh) {
  constexpr auto sample_every = 50ms;
  const auto executor = co_await asio::this_coro::executor;
  http_client http(executor, sh.where, sh.endpoints);
  asio::steady_timer pause(executor);
  std::deque<probe> waiting;
  auto next_sample = steady::now();
  std::optional<steady::time_point> give_up_at;
  for (;;) {
    const auto now = steady::now();
    if (sh.clients_running == 0 && !give_up_at) give_up_at = now + seconds_to_duration(sh.opt.drain_timeout);
    if (now >= next_sample && !give_up_at) {
      sh.want_probe = true;
      next_sample = now + sample_every;
    }
    {
      std::lock_guard lock(sh.probe_mutex);
      waiting.insert(waiting.end(), sh.offered.begin(), sh.offered.end());
      sh.offered.clear();
    }
    if (waiting.empty() && give_up_at) break;
    if (give_up_at && now > *give_up_at) {
      for (const auto& p : waiting) sh.sampler.errors += p.measured ? 1 : 0;
      break;
    }
    if (!waiting.empty()) {
      auto r = co_await http.request(bhttp::verb::get, sh.path("/task_runs/" + waiting.front().task_run_id), "");
      const auto body = r.status == 200 ? nlohmann::json::parse(r.body, nullptr, false) : nlohmann::json();
      if (body.is_object() && body.value("state_type", nlohmann::json()) == "COMPLETED") {
        if (waiting.front().measured) sh.sampler.ms.push_back(elapsed_ms(waiting.front().sent, steady::now()));
        waiting.pop_front();
        continue;  // the next one may be visible already
      }
    }
    // Poll more slowly the longer the oldest sample has waited: the error stays a few percent of the latency.
    const auto age = waiting.empty() ? steady::duration{} : steady::now() - waiting.front().sent;
    pause.expires_after(std::clamp<steady::duration>(age / 20, 2ms, 50ms));
    co_await pause.async_wait(nothrow);
  }
}

/// After the clients stopped: when has the server recorded every event?
asio::awaitable<void> run_drain(shared_state& sh) {
  const auto executor = co_await asio::this_coro::executor;
  http_client http(executor, sh.where, sh.endpoints);
  asio::steady_timer pause(executor);
  steady::time_point sent_all{};
  for (const auto& c : sh.clients) sent_all = std::max(sent_all, c.events_done);
  const auto deadline = steady::now() + seconds_to_duration(sh.opt.drain_timeout);
  bool all = true;
  for (const auto& c : sh.clients) {
    if (c.last_task_run.empty()) continue;
    for (;;) {
      auto r = co_await http.request(bhttp::verb::get, sh.path("/task_runs/" + c.last_task_run), "");
      const auto body = r.status == 200 ? nlohmann::json::parse(r.body, nullptr, false) : nlohmann::json();
      if (body.is_object() && body.value("state_type", nlohmann::json()) == "COMPLETED") break;
      if (steady::now() > deadline) {
        all = false;
        break;
      }
      pause.expires_after(5ms);
      co_await pause.async_wait(nothrow);
    }
    if (!all) break;
  }
  if (all) sh.drain_seconds = std::max(0.0, elapsed_ms(sent_all, steady::now()) / 1000.0);
  const std::string filter =
      R"({"task_runs":{"tags":{"all_":[")" + sh.tag + R"("]},"state":{"type":{"any_":["COMPLETED"]}}}})";
  auto count = co_await http.request(bhttp::verb::post, sh.path("/task_runs/count"), filter);
  if (count.status == 200) sh.recorded_task_runs = std::atoll(count.body.c_str());
}

asio::awaitable<void> probe_events(const shared_state& sh, std::string& problem) {
  auto stream = std::make_shared<event_stream>(co_await asio::this_coro::executor);
  problem = co_await stream->open(sh.where, sh.endpoints);
  if (problem.empty()) co_await stream->close();
}

// ---- report ----

struct op_figures {
  std::size_t count = 0;
  double per_second = 0, p50 = 0, p99 = 0, max = 0;
  std::uint64_t errors = 0, retries = 0;
};

op_figures figures_of(samples s, double window) {
  std::sort(s.ms.begin(), s.ms.end());
  op_figures f;
  f.count = s.ms.size();
  f.per_second = window > 0 ? static_cast<double>(f.count) / window : 0;
  f.p50 = percentile(s.ms, 50);
  f.p99 = percentile(s.ms, 99);
  f.max = s.ms.empty() ? 0 : s.ms.back();
  f.errors = s.errors;
  f.retries = s.retries;
  return f;
}

[[noreturn]] void usage(const char* problem) {
  if (problem) std::fprintf(stderr, "api_bench: %s\n", problem);
  std::fprintf(stderr,
               "usage: api_bench --url http://127.0.0.1:PORT/api [--clients N] [--seconds S | --runs-per-client N]\n"
               "                 [--warmup S] [--tasks-per-run K] [--logs-per-run L] [--threads T]\n"
               "                 [--drain-timeout S] [--label TEXT] [--json]\n");
  std::exit(2);
}

options parse_options(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    auto number = [&]() {
      const auto text = value();
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      if (end == text.c_str() || *end || v < 0) usage(("bad number for " + a + ": " + text).c_str());
      return v;
    };
    if (a == "--url")
      o.url = value();
    else if (a == "--clients")
      o.clients = static_cast<unsigned>(number());
    else if (a == "--runs-per-client")
      o.runs_per_client = static_cast<unsigned>(number());
    else if (a == "--seconds")
      o.seconds = number();
    else if (a == "--warmup")
      o.warmup = number();
    else if (a == "--tasks-per-run")
      o.tasks_per_run = static_cast<unsigned>(number());
    else if (a == "--logs-per-run")
      o.logs_per_run = static_cast<unsigned>(number());
    else if (a == "--threads")
      o.threads = static_cast<unsigned>(number());
    else if (a == "--drain-timeout")
      o.drain_timeout = number();
    else if (a == "--label")
      o.label = value();
    else if (a == "--json")
      o.json = true;
    else if (a == "--help" || a == "-h")
      usage(nullptr);
    else
      usage(("unknown argument " + a).c_str());
  }
  if (o.clients == 0 || o.threads == 0) usage("--clients and --threads must be at least 1");
  return o;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  shared_state sh;
  sh.opt = parse_options(argc, argv);
  std::string why;
  auto where = parse_url(sh.opt.url, why);
  if (!where) usage(why.c_str());
  sh.where = *where;

  asio::io_context io(static_cast<int>(sh.opt.threads));
  {
    // Only loopback literals and "localhost" are looked up at all: no name ever goes to DNS.
    boost::system::error_code literal_error;
    const auto literal = asio::ip::make_address(sh.where.host, literal_error);
    if (literal_error ? sh.where.host != "localhost" : !is_loopback(literal))
      usage(("refusing " + sh.where.host + ": only loopback targets (127.0.0.0/8, ::1, localhost)").c_str());
    tcp::resolver resolver(io);
    boost::system::error_code ec;
    sh.endpoints = resolver.resolve(sh.where.host, sh.where.port, ec);
    if (ec || sh.endpoints.empty()) usage(("cannot resolve " + sh.where.host + ": " + ec.message()).c_str());
    for (const auto& e : sh.endpoints)
      if (!is_loopback(e.endpoint().address()))
        usage(
            ("refusing " + e.endpoint().address().to_string() + ": only loopback targets (127.0.0.0/8, ::1)").c_str());
  }
  sh.tag = "bench-" + uuid4().substr(0, 8);
  sh.task_key = "bench_task-" + uuid4().substr(0, 8);
  sh.events_enabled = sh.opt.tasks_per_run > 0;

  // Probe the events route once, so a server without it gets a clear message instead of N failing clients.
  if (sh.events_enabled) {
    std::string problem;
    asio::co_spawn(io, probe_events(sh, problem), asio::detached);
    io.run();
    io.restart();
    if (!problem.empty()) {
      std::fprintf(stderr, "api_bench: %s/events/in unusable (%s): measuring without task-run events\n",
                   sh.where.base_path.c_str(), problem.c_str());
      sh.events_enabled = false;
    }
  }

  sh.clients.resize(sh.opt.clients);
  const auto t0 = steady::now();
  sh.measure_start = t0 + seconds_to_duration(sh.opt.warmup);
  sh.measure_end = sh.measure_start + seconds_to_duration(sh.opt.seconds);
  const double cpu_before = cpu_seconds();
  sh.clients_running = sh.opt.clients;
  for (auto& c : sh.clients) asio::co_spawn(asio::make_strand(io), run_client(sh, c), asio::detached);
  // The sampler outlives the clients: it follows its last samples up to --drain-timeout.
  if (sh.events_enabled) asio::co_spawn(asio::make_strand(io), run_sampler(sh), asio::detached);
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < sh.opt.threads; ++i) threads.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  const auto clients_done = sh.clients_finished_at;
  const double client_cpu = sh.client_cpu_at_finish - cpu_before;
  const double wall = elapsed_ms(t0, clients_done) / 1000.0;

  if (sh.events_enabled) {
    io.restart();
    asio::co_spawn(io, run_drain(sh), asio::detached);
    io.run();
  }

  // ---- aggregate ----
  std::array<samples, op_count> all;
  std::uint64_t runs = 0, events = 0, task_runs_total = 0, logs = 0;
  steady::time_point last_end = sh.measure_start;
  std::map<std::string, unsigned> fatal;
  for (const auto& c : sh.clients) {
    for (std::size_t i = 0; i < op_count; ++i) all[i].merge(c.ops[i]);
    runs += c.runs_measured;
    events += c.events_measured;
    task_runs_total += c.task_runs_total;
    logs += c.logs_measured;
    last_end = std::max(last_end, c.last_measured_end);
    if (!c.fatal.empty()) ++fatal[c.fatal];
  }
  all[event_visible].merge(sh.sampler);
  const double window = elapsed_ms(sh.measure_start, last_end) / 1000.0;
  std::array<op_figures, op_count> f;
  for (std::size_t i = 0; i < op_count; ++i) f[i] = figures_of(all[i], window);
  const double runs_per_s = window > 0 ? static_cast<double>(runs) / window : 0;
  const double transitions_per_s = f[create_run].per_second + f[set_running].per_second + f[set_completed].per_second;
  const double events_per_s = window > 0 ? static_cast<double>(events) / window : 0;
  const double events_recorded_per_s =
      sh.drain_seconds >= 0 && window > 0 ? static_cast<double>(events) / (window + sh.drain_seconds) : 0;
  const double logs_per_s = window > 0 ? static_cast<double>(logs) / window : 0;

  for (const auto& [why_stopped, n] : fatal)
    std::fprintf(stderr, "api_bench: %u client(s) stopped: %s\n", n, why_stopped.c_str());

  if (sh.opt.json) {
    nlohmann::json out = {{"label", sh.opt.label},
                          {"url", sh.opt.url},
                          {"clients", sh.opt.clients},
                          {"threads", sh.opt.threads},
                          {"warmup_s", sh.opt.warmup},
                          {"window_s", window},
                          {"tasks_per_run", sh.opt.tasks_per_run},
                          {"logs_per_run", sh.opt.logs_per_run},
                          {"events_enabled", sh.events_enabled}};
    for (std::size_t i = 0; i < op_count; ++i)
      out["ops"][op_keys[i]] = {{"count", f[i].count},
                                {"per_s", f[i].per_second},
                                {"p50_ms", f[i].count ? nlohmann::json(f[i].p50) : nlohmann::json()},
                                {"p99_ms", f[i].count ? nlohmann::json(f[i].p99) : nlohmann::json()},
                                {"max_ms", f[i].count ? nlohmann::json(f[i].max) : nlohmann::json()},
                                {"errors", f[i].errors},
                                {"retries", f[i].retries}};
    out["flow_runs_per_s"] = runs_per_s;
    out["flow_run_transitions_per_s"] = transitions_per_s;
    out["events_sent"] = events;
    out["events_sent_per_s"] = events_per_s;
    out["events_drain_s"] = sh.drain_seconds >= 0 ? nlohmann::json(sh.drain_seconds) : nlohmann::json();
    out["events_recorded_per_s"] = events_recorded_per_s;
    out["task_runs_sent"] = task_runs_total;
    out["task_runs_recorded"] = sh.recorded_task_runs >= 0 ? nlohmann::json(sh.recorded_task_runs) : nlohmann::json();
    out["logs_per_s"] = logs_per_s;
    out["client_cpu_cores"] = wall > 0 ? client_cpu / wall : 0;
    out["client_stopped"] = fatal;
    std::printf("%s\n", out.dump(2).c_str());
    return fatal.empty() ? 0 : 1;
  }

  std::printf("api_bench %s %s: %u clients, %.1f s measured after %.1f s warm-up, %u tasks and %u logs per run%s\n",
              sh.opt.label.c_str(), sh.opt.url.c_str(), sh.opt.clients, window, sh.opt.warmup,
              sh.events_enabled ? sh.opt.tasks_per_run : 0, sh.opt.logs_per_run,
              sh.events_enabled ? "" : " (events off)");
  std::printf("%-22s %9s %10s %9s %9s %9s %7s %7s\n", "operation", "count", "ops/s", "p50 ms", "p99 ms", "max ms",
              "errors", "retries");
  for (std::size_t i = 0; i < op_count; ++i)
    std::printf("%-22s %9zu %10.1f %9.2f %9.2f %9.2f %7llu %7llu\n", op_keys[i], f[i].count, f[i].per_second, f[i].p50,
                f[i].p99, f[i].max, static_cast<unsigned long long>(f[i].errors),
                static_cast<unsigned long long>(f[i].retries));
  std::printf("flow runs completed/s       %10.1f\n", runs_per_s);
  std::printf("flow-run transitions/s      %10.1f  (create PENDING + RUNNING + COMPLETED)\n", transitions_per_s);
  if (sh.events_enabled) {
    std::printf("task-run events sent/s      %10.1f  (%llu events)\n", events_per_s,
                static_cast<unsigned long long>(events));
    if (sh.drain_seconds >= 0)
      std::printf("all events recorded         %10.2f s after the last was confirmed; recorded events/s %.1f\n",
                  sh.drain_seconds, events_recorded_per_s);
    else
      std::printf("all events recorded         not within %.0f s\n", sh.opt.drain_timeout);
    if (sh.recorded_task_runs >= 0)
      std::printf("task runs COMPLETED         %10lld of %llu sent\n", sh.recorded_task_runs,
                  static_cast<unsigned long long>(task_runs_total));
  }
  std::printf("logs/s                      %10.1f\n", logs_per_s);
  std::printf("client CPU                  %10.2f cores\n", wall > 0 ? client_cpu / wall : 0);
  return fatal.empty() ? 0 : 1;
}

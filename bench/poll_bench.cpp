// Deployments and workers, against any Prefect-compatible server on this machine (Osprey, or the real
// `prefect server start`), measured the same way. Two phases, one per invocation:
//
//   build/bench/poll_bench --url http://127.0.0.1:4200/api --phase scheduler [--deployments 1000]
//                          [--interval-seconds 60] [--min-runs 3] [--server-pid PID]... [--json]
//   build/bench/poll_bench --url http://127.0.0.1:4200/api --phase poll [--workers 200] [--seconds 60]
//                          [--poll-interval 1] [--create-rate 20] [--server-pid PID]... [--json]
//
// scheduler (poll_bench_scheduler.cpp): N deployments with a 60 s interval schedule each; how long until the
//   server's scheduler has given every one of them its minimum of runs, runs created per second, the server's CPU
//   per created run, and each deployment's lag (its creation → its first run's creation, server timestamps).
// poll (poll_bench_poll.cpp): W simulated workers polling get_scheduled_flow_runs once a second and
//   heartbeating every 30 s, while flow runs are created at a fixed rate and the workers that get them drive
//   them Pending → Running → Completed; poll latency and throughput, and whether every run was picked up.
//
// --server-pid (repeatable) names the server's processes: their CPU time and their descendants' is read from
// /proc. Exit status 1 when the server answered any 5xx or a run was never handled; 2 for bad arguments.
// Loopback targets only (127.0.0.0/8, ::1, localhost).
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include <boost/asio/io_context.hpp>

#include "bench/poll_bench.hpp"

namespace osprey::bench::poll {

void context::report(const char* what, const reply& r) {
  if (errors_printed++ >= 5) return;
  std::fprintf(stderr, "poll_bench: %s: %s%s %.300s\n", what, r.error.c_str(),
               r.status ? ("HTTP " + std::to_string(r.status)).c_str() : "", r.body.c_str());
}

namespace {
bool retryable(const reply& r) {
  return r.status == 0 || r.status == 408 || r.status == 429 || r.status == 502 || r.status == 503;
}
}  // namespace

steady::duration seconds(double s) {
  return std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(s));
}

asio::awaitable<void> sleep_until(steady::time_point at) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_at(at);
  co_await timer.async_wait(nothrow);
}

asio::awaitable<std::optional<reply>> call(context& cx, http_client& http, bhttp::verb verb, std::string path,
                                           std::string body, samples* into, const char* what) {
  const auto started = steady::now();
  for (int attempt = 0;; ++attempt) {
    auto r = co_await http.request(verb, path, body);
    if (r.status >= 500 && cx.answers_5xx++ < 5)  // shown even when a retry then succeeds: any 5xx fails the run
      std::fprintf(stderr, "poll_bench: %s: HTTP %u %.200s\n", what, r.status, r.body.c_str());
    if (retryable(r) && attempt < 5) {
      ++cx.retries;
      if (into) ++into->retries;
      co_await sleep_until(steady::now() +
                           (r.retry_after > 0 ? seconds(r.retry_after) : seconds(std::min(0.1 * (1 << attempt), 2.0))));
      continue;
    }
    if (!r.ok()) {
      ++cx.given_up;
      if (into) ++into->errors;
      cx.report(what, r);
      co_return std::nullopt;
    }
    if (into) into->ms.push_back(elapsed_ms(started, steady::now()));
    co_return r;
  }
}

namespace {
/// utime + stime of one process (all its threads), in clock ticks; its parent's pid in `parent`.
std::uint64_t process_ticks(int pid, int& parent) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  std::uint64_t utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state
    if (i == 4) parent = std::atoi(field.c_str());
    if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) {
      stime = std::strtoull(field.c_str(), nullptr, 10);
      break;
    }
  }
  return utime + stime;
}
}  // namespace

double server_cpu_seconds(const std::vector<int>& roots) {
  if (roots.empty()) return 0;
  std::map<int, std::pair<int, std::uint64_t>> all;  // pid → (parent, ticks)
  if (DIR* proc = opendir("/proc")) {
    while (const dirent* entry = readdir(proc)) {
      const int pid = std::atoi(entry->d_name);
      if (pid <= 0) continue;
      int parent = 0;
      const auto ticks = process_ticks(pid, parent);
      all[pid] = {parent, ticks};
    }
    closedir(proc);
  }
  std::uint64_t total = 0;
  for (const auto& [pid, entry] : all) {
    for (int p = pid; p > 1;) {  // counted when it is a root or descends from one
      if (std::find(roots.begin(), roots.end(), p) != roots.end()) {
        total += entry.second;
        break;
      }
      const auto it = all.find(p);
      if (it == all.end()) break;
      p = it->second.first;
    }
  }
  return static_cast<double>(total) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double own_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::optional<wall::time_point> parse_time(std::string_view text) {
  std::tm tm{};
  int consumed = 0;
  const std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &consumed) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  auto at = wall::from_time_t(timegm(&tm));
  std::size_t i = static_cast<std::size_t>(consumed);
  if (i < s.size() && s[i] == '.') {
    double scale = 0.1, fraction = 0;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale /= 10) fraction += (s[i] - '0') * scale;
    at += std::chrono::duration_cast<wall::duration>(std::chrono::duration<double>(fraction));
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int hours = 0, minutes = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &hours, &minutes) != 2) return std::nullopt;
    const auto offset = std::chrono::hours(hours) + std::chrono::minutes(minutes);
    at += s[i] == '+' ? -offset : offset;  // 10:00+02:00 is 08:00 UTC
  } else if (i >= s.size() || (s[i] != 'Z' && s[i] != 'z')) {
    return std::nullopt;
  }
  return at;
}

json latency_summary(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return {{"count", ms.size()},
          {"p50_ms", percentile(ms, 50)},
          {"p99_ms", percentile(ms, 99)},
          {"max_ms", ms.empty() ? 0.0 : ms.back()}};
}

std::string work_pool_body(const std::string& name) {
  return json{{"name", name}, {"type", "process"}, {"base_job_template", json::object()}}.dump();
}
std::string flow_body(const std::string& name) {
  return json{{"name", name}, {"tags", json::array()}, {"labels", json::object()}}.dump();
}

}  // namespace osprey::bench::poll

using namespace osprey::bench;
using namespace osprey::bench::poll;

namespace {

[[noreturn]] void usage(const char* why) {
  if (why) std::fprintf(stderr, "poll_bench: %s\n", why);
  std::fprintf(
      stderr,
      "usage: poll_bench --url http://127.0.0.1:PORT/api --phase scheduler|poll [--server-pid PID]...\n"
      "                  [--label NAME] [--json]\n"
      "  scheduler: [--deployments 1000] [--interval-seconds 60] [--min-runs 3] [--create-concurrency 1]\n"
      "             [--sample-ms 250] [--deadline 1800]\n"
      "  poll:      [--workers 200] [--seconds 60] [--warmup 5] [--poll-interval 1] [--heartbeat-seconds 30]\n"
      "             [--prefetch-seconds 10] [--limit 10] [--create-rate 20 (0: none)] [--creators 4] [--engines 8]\n"
      "             [--drain-timeout 60]\n");
  std::exit(2);
}

options parse_options(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage((a + " needs a value").c_str());
      return argv[++i];
    };
    auto number = [&]() {
      const auto text = value();
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      if (end == text.c_str() || *end || v < 0) usage(("bad number for " + a + ": " + text).c_str());
      return v;
    };
    auto count = [&]() { return static_cast<unsigned>(number()); };
    if (a == "--url")
      o.url = value();
    else if (a == "--phase")
      o.phase = value();
    else if (a == "--label")
      o.label = value();
    else if (a == "--json")
      o.as_json = true;
    else if (a == "--server-pid")
      o.server_pids.push_back(static_cast<int>(number()));
    else if (a == "--deployments")
      o.deployments = count();
    else if (a == "--interval-seconds")
      o.interval_seconds = number();
    else if (a == "--min-runs")
      o.min_runs = count();
    else if (a == "--create-concurrency")
      o.create_concurrency = count();
    else if (a == "--sample-ms")
      o.sample_ms = number();
    else if (a == "--deadline")
      o.deadline = number();
    else if (a == "--workers")
      o.workers = count();
    else if (a == "--seconds")
      o.seconds = number();
    else if (a == "--warmup")
      o.warmup = number();
    else if (a == "--poll-interval")
      o.poll_interval = number();
    else if (a == "--heartbeat-seconds")
      o.heartbeat_seconds = number();
    else if (a == "--prefetch-seconds")
      o.prefetch_seconds = number();
    else if (a == "--limit")
      o.limit = count();
    else if (a == "--create-rate")
      o.create_rate = number();
    else if (a == "--creators")
      o.creators = count();
    else if (a == "--engines")
      o.engines = count();
    else if (a == "--drain-timeout")
      o.drain_timeout = number();
    else if (a == "--help" || a == "-h")
      usage(nullptr);
    else
      usage(("unknown argument " + a).c_str());
  }
  if (o.phase != "scheduler" && o.phase != "poll") usage("--phase must be scheduler or poll");
  if (o.deployments == 0 || o.create_concurrency == 0 || o.interval_seconds <= 0 || o.sample_ms <= 0)
    usage("--deployments, --create-concurrency, --interval-seconds and --sample-ms must be positive");
  if (o.workers == 0 || o.creators == 0 || o.engines == 0 || o.heartbeat_seconds <= 0)
    usage("--workers, --creators, --engines and --heartbeat-seconds must be positive");
  return o;
}

/// Resolves the target, refusing anything but loopback: a load generator must never reach another machine.
tcp::resolver::results_type resolve_loopback(asio::io_context& io, const target& where) {
  boost::system::error_code literal_error;
  const auto literal = asio::ip::make_address(where.host, literal_error);
  if (literal_error ? where.host != "localhost" : !is_loopback(literal))  // no name but localhost goes to DNS
    usage(("refusing " + where.host + ": only loopback targets (127.0.0.0/8, ::1, localhost)").c_str());
  tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(where.host, where.port, ec);
  if (ec || endpoints.empty()) usage(("cannot resolve " + where.host + ": " + ec.message()).c_str());
  for (const auto& e : endpoints)
    if (!is_loopback(e.endpoint().address()))
      usage(("refusing " + e.endpoint().address().to_string() + ": only loopback targets").c_str());
  return endpoints;
}

void print_text(const json& out) {
  // The JSON is the record; the text form is the same figures, one per line, for a person at a terminal.
  std::printf("poll_bench %s phase %s (%s)\n", out.value("label", "").c_str(), out.value("phase", "").c_str(),
              out.value("url", "").c_str());
  for (const auto& [key, value] : out.items()) {
    if (key == "label" || key == "phase" || key == "url") continue;
    if (value.is_object() && value.contains("p50_ms"))
      std::printf("  %-32s n=%-8s p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", key.c_str(), value["count"].dump().c_str(),
                  value["p50_ms"].get<double>(), value["p99_ms"].get<double>(), value["max_ms"].get<double>());
    else if (value.is_number_float())
      std::printf("  %-32s %.3f\n", key.c_str(), value.get<double>());
    else
      std::printf("  %-32s %s\n", key.c_str(), value.dump().c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  context cx;
  cx.opt = parse_options(argc, argv);
  std::string why;
  auto where = parse_url(cx.opt.url, why);
  if (!where) usage(why.c_str());
  cx.where = *where;
  asio::io_context probe;
  cx.endpoints = resolve_loopback(probe, cx.where);

  bool ok = true;
  json out = cx.opt.phase == "scheduler" ? run_scheduler_phase(cx, ok) : run_poll_phase(cx, ok);
  out["label"] = cx.opt.label;
  out["phase"] = cx.opt.phase;
  out["url"] = cx.opt.url;
  out["answers_5xx"] = cx.answers_5xx;
  out["retries"] = cx.retries;
  out["requests_given_up"] = cx.given_up;
  if (cx.answers_5xx > 0) ok = false;
  out["ok"] = ok;
  if (cx.opt.as_json)
    std::printf("%s\n", out.dump(2).c_str());
  else
    print_text(out);
  std::fflush(stdout);
  if (!ok) std::fprintf(stderr, "poll_bench: FAILED (%s)\n", out.value("failure", "5xx answers").c_str());
  return ok ? 0 : 1;
}

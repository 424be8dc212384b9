#pragma once
// What poll_bench's two phases share: the options, one request with the Prefect client's retry policy and the
// tallies every phase reports (5xx answers fail the run), the server's CPU time from /proc, and timestamps.
// Single-threaded: everything runs on one io_context thread, so nothing here locks.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/api_bench_client.hpp"

namespace osprey::bench::poll {

using nlohmann::json;
using wall = std::chrono::system_clock;

struct options {
  std::string url = "http://127.0.0.1:4200/api";
  std::string phase;  ///< "scheduler" or "poll"
  std::string label;
  bool as_json = false;
  std::vector<int> server_pids;  ///< CPU of these processes and their descendants is reported
  // --phase scheduler
  unsigned deployments = 1000;
  double interval_seconds = 60;     ///< each deployment's interval schedule
  unsigned min_runs = 3;            ///< the server's services.scheduler.min_runs: "scheduled" means at least this many
  unsigned create_concurrency = 1;  ///< one after another, as `prefect deploy` creates them
  double sample_ms = 250;           ///< how often the progress counts are taken
  double deadline = 1800;           ///< seconds after the first deployment before giving up
  // --phase poll
  unsigned workers = 200;
  double seconds = 60;
  double warmup = 5;
  double poll_interval = 1;  ///< seconds between one worker's polls; 0: back to back (saturation)
  double heartbeat_seconds = 30;
  double prefetch_seconds = 10;  ///< scheduled_before = now + this (Prefect's worker default)
  unsigned limit = 10;
  double create_rate = 20;    ///< flow runs created per second; 0: none (the poll route alone)
  unsigned creators = 4;      ///< connections the creation load is spread over
  unsigned engines = 8;       ///< connections that drive claimed runs Running → Completed
  double drain_timeout = 60;  ///< after the load stops, how long every run may take to be claimed and completed
};

/// One benchmark invocation: where to send requests, and what went wrong so far.
struct context {
  options opt;
  target where;
  tcp::resolver::results_type endpoints;
  std::uint64_t answers_5xx = 0;  ///< every 5xx answer, retried or not: any fails the run
  std::uint64_t retries = 0;      ///< 408/429/502/503 and transport failures retried
  std::uint64_t given_up = 0;     ///< requests still failing after the retries, or answered something unexpected
  unsigned errors_printed = 0;

  [[nodiscard]] std::string path(std::string_view rest) const { return where.base_path + std::string(rest); }
  /// Prints the first few failures (the rest are only counted).
  void report(const char* what, const reply& r);
};

/// One request with the Prefect client's retry policy (408/429/502/503 and transport failures, up to 5 times,
/// after Retry-After or 0.1·2ⁿ s capped at 2 s). Its latency, first attempt to final answer, goes to `into` when
/// it ended 2xx; otherwise it counts as given up (and in into->errors) and nullopt is returned.
asio::awaitable<std::optional<reply>> call(context& cx, http_client& http, bhttp::verb verb, std::string path,
                                           std::string body, samples* into, const char* what);

/// CPU seconds (user + system) of these processes and all their living descendants, from /proc: Prefect's CLI runs
/// the API server in a child process, PostgreSQL serves each connection from one. 0 with no pids.
double server_cpu_seconds(const std::vector<int>& roots);
/// CPU seconds of this process.
double own_cpu_seconds();

/// `2026-12-05T08:50:01.123456Z` or `…+00:00` (any offset, any number of fraction digits) as returned by Prefect
/// and Osprey; nullopt if it is not one.
std::optional<wall::time_point> parse_time(std::string_view text);

steady::duration seconds(double s);
asio::awaitable<void> sleep_until(steady::time_point at);

/// {count, p50_ms, p99_ms, max_ms} of latencies in milliseconds.
json latency_summary(std::vector<double> ms);

/// JSON bodies built outside coroutines: GCC 12 miscompiles braced initializer lists in a coroutine frame.
std::string work_pool_body(const std::string& name);
std::string flow_body(const std::string& name);

/// The phases. Each returns its figures; `ok` false when the run must fail (5xx, runs never handled, …).
json run_scheduler_phase(context& cx, bool& ok);
json run_poll_phase(context& cx, bool& ok);

}  // namespace osprey::bench::poll

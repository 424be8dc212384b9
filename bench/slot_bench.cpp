// Slot benchmark: N clients contending for one v2 global concurrency limit of L slots, the way Prefect's
// `concurrency("name", occupy=1)` drives it, against any Prefect-compatible server on this machine.
//
//   build/bench/slot_bench --url http://127.0.0.1:4200/api [--clients 64] [--limit 8] [--hold-ms 10]
//                          [--seconds 20] [--warmup 3] [--label NAME] [--json]
//
// Setup: POST /api/v2/concurrency_limits/ {name: "slot-bench-<random>", limit: L}. Each client is a coroutine
// with its own keep-alive connection, closed-loop:
//   1. POST /api/v2/concurrency_limits/increment-with-lease {slots: 1, names: [name], mode: "concurrency",
//      lease_duration: 300}; on 423 it sleeps the answer's Retry-After (a float, as Prefect's client reads
//      it: concurrency/services.py) and asks again;
//   2. on 200 it holds the slot --hold-ms, then
//   3. POST /api/v2/concurrency_limits/decrement-with-lease {lease_id} → 204.
// Figures (only acquisitions whose first ask came after the warm-up count):
//   - acquisitions/s: slots granted per second of the measured window;
//   - wait: first ask → granted (p50/p99/max), and 423 answers per acquisition;
//   - fairness: per client, its acquisitions (min/max and Jain's index (Σx)²/(n·Σx²), 1 = perfectly even) and
//     its mean wait (max/min across clients);
//   - increment-with-lease latency, every answer (200 and 423), and decrement-with-lease latency;
//   - safety: the most slots the clients held at once (counted from a 200 until its release is sent, so it
//     never over-counts the server) must not exceed L.
// Like the Prefect client, requests answered 408/429/502/503 (or failing in transport) are retried up to 5 times;
// a request still failing is counted as given up (the client then asks again; an unreleased slot stays taken
// until its lease expires). Loopback targets only (127.0.0.0/8, ::1, localhost). Exit 1 when the server
// answered something no client accepts or the limit was exceeded.
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "bench/api_bench_client.hpp"

using namespace osprey::bench;
using nlohmann::json;

namespace {

struct options {
  std::string url = "http://127.0.0.1:4200/api";
  unsigned clients = 64;
  unsigned limit = 8;
  double hold_ms = 10;
  double seconds = 20;
  double warmup = 3;
  std::string label;
  bool as_json = false;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "slot_bench: %s\nusage: slot_bench --url http://127.0.0.1:PORT/api [--clients 64] [--limit 8] "
               "[--hold-ms 10] [--seconds 20] [--warmup 3] [--label NAME] [--json]\n",
               why);
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
    if (a == "--url")
      o.url = value();
    else if (a == "--clients")
      o.clients = static_cast<unsigned>(std::stoul(value()));
    else if (a == "--limit")
      o.limit = static_cast<unsigned>(std::stoul(value()));
    else if (a == "--hold-ms")
      o.hold_ms = std::stod(value());
    else if (a == "--seconds")
      o.seconds = std::stod(value());
    else if (a == "--warmup")
      o.warmup = std::stod(value());
    else if (a == "--label")
      o.label = value();
    else if (a == "--json")
      o.as_json = true;
    else
      usage(("unknown argument " + a).c_str());
  }
  if (o.clients == 0 || o.limit == 0) usage("--clients and --limit must be positive");
  return o;
}

steady::duration seconds_to_duration(double s) {
  return std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(s));
}

struct client_stats {
  std::uint64_t acquired = 0;  ///< measured acquisitions
  std::vector<double> waits_ms;
  std::uint64_t refusals = 0;  ///< 423 answers on measured acquisitions
  samples increment;           ///< every increment-with-lease answer after the warm-up
  samples decrement;
  std::uint64_t unmeasured_retries = 0;  ///< retries during the warm-up
  std::string fatal;                     ///< the server answered something no client would accept: stop
  std::string first_error;               ///< the first request given up after its retries
};

struct shared_state {
  options opt;
  target where;
  tcp::resolver::results_type endpoints;
  std::string limit_name;
  steady::time_point measure_start, measure_end, last_grant;
  unsigned held = 0, max_held = 0;
  std::vector<client_stats> clients;
};

std::string api(const shared_state& sh, const char* path) { return sh.where.base_path + path; }

asio::awaitable<void> sleep_for(steady::duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(d);
  co_await timer.async_wait(nothrow);
}

// Request bodies are built outside the coroutines: GCC 12 miscompiles braced initializer lists in a coroutine
// frame ("array used as initializer").
std::string ask_body_for(const std::string& limit) {
  return json{{"slots", 1}, {"names", {limit}}, {"mode", "concurrency"}, {"lease_duration", 300}}.dump();
}
std::string release_body_for(const std::string& lease) { return json{{"lease_id", lease}}.dump(); }
std::string create_body_for(const std::string& limit, unsigned slots) {
  return json{{"name", limit}, {"limit", slots}}.dump();
}

bool retryable(const reply& r) {
  return r.status == 0 || r.status == 408 || r.status == 429 || r.status == 502 || r.status == 503;
}

/// One request with the Prefect client's transport retries (408/429/502/503 and transport failures, up to 5
/// times, after Retry-After or 0.1·2ⁿ s capped at 2 s), as api_bench does; `retries` counts them.
asio::awaitable<reply> send(http_client& http, const std::string& path, const std::string& body,
                            std::uint64_t& retries) {
  for (int attempt = 0;; ++attempt) {
    auto r = co_await http.request(bhttp::verb::post, path, body);
    if (!retryable(r) || attempt >= 5) co_return r;
    ++retries;
    co_await sleep_for(r.retry_after > 0 ? seconds_to_duration(r.retry_after)
                                         : std::min<steady::duration>(std::chrono::milliseconds(100) * (1 << attempt),
                                                                      std::chrono::seconds(2)));
  }
}

asio::awaitable<void> run_client(shared_state& sh, client_stats& st) {
  http_client http(co_await asio::this_coro::executor, sh.where, sh.endpoints);
  const std::string ask_body = ask_body_for(sh.limit_name);
  while (steady::now() < sh.measure_end) {
    const auto want = steady::now();
    const bool measured = want >= sh.measure_start;
    std::uint64_t refused = 0;
    std::string lease;
    while (lease.empty()) {
      const auto sent = steady::now();
      auto r = co_await send(http, api(sh, "/v2/concurrency_limits/increment-with-lease"), ask_body,
                             sent >= sh.measure_start ? st.increment.retries : st.unmeasured_retries);
      if (sent >= sh.measure_start) st.increment.ms.push_back(elapsed_ms(sent, steady::now()));
      if (r.status == 200) {
        auto body = json::parse(r.body, nullptr, false);
        if (!body.is_object() || !body.contains("lease_id") || !body["lease_id"].is_string()) {
          st.fatal = "increment-with-lease answered 200 without a lease_id: " + r.body.substr(0, 200);
          co_return;
        }
        lease = body["lease_id"].get<std::string>();
      } else if (r.status == 423) {
        ++refused;
        if (steady::now() >= sh.measure_end) co_return;
        co_await sleep_for(seconds_to_duration(r.retry_after));
      } else {
        // Given up after the retries (a Prefect task would fail here): counted, and the client asks again.
        if (sent >= sh.measure_start) ++st.increment.errors;
        if (st.first_error.empty())
          st.first_error = "increment-with-lease: " +
                           (r.status ? "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 200) : r.error);
        if (steady::now() >= sh.measure_end) co_return;
      }
    }
    const auto granted = steady::now();
    sh.max_held = std::max(sh.max_held, ++sh.held);
    if (measured) {
      ++st.acquired;
      st.refusals += refused;
      st.waits_ms.push_back(elapsed_ms(want, granted));
      sh.last_grant = std::max(sh.last_grant, granted);
    }
    if (sh.opt.hold_ms > 0) co_await sleep_for(seconds_to_duration(sh.opt.hold_ms / 1000.0));
    --sh.held;  // released as the request leaves: the server frees the slot later, never earlier
    const auto sent = steady::now();
    auto r = co_await send(http, api(sh, "/v2/concurrency_limits/decrement-with-lease"), release_body_for(lease),
                           sent >= sh.measure_start ? st.decrement.retries : st.unmeasured_retries);
    if (sent >= sh.measure_start) st.decrement.ms.push_back(elapsed_ms(sent, steady::now()));
    if (!r.ok()) {
      // The slot stays taken until its lease expires, as it would for a Prefect client.
      if (sent >= sh.measure_start) ++st.decrement.errors;
      if (st.first_error.empty())
        st.first_error = "decrement-with-lease: " + (r.status ? "HTTP " + std::to_string(r.status) : r.error);
    }
  }
}

/// Creates (or, when left over, finds) the limit; "" on success, else what went wrong.
asio::awaitable<void> setup(shared_state& sh, std::string& problem) {
  http_client http(co_await asio::this_coro::executor, sh.where, sh.endpoints);
  auto r = co_await http.request(bhttp::verb::post, api(sh, "/v2/concurrency_limits/"),
                                 create_body_for(sh.limit_name, sh.opt.limit));
  if (r.status != 201 && r.status != 200)
    problem = r.status ? "creating the limit: HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 200) : r.error;
}

asio::awaitable<void> teardown(shared_state& sh) {
  http_client http(co_await asio::this_coro::executor, sh.where, sh.endpoints);
  co_await http.request(bhttp::verb::delete_, api(sh, "/v2/concurrency_limits/") + sh.limit_name, "");
}

json summary(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return {{"count", ms.size()},
          {"p50_ms", percentile(ms, 50)},
          {"p99_ms", percentile(ms, 99)},
          {"max_ms", ms.empty() ? 0.0 : ms.back()}};
}

}  // namespace

int main(int argc, char** argv) {
  shared_state sh;
  sh.opt = parse_options(argc, argv);
  std::string why;
  auto where = parse_url(sh.opt.url, why);
  if (!where) usage(why.c_str());
  sh.where = *where;
  asio::io_context io(1);
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
        usage(("refusing " + e.endpoint().address().to_string() + ": only loopback targets").c_str());
  }
  sh.limit_name = "slot-bench-" + uuid4().substr(0, 8);
  std::string problem;
  asio::co_spawn(io, setup(sh, problem), asio::detached);
  io.run();
  if (!problem.empty()) {
    std::fprintf(stderr, "slot_bench: %s\n", problem.c_str());
    return 1;
  }

  sh.clients.resize(sh.opt.clients);
  const auto t0 = steady::now();
  sh.measure_start = t0 + seconds_to_duration(sh.opt.warmup);
  sh.measure_end = sh.measure_start + seconds_to_duration(sh.opt.seconds);
  sh.last_grant = sh.measure_start;
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  io.restart();
  for (auto& c : sh.clients) asio::co_spawn(io, run_client(sh, c), asio::detached);
  io.run();
  io.restart();
  asio::co_spawn(io, teardown(sh), asio::detached);
  io.run();

  std::vector<double> waits, increments, decrements, per_client_mean;
  std::vector<double> counts;
  std::uint64_t acquired = 0, refusals = 0, errors = 0, retries = 0;
  std::string fatal, first_error;
  for (const auto& c : sh.clients) {
    waits.insert(waits.end(), c.waits_ms.begin(), c.waits_ms.end());
    increments.insert(increments.end(), c.increment.ms.begin(), c.increment.ms.end());
    decrements.insert(decrements.end(), c.decrement.ms.begin(), c.decrement.ms.end());
    acquired += c.acquired;
    refusals += c.refusals;
    errors += c.increment.errors + c.decrement.errors;
    retries += c.increment.retries + c.decrement.retries;
    counts.push_back(static_cast<double>(c.acquired));
    if (!c.waits_ms.empty())
      per_client_mean.push_back(std::accumulate(c.waits_ms.begin(), c.waits_ms.end(), 0.0) /
                                static_cast<double>(c.waits_ms.size()));
    if (fatal.empty() && !c.fatal.empty()) fatal = c.fatal;
    if (first_error.empty() && !c.first_error.empty()) first_error = c.first_error;
  }
  const double window = std::max(1e-9, elapsed_ms(sh.measure_start, sh.last_grant) / 1000.0);
  const double sum = std::accumulate(counts.begin(), counts.end(), 0.0);
  const double sum_sq = std::inner_product(counts.begin(), counts.end(), counts.begin(), 0.0);
  const double jain = sum_sq > 0 ? sum * sum / (static_cast<double>(counts.size()) * sum_sq) : 0.0;
  const auto [min_count, max_count] = std::minmax_element(counts.begin(), counts.end());
  const auto [min_mean, max_mean] = std::minmax_element(per_client_mean.begin(), per_client_mean.end());

  json out = {
      {"label", sh.opt.label},
      {"url", sh.opt.url},
      {"clients", sh.opt.clients},
      {"limit", sh.opt.limit},
      {"hold_ms", sh.opt.hold_ms},
      {"measured_s", window},
      {"acquisitions", acquired},
      {"acquisitions_per_s", static_cast<double>(acquired) / window},
      {"refusals_per_acquisition", acquired ? static_cast<double>(refusals) / static_cast<double>(acquired) : 0.0},
      {"wait", summary(waits)},
      {"increment_with_lease", summary(increments)},
      {"decrement_with_lease", summary(decrements)},
      {"fairness",
       {{"jain_index", jain},
        {"min_acquisitions", counts.empty() ? 0.0 : *min_count},
        {"max_acquisitions", counts.empty() ? 0.0 : *max_count},
        {"mean_wait_max_over_min", per_client_mean.empty() || *min_mean <= 0 ? 0.0 : *max_mean / *min_mean}}},
      {"max_slots_held", sh.max_held},
      {"errors", errors},
      {"retries", retries},
      {"error", fatal.empty() ? first_error : fatal},
  };
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  auto cpu = [](const rusage& r) {
    return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
  };
  out["client_cpu_cores"] = (cpu(after) - cpu(before)) / std::max(1e-9, elapsed_ms(t0, steady::now()) / 1000.0);
  if (sh.opt.as_json) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%s: %u clients, limit %u, hold %.1f ms, %.1f s measured\n", sh.opt.label.c_str(), sh.opt.clients,
                sh.opt.limit, sh.opt.hold_ms, window);
    std::printf("  acquisitions/s        %.1f (%llu; %.2f 423s per acquisition)\n",
                out["acquisitions_per_s"].get<double>(), static_cast<unsigned long long>(acquired),
                out["refusals_per_acquisition"].get<double>());
    std::printf("  wait p50/p99/max ms   %.2f / %.2f / %.2f\n", out["wait"]["p50_ms"].get<double>(),
                out["wait"]["p99_ms"].get<double>(), out["wait"]["max_ms"].get<double>());
    std::printf("  increment p50/p99 ms  %.2f / %.2f\n", out["increment_with_lease"]["p50_ms"].get<double>(),
                out["increment_with_lease"]["p99_ms"].get<double>());
    std::printf("  decrement p50/p99 ms  %.2f / %.2f\n", out["decrement_with_lease"]["p50_ms"].get<double>(),
                out["decrement_with_lease"]["p99_ms"].get<double>());
    std::printf("  fairness: Jain %.3f, acquisitions per client %.0f..%.0f, mean wait max/min %.2f\n", jain,
                out["fairness"]["min_acquisitions"].get<double>(), out["fairness"]["max_acquisitions"].get<double>(),
                out["fairness"]["mean_wait_max_over_min"].get<double>());
    std::printf("  most slots held at once %u (limit %u); gave up %llu, retries %llu\n", sh.max_held, sh.opt.limit,
                static_cast<unsigned long long>(errors), static_cast<unsigned long long>(retries));
  }
  if (!fatal.empty()) std::fprintf(stderr, "slot_bench: %s\n", fatal.c_str());
  if (!first_error.empty())
    std::fprintf(stderr, "slot_bench: %llu requests given up, the first: %s\n", static_cast<unsigned long long>(errors),
                 first_error.c_str());
  return fatal.empty() && sh.max_held <= sh.opt.limit ? 0 : 1;
}

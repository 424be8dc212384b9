// poll_bench --phase scheduler: how fast the server's scheduler gives N new deployments their runs.
//
// Setup: a work pool (type "process") and a flow, both named for this invocation. Then N deployments, created by
// --create-concurrency closed-loop connections (1: one after another, as `prefect deploy` does): POST /api/deployments/
// with one active interval schedule
// ({interval: 60, anchor_date, timezone: "UTC"}) and work_pool_name. Anchors are spread over one interval, so
// the deployments' runs are spread over the minute as real ones are.
//
// After the last deployment was created, every --sample-ms: POST /api/deployments/count (this flow's deployments
// with a SCHEDULED run) and POST /api/flow_runs/count (this flow's runs). Done when every deployment has a run
// and there are at least N × --min-runs; afterwards POST /api/flow_runs/filter per deployment (its first
// --min-runs by expected start) checks each has its minimum, and gives its lag: the first run's `created` −
// the deployment's `created`, both server timestamps, so the lag needs no sampling.
//
// CPU: the server's (--server-pid) from just before the first deployment to done, divided by the runs existing
// then. That window includes the N deployment creations: a server that schedules on creation (Osprey) makes most
// of its runs before the last one. The same figure for the window after the last creation is reported beside it.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <utility>

#include "bench/poll_bench.hpp"

namespace osprey::bench::poll {
namespace {

struct deployment_record {
  std::string id;
  std::optional<wall::time_point> created;  ///< the server's timestamp
};

/// How many times one deployment is sent when the client's retries keep failing.
constexpr unsigned max_rounds = 10;

struct scheduler_state {
  explicit scheduler_state(context& c) : cx(c) {}
  context& cx;
  std::string pool, flow_name, flow_id;
  wall::time_point anchor;
  std::vector<deployment_record> deployments;
  unsigned next = 0;  ///< the next deployment to create (or to verify, in the verification pass)
  unsigned creators_running = 0;
  std::string failure;
  steady::time_point first_sent, last_created, done_at;
  double cpu_first = 0, cpu_last = 0, cpu_done = 0;
  long long runs_at_last = 0, runs_at_done = 0;
  bool done = false;
  samples create_latency, count_latency, verify_latency;
  unsigned creations_resent = 0;
  std::vector<double> lag_ms;
  std::vector<std::pair<double, unsigned>> lag_of;  ///< (lag ms, deployment index), to name the worst ones
  unsigned below_min = 0;
  unsigned samples_taken = 0;
};

// ---- bodies (built outside coroutines, see poll_bench.hpp) ----

std::string deployment_body(const scheduler_state& st, unsigned i) {
  const double interval = st.cx.opt.interval_seconds;
  const auto offset = std::chrono::duration_cast<wall::duration>(
      std::chrono::duration<double>(interval * i / static_cast<double>(st.deployments.size())));
  const json schedule = {{"interval", interval}, {"anchor_date", iso8601(st.anchor + offset)}, {"timezone", "UTC"}};
  json body = {{"name", "sched-bench-" + std::to_string(i)},
               {"flow_id", st.flow_id},
               {"work_pool_name", st.pool},
               {"paused", false},
               {"parameters", json::object()},
               {"tags", json::array()},
               {"job_variables", json::object()},
               {"enforce_parameter_schema", false}};
  body["schedules"] = json::array();
  body["schedules"].push_back({{"schedule", schedule}, {"active", true}});
  return body.dump();
}

json flow_name_filter(const scheduler_state& st) {
  json f = {{"name", json::object()}};
  f["name"]["any_"] = json::array({st.flow_name});
  return f;
}

std::string covered_body(const scheduler_state& st) {
  json body = {{"flows", flow_name_filter(st)}};
  body["flow_runs"]["state"]["type"]["any_"] = json::array({"SCHEDULED"});
  return body.dump();
}

std::string runs_body(const scheduler_state& st) { return json{{"flows", flow_name_filter(st)}}.dump(); }

std::string first_runs_body(const std::string& deployment, unsigned limit) {
  json body = {{"sort", "EXPECTED_START_TIME_ASC"}, {"limit", limit}};
  body["flow_runs"]["deployment_id"]["any_"] = json::array({deployment});
  return body.dump();
}

// ---- requests ----

asio::awaitable<std::optional<long long>> count(scheduler_state& st, http_client& http, const char* route,
                                                std::string body) {
  auto r = co_await call(st.cx, http, bhttp::verb::post, st.cx.path(route), std::move(body), &st.count_latency, route);
  if (!r) co_return std::nullopt;
  char* end = nullptr;
  const long long n = std::strtoll(r->body.c_str(), &end, 10);
  if (end == r->body.c_str()) {
    st.failure = std::string(route) + " answered " + r->body.substr(0, 100);
    co_return std::nullopt;
  }
  co_return n;
}

/// After the last deployment: samples the counts until every deployment has its runs (or the deadline passes).
asio::awaitable<void> watch(scheduler_state& st, http_client& http) {
  const auto n = static_cast<long long>(st.deployments.size());
  const auto deadline = st.first_sent + seconds(st.cx.opt.deadline);
  const auto period = seconds(st.cx.opt.sample_ms / 1000.0);
  for (auto next = steady::now(); st.failure.empty(); next = std::max(next + period, steady::now())) {
    co_await sleep_until(next);  // a slow answer delays the next sample, never bunches them
    if (steady::now() > deadline) {
      st.failure = "the runs of every deployment did not exist within --deadline";
      co_return;
    }
    ++st.samples_taken;
    const auto covered = co_await count(st, http, "/deployments/count", covered_body(st));
    const auto runs = co_await count(st, http, "/flow_runs/count", runs_body(st));
    if (!st.failure.empty()) co_return;
    if (!covered || !runs) continue;  // failed after the client's retries (counted): the next sample will tell
    if (*covered >= n && *runs >= n * st.cx.opt.min_runs) {
      st.done_at = steady::now();  // an upper bound: the condition held somewhere in this sample
      st.cpu_done = server_cpu_seconds(st.cx.opt.server_pids);
      st.runs_at_done = *runs;
      st.done = true;
      co_return;
    }
  }
}

asio::awaitable<void> create_deployments(scheduler_state& st) {
  http_client http(co_await asio::this_coro::executor, st.cx.where, st.cx.endpoints);
  while (st.next < st.deployments.size() && st.failure.empty()) {
    const unsigned i = st.next++;
    json answer;
    // A creation still failing after the client's retries is sent again (the deployment is upserted on flow and
    // name), as a user re-runs `prefect deploy`: the run fails on the 5xx, but every deployment gets measured.
    for (unsigned round = 0; round < max_rounds && !answer.is_object(); ++round) {
      auto r = co_await call(st.cx, http, bhttp::verb::post, st.cx.path("/deployments/"), deployment_body(st, i),
                             &st.create_latency, "POST /deployments/");
      if (r)
        answer = json::parse(r->body, nullptr, false);
      else
        ++st.creations_resent;
    }
    if (!answer.is_object() || !answer.contains("id") || !answer["id"].is_string()) {
      if (st.failure.empty()) st.failure = "creating deployment " + std::to_string(i) + " failed";
      break;
    }
    st.deployments[i].id = answer["id"].get<std::string>();
    if (answer.contains("created") && answer["created"].is_string())
      st.deployments[i].created = parse_time(answer["created"].get<std::string>());
  }
  if (--st.creators_running > 0 || !st.failure.empty()) co_return;
  // The last creator to finish made the last creation: the catch-up window starts now.
  st.last_created = steady::now();
  st.cpu_last = server_cpu_seconds(st.cx.opt.server_pids);
  if (auto runs = co_await count(st, http, "/flow_runs/count", runs_body(st))) st.runs_at_last = *runs;
  co_await watch(st, http);
}

asio::awaitable<void> verify(scheduler_state& st) {
  http_client http(co_await asio::this_coro::executor, st.cx.where, st.cx.endpoints);
  while (st.next < st.deployments.size()) {
    const unsigned index = st.next++;
    const auto& d = st.deployments[index];
    std::optional<reply> r;
    for (unsigned round = 0; round < max_rounds && !r; ++round)
      r = co_await call(st.cx, http, bhttp::verb::post, st.cx.path("/flow_runs/filter"),
                        first_runs_body(d.id, st.cx.opt.min_runs), &st.verify_latency, "POST /flow_runs/filter");
    const auto runs = r ? json::parse(r->body, nullptr, false) : json();
    if (!runs.is_array() || runs.size() < st.cx.opt.min_runs) {
      ++st.below_min;
      continue;
    }
    const auto first = runs[0].is_object() && runs[0].contains("created") && runs[0]["created"].is_string()
                           ? parse_time(runs[0]["created"].get<std::string>())
                           : std::nullopt;
    if (first && d.created) {
      st.lag_ms.push_back(std::chrono::duration<double, std::milli>(*first - *d.created).count());
      st.lag_of.emplace_back(st.lag_ms.back(), index);
    }
  }
}

asio::awaitable<void> set_up(scheduler_state& st) {
  http_client http(co_await asio::this_coro::executor, st.cx.where, st.cx.endpoints);
  if (!co_await call(st.cx, http, bhttp::verb::post, st.cx.path("/work_pools/"), work_pool_body(st.pool), nullptr,
                     "POST /work_pools/")) {
    st.failure = "could not create the work pool";
    co_return;
  }
  auto flow = co_await call(st.cx, http, bhttp::verb::post, st.cx.path("/flows/"), flow_body(st.flow_name), nullptr,
                            "POST /flows/");
  const auto answer = flow ? json::parse(flow->body, nullptr, false) : json();
  if (answer.is_object() && answer.contains("id") && answer["id"].is_string())
    st.flow_id = answer["id"].get<std::string>();
  else
    st.failure = "could not create the flow";
}

double per_run_ms(double cpu_seconds, long long runs) {
  return runs > 0 ? 1000.0 * cpu_seconds / static_cast<double>(runs) : 0.0;
}

}  // namespace

json run_scheduler_phase(context& cx, bool& ok) {
  scheduler_state st(cx);
  const auto tag = uuid4().substr(0, 8);
  st.pool = "sched-bench-pool-" + tag;
  st.flow_name = "sched-bench-" + tag;
  st.anchor = wall::now();
  st.deployments.resize(cx.opt.deployments);
  asio::io_context io(1);
  asio::co_spawn(io, set_up(st), asio::detached);
  io.run();

  const double own_cpu_before = own_cpu_seconds();
  if (st.failure.empty()) {
    io.restart();
    st.first_sent = steady::now();
    st.cpu_first = server_cpu_seconds(cx.opt.server_pids);
    st.creators_running = cx.opt.create_concurrency;
    for (unsigned i = 0; i < cx.opt.create_concurrency; ++i) asio::co_spawn(io, create_deployments(st), asio::detached);
    io.run();
  }
  if (st.done) {
    io.restart();
    st.next = 0;
    constexpr unsigned verifiers = 4;  // after the measured window: only its duration is at stake
    for (unsigned i = 0; i < verifiers; ++i) asio::co_spawn(io, verify(st), asio::detached);
    io.run();
    if (st.below_min > 0)
      st.failure = std::to_string(st.below_min) + " deployments had fewer than --min-runs runs when checked";
  }

  const auto secs = [](steady::time_point a, steady::time_point b) { return elapsed_ms(a, b) / 1000.0; };
  const long long n = static_cast<long long>(st.deployments.size());
  json out = {{"deployments", n},
              {"interval_s", cx.opt.interval_seconds},
              {"min_runs", cx.opt.min_runs},
              {"create_concurrency", cx.opt.create_concurrency},
              {"sample_ms", cx.opt.sample_ms},
              {"create_deployment", latency_summary(st.create_latency.ms)},
              {"count_requests", latency_summary(st.count_latency.ms)},
              {"client_cpu_s", own_cpu_seconds() - own_cpu_before},
              {"creations_resent", st.creations_resent}};
  if (st.done) {
    const double total = secs(st.first_sent, st.done_at), catch_up = secs(st.last_created, st.done_at);
    const double cpu_total = st.cpu_done - st.cpu_first, cpu_after = st.cpu_done - st.cpu_last;
    const long long runs_after = st.runs_at_done - st.runs_at_last;
    out["creation_s"] = secs(st.first_sent, st.last_created);
    out["catch_up_s"] = catch_up;
    out["total_s"] = total;
    out["runs_created"] = st.runs_at_done;
    out["runs_per_deployment"] = static_cast<double>(st.runs_at_done) / static_cast<double>(n);
    out["runs_created_per_s"] = total > 0 ? static_cast<double>(st.runs_at_done) / total : 0.0;
    out["runs_at_last_creation"] = st.runs_at_last;
    out["server_cpu_s"] = cpu_total;
    out["server_cpu_ms_per_run"] = per_run_ms(cpu_total, st.runs_at_done);
    out["server_cpu_after_last_s"] = cpu_after;
    out["runs_after_last"] = runs_after;
    out["server_cpu_ms_per_run_after_last"] = runs_after > 0 ? json(per_run_ms(cpu_after, runs_after)) : json();
    out["lag"] = latency_summary(st.lag_ms);
    out["lag_measured"] = st.lag_ms.size();
    // The five longest, with when their deployment was created (s after the first one): shows whether the slow
    // ones cluster, e.g. behind one of the scheduler's periodic passes.
    std::sort(st.lag_of.begin(), st.lag_of.end(), std::greater<>());
    out["lag_worst"] = json::array();
    const auto first_created = st.deployments.front().created;
    for (std::size_t i = 0; i < std::min<std::size_t>(5, st.lag_of.size()); ++i) {
      const auto& d = st.deployments[st.lag_of[i].second];
      json entry = {{"deployment", st.lag_of[i].second}, {"lag_ms", st.lag_of[i].first}};
      if (first_created && d.created)
        entry["created_s"] = std::chrono::duration<double>(*d.created - *first_created).count();
      out["lag_worst"].push_back(entry);
    }
    out["deployments_below_min"] = st.below_min;
    out["samples_taken"] = st.samples_taken;
  }
  if (!st.failure.empty()) {
    out["failure"] = st.failure;
    ok = false;
  }
  return out;
}

}  // namespace osprey::bench::poll

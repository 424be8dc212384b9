// poll_bench --phase poll: W workers polling one work pool while flow runs flow through it.
//
// Setup: a work pool (type "process", its default queue), a flow and one deployment in the pool, named for this
// invocation. Then, on one thread, each on its own keep-alive connection:
// - W workers. Each sends POST /api/work_pools/{pool}/workers/heartbeat {name, heartbeat_interval_seconds} when it
//   starts and every --heartbeat-seconds (Prefect's default 30), and POST /api/work_pools/{pool}/
//   get_scheduled_flow_runs {work_queue_names: [] (every queue, as `prefect worker start --pool` sends),
//   scheduled_before: now + --prefetch-seconds, limit} every --poll-interval seconds (first polls spread over the
//   first interval; a poll answered late is followed by the next at once, never by a burst). Each run it gets it
//   claims as the Prefect worker does: POST /api/flow_runs/{id}/set_state PENDING (force false). ACCEPT hands the
//   run to an engine; ABORT/REJECT/WAIT (another worker claimed it first) counts as a conflict.
// - --creators connections creating runs at --create-rate in total (none with 0): POST
// /api/deployments/{id}/create_flow_run
//   with a Scheduled state for now.
// - --engines connections driving claimed runs RUNNING → COMPLETED (set_state, force false), as the flow-run
//   engine in a worker's subprocess would; they keep the workers' poll cadence free of the runs' own work.
// Polls sent in the --seconds after --warmup are measured. Then creation stops and the workers keep polling
// until every created run was claimed and completed (at most --drain-timeout). A run never claimed, or accepted
// as Pending by two workers before it completed, fails the run. A run accepted as Pending again after it completed
// (the worker's poll answer predates the completion; Prefect's rules allow Completed → Pending) is driven once
// more, as a Prefect worker would run it again, and counted.
#include <algorithm>
#include <cstdio>
#include <deque>
#include <unordered_map>

#include "bench/poll_bench.hpp"

namespace osprey::bench::poll {
namespace {

struct tracked_run {
  std::optional<steady::time_point> created;  ///< when its creation was answered
  bool claimed = false;
  bool completing = false;  ///< its COMPLETED proposal was sent (the server may have committed it already)
  bool completed = false;
};

/// A run an engine is to drive Running → Completed; `again` when it was claimed anew after completing.
struct engine_job {
  std::string run;
  bool again = false;
};

struct poll_state {
  explicit poll_state(context& c, asio::io_context& io) : cx(c), wake(io, steady::time_point::max()) {}
  context& cx;
  std::string pool, flow_name, flow_id, deployment_id;
  steady::time_point start, measure_start, measure_end, load_stopped, drained;
  bool stopping = false;
  unsigned creators_running = 0;
  std::unordered_map<std::string, tracked_run> runs;
  std::deque<engine_job> claimed;  ///< waiting for an engine
  asio::steady_timer wake;         ///< engines wait on it (never expiring); cancel() wakes them all
  samples poll, heartbeat, create, pending, running, completed;
  samples unmeasured;             ///< warm-up and drain requests: only their errors matter
  std::vector<double> pickup_ms;  ///< creation answered → PENDING accepted
  std::uint64_t polls_measured = 0, runs_offered = 0, conflicts = 0;
  std::uint64_t created_total = 0, created_measured = 0, claimed_total = 0, completed_total = 0, double_claims = 0;
  std::uint64_t reclaimed = 0;  ///< PENDING accepted again for a run already Completed (see claim)
  std::uint64_t bad_answers = 0;
  double cpu_start = 0, cpu_end = 0, own_cpu_start = 0, own_cpu_end = 0;
  std::string failure;

  [[nodiscard]] bool measuring(steady::time_point t) const { return t >= measure_start && t < measure_end; }
};

// ---- bodies (built outside coroutines, see poll_bench.hpp) ----

std::string deployment_body(const poll_state& st) {
  return json{{"name", "poll-bench"},      {"flow_id", st.flow_id},
              {"work_pool_name", st.pool}, {"schedules", json::array()},
              {"paused", false},           {"parameters", json::object()},
              {"tags", json::array()},     {"job_variables", json::object()}}
      .dump();
}

std::string heartbeat_body(const std::string& worker, double interval) {
  return json{{"name", worker}, {"heartbeat_interval_seconds", interval}}.dump();
}

std::string poll_body(const options& opt) {
  const auto before =
      wall::now() + std::chrono::duration_cast<wall::duration>(std::chrono::duration<double>(opt.prefetch_seconds));
  return json{{"work_queue_names", json::array()}, {"scheduled_before", iso8601(before)}, {"limit", opt.limit}}.dump();
}

std::string create_run_body() {
  json state = {{"type", "SCHEDULED"}, {"name", "Scheduled"}, {"message", nullptr}};
  state["state_details"]["scheduled_time"] = iso8601(wall::now());
  return json{{"state", state},
              {"parameters", json::object()},
              {"context", json::object()},
              {"tags", json::array()},
              {"job_variables", json::object()}}
      .dump();
}

std::string set_state_body(const std::string& run, const char* type, const char* name) {
  json state = {{"type", type}, {"name", name}, {"message", nullptr}, {"data", nullptr}};
  state["state_details"]["flow_run_id"] = run;
  state["state_details"]["transition_id"] = uuid4();
  return json{{"state", state}, {"force", false}}.dump();
}

/// The orchestration status of a set_state answer ("ACCEPT", "ABORT", …), "" if there is none.
std::string status_of(const reply& r) {
  const auto body = json::parse(r.body, nullptr, false);
  return body.is_object() && body.contains("status") && body["status"].is_string() ? body["status"].get<std::string>()
                                                                                   : std::string();
}

/// The flow-run ids in a get_scheduled_flow_runs answer; false if it is not a list of {flow_run: {id}}.
bool offered_runs(const reply& r, std::vector<std::string>& ids) {
  const auto body = json::parse(r.body, nullptr, false);
  if (!body.is_array()) return false;
  for (const auto& entry : body) {
    if (!entry.is_object() || !entry.contains("flow_run") || !entry["flow_run"].is_object()) return false;
    const auto& run = entry["flow_run"];
    if (!run.contains("id") || !run["id"].is_string()) return false;
    ids.push_back(run["id"].get<std::string>());
  }
  return true;
}

std::string id_of(const reply& r) {
  const auto body = json::parse(r.body, nullptr, false);
  return body.is_object() && body.contains("id") && body["id"].is_string() ? body["id"].get<std::string>()
                                                                           : std::string();
}

void bad_answer(poll_state& st, const char* what, const reply& r) {
  ++st.bad_answers;
  st.cx.report(what, r);
}

// ---- the actors of the load ----

asio::awaitable<void> claim(poll_state& st, http_client& http, const std::string& run) {
  auto r = co_await call(st.cx, http, bhttp::verb::post, st.cx.path("/flow_runs/" + run + "/set_state"),
                         set_state_body(run, "PENDING", "Pending"), &st.pending, "set_state PENDING");
  if (!r) co_return;
  const auto status = status_of(*r);
  if (status != "ACCEPT") {
    if (status.empty())
      bad_answer(st, "set_state PENDING (no status)", *r);
    else
      ++st.conflicts;
    co_return;
  }
  auto& t = st.runs[run];
  if (t.claimed && (t.completed || t.completing)) {
    // This worker's poll answer was older than the run's completion. Prefect's rules let a Completed run (without
    // a persisted result) go back to Pending, so the worker runs it again, as a Prefect worker would.
    ++st.reclaimed;
    st.claimed.push_back({run, true});
    st.wake.cancel();
    co_return;
  }
  if (t.claimed) {  // two workers both told to take the same run at once: a server defect
    ++st.double_claims;
    co_return;
  }
  t.claimed = true;
  ++st.claimed_total;
  // Claimed before its creation was answered: the creator records a pickup of 0 when the answer comes.
  if (t.created) st.pickup_ms.push_back(std::max(0.0, elapsed_ms(*t.created, steady::now())));
  st.claimed.push_back({run, false});
  st.wake.cancel();
}

asio::awaitable<void> worker(poll_state& st, unsigned index) {
  http_client http(co_await asio::this_coro::executor, st.cx.where, st.cx.endpoints);
  const std::string name = "poll-bench-worker-" + std::to_string(index);
  const std::string poll_path = st.cx.path("/work_pools/" + st.pool + "/get_scheduled_flow_runs");
  const std::string beat_path = st.cx.path("/work_pools/" + st.pool + "/workers/heartbeat");
  const double interval = st.cx.opt.poll_interval;
  // Workers start spread over the first interval (or second), as workers started at different times are.
  std::uniform_real_distribution<double> spread(0.0, interval > 0 ? interval : 1.0);
  auto next_poll = st.start + seconds(spread(rng()));
  auto next_beat = next_poll;  // the Prefect worker heartbeats as it starts, before its first poll
  std::vector<std::string> ids;
  while (!st.stopping) {
    co_await sleep_until(std::min(next_poll, next_beat));
    if (st.stopping) break;
    if (steady::now() >= next_beat) {
      co_await call(st.cx, http, bhttp::verb::post, beat_path, heartbeat_body(name, st.cx.opt.heartbeat_seconds),
                    st.measuring(steady::now()) ? &st.heartbeat : &st.unmeasured, "worker heartbeat");
      next_beat += seconds(st.cx.opt.heartbeat_seconds);
    }
    if (steady::now() < next_poll) continue;
    const auto sent = steady::now();
    const bool measured = st.measuring(sent);
    auto r = co_await call(st.cx, http, bhttp::verb::post, poll_path, poll_body(st.cx.opt),
                           measured ? &st.poll : &st.unmeasured, "get_scheduled_flow_runs");
    if (measured) ++st.polls_measured;
    next_poll = interval > 0 ? std::max(next_poll + seconds(interval), steady::now()) : steady::now();
    if (!r) continue;
    ids.clear();
    if (!offered_runs(*r, ids)) {
      bad_answer(st, "get_scheduled_flow_runs (not a list of runs)", *r);
      continue;
    }
    if (measured) st.runs_offered += ids.size();
    for (const auto& id : ids)
      if (!st.stopping) co_await claim(st, http, id);
  }
}

asio::awaitable<void> creator(poll_state& st, unsigned index) {
  http_client http(co_await asio::this_coro::executor, st.cx.where, st.cx.endpoints);
  const std::string path = st.cx.path("/deployments/" + st.deployment_id + "/create_flow_run");
  const auto period = seconds(st.cx.opt.creators / st.cx.opt.create_rate);
  auto next = st.start + seconds(index / st.cx.opt.create_rate);  // the creators take turns
  while (next < st.measure_end) {
    co_await sleep_until(next);
    const auto sent = steady::now();
    const bool measured = st.measuring(sent);
    auto r = co_await call(st.cx, http, bhttp::verb::post, path, create_run_body(),
                           measured ? &st.create : &st.unmeasured, "create_flow_run");
    next = std::max(next + period, steady::now());  // behind schedule: the next at once, never a burst
    if (!r) continue;
    const auto id = id_of(*r);
    if (id.empty()) {
      bad_answer(st, "create_flow_run (no id)", *r);
      continue;
    }
    auto& t = st.runs[id];
    t.created = steady::now();
    if (t.claimed) st.pickup_ms.push_back(0.0);  // claimed before its creation was answered
    ++st.created_total;
    if (measured) ++st.created_measured;
  }
  --st.creators_running;
}

/// One transition a flow-run engine proposes; true when accepted.
asio::awaitable<bool> advance(poll_state& st, http_client& http, const std::string& run, const char* type,
                              const char* name, samples& into) {
  auto r = co_await call(st.cx, http, bhttp::verb::post, st.cx.path("/flow_runs/" + run + "/set_state"),
                         set_state_body(run, type, name), &into, "set_state RUNNING/COMPLETED");
  if (!r) co_return false;
  if (status_of(*r) == "ACCEPT") co_return true;
  bad_answer(st, "set_state RUNNING/COMPLETED (not accepted)", *r);
  co_return false;
}

asio::awaitable<void> engine(poll_state& st) {
  http_client http(co_await asio::this_coro::executor, st.cx.where, st.cx.endpoints);
  for (;;) {
    if (st.claimed.empty()) {
      if (st.stopping) co_return;
      co_await st.wake.async_wait(nothrow);  // cancelled when a run is claimed or the load stops
      continue;
    }
    const auto job = std::move(st.claimed.front());
    st.claimed.pop_front();
    if (!co_await advance(st, http, job.run, "RUNNING", "Running", st.running)) continue;
    if (!job.again) st.runs[job.run].completing = true;
    if (co_await advance(st, http, job.run, "COMPLETED", "Completed", st.completed) && !job.again) {
      st.runs[job.run].completed = true;
      ++st.completed_total;
    }
  }
}

/// Measures the window, stops the creation load, and lets the workers finish what was created.
asio::awaitable<void> control(poll_state& st) {
  co_await sleep_until(st.measure_start);
  st.cpu_start = server_cpu_seconds(st.cx.opt.server_pids);
  st.own_cpu_start = own_cpu_seconds();
  co_await sleep_until(st.measure_end);
  st.cpu_end = server_cpu_seconds(st.cx.opt.server_pids);
  st.own_cpu_end = own_cpu_seconds();
  while (st.creators_running > 0) co_await sleep_until(steady::now() + std::chrono::milliseconds(20));
  st.load_stopped = steady::now();
  const auto give_up = st.load_stopped + seconds(st.cx.opt.drain_timeout);
  while (st.completed_total < st.created_total && steady::now() < give_up)
    co_await sleep_until(steady::now() + std::chrono::milliseconds(20));
  st.drained = steady::now();
  st.stopping = true;
  st.wake.cancel();
}

asio::awaitable<void> set_up(poll_state& st) {
  http_client http(co_await asio::this_coro::executor, st.cx.where, st.cx.endpoints);
  if (!co_await call(st.cx, http, bhttp::verb::post, st.cx.path("/work_pools/"), work_pool_body(st.pool), nullptr,
                     "POST /work_pools/")) {
    st.failure = "could not create the work pool";
    co_return;
  }
  auto flow = co_await call(st.cx, http, bhttp::verb::post, st.cx.path("/flows/"), flow_body(st.flow_name), nullptr,
                            "POST /flows/");
  if (flow) st.flow_id = id_of(*flow);
  if (st.flow_id.empty()) {
    st.failure = "could not create the flow";
    co_return;
  }
  auto deployment = co_await call(st.cx, http, bhttp::verb::post, st.cx.path("/deployments/"), deployment_body(st),
                                  nullptr, "POST /deployments/");
  if (deployment) st.deployment_id = id_of(*deployment);
  if (st.deployment_id.empty()) st.failure = "could not create the deployment";
}

}  // namespace

json run_poll_phase(context& cx, bool& ok) {
  asio::io_context io(1);
  poll_state st(cx, io);
  const auto tag = uuid4().substr(0, 8);
  st.pool = "poll-bench-pool-" + tag;
  st.flow_name = "poll-bench-" + tag;
  asio::co_spawn(io, set_up(st), asio::detached);
  io.run();
  json out = {{"workers", cx.opt.workers},
              {"poll_interval_s", cx.opt.poll_interval},
              {"limit", cx.opt.limit},
              {"prefetch_s", cx.opt.prefetch_seconds},
              {"heartbeat_s", cx.opt.heartbeat_seconds},
              {"create_rate_target", cx.opt.create_rate},
              {"warmup_s", cx.opt.warmup},
              {"window_s", cx.opt.seconds}};
  if (!st.failure.empty()) {
    out["failure"] = st.failure;
    ok = false;
    return out;
  }

  io.restart();
  st.start = steady::now();
  st.measure_start = st.start + seconds(cx.opt.warmup);
  st.measure_end = st.measure_start + seconds(cx.opt.seconds);
  for (unsigned i = 0; i < cx.opt.workers; ++i) asio::co_spawn(io, worker(st, i), asio::detached);
  st.creators_running = cx.opt.create_rate > 0 ? cx.opt.creators : 0;
  for (unsigned i = 0; i < st.creators_running; ++i) asio::co_spawn(io, creator(st, i), asio::detached);
  for (unsigned i = 0; i < cx.opt.engines; ++i) asio::co_spawn(io, engine(st), asio::detached);
  asio::co_spawn(io, control(st), asio::detached);
  io.run();

  const double window = cx.opt.seconds;
  std::uint64_t never_claimed = 0;
  for (const auto& [id, t] : st.runs) never_claimed += t.claimed ? 0 : 1;
  out["polls"] = st.polls_measured;
  out["polls_offered_per_s"] = cx.opt.poll_interval > 0 ? json(cx.opt.workers / cx.opt.poll_interval) : json();
  out["polls_per_s"] = static_cast<double>(st.polls_measured) / window;
  out["poll"] = latency_summary(st.poll.ms);
  out["runs_offered_per_poll"] =
      st.polls_measured ? static_cast<double>(st.runs_offered) / static_cast<double>(st.polls_measured) : 0.0;
  out["heartbeat"] = latency_summary(st.heartbeat.ms);
  out["create_flow_run"] = latency_summary(st.create.ms);
  out["runs_created_per_s"] = static_cast<double>(st.created_measured) / window;
  out["set_state_pending"] = latency_summary(st.pending.ms);
  out["set_state_running"] = latency_summary(st.running.ms);
  out["set_state_completed"] = latency_summary(st.completed.ms);
  out["pickup"] = latency_summary(st.pickup_ms);
  out["runs_created"] = st.created_total;
  out["runs_claimed"] = st.claimed_total;
  out["runs_completed"] = st.completed_total;
  out["runs_never_claimed"] = never_claimed;
  out["claim_conflicts"] = st.conflicts;
  out["double_claims"] = st.double_claims;
  out["reclaimed_after_completion"] = st.reclaimed;
  out["unexpected_answers"] = st.bad_answers;
  out["drain_s"] = elapsed_ms(st.load_stopped, st.drained) / 1000.0;
  out["server_cpu_cores"] = (st.cpu_end - st.cpu_start) / window;
  out["server_cpu_ms_per_poll"] =
      st.polls_measured ? 1000.0 * (st.cpu_end - st.cpu_start) / static_cast<double>(st.polls_measured) : 0.0;
  out["client_cpu_cores"] = (st.own_cpu_end - st.own_cpu_start) / window;

  std::string failure;
  if (never_claimed)
    failure = std::to_string(never_claimed) + " runs never claimed";
  else if (st.completed_total < st.created_total)
    failure = std::to_string(st.created_total - st.completed_total) + " runs not completed";
  if (st.double_claims)
    failure += (failure.empty() ? "" : "; ") + std::to_string(st.double_claims) + " runs claimed twice";
  if (st.bad_answers) failure += (failure.empty() ? "" : "; ") + std::to_string(st.bad_answers) + " unexpected answers";
  if (st.poll.errors + st.unmeasured.errors + st.create.errors + st.pending.errors + st.running.errors +
          st.completed.errors + st.heartbeat.errors >
      0)
    failure += std::string(failure.empty() ? "" : "; ") + "requests failed after retries";
  if (!failure.empty()) {
    out["failure"] = failure;
    ok = false;
  }
  return out;
}

}  // namespace osprey::bench::poll

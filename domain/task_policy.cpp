#include "domain/task_policy.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace osprey {
namespace {

using st = state_type;
using ctx_t = orchestration_context;

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// CacheRetrieval
void cache_retrieval(ctx_t& ctx, task_work& w) {
  if (!ctx.proposed() || !w.in.cached_state) return;
  auto key = detail_string(*ctx.proposed(), "cache_key");
  if (!key || key->empty() || detail_flag(*ctx.proposed(), "refresh_cache")) return;
  run_state cached = *w.in.cached_state;  // fresh_copy: new id and timestamp, same details and data
  cached.id = state_id{new_uuid7(ctx.now())};
  cached.at = ctx.now();
  cached.name = "Cached";
  ctx.reject(std::move(cached), "Retrieved state from cache");
}

// HandleTaskTerminalStateTransitions
void handle_task_terminal_before(ctx_t& ctx, task_work& w) {
  if (!ctx.initial() || !ctx.proposed()) return;
  const auto& initial = *ctx.initial();
  const auto& proposed = *ctx.proposed();
  w.saved_run_count = w.run.counters.run_count;
  if (proposed.type == st::cancelling || proposed.type == st::paused || proposed.type == st::crashed) {
    ctx.abort(std::string("Run is already ") + to_string(initial.type) + ".");
    return;
  }
  if (initial.type == st::completed && !initial.data.is_null() && !initial.data.empty() &&
      has_persisted_result(initial.data)) {
    ctx.reject(std::nullopt, "This run is already completed.");
    return;
  }
  if (!is_terminal(proposed.type)) w.run.counters.run_count = 0;  // leaving a terminal state resets retries
  if (proposed.type == st::running && w.run.flow_run && w.in.flow_run &&
      w.run.flow_run_run_count < w.in.flow_run->run_count)
    ctx.rename("Retrying");
}

void handle_task_terminal_cleanup(ctx_t&, task_work& w) {
  if (w.saved_run_count) w.run.counters.run_count = *w.saved_run_count;
}

// PreventRunningTasksFromStoppedFlows
void prevent_running_tasks_from_stopped_flows(ctx_t& ctx, task_work& w) {
  if (!w.in.flow_run) return;
  const auto& flow = *w.in.flow_run;
  constexpr const char* must_run = "The enclosing flow must be running to begin task execution.";
  if (!flow.state) {
    ctx.abort(must_run);
  } else if (flow.state->type == st::paused) {
    auto not_ready = make_server_state(st::paused, ctx.now(), "NotReady");
    auto timeout = detail_time(*flow.state, "pause_timeout");
    set_detail_time(not_ready, "pause_timeout", timeout);
    not_ready.details["pause_reschedule"] = detail_flag(*flow.state, "pause_reschedule");
    not_ready.details["pause_key"] = nullptr;
    ctx.reject(std::move(not_ready),
               "The flow is paused, new tasks can execute after resuming flow run: " + flow.id.to_string() + ".");
  } else if (flow.state->type != st::running) {
    ctx.abort(must_run);
  }
}

// SecureTaskConcurrencySlots
void secure_task_concurrency_slots(ctx_t& ctx, task_work& w) {
  const auto& slots = w.in.tag_slots;
  using o = tag_slot_attempt::outcome;
  switch (slots.result) {
    case o::not_attempted: return;
    case o::acquired: w.tag_slots_kept = true; return;
    case o::zero_limit:
      ctx.abort("The concurrency limit on tag \"" + (slots.tags.empty() ? std::string() : slots.tags.front()) +
                "\" is 0 and will deadlock if the task tries to run again.");
      return;
    case o::full:
      if (slots.legacy_limit) {
        const std::string tag = slots.tags.empty() ? std::string() : slots.tags.front();
        ctx.delay(slots.delay, "Concurrency limit for the " + tag + " tag has been reached");
      } else {
        ctx.delay(slots.delay, "Concurrency limit reached for tags: " + join(slots.tags));
      }
      return;
  }
}

void secure_task_concurrency_cleanup(ctx_t&, task_work& w) { w.tag_slots_kept = false; }

void copy_scheduled(ctx_t& ctx, task_work&) { copy_scheduled_time(ctx); }
void wait_for_scheduled(ctx_t& ctx, task_work&) { wait_for_scheduled_time(ctx); }
void prevent_pending(ctx_t& ctx, task_work&) { prevent_pending_transitions(ctx); }

// CopyTaskParametersID (background tasks)
void copy_task_parameters_id(ctx_t& ctx, task_work&) {
  if (!ctx.initial() || !ctx.proposed()) return;
  if (detail_string(*ctx.proposed(), "task_parameters_id")) return;
  auto id = detail_string(*ctx.initial(), "task_parameters_id");
  if (!ctx.proposed()->details.is_object()) ctx.proposed()->details = nlohmann::json::object();
  ctx.proposed()->details["task_parameters_id"] = id ? nlohmann::json(*id) : nullptr;
}

// RetryFailedTasks
void retry_failed_tasks(ctx_t& ctx, task_work& w) {
  if (!ctx.initial() || !ctx.proposed()) return;
  const auto& policy = w.run.policy;
  const int run_count = w.run.counters.run_count;
  double base = 0;
  if (!policy.retry_delay.empty()) {
    // Python: delay[min(run_count - 1, len - 1)], where index -1 is the last element.
    auto n = static_cast<long>(policy.retry_delay.size());
    long index = std::min<long>(run_count - 1, n - 1);
    if (index < 0) index += n;
    if (index >= 0) base = policy.retry_delay[static_cast<std::size_t>(index)];
  }
  double delay = base;
  if (policy.retry_jitter_factor && *policy.retry_jitter_factor > 0 && base > 0)
    delay = clamped_poisson_interval(base, *policy.retry_jitter_factor, w.in.jitter_sample);
  if (detail_bool(*ctx.proposed(), "retriable") == false) return;  // retry_condition_fn said no
  if (!policy.retries || run_count > *policy.retries) return;
  auto retry = make_server_state(st::scheduled, ctx.now(), "AwaitingRetry");
  set_detail_time(retry, "scheduled_time",
                  ctx.now() + std::chrono::microseconds(static_cast<std::int64_t>(std::llround(delay * 1e6))));
  retry.message = ctx.proposed()->message;
  retry.data = ctx.proposed()->data;
  ctx.reject(std::move(retry), "Retrying");
}

// RenameReruns
void rename_reruns(ctx_t& ctx, task_work& w) {
  if (!ctx.initial() || !ctx.proposed()) return;
  if (w.run.counters.run_count > 0) ctx.rename(ctx.initial()->name == "AwaitingRetry" ? "Retrying" : "Rerunning");
}

// UpdateFlowRunTrackerOnTasks
void update_flow_run_tracker(ctx_t&, task_work& w) {
  if (w.run.flow_run && w.in.flow_run) w.run.flow_run_run_count = w.in.flow_run->run_count;
}

// CacheInsertion
void cache_insertion_before(ctx_t& ctx, task_work& w) {
  if (!ctx.proposed()) return;
  auto key = detail_string(*ctx.proposed(), "cache_key");
  if (key && key->size() > w.in.max_cache_key_length)
    ctx.reject(*ctx.proposed(), "Cache key exceeded maximum allowed length of " +
                                    std::to_string(w.in.max_cache_key_length) + " characters.");
}

void cache_insertion_after(ctx_t& ctx, task_work& w) {
  if (!ctx.proposed()) return;
  auto key = detail_string(*ctx.proposed(), "cache_key");
  if (key && !key->empty())
    w.effects.insert_cache = cache_entry{*key, detail_time(*ctx.proposed(), "cache_expiration"), ctx.proposed()->id};
}

// ReleaseTaskConcurrencySlots (universal)
void release_task_concurrency_slots(ctx_t& ctx, task_work& w) {
  if (!ctx.proposed()) return;
  if (ctx.proposed()->type != st::running && ctx.proposed()->type != st::cancelling) w.effects.release_tag_slots = true;
}

// EnqueueScheduledTasks (background tasks)
void enqueue_scheduled_tasks(ctx_t& ctx, task_work& w) {
  if (!ctx.proposed() || !detail_flag(*ctx.proposed(), "deferred")) return;
  w.effects.enqueue = true;
  w.effects.enqueue_as_retry = ctx.proposed()->name == "AwaitingRetry";
}

constexpr state_set all = state_set::all();
constexpr state_set terminal = state_set::terminal();

const task_rule r_cache_retrieval{"CacheRetrieval", all, {st::running}, cache_retrieval};
const task_rule r_terminal{"HandleTaskTerminalStateTransitions", terminal, all,
                           handle_task_terminal_before,          nullptr,  handle_task_terminal_cleanup};
const task_rule r_stopped_flows{
    "PreventRunningTasksFromStoppedFlows", all, {st::running}, prevent_running_tasks_from_stopped_flows};
const task_rule r_slots{"SecureTaskConcurrencySlots",  all,     {st::running},
                        secure_task_concurrency_slots, nullptr, secure_task_concurrency_cleanup};
const task_rule r_copy_scheduled{"CopyScheduledTime", {st::scheduled}, {st::pending}, copy_scheduled};
const task_rule r_wait{"WaitForScheduledTime", {st::scheduled, st::pending}, {st::running}, wait_for_scheduled};
const task_rule r_retry{"RetryFailedTasks", {st::running}, {st::failed}, retry_failed_tasks};
const task_rule r_rename{"RenameReruns", all, {st::running}, rename_reruns};
const task_rule r_tracker{"UpdateFlowRunTrackerOnTasks", all, {st::running}, nullptr, update_flow_run_tracker};
const task_rule r_cache_insert{"CacheInsertion", all, {st::completed}, cache_insertion_before, cache_insertion_after};
const task_rule r_release{"ReleaseTaskConcurrencySlots",  all,     all, nullptr,
                          release_task_concurrency_slots, nullptr, true};
const task_rule r_prevent_pending{"PreventPendingTransitions",
                                  {st::pending, st::cancelling, st::running, st::cancelled},
                                  {st::pending},
                                  prevent_pending};
const task_rule r_parameters{
    "CopyTaskParametersID", {st::scheduled, st::pending}, {st::pending, st::running}, copy_task_parameters_id};
const task_rule r_enqueue{"EnqueueScheduledTasks", all, {st::scheduled}, nullptr, enqueue_scheduled_tasks};

const std::array<task_rule, 11> core_rules = {r_cache_retrieval, r_terminal,     r_stopped_flows, r_slots,
                                              r_copy_scheduled,  r_wait,         r_retry,         r_rename,
                                              r_tracker,         r_cache_insert, r_release};
const std::array<task_rule, 1> minimal_rules = {r_release};
const std::array<task_rule, 12> background_rules = {
    r_prevent_pending, r_cache_retrieval, r_terminal, r_copy_scheduled, r_parameters, r_wait,
    r_retry,           r_rename,          r_tracker,  r_cache_insert,   r_release,    r_enqueue};

std::span<const task_rule> select_policy(const task_transition_input& in) {
  if (detail_flag(in.request.proposed, "deferred")) return background_rules;
  if (in.request.force) return minimal_rules;
  return core_rules;
}

}  // namespace

task_run_policy parse_task_run_policy(const nlohmann::json& j) {
  task_run_policy p;
  if (!j.is_object()) return p;
  if (auto it = j.find("retries"); it != j.end() && it->is_number()) p.retries = it->get<int>();
  if (auto it = j.find("retry_delay"); it != j.end()) {
    if (it->is_number()) {
      p.retry_delay.push_back(it->get<double>());
    } else if (it->is_array()) {
      for (const auto& d : *it)
        if (d.is_number()) p.retry_delay.push_back(d.get<double>());
    }
  }
  if (auto it = j.find("retry_jitter_factor"); it != j.end() && it->is_number())
    p.retry_jitter_factor = it->get<double>();
  return p;
}

double clamped_poisson_interval(double average_interval, double clamping_factor, double uniform) {
  const double upper_multiple = 1 + clamping_factor;
  const double lower_multiple =
      upper_multiple >= 50
          ? 0.0
          : std::log2(std::max(std::pow(2.0, upper_multiple) / (std::pow(2.0, upper_multiple) - 1), 1e-10));
  const double upper_bound = average_interval * upper_multiple;
  const double lower_bound = std::max(0.0, average_interval * lower_multiple);
  auto cdf = [&](double x) { return 1 - std::exp(-x / average_interval); };
  const double lower_rv = cdf(lower_bound);
  const double upper_rv = cdf(upper_bound);
  const double draw = lower_rv + (upper_rv - lower_rv) * uniform;
  return -std::log(std::max(1 - draw, 1e-10)) * average_interval;
}

std::optional<std::string> cache_lookup_key(const task_transition_input& in) {
  if (in.request.proposed.type != st::running) return std::nullopt;
  if (in.request.force && !detail_flag(in.request.proposed, "deferred")) return std::nullopt;
  auto key = detail_string(in.request.proposed, "cache_key");
  if (!key || key->empty() || detail_flag(in.request.proposed, "refresh_cache")) return std::nullopt;
  return key;
}

bool wants_tag_slots(const task_transition_input& in) {
  return in.request.proposed.type == st::running && !in.request.force && !detail_flag(in.request.proposed, "deferred");
}

task_transition_result apply_task_rules(const task_transition_input& in, std::span<const task_rule> rules) {
  run_state proposal = in.request.proposed;
  apply_state_defaults(proposal, in.now);
  orchestration_context ctx(in.current, std::move(proposal), in.now);
  task_work work{in, in.run, {}, std::nullopt, false};

  govern_transition(ctx, work, rules, [&] {
    if (!ctx.proposed()) return;
    auto& s = *ctx.proposed();
    s.at = unique_state_timestamp(in.current, in.now);
    s.id = state_id{new_uuid7(s.at)};
    apply_common_transforms(work.run.counters, in.current, s);
    update_task_state_details(s, work.run.id, work.run.flow_run);
    apply_task_run_count(work.run.counters, s);
  });

  task_transition_result out;
  out.decision = ctx.decision();
  out.written = ctx.proposed();
  if (out.decision.kind == decision_kind::reject && out.written) out.decision.replacement = out.written;
  if (in.tag_slots.result == tag_slot_attempt::outcome::acquired && !work.tag_slots_kept)
    work.effects.release_acquired_tag_slots = true;
  out.run_changed = !(work.run == in.run);
  out.run = std::move(work.run);
  out.effects = std::move(work.effects);
  return out;
}

task_transition_result orchestrate_task_transition(const task_transition_input& in) {
  return apply_task_rules(in, select_policy(in));
}

std::span<const task_rule> core_task_policy() { return core_rules; }
std::span<const task_rule> minimal_task_policy() { return minimal_rules; }
std::span<const task_rule> background_task_policy() { return background_rules; }

const task_rule* find_task_rule(std::string_view name) {
  for (auto policy : {core_task_policy(), background_task_policy()})
    for (const auto& r : policy)
      if (name == r.name) return &r;
  return nullptr;
}

}  // namespace osprey

// The cancellation cleanup service (see the header).
#include "actors/cancellation_cleanup.hpp"

#include "actors/flow_runs.hpp"
#include "actors/periodic_service.hpp"
#include "actors/task_run_transitions.hpp"
#include "domain/run_cleanup.hpp"
#include "logging/log.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/run_cleanup_store.hpp"

namespace osprey::actors {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;

constexpr std::chrono::hours cancelled_look_back{24};  ///< Prefect looks at runs cancelled within a day

struct candidates {
  std::vector<uuid> task_runs;
  std::vector<persistence::orphaned_subflow> subflows;
  std::vector<persistence::run_at_state> timed_out;
};

void act_on(const pass_done& done, const cancellation_cleanup_options& options, candidates found) {
  const auto now = options.time->now();
  const auto batch = options.batch;
  const bool full =
      found.task_runs.size() >= batch || found.subflows.size() >= batch || found.timed_out.size() >= batch;
  std::vector<std::pair<flow_run_id, transition_call>> proposals;
  for (const auto& sub : found.subflows)
    if (auto state = orphaned_subflow_state(sub.current, sub.has_deployment, now))
      proposals.push_back({sub.id, transition_call{transition_request{std::move(*state), false}, {}}});
  for (const auto& run : found.timed_out) {
    transition_call call{transition_request{cancelling_timeout_state(now), false}, {}};
    call.only_from = run.current.id;
    proposals.push_back({run.id, std::move(call)});
  }
  auto tally = pass_tally::start(done, proposals.size() + found.task_runs.size(), full);
  if (!tally) return;
  for (const auto& task_run : found.task_runs)
    propose_task_transition(options.db, task_run, transition_request{cancelled_by_parent_task_state(now), true},
                            *options.time, [tally](const transition_outcome& out) { tally->answered(out.written); });
  for (auto& [run, call] : proposals)
    propose_transition(options.flow_runs, run, std::move(call),
                       [tally](const transition_outcome& out) { tally->answered(out.written); });
}

void pass(const pass_done& done, const cancellation_cleanup_options& options) {
  persistence::read_value(
      options.db,
      [options](persistence::sql_connection& c) {
        const auto now = options.time->now();
        const auto limit = static_cast<std::int64_t>(options.batch);
        candidates found;
        found.task_runs = persistence::open_task_runs_of_cancelled_runs(c, now - cancelled_look_back, limit);
        found.subflows = persistence::orphaned_subflows(c, limit);
        const auto timeout = duration_cast<microseconds>(options.cancelling_timeout);
        for (auto& run : persistence::cancelling_since(c, now - timeout, limit))
          if (cancelling_timed_out(run.current.at, timeout, now)) found.timed_out.push_back(std::move(run));
        return found;
      },
      [done, options](result<candidates> found) {
        if (!found) {
          log::line(log::level::warning, "cancellation_cleanup", "looking for runs failed: ", found.error().message());
          return done({});
        }
        act_on(done, options, std::move(*found));
      });
}

}  // namespace

caf::actor spawn_cancellation_cleanup(caf::actor_system& system, cancellation_cleanup_options options) {
  return spawn_periodic_service(system, {"osprey.cancellation_cleanup", options.interval,
                                         [options](pass_done done) { pass(done, options); }, options.leadership});
}

}  // namespace osprey::actors

// The late-runs service (see the header).
#include "actors/late_runs.hpp"

#include "actors/flow_runs.hpp"
#include "actors/periodic_service.hpp"
#include "domain/orchestration.hpp"
#include "logging/log.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/flow_run_store.hpp"

namespace osprey::actors {
namespace {

/// Prefect's `states.Late(scheduled_time=...)`.
transition_request late_state(timestamp scheduled, timestamp now) {
  auto late = make_server_state(state_type::scheduled, now, "Late");
  set_detail_time(late, "scheduled_time", scheduled);
  return transition_request{std::move(late), false};
}

/// Proposes Late to each run; the last answer ends the pass.
void mark_late(const late_runs_options& options, std::vector<persistence::overdue_run> runs, const pass_done& done) {
  auto tally = pass_tally::start(
      [done](pass_report report) {
        if (report.changed > 0) log::line(log::level::info, "late_runs", "marked ", report.changed, " run(s) Late");
        done(report);
      },
      runs.size(), runs.size() >= options.batch);
  const auto now = options.time->now();
  for (const auto& run : runs)
    propose_transition(options.flow_runs, run.id, transition_call{late_state(run.scheduled, now), client_info{}},
                       [tally](const transition_outcome& out) { tally->answered(out.written); });
}

void pass(const late_runs_options& options, const pass_done& done) {
  persistence::read_value(
      options.db,
      [options](persistence::sql_connection& c) {
        const auto due_before =
            options.time->now() - std::chrono::duration_cast<std::chrono::microseconds>(options.after);
        return persistence::find_overdue_runs(c, due_before, static_cast<std::int64_t>(options.batch));
      },
      [options, done](result<std::vector<persistence::overdue_run>> found) {
        if (!found) {
          log::line(log::level::warning, "late_runs", "looking for overdue runs failed: ", found.error().message());
          return done({});
        }
        mark_late(options, std::move(*found), done);
      });
}

}  // namespace

caf::actor spawn_late_runs(caf::actor_system& system, late_runs_options options) {
  return spawn_periodic_service(system, {"osprey.late_runs", options.interval,
                                         [options](pass_done done) { pass(options, done); }, options.leadership});
}

}  // namespace osprey::actors

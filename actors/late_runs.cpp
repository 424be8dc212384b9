// The late-runs service (see the header).
#include "actors/late_runs.hpp"

#include <atomic>
#include <memory>

#include "actors/flow_runs.hpp"
#include "domain/orchestration.hpp"
#include "logging/log.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/flow_run_store.hpp"

namespace osprey::actors {
namespace {

struct late_runs_state {
  late_runs_options options;
  bool busy = false;         ///< a pass is between its read and its last answer
  bool again = false;        ///< a pass was asked for while busy
  std::uint64_t passes = 0;  ///< passes completed
  std::uint64_t marked = 0;  ///< runs marked Late
  static inline const char* name = "osprey.late_runs";
};

using late_runs_actor = caf::stateful_actor<late_runs_state>;

/// Prefect's `states.Late(scheduled_time=...)`.
transition_request late_state(timestamp scheduled, timestamp now) {
  auto late = make_server_state(state_type::scheduled, now, "Late");
  set_detail_time(late, "scheduled_time", scheduled);
  return transition_request{std::move(late), false};
}

/// Proposes Late to each run; the last answer reports how many were written and whether the batch was full.
void mark_late(caf::actor me, const late_runs_options& options, std::vector<persistence::overdue_run> runs) {
  const bool full = runs.size() >= options.batch;
  if (runs.empty()) return caf::anon_send(me, committed_atom_v, std::size_t{0}, false);
  struct tally {
    std::atomic<std::size_t> pending;
    std::atomic<std::size_t> written{0};
    explicit tally(std::size_t n) : pending(n) {}
  };
  auto counts = std::make_shared<tally>(runs.size());
  const auto now = options.time->now();
  for (const auto& run : runs)
    propose_transition(options.flow_runs, run.id, transition_call{late_state(run.scheduled, now), client_info{}},
                       [me, counts, full](const transition_outcome& out) {
                         if (out.written) ++counts->written;
                         if (--counts->pending == 0)
                           caf::anon_send(me, committed_atom_v, counts->written.load(), full);
                       });
}

void pass(late_runs_actor* self) {
  auto& st = self->state;
  if (st.busy) {
    st.again = true;
    return;
  }
  st.busy = true;
  auto me = caf::actor_cast<caf::actor>(self);
  auto options = st.options;
  persistence::read_value(
      options.db,
      [options](persistence::sql_connection& c) {
        const auto due_before = options.time->now() - std::chrono::duration_cast<std::chrono::microseconds>(options.after);
        return persistence::find_overdue_runs(c, due_before, static_cast<std::int64_t>(options.batch));
      },
      [me, options](result<std::vector<persistence::overdue_run>> found) {
        if (!found) {
          log::line(log::level::warning, "late_runs", "looking for overdue runs failed: ", found.error().message());
          return caf::anon_send(me, committed_atom_v, std::size_t{0}, false);
        }
        mark_late(me, options, std::move(*found));
      });
}

caf::behavior late_runs_behavior(late_runs_actor* self, late_runs_options options) {
  self->state.options = std::move(options);
  pass(self);
  self->delayed_send(self, self->state.options.interval, tick_atom_v);
  return {
      [self](tick_atom) {
        pass(self);
        self->delayed_send(self, self->state.options.interval, tick_atom_v);
      },
      [self](sweep_atom) { pass(self); },
      [self](committed_atom, std::size_t marked, bool full) {
        auto& st = self->state;
        st.busy = false;
        ++st.passes;
        st.marked += marked;
        // A full batch may have left more behind; a batch whose every proposal was refused is not retried
        // at once (the same runs would come back).
        if (std::exchange(st.again, false) || (full && marked > 0)) pass(self);
      },
      [self](stats_atom) { return std::make_tuple(self->state.passes, self->state.marked); },
  };
}

}  // namespace

caf::actor spawn_late_runs(caf::actor_system& system, late_runs_options options) {
  return system.spawn(late_runs_behavior, std::move(options));
}

}  // namespace osprey::actors

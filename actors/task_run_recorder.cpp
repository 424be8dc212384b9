#include "actors/task_run_recorder.hpp"

#include <algorithm>
#include <iostream>

#include "persistence/task_run_store.hpp"

namespace osprey::actors {
namespace {

struct recorder_state {
  persistence::database db;
  const clock* time = nullptr;
  std::vector<task_run_event> pending;
  bool flush_scheduled = false;
  recorder_stats stats;
  static inline const char* name = "osprey.task_run_recorder";
};

using recorder_actor = caf::stateful_actor<recorder_state>;

void write(recorder_actor* self, std::vector<task_run_event> events) {
  auto handle = caf::actor_cast<caf::actor>(self);
  auto now = self->state.time->now();
  self->state.db.write(
      [events, now](persistence::sql_connection& c) {
        for (const auto& e : events) persistence::record_task_run_event(c, e, now);
      },
      [handle, events](const status& s) { caf::anon_send(handle, recorded_atom_v, s, events); });
}

void flush(recorder_actor* self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.pending.empty()) return;
  std::vector<task_run_event> batch;
  batch.swap(st.pending);
  // Oldest first, so that within a batch the newest state of each run is written last.
  std::stable_sort(batch.begin(), batch.end(), [](const auto& a, const auto& b) { return a.state.at < b.state.at; });
  write(self, std::move(batch));
}

caf::behavior task_run_recorder(recorder_actor* self, persistence::database db, const clock* time) {
    self->state.db = db;
    self->state.time = time;
    return {
        [self](record_atom, const nlohmann::json& event) {
          if (!is_recordable_task_run_event(event)) return;
          auto parsed = task_run_event_from_json(event);
          if (!parsed) {
            ++self->state.stats.rejected;
            std::cerr << "osprey: task-run recorder: " << parsed.error().message() << "\n";
            return;
          }
          self->state.pending.push_back(std::move(*parsed));
          if (!self->state.flush_scheduled) {
            // Every event already in the mailbox arrives before this message: they share one write.
            self->state.flush_scheduled = true;
            self->send(self, flush_atom_v);
          }
        },
        [self](flush_atom) { flush(self); },
        [self](recorded_atom, const status& s, const std::vector<task_run_event>& events) {
          if (s) {
            self->state.stats.recorded += events.size();
            return;
          }
          if (events.size() > 1) {
            for (const auto& e : events) write(self, {e});
            return;
          }
          ++self->state.stats.rejected;
          std::cerr << "osprey: task-run recorder: dropping event " << (events.empty() ? "" : events.front().state.id.to_string())
                    << ": " << s.message() << "\n";
        },
        [self](stats_atom) { return self->state.stats; },
    };
}

}  // namespace

// Spawned with its arguments rather than as a capturing lambda: CAF 0.17 binds a reference to a null
// argument tuple when an actor takes none (undefined behaviour that UBSan reports).
caf::actor spawn_task_run_recorder(caf::actor_system& system, persistence::database db, const clock* time) {
  return system.spawn(task_run_recorder, std::move(db), time);
}

}  // namespace osprey::actors

#include "actors/task_run_recorder.hpp"
#include "actors/task_run_record_message.hpp"

#include <algorithm>
#include <deque>
#include <iterator>
#include <memory>

#include "logging/log.hpp"
#include "persistence/task_run_store.hpp"

namespace osprey::actors {
namespace {

struct recorder_state {
  persistence::database db;
  const clock* time = nullptr;
  write_retry retry;
  std::vector<task_run_event> pending;
  bool flush_scheduled = false;
  /// A batch's first write is in flight: what arrives meanwhile waits and goes in the next one, so under load a
  /// write carries everything that arrived during the last (one upsert per run, few statements per batch).
  bool writing = false;
  /// Refused writes to try again, oldest first, with how often each was refused.
  std::deque<std::pair<std::vector<task_run_event>, std::uint32_t>> waiting;
  bool retry_scheduled = false;
  bool refusing = false;  ///< a refusal was logged and not yet made good
  recorder_stats stats;
  static inline const char* name = "osprey.task_run_recorder";
};

using recorder_actor = caf::stateful_actor<recorder_state>;

void write(recorder_actor* self, std::vector<task_run_event> events, std::uint32_t failures = 0) {
  auto handle = caf::actor_cast<caf::actor>(self);
  // The statements are built here, so that the writer thread only resolves ids, binds and steps.
  auto rows = std::make_shared<const persistence::task_run_event_rows>(
      persistence::prepare_task_run_events(events, self->state.time->now()));
  auto held = std::make_shared<std::vector<task_run_event>>(std::move(events));
  self->state.db.write(
      [held, rows](persistence::sql_connection& c) { persistence::record_prepared_task_run_events(c, *held, *rows); },
      // Called once, after the job's last run: the events move into the answer instead of being copied.
      [handle, held, failures](const status& s) {
        caf::anon_send(handle, recorded_atom_v, s, std::move(*held), failures);
      });
}

/// Writes the pending events, unless a batch is being written and `now` is false (then the answer of that write
/// brings them).
void flush(recorder_actor* self, bool now = false) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.pending.empty() || (st.writing && !now)) return;
  std::vector<task_run_event> batch;
  batch.swap(st.pending);
  // Oldest first, so that within a batch the newest state of each run is written last.
  std::stable_sort(batch.begin(), batch.end(), [](const auto& a, const auto& b) { return a.state.at < b.state.at; });
  st.writing = true;
  write(self, std::move(batch));
}

/// Every refused event goes to the writer again now, in one job sorted by time: while the database is locked
/// each job costs the writer a lock timeout, so one per refused batch would hold it up that many times.
void retry_waiting(recorder_actor* self) {
  auto& st = self->state;
  if (st.waiting.empty()) return;
  std::vector<task_run_event> events;
  std::uint32_t failures = 0;
  for (auto& [batch, refusals] : st.waiting) {
    events.insert(events.end(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
    failures = std::max(failures, refusals);
  }
  st.waiting.clear();
  std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) { return a.state.at < b.state.at; });
  write(self, std::move(events), failures);
}

/// A write of `events` ended with `s`; it had been refused `failures` times before.
void recorded(recorder_actor* self, const status& s, const std::vector<task_run_event>& events,
              std::uint32_t failures) {
  auto& st = self->state;
  if (failures == 0) {  // a batch's first write: what waited behind it goes now
    st.writing = false;
    flush(self);
  }
  if (s) {
    st.stats.recorded += events.size();
    if (failures > 0 && st.refusing && st.waiting.empty()) {
      log::line(log::level::warning, "task_runs", "writing works again; every refused event is stored");
      st.refusing = false;
    }
    return;
  }
  ++st.stats.refused;
  if (s.code() != errc::unavailable && events.size() > 1) {
    // Not a lock or a lost connection: perhaps one bad event. Each is written on its own.
    for (const auto& e : events) write(self, {e}, failures + 1);
    return;
  }
  if (st.retry.gives_up(s, failures + 1)) {
    st.stats.rejected += events.size();
    log::line(log::level::warning, "task_runs", "dropping event ",
              (events.empty() ? "" : events.front().state.id.to_string()), " after ", failures + 1,
              " attempts: ", s.message());
    return;
  }
  if (!st.refusing)
    log::line(log::level::warning, "task_runs", "writing ", events.size(),
              " event(s) failed (retrying until stored): ", s.message());
  st.refusing = true;
  st.waiting.emplace_back(events, failures + 1);
  if (!st.retry_scheduled) {
    st.retry_scheduled = true;
    self->delayed_send(self, st.retry.delay_after(failures + 1), retry_atom_v);
  }
}

/// Queues `event` for the next write.
void hold(recorder_actor* self, task_run_event event) {
  self->state.pending.push_back(std::move(event));
  if (!self->state.flush_scheduled) {
    // Every event already in the mailbox arrives before this message: they share one write.
    self->state.flush_scheduled = true;
    self->send(self, tick_atom_v);
  }
}

caf::behavior task_run_recorder(recorder_actor* self, persistence::database db, const clock* time, write_retry retry) {
  self->state.db = db;
  self->state.time = time;
  self->state.retry = retry;
  // Everything still held goes to the writer before the recorder stops; the writer drains after this.
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    flush(self, true);
    retry_waiting(self);
    self->quit(msg.reason);
  });
  return {
      [self](record_atom, const nlohmann::json& event) {
        if (!is_recordable_task_run_event(event)) return;
        auto parsed = task_run_event_from_json(event);
        if (!parsed) {
          ++self->state.stats.rejected;
          log::line(log::level::warning, "task_runs", parsed.error().message());
          return;
        }
        hold(self, std::move(*parsed));
      },
      [self](record_atom, task_run_event& event) { hold(self, std::move(event)); },
      [self](tick_atom) { flush(self); },
      [self](flush_atom) {
        flush(self, true);
        retry_waiting(self);
      },
      [self](retry_atom) {
        self->state.retry_scheduled = false;
        retry_waiting(self);
      },
      [self](recorded_atom, const status& s, const std::vector<task_run_event>& events, std::uint32_t failures) {
        recorded(self, s, events, failures);
      },
      [self](stats_atom) { return self->state.stats; },
  };
}

}  // namespace

// Spawned with its arguments rather than as a capturing lambda: CAF 0.17 binds a reference to a null
// argument tuple when an actor takes none (undefined behaviour that UBSan reports).
caf::actor spawn_task_run_recorder(caf::actor_system& system, persistence::database db, const clock* time,
                                   write_retry retry) {
  return system.spawn(task_run_recorder, std::move(db), time, retry);
}

}  // namespace osprey::actors

#pragma once
// The task-run recorder: turns client task-run state events (prefect.task-run.<State>, orchestration
// "client") into task_run / task_run_state rows. Events that arrive together are written in one job, sorted by
// time, each run's events folded into one upsert (persistence/task_run_store.hpp). An accepted event is never dropped
// because the database was busy: a write refused as unavailable (locked past the lock timeout, connection lost) is
// tried again with backoff until it commits. A write refused for another reason is split into one write per event, so
// one bad event cannot lose its neighbours, and an event refused that way `retry.max_other_failures` times is dropped
// (logged, counted as rejected). At shutdown a (flush_atom) request, and at the latest the exit message, hands
// everything held to the writer, which commits it before the process ends. Duplicates (client replays after
// reconnecting) are harmless: states are keyed by event id and a row only moves to a newer state.

#include <caf/fwd.hpp>
#include <nlohmann/json.hpp>

#include "actors/messages.hpp"
#include "actors/write_retry.hpp"
#include "persistence/database.hpp"

namespace osprey::actors {

/// Messages: (record_atom, nlohmann::json event) — any event; non-task-run events are ignored.
///           (record_atom, task_run_event) — an event the sender already extracted
///           (actors/task_run_record_message.hpp)
///           (flush_atom) — write everything held now (the batch, and refused writes without waiting)
///           (stats_atom) -> recorder_stats
caf::actor spawn_task_run_recorder(caf::actor_system& system, persistence::database db,
                                   const clock* time = &system_clock::instance(), write_retry retry = {});

struct recorder_stats {
  std::uint64_t recorded = 0;  ///< events committed
  std::uint64_t rejected = 0;  ///< malformed events, or events given up after repeated non-transient refusals
  std::uint64_t refused = 0;   ///< writes the database refused (each tried again unless given up)
};

}  // namespace osprey::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nlohmann::json)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::recorder_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<osprey::task_run_event>)

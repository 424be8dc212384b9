#pragma once
// The task-run recorder: turns client task-run state events (prefect.task-run.<State>, orchestration
// "client") into task_run / task_run_state rows. Events that arrive together are written in one job, sorted by
// time; if that job fails, each event is retried on its own so one bad event cannot lose its neighbours.
// Duplicates (client replays after reconnecting) are harmless: states are keyed by event id and a row only
// moves to a newer state.

#include <caf/fwd.hpp>
#include <nlohmann/json.hpp>

#include "actors/messages.hpp"
#include "persistence/database.hpp"

namespace osprey::actors {

/// Messages: (record_atom, nlohmann::json event) — any event; non-task-run events are ignored.
///           (stats_atom) -> recorder_stats
caf::actor spawn_task_run_recorder(caf::actor_system& system, persistence::database db,
                                   const clock* time = &system_clock::instance());

struct recorder_stats {
  std::uint64_t recorded = 0;  ///< events committed
  std::uint64_t rejected = 0;  ///< malformed events, or events whose write failed on their own
};

}  // namespace osprey::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nlohmann::json)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::recorder_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<osprey::task_run_event>)

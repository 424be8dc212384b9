#pragma once
// The task-run recorder's reading of a parsed event (domain/event.hpp), beside its reading of JSON
// (domain/task_run.hpp): WS /api/events/in parses every event anyway, and turning it back into JSON for the
// recorder was a visible part of an event's CPU. Defined in task_run.cpp.

#include "domain/event.hpp"
#include "domain/task_run.hpp"

namespace osprey {

/// The same answers as is_recordable_task_run_event and task_run_event_from_json give for to_json(e).
bool is_recordable_task_run_event(const event& e);
result<task_run_event> task_run_event_from_event(const event& e);

}  // namespace osprey

#pragma once
// The task-run recorder's second record message (actors/task_run_recorder.hpp lists the first):
//   (record_atom, task_run_event) — an event already extracted by the sender (task_run_event_from_event in
//   domain/task_run_event.hpp), recorded like one read from JSON. WS /api/events/in sends this form, so that
//   an event it parsed is not turned back into JSON for the recorder to read again.

#include <caf/allowed_unsafe_message_type.hpp>

#include "domain/task_run.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::task_run_event)

#pragma once
// Whether a log belongs in a live log stream (WS /api/logs/out): the LogFilter criteria Prefect's stream checks
// (server/logs/stream.py), which are fewer than a stored-log query's. Checked: level ge_/le_, timestamp
// before_/after_, flow_run_id any_, task_run_id any_/is_null_ — all of them must hold, whatever `operator`
// says. Not checked (as in Prefect's stream): `text`. Pure.

#include "domain/filters.hpp"
#include "domain/log_record.hpp"

namespace osprey {

[[nodiscard]] bool matches_live(const filters::log_filter& filter, const log_record& log);

}  // namespace osprey

#pragma once
// The lifecycle event of an automation, beside the other objects' in domain/lifecycle_events.hpp (defined in
// lifecycle_events.cpp): Prefect 3.9.1 emits prefect.automation.created|updated|deleted with the whole
// automation, as its API answers it, as the payload.

#include "domain/automation.hpp"
#include "domain/lifecycle_events.hpp"

namespace osprey {

/// prefect.automation.<action>: resource prefect.automation.<id> named after it; payload automation_json(x).
[[nodiscard]] event automation_lifecycle_event(lifecycle_action a, const automation& x, timestamp occurred);

}  // namespace osprey

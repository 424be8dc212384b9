#pragma once
// A run log line as the Prefect client sends it (LogCreate) and reads it back (Log).

#include <optional>
#include <string>

#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

struct log_record {
  uuid id;
  timestamp created;
  std::string name;        ///< logger name, e.g. "prefect.flow_runs"
  std::int64_t level = 0;  ///< Python logging level (10 debug ... 50 critical)
  std::string message;
  timestamp at;  ///< when the client logged it
  std::optional<uuid> flow_run_id;
  std::optional<uuid> task_run_id;
};

}  // namespace osprey

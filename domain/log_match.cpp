#include "domain/log_match.hpp"

#include <algorithm>

namespace osprey {
namespace {

bool listed(const filters::list<uuid>& ids, const std::optional<uuid>& value) {
  return value && std::find(ids->begin(), ids->end(), *value) != ids->end();
}

}  // namespace

bool matches_live(const filters::log_filter& filter, const log_record& log) {
  if (const auto& level = filter.level) {
    if (level->ge && log.level < *level->ge) return false;
    if (level->le && log.level > *level->le) return false;
  }
  if (const auto& at = filter.at) {
    if (at->before && log.at > *at->before) return false;
    if (at->after && log.at < *at->after) return false;
  }
  if (const auto& run = filter.flow_run_id; run && run->any && !listed(run->any, log.flow_run_id)) return false;
  if (const auto& task = filter.task_run_id) {
    if (task->any && !listed(task->any, log.task_run_id)) return false;
    if (task->is_null && *task->is_null != !log.task_run_id.has_value()) return false;
  }
  return true;
}

}  // namespace osprey

#include "domain/work_pool.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

namespace osprey {

const char* to_string(pool_status s) noexcept {
  switch (s) {
    case pool_status::ready: return "READY";
    case pool_status::not_ready: return "NOT_READY";
    case pool_status::paused: return "PAUSED";
  }
  return "NOT_READY";
}

const char* to_string(worker_status s) noexcept { return s == worker_status::online ? "ONLINE" : "OFFLINE"; }

std::optional<pool_status> parse_pool_status(const std::string& text) noexcept {
  for (auto s : {pool_status::ready, pool_status::not_ready, pool_status::paused})
    if (text == to_string(s)) return s;
  return std::nullopt;
}

std::optional<worker_status> parse_worker_status(const std::string& text) noexcept {
  for (auto s : {worker_status::online, worker_status::offline})
    if (text == to_string(s)) return s;
  return std::nullopt;
}

bool is_reserved_pool_name(const std::string& name) noexcept {
  static constexpr std::string_view prefix = "prefect";
  if (name.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(name[i])) != prefix[i]) return false;
  return true;
}

std::optional<pool_status> initial_pool_status(const std::string& type, bool is_paused) noexcept {
  if (type == agent_pool_type) return std::nullopt;
  return is_paused ? pool_status::paused : pool_status::not_ready;
}

std::optional<pool_status> pool_status_after_pause(const std::string& type, bool is_paused,
                                                   bool any_worker_online) noexcept {
  if (type == agent_pool_type) return std::nullopt;
  if (is_paused) return pool_status::paused;
  return any_worker_online ? pool_status::ready : pool_status::not_ready;
}

std::optional<pool_status> queue_status_after_pause(pool_status current, bool is_paused,
                                                    const std::optional<timestamp>& last_polled, timestamp now,
                                                    std::chrono::seconds recent) noexcept {
  if (is_paused) return current == pool_status::paused ? std::nullopt : std::optional(pool_status::paused);
  if (current != pool_status::paused) return std::nullopt;
  return last_polled && now - *last_polled <= recent ? pool_status::ready : pool_status::not_ready;
}

void apply_pool_pause(work_pool& pool, bool paused, bool any_worker_online, timestamp now) {
  pool.is_paused = paused;
  if (auto next = pool_status_after_pause(pool.type, paused, any_worker_online)) {
    pool.status = *next;
    pool.last_transitioned_status_at = now;
  }
}

bool apply_heartbeat(work_pool& pool, timestamp now) {
  if (pool.status != pool_status::not_ready || pool.type == agent_pool_type) return false;
  pool.status = pool_status::ready;
  pool.last_transitioned_status_at = pool.updated = now;
  return true;
}

void apply_queue_pause(work_queue& queue, bool paused, timestamp now) {
  if (auto next = queue_status_after_pause(queue.status, paused, queue.last_polled, now)) queue.status = *next;
  queue.is_paused = paused;
}

std::int64_t first_free_priority(std::vector<std::int64_t> taken) {
  std::sort(taken.begin(), taken.end());
  for (std::size_t i = 0; i < taken.size(); ++i)
    if (taken[i] != static_cast<std::int64_t>(i) + 1) return static_cast<std::int64_t>(i) + 1;
  return taken.empty() ? 1 : taken.back() + 1;
}

std::map<work_queue_id, std::int64_t> reprioritized(const std::map<work_queue_id, std::int64_t>& queues,
                                                    std::optional<work_queue_id> moved, std::int64_t priority) {
  // The others in priority order (ties by id, as the database hands them out), the moved queue inserted before
  // the first one at or past its new priority; then every queue not above its predecessor is pushed up by one.
  std::vector<std::pair<std::int64_t, work_queue_id>> order;
  for (const auto& [id, p] : queues)
    if (!moved || id != *moved) order.emplace_back(p, id);
  std::sort(order.begin(), order.end());
  if (moved && queues.count(*moved)) {
    auto at = std::find_if(order.begin(), order.end(), [&](const auto& q) { return q.first >= priority; });
    // Prefect only inserts before an existing queue; past the last one the moved queue keeps its slot unsorted.
    if (at != order.end())
      order.insert(at, {priority, *moved});
    else
      order.emplace_back(priority, *moved);
  }
  std::map<work_queue_id, std::int64_t> changed;
  std::int64_t last = 0;
  for (auto& [p, id] : order) {
    if (p <= last)
      p = ++last;
    else
      last = p;
    auto before = queues.find(id);
    if (before != queues.end() && before->second != p) changed[id] = p;
  }
  return changed;
}

bool worker_is_stale(const worker& w, timestamp now, std::int64_t multiple, std::int64_t fallback_interval) noexcept {
  if (w.status != worker_status::online) return false;
  const auto interval = w.heartbeat_interval_seconds.value_or(fallback_interval);
  return now - w.last_heartbeat_time > std::chrono::seconds(interval * multiple);
}

std::optional<field_problem> check_base_job_template(const nlohmann::json& tpl) {
  if (tpl.is_object() && tpl.empty()) return std::nullopt;
  const auto config = tpl.find("job_configuration");
  const auto variables = tpl.find("variables");
  auto truthy = [&](nlohmann::json::const_iterator it) {
    return it != tpl.end() && !it->is_null() && !(it->is_object() && it->empty()) && !(it->is_array() && it->empty()) &&
           !(it->is_string() && it->get_ref<const std::string&>().empty()) && !(it->is_boolean() && !it->get<bool>());
  };
  if (!truthy(config) || !truthy(variables) || !config->is_object() || !variables->is_object())
    return field_problem{"base_job_template",
                         "Value error, The `base_job_template` must contain both a `job_configuration` key and a "
                         "`variables` key.",
                         "value_error"};
  static const std::regex placeholder(R"(\{\{\s*([\w\.\-\[\]$]+)\s*\}\})");
  std::set<std::string> used;
  for (const auto& [key, value] : config->items()) {
    const auto text = value.dump();
    for (auto it = std::sregex_iterator(text.begin(), text.end(), placeholder); it != std::sregex_iterator(); ++it)
      used.insert((*it)[1].str());
  }
  std::set<std::string> declared;
  if (auto props = variables->find("properties"); props != variables->end() && props->is_object())
    for (const auto& [key, value] : props->items()) declared.insert(key);
  std::string missing;
  for (const auto& name : used) {
    if (declared.count(name)) continue;
    missing += (missing.empty() ? "" : " ,") + name;
  }
  if (missing.empty()) return std::nullopt;
  return field_problem{"base_job_template",
                       "Value error, The variables specified in the job configuration template must be present as "
                       "properties in the variables schema. Your job configuration uses the following undeclared "
                       "variable(s): " +
                           missing + ".",
                       "value_error"};
}

bool queue_is_healthy(std::int64_t late_runs, const std::optional<timestamp>& last_polled, timestamp now) noexcept {
  if (late_runs > 0) return false;
  return last_polled && now - *last_polled <= std::chrono::seconds(60);
}

}  // namespace osprey

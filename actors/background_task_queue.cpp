// Background task runs waiting for task workers (see the header).
#include "actors/background_task_queue.hpp"

#include <algorithm>

namespace osprey::actors {

std::uint64_t background_task_queue::subscribe(std::vector<std::string> task_keys, std::string client_id,
                                               deliver_fn deliver) {
  std::uint64_t token = 0;
  std::vector<delivery> deliveries;
  {
    std::lock_guard lock(mutex_);
    token = next_token_++;
    subscribers_[token] = subscriber{std::move(task_keys), std::move(client_id), std::move(deliver), std::nullopt,
                                     system_clock::instance().now()};
    deliveries = dispatch();
  }
  run(std::move(deliveries));
  return token;
}

void background_task_queue::ack(std::uint64_t token) {
  std::vector<delivery> deliveries;
  {
    std::lock_guard lock(mutex_);
    auto it = subscribers_.find(token);
    if (it == subscribers_.end()) return;
    it->second.handed.reset();
    it->second.since = system_clock::instance().now();
    deliveries = dispatch();
  }
  run(std::move(deliveries));
}

void background_task_queue::unsubscribe(std::uint64_t token) {
  std::vector<delivery> deliveries;
  {
    std::lock_guard lock(mutex_);
    auto it = subscribers_.find(token);
    if (it == subscribers_.end()) return;
    if (it->second.handed) queues_[it->second.handed->key].retry.push_back(it->second.handed->run);
    subscribers_.erase(it);
    deliveries = dispatch();
  }
  run(std::move(deliveries));
}

void background_task_queue::enqueue(const uuid& task_run, const std::string& task_key, bool retry) {
  std::vector<delivery> deliveries;
  {
    std::lock_guard lock(mutex_);
    auto& q = queues_[task_key];
    (retry ? q.retry : q.scheduled).push_back(task_run);
    deliveries = dispatch();
  }
  run(std::move(deliveries));
}

std::vector<background_task_queue::worker_info> background_task_queue::workers(
    const std::vector<std::string>& task_keys) const {
  std::lock_guard lock(mutex_);
  std::vector<worker_info> out;
  for (const auto& [token, s] : subscribers_) {
    const bool wanted = task_keys.empty() || std::any_of(task_keys.begin(), task_keys.end(), [&](const auto& k) {
                          return std::find(s.keys.begin(), s.keys.end(), k) != s.keys.end();
                        });
    if (wanted) out.push_back({s.client_id, s.keys, s.since});
  }
  return out;
}

std::size_t background_task_queue::waiting() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& [key, q] : queues_) n += q.retry.size() + q.scheduled.size();
  return n;
}

std::optional<background_task_queue::entry> background_task_queue::next_for(const subscriber& s) {
  for (const bool retry : {true, false})
    for (const auto& key : s.keys) {
      auto it = queues_.find(key);
      if (it == queues_.end()) continue;
      auto& q = retry ? it->second.retry : it->second.scheduled;
      if (q.empty()) continue;
      entry e{q.front(), key};
      q.pop_front();
      return e;
    }
  return std::nullopt;
}

std::vector<background_task_queue::delivery> background_task_queue::dispatch() {
  std::vector<delivery> out;
  for (auto& [token, s] : subscribers_) {
    if (s.handed) continue;
    auto next = next_for(s);
    if (!next) continue;
    s.handed = next;
    out.push_back({token, s.deliver, *next});
  }
  return out;
}

void background_task_queue::run(std::vector<delivery> deliveries) {
  for (auto& d : deliveries) d.deliver(d.token, d.what.run, d.what.key);
}

}  // namespace osprey::actors

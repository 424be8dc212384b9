#include "http/worker_channels.hpp"

#include <vector>

namespace osprey::http {

std::uint64_t worker_channel_hub::join(const work_pool_id& pool, listener on_event) {
  std::lock_guard lock(mutex_);
  const auto token = next_token_++;
  members_.emplace(token, member{pool, std::move(on_event)});
  return token;
}

void worker_channel_hub::leave(std::uint64_t token) {
  std::lock_guard lock(mutex_);
  members_.erase(token);
}

void worker_channel_hub::notify(const work_pool_id& pool, pool_event e) {
  std::vector<listener> targets;
  {
    std::lock_guard lock(mutex_);
    for (const auto& entry : members_)
      if (entry.second.pool == pool) targets.push_back(entry.second.on_event);
  }
  // Outside the lock: a listener may close its connection, and closing leaves the hub.
  for (const auto& target : targets) target(e);
}

std::size_t worker_channel_hub::channels() const {
  std::lock_guard lock(mutex_);
  return members_.size();
}

}  // namespace osprey::http

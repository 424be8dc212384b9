#pragma once
// The worker channels (WS /api/work_pools/{name}/workers/connect, routes_worker_channel.cpp) open on this
// server, by work pool. The pool routes tell them when a pool changed in a way its workers act on (base job
// template, concurrency limit, pause, storage configuration: they send a fresh snapshot) or was deleted (they
// close). Changes made through another server sharing the database are not seen here; a channel notices them
// at the worker's next heartbeat (the pool's `updated` moved) and sends a snapshot then. Thread-safe.

#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "domain/work_pool.hpp"

namespace osprey::http {

class worker_channel_hub {
 public:
  enum class pool_event { updated, deleted };
  /// Called on the notifying thread (a database thread), outside the hub's lock; must not block.
  using listener = std::function<void(pool_event)>;

  /// Adds a channel serving `pool`; the token removes it.
  std::uint64_t join(const work_pool_id& pool, listener on_event);
  void leave(std::uint64_t token);
  /// Tells every channel serving `pool`. Cheap without channels.
  void notify(const work_pool_id& pool, pool_event e);
  [[nodiscard]] std::size_t channels() const;

 private:
  struct member {
    work_pool_id pool;
    listener on_event;
  };
  mutable std::mutex mutex_;
  std::uint64_t next_token_ = 1;
  std::unordered_map<std::uint64_t, member> members_;
};

}  // namespace osprey::http

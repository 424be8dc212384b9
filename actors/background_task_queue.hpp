#pragma once
// Background task runs waiting for task workers (Prefect 3.9.1's server/task_queue.py and
// models/task_workers.py): `task.delay()` creates a task run Scheduled with state_details.deferred, and a
// `prefect task-worker` (serve()) subscribes over WS /api/task_runs/subscriptions/scheduled for the task keys
// it can run. Each run is handed to one subscribed worker of its key; the worker acknowledges it before it
// gets the next one. A run whose worker left before acknowledging goes to its key's retry queue, which is
// served first (as is a run rescheduled AwaitingRetry).
//
// In memory per server, as Prefect's; the database stays the source of truth: at start the server enqueues
// every deferred task run still Scheduled (a restart loses no background task run), and a worker gets the
// run as stored when it is delivered. Several servers sharing a database each serve the workers connected to
// them the runs enqueued through them. Thread-safe; `deliver` callbacks run outside the lock.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey::actors {

class background_task_queue {
 public:
  /// Hands the worker `token` one run (its id and task key); the worker answers with ack() or leaves.
  using deliver_fn = std::function<void(std::uint64_t token, const uuid& task_run, const std::string& task_key)>;

  /// A worker subscribed for `task_keys`, idle: it gets the first waiting run of its keys at once. The token
  /// identifies it in ack() and unsubscribe().
  std::uint64_t subscribe(std::vector<std::string> task_keys, std::string client_id, deliver_fn deliver);
  /// The worker acknowledged the run it was handed: it is idle again and gets the next waiting run.
  void ack(std::uint64_t token);
  /// The worker left: a run handed to it and not acknowledged goes back, to its key's retry queue.
  void unsubscribe(std::uint64_t token);

  /// A deferred run was scheduled (committed): to an idle worker of its key, or queued. `retry` queues it
  /// ahead of the key's scheduled runs (AwaitingRetry).
  void enqueue(const uuid& task_run, const std::string& task_key, bool retry = false);

  struct worker_info {
    std::string client_id;
    std::vector<std::string> task_keys;
    timestamp since;  ///< when it subscribed or last acknowledged
  };
  /// The subscribed workers, those serving any of `task_keys` when it is not empty (POST /task_workers/filter).
  [[nodiscard]] std::vector<worker_info> workers(const std::vector<std::string>& task_keys = {}) const;
  /// Runs waiting for a worker, over every key.
  [[nodiscard]] std::size_t waiting() const;

 private:
  struct entry {
    uuid run;
    std::string key;
  };
  struct subscriber {
    std::vector<std::string> keys;
    std::string client_id;
    deliver_fn deliver;
    std::optional<entry> handed;  ///< delivered, not yet acknowledged
    timestamp since;
  };
  struct key_queues {
    std::deque<uuid> retry;
    std::deque<uuid> scheduled;
  };

  /// Pops the next run for `s` (retry queues first, keys in the worker's order); nullopt when none waits.
  std::optional<entry> next_for(const subscriber& s);
  /// Hands waiting runs to idle subscribers; what to deliver is returned and called after the lock is released.
  struct delivery {
    std::uint64_t token;
    deliver_fn deliver;
    entry what;
  };
  std::vector<delivery> dispatch();
  static void run(std::vector<delivery> deliveries);

  mutable std::mutex mutex_;
  std::uint64_t next_token_ = 1;
  std::map<std::uint64_t, subscriber> subscribers_;
  std::map<std::string, key_queues> queues_;
};

}  // namespace osprey::actors

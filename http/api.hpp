#pragma once
// The Prefect-compatible REST API: registers every route on a router. Handlers translate HTTP to calls on
// the actors and back; they decide nothing themselves and never block.

#include <caf/actor.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/background_task_queue.hpp"
#include "actors/event_bus_protocol.hpp"
#include "actors/flow_run_protocol.hpp"
#include "actors/notification_protocol.hpp"
#include "domain/concurrency.hpp"
#include "domain/schedule.hpp"
#include "notifications/rules.hpp"

#include "persistence/database.hpp"
#include "persistence/secret_box.hpp"
#include "domain/time.hpp"
#include "http/router.hpp"

namespace osprey::http {

class access_guard;        // http/access_guard.hpp
class live_logs;           // http/live_logs.hpp
class worker_channel_hub;  // http/worker_channels.hpp

/// A background service of the daemon, as GET /api/admin/services reports it.
struct service_entry {
  std::string name;  ///< its settings section, services.<name>
  std::string purpose;
  std::chrono::seconds interval{0};
  caf::actor actor{};  ///< actors/periodic_service.hpp; null when the settings disable it
};

struct api_context {
  persistence::database db;
  actors::event_bus_actor event_bus;          ///< actors/event_bus.hpp: spawn_event_bus
  actors::flow_run_registry_actor flow_runs;  ///< actors/flow_runs.hpp: spawn_flow_run_registry
  caf::actor task_run_recorder;               ///< actors/task_run_recorder.hpp: send it every event received
  /// WS /api/logs/out's subscribers, to which POST /api/logs publishes committed logs. Null: register_api
  /// makes one.
  std::shared_ptr<live_logs> log_stream{};
  /// Background task runs waiting for task workers (WS /api/task_runs/subscriptions/scheduled). Null:
  /// register_api makes one.
  std::shared_ptr<actors::background_task_queue> background_tasks{};
  /// The worker channels open here (WS /api/work_pools/{name}/workers/connect), which the pool routes tell of
  /// changes. Null: register_api makes one.
  std::shared_ptr<worker_channel_hub> worker_channels{};
  const clock* time = &system_clock::instance();
  /// Notification rules in force (REST /api/flow_run_notification_policies edits the API policies), and the
  /// dispatcher to wake when outbox jobs are re-queued. Null: the notification routes answer 503.
  std::shared_ptr<notifications::policy_book> notifications{};
  actors::notification_dispatcher_actor notification_dispatcher{};
  /// Authentication (http/access_guard.hpp): server.auth_string, server.require_api_key and
  /// server.health_without_auth. register_api builds `access` from them; every route and both event
  /// websockets (routes_events.cpp) authenticate through it.
  std::string auth_string{};
  bool require_api_key = false;
  bool health_without_auth = true;
  std::shared_ptr<access_guard> access{};
  /// server.max_name_length: the most characters a body's name, key, slug or tag may have (0: no limit).
  std::size_t max_name_length = 1024;
  /// server.csrf_protection: when true, state-changing API requests need a token from GET /api/csrf-token
  /// (http/csrf.hpp), valid for `csrf_token_lifetime`.
  bool csrf_protection = false;
  std::chrono::seconds csrf_token_lifetime{3600};
  /// Caps on the Retry-After of a refused concurrency slot (config concurrency.*_slot_wait_seconds).
  slot_wait_caps concurrency_waits{};
  /// Seals and opens the secret values of block documents (the key file). Null: the block document routes
  /// answer 503.
  std::shared_ptr<const persistence::secret_box> block_secrets{};
  /// The scheduler (actors/scheduler.hpp), woken after deployment and schedule changes. Null: the runs of a
  /// change wait for the next periodic pass, or for none when the scheduler is disabled.
  caf::actor scheduler{};
  /// How far ahead runs are scheduled (services.scheduler.*): POST /api/deployments/{id}/schedule's defaults.
  scheduling_window scheduling{};
  /// Every background service, enabled or not.
  std::vector<service_entry> services{};
};

/// Adds all /api routes (health, admin, flows, openapi, ...) to `routes`. `ctx` is copied into handlers.
void register_api(router& routes, const api_context& ctx);

}  // namespace osprey::http

#pragma once
// The server's effective settings as plain structs. Only config/ reads YAML and the environment;
// every other module receives these values. Each field states its default.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "config/notification_settings.hpp"

namespace osprey::config {

/// The Prefect UI served at / (http/ui_site.hpp).
struct ui_settings {
  bool enabled = true;  ///< server.ui.enabled (Prefect's server.ui.enabled)
  /// server.ui.dir: the folder scripts/prepare-ui.sh fills with the pinned Prefect package's bundles (v1/, v2/).
  /// Default "" ($OSPREY_HOME/ui).
  std::string dir;
  /// server.ui.api_url: the API URL /ui-settings gives the browser, for a reverse proxy
  /// ("https://prefect.example.com/api"). Default "" (http://<the Host the browser used>/api).
  std::string api_url;
  /// server.ui.base_path: the path the UI is served under (Prefect's server.ui.serve_base). Default "/".
  std::string base_path = "/";
  /// server.ui.default: v2 (the React UI, Prefect 3.9.1's default) or v1 (the Vue UI) for a browser without a
  /// prefect_ui_version cookie.
  std::string default_ui = "v2";
};

struct server_settings {
  std::string host = "127.0.0.1";            ///< server.host / OSPREY_HOST / --host (not empty)
  std::uint16_t port = 4200;                 ///< server.port / OSPREY_PORT / --port (0 = pick a free port)
  unsigned io_threads = 1;                   ///< server.io_threads: Asio threads serving HTTP (1..64)
  std::size_t max_body_bytes = 16u << 20;    ///< server.max_body_bytes (>= 1): larger requests get 413
  std::size_t max_header_bytes = 64u << 10;  ///< server.max_header_bytes (1 KiB..1 MiB): larger request heads get 431
  std::size_t max_connections = 4096;        ///< server.max_connections (0: none): more get 503 and are closed
  std::size_t max_websockets = 1024;         ///< server.max_websockets (0: none): more upgrades get 503
  /// server.json_max_depth (1..1000): how deep JSON in a body or websocket message may nest; deeper gets 422
  /// (websocket: close 1007). Default 128.
  std::size_t json_max_depth = 128;
  /// server.max_name_length (16..65536): the most characters the name, key, slug or any tag in a request body
  /// may have; longer gets 422 string_too_long. Default 1024.
  std::size_t max_name_length = 1024;
  /// server.allowed_origins: browser origins ("https://ui.example.com", "http://10.0.0.5:8080") allowed to
  /// open websockets besides the server's own (http://<host or loopback>:<port>). A YAML list, or
  /// comma-separated in OSPREY_SERVER_ALLOWED_ORIGINS. Default: empty (same origin only). Clients that send no
  /// Origin (the Prefect client) are always allowed.
  std::vector<std::string> allowed_origins;
  std::chrono::seconds keep_alive_timeout{5};  ///< server.keep_alive_timeout_seconds (1..86400)
  /// server.request_timeout_seconds (1..86400): actor answer deadline (504)
  std::chrono::seconds request_timeout{60};
  /// server.shutdown_grace_seconds (0..86400): how long in-flight requests may finish
  std::chrono::seconds shutdown_grace{30};
  /// server.auth_string / OSPREY_SERVER_AUTH_STRING: when set, every API request except GET /api/health and
  /// /api/ready must carry it (Prefect's PREFECT_SERVER_API_AUTH_STRING; clients set PREFECT_API_AUTH_STRING to
  /// the same value, e.g. "admin:pass"). Shown as "<secret>" by `osprey config view`. Default "" (no auth).
  std::string auth_string;
  /// server.require_api_key / OSPREY_SERVER_REQUIRE_API_KEY: when true, every API request and websocket needs an
  /// API key made by `osprey api-key create` (clients set PREFECT_API_AUTH_STRING or PREFECT_API_KEY to it), or
  /// the auth_string when that is set too. Keys are accepted whenever either setting asks for authentication.
  /// Default false.
  bool require_api_key = false;
  /// server.health_without_auth: whether GET /api/health and /api/ready answer without credentials while
  /// authentication is on (load balancers and orchestrators probe them). Default true, as Prefect.
  bool health_without_auth = true;
  /// server.csrf_protection / OSPREY_SERVER_CSRF_PROTECTION (Prefect's server.api.csrf_protection_enabled): when
  /// true, POST, PUT, PATCH and DELETE requests to the API need a token from GET /api/csrf-token (the Prefect
  /// client and UI fetch one by themselves). Default false, as Prefect.
  bool csrf_protection = false;
  /// server.csrf_token_expiration_seconds (60..2592000): how long a CSRF token is valid. Default 3600, as Prefect.
  std::chrono::seconds csrf_token_expiration{3600};
  ui_settings ui;
};

struct database_settings {
  /// database.url / OSPREY_DATABASE_URL, default "" (sqlite at $OSPREY_HOME/osprey.db).
  /// Accepted schemes: sqlite:///PATH, postgresql://..., postgres://... The sqlite path is the text after
  /// "sqlite:///" (the SQLAlchemy/Prefect convention), so an absolute path gives four slashes:
  /// "sqlite:////var/lib/osprey/osprey.db"; "sqlite:///osprey.db" is relative to the working directory;
  /// "sqlite:///:memory:" is an in-memory database. "postgresql://user:pass@host:5432/db" for PostgreSQL.
  std::string url;
  bool migrate_on_start = true;  ///< database.migrate_on_start: upgrade to head at `server start`
  /// database.timeout_ms (0..86400000): wait for locks / connections
  std::chrono::milliseconds busy_timeout{60000};
  /// database.group_commit.max_batch (1..1000000): writes per transaction
  std::size_t group_commit_max_batch = 1024;
  /// database.group_commit.max_delay_us (0..10000000): how long a batch waits for more writes after the first.
  /// 0 (default): commit as soon as the writer is free; writes arriving during a commit share the next one.
  std::chrono::microseconds group_commit_max_delay{0};
  unsigned readers = 2;  ///< database.readers: read connections beside the writer (1..32)
  /// database.sqlite_synchronous: FULL (durable) or NORMAL; read case-insensitively, stored upper-case.
  std::string sqlite_synchronous = "FULL";
  /// database.sqlite_max_size_mb (0..16777216): the SQLite file may grow to this size; writes that need more
  /// are refused as on a full disk (503, /api/ready 503) until rows are deleted. 0 (default): no cap.
  std::uint64_t sqlite_max_size_mb = 0;
};

/// Prefect's global concurrency limits (the Retry-After of a refused slot) and the lease reaper.
struct concurrency_settings {
  /// concurrency.tag_slot_wait_seconds (0..86400): longest Retry-After for a full "tag:" limit without decay
  /// (Prefect's server.tasks.tag_concurrency_slot_wait_seconds, default 10)
  std::chrono::seconds tag_slot_wait{10};
  /// concurrency.maximum_slot_wait_seconds (0..86400): the same for every other limit (Prefect's
  /// server.concurrency.maximum_concurrency_slot_wait_seconds, default 30)
  std::chrono::seconds maximum_slot_wait{30};
};

/// Background services.
struct services_settings {
  /// services.concurrency_lease_reaper.enabled: release the slots of expired concurrency leases (Prefect's
  /// repossessor). Default true.
  bool lease_reaper_enabled = true;
  /// services.concurrency_lease_reaper.interval_seconds (1..86400): how often it looks. Default 15 (Prefect's).
  std::chrono::seconds lease_reaper_interval{15};
  /// services.foreman.enabled: take silent workers OFFLINE and what they served NOT_READY (Prefect's foreman).
  /// Default true.
  bool foreman_enabled = true;
  /// services.foreman.interval_seconds (1..86400): how often it looks. Default 15 (Prefect's loop_seconds).
  std::chrono::seconds foreman_interval{15};
  /// services.foreman.inactivity_heartbeat_multiple (1..1000): heartbeat intervals a worker may miss. Default 3.
  std::int64_t foreman_heartbeat_multiple = 3;
  /// services.foreman.fallback_heartbeat_interval_seconds (1..86400): for workers that sent none. Default 30.
  std::chrono::seconds foreman_fallback_heartbeat{30};
  /// services.foreman.work_queue_last_polled_timeout_seconds (1..86400). Default 60.
  std::chrono::seconds foreman_queue_timeout{60};
  /// services.foreman.deployment_last_polled_timeout_seconds (1..86400). Default 60.
  std::chrono::seconds foreman_deployment_timeout{60};
  /// services.late_runs.enabled: mark runs still Scheduled `after_seconds` past their start Late (Prefect's
  /// MarkLateRuns). Default true.
  bool late_runs_enabled = true;
  /// services.late_runs.loop_seconds (1..86400): how often it looks. Default 5 (Prefect's).
  std::chrono::seconds late_runs_interval{5};
  /// services.late_runs.after_seconds (0..86400): how late a run may be before it is Late. Default 15 (Prefect's).
  std::chrono::seconds late_runs_after{15};
  /// services.cancellation_cleanup.enabled: finish the children of cancelled flow runs and end cancellations
  /// that timed out (Prefect's cancellation cleanup). Default true.
  bool cancellation_cleanup_enabled = true;
  /// services.cancellation_cleanup.loop_seconds (1..86400): how often it looks. Default 20 (Prefect's).
  std::chrono::seconds cancellation_cleanup_interval{20};
  /// services.cancellation_cleanup.cancelling_timeout_seconds (1..86400): how long a run may stay Cancelling
  /// before it is marked Cancelled. Default 300 (Prefect's).
  std::chrono::seconds cancelling_timeout{300};
  /// services.pause_expirations.enabled: fail runs Paused past their pause_timeout (Prefect's pause
  /// expirations). Default true.
  bool pause_expirations_enabled = true;
  /// services.pause_expirations.loop_seconds (1..86400): how often it looks. Default 5 (Prefect's).
  std::chrono::seconds pause_expirations_interval{5};
  /// services.scheduler.*: the deployment scheduler (actors/scheduler.hpp). Defaults are Prefect's
  /// PREFECT_API_SERVICES_SCHEDULER_* settings. enabled (default true); loop_seconds (1..86400, 60): how often
  /// it looks besides the passes a deployment change asks for; deployment_batch_size (1..100000, 100);
  /// min_runs (0..10000, 3) and max_runs (1..10000, 100) per schedule; min_scheduled_time_seconds (0..., 3600)
  /// and max_scheduled_time_seconds (1..., 100 days): how far ahead.
  bool scheduler_enabled = true;
  std::chrono::seconds scheduler_loop{60};
  unsigned scheduler_batch = 100;
  unsigned scheduler_min_runs = 3;
  unsigned scheduler_max_runs = 100;
  std::chrono::seconds scheduler_min_time{3600};
  std::chrono::seconds scheduler_max_time{100 * 86400};
  /// services.db_vacuum.*: deletes what outlived its retention (Prefect's db_vacuum service), in batches.
  /// enabled (default true); loop_seconds (1..86400, 3600); batch_size (1..100000, 200): rows or runs per
  /// transaction; event_retention_days (1..36500, 7, Prefect's server.events.retention_period): older events
  /// and their resources go; flow_runs (default false): also delete top-level finished flow runs, with their
  /// task runs, states and logs, that ended more than flow_run_retention_days (1..36500, 90) ago.
  bool db_vacuum_enabled = true;
  std::chrono::seconds db_vacuum_interval{3600};
  unsigned db_vacuum_batch = 200;
  std::int64_t event_retention_days = 7;
  bool db_vacuum_flow_runs = false;
  std::int64_t flow_run_retention_days = 90;
  /// services.cluster.*: servers sharing one database (actors/cluster_membership.hpp). heartbeat_seconds
  /// (1..600, 5): how often this server renews its row and the services lease; dead_after_seconds (3..3600, 30;
  /// at least 3 × heartbeat_seconds): a server silent that long is dead (its notification leases are released,
  /// another server takes over the background services). On PostgreSQL a killed server is seen at once (its
  /// session ends); the timeout covers a hung one.
  std::chrono::seconds cluster_heartbeat{5};
  std::chrono::seconds cluster_dead_after{30};
};

/// Encryption at rest of block document secrets.
struct encryption_settings {
  /// encryption.key_file / OSPREY_ENCRYPTION_KEY_FILE: the file holding the 32-byte AES-256-GCM key, created (mode
  /// 0600) on first start. Default "" ($OSPREY_HOME/block_secrets.key). Keep it with the database's backups: secrets
  /// stored under a key cannot be read without it.
  std::string key_file;
};

struct logging_settings {
  /// logging.level: debug, info, warning or error; read case-insensitively, stored lower-case.
  std::string level = "info";
};

struct settings {
  /// OSPREY_HOME, default $HOME/.osprey (never ~/.prefect); always absolute after load(). Only the
  /// environment sets it, because it decides where the default config file is.
  std::filesystem::path home;
  server_settings server;
  database_settings database;
  logging_settings logging;
  concurrency_settings concurrency;
  services_settings services;
  encryption_settings encryption;
  /// The `notifications:` section (or the file it names); YAML only, no environment or flags. Default: enabled,
  /// no channels, no policies. See notification_settings.hpp.
  notification_settings notifications;

  /// The database URL with the default applied: database.url when set, else "sqlite:///" + home/osprey.db,
  /// e.g. "sqlite:////root/.osprey/osprey.db" (four slashes: the path after "sqlite:///" is absolute).
  [[nodiscard]] std::string effective_database_url() const;
  /// encryption.key_file when set, else home/block_secrets.key.
  [[nodiscard]] std::filesystem::path effective_encryption_key_file() const;
  /// server.ui.dir when set, else home/ui.
  [[nodiscard]] std::filesystem::path effective_ui_dir() const;
};

}  // namespace osprey::config

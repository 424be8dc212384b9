// `osprey server start`: wires config → database (migrations, actors) → HTTP, then waits for SIGINT/SIGTERM
// and shuts down in order: stop accepting, finish in-flight requests, commit queued writes, stop actors.
#include <signal.h>

#include <fstream>
#include <iostream>
#include <map>

#include "actors/automation_actions.hpp"
#include "actors/automation_evaluator.hpp"
#include "actors/event_bus.hpp"
#include "actors/flow_runs.hpp"
#include "actors/foreman.hpp"
#include "actors/cancellation_cleanup.hpp"
#include "actors/cluster_membership.hpp"
#include "actors/late_runs.hpp"
#include "actors/pause_expirations.hpp"
#include "actors/db_vacuum.hpp"
#include "actors/lease_reaper.hpp"
#include "actors/scheduler.hpp"
#include "actors/state_event_recovery.hpp"
#include "actors/task_run_transitions.hpp"
#include "persistence/database_calls.hpp"
#include "actors/notification_dispatcher.hpp"
#include "cli/notification_wiring.hpp"
#include "actors/task_run_recorder.hpp"
#include "persistence/database.hpp"
#include "cli/commands.hpp"
#include "domain/version.hpp"
#include "http/api.hpp"
#include "http/server.hpp"
#include "http/ui_site.hpp"
#include "logging/log.hpp"
#include "persistence/block_store.hpp"
#include "persistence/migrator.hpp"
#include "persistence/planner_statistics.hpp"
#include "persistence/system_blocks.hpp"

namespace osprey::cli {
namespace {

[[noreturn]] void fail(const std::string& message, int code = exit_failure) {
  std::cerr << "osprey: " << message << "\n";
  throw CLI::RuntimeError(code);
}

void migrate_or_fail(const persistence::database_target& target, const persistence::connection_options& options,
                     bool migrate_on_start) {
  auto conn = persistence::open_connection(target, options);
  if (!conn) fail(conn.error().message());
  persistence::migrator m(**conn);
  auto plan = m.plan_upgrade("head");
  if (!plan) fail(plan.error().message());
  if (plan->empty()) {
    if (auto s = m.ensure_extensions(); !s) fail(s.message());
    return;
  }
  if (!migrate_on_start)
    fail("the database schema is " + std::to_string(plan->size()) +
         " revision(s) behind and database.migrate_on_start is off; run `osprey server database upgrade`");
  std::cout << "Migrating the database schema (" << plan->size() << " revision(s))...\n";
  auto s = m.apply(*plan, [](const persistence::migration_step& step) {
    std::cout << "  applying " << step.rev->id << "  " << step.rev->message << "\n";
  });
  if (!s) fail(s.message());
}

/// SQLite: the query planner's fixed statistics for the big tables (persistence/planner_statistics.hpp), written
/// before any reader connection opens, so that every connection plans by them.
void install_planner_statistics_or_fail(const persistence::database_target& target,
                                        const persistence::connection_options& options) {
  if (target.dialect != persistence::dialect::sqlite) return;
  auto conn = persistence::open_connection(target, options);
  if (!conn) fail(conn.error().message());
  if (auto s = persistence::install_planner_statistics(**conn); !s) fail(s.message());
}

/// Registers the system block types and schemas (idempotent: what is stored is skipped), before the server
/// takes requests, as Prefect does at start.
void register_system_blocks_or_fail(const persistence::database_target& target,
                                    const persistence::connection_options& options) {
  auto conn = persistence::open_connection(target, options);
  if (!conn) fail(conn.error().message());
  std::pair<std::size_t, std::size_t> written;
  auto s = persistence::in_write_transaction(**conn, "registering the system block types", [&](auto& c) {
    written =
        persistence::register_system_blocks(c, persistence::system_block_catalog(), system_clock::instance().now());
  });
  if (!s) fail(s.message());
  if (written.first + written.second > 0)
    std::cout << "Registered system blocks: " << written.first << " type(s), " << written.second << " schema(s)\n";
}

/// "UI           http://127.0.0.1:4200/ (default v2; v1 at /, v2 at /v2)", or why there is none.
std::string describe_ui(const http::ui_site& ui, const std::vector<std::string>& notes, const std::string& origin) {
  const auto available = ui.available();
  std::string line = "UI           ";
  if (available.empty()) {
    line += notes.empty() ? "off (server.ui.enabled is false)" : "not served";
  } else {
    line += origin + ui.v1_base() + " (default " + ui.default_ui() + ";";
    for (const auto& v : available)
      line += " " + v + " at " + (v == "v1" ? ui.v1_base() : ui.v2_base()) + (v == available.back() ? ")" : ",");
  }
  for (const auto& note : notes) line += "\n  " + note;
  return line;
}

/// Waits for SIGINT or SIGTERM; each SIGHUP in between runs `reload`.
int wait_for_stop_signal(const sigset_t& signals, const std::function<void()>& reload) {
  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig != SIGHUP) return sig;
    reload();
  }
}

/// Whether process `pid` on this host is running (a zombie, killed and not yet reaped, is not).
bool process_running(std::int64_t pid) {
  if (kill(static_cast<pid_t>(pid), 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto close = line.rfind(')');  // "pid (comm) S ...": comm may hold spaces and parentheses
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

/// SQLite has one writer, and Osprey's actors assume one server per file: refuses to start beside a live server
/// on the same file (its row is fresh and, on this host, its process exists).
void refuse_second_sqlite_server(const persistence::database_target& target,
                                 const persistence::connection_options& options, std::chrono::seconds dead_after) {
  if (target.dialect != persistence::dialect::sqlite) return;
  auto conn = persistence::open_connection(target, options);
  if (!conn) fail(conn.error().message());
  std::vector<persistence::server_instance> servers;
  auto s = persistence::in_transaction(**conn, persistence::transaction_kind::read, "reading the server list",
                                       [&](auto& c) { servers = persistence::list_server_instances(c); });
  if (!s) fail(s.message());
  const auto me = this_server_instance();
  for (const auto& other : servers) {
    if (other.heartbeat < me.started - std::chrono::duration_cast<std::chrono::microseconds>(dead_after)) continue;
    if (other.host == me.host && (other.pid == me.pid || !process_running(other.pid))) continue;
    fail("another Osprey server (" + other.id + ", listening on " + other.listen + ") is using " + target.display +
         ". One SQLite database serves one server: stop that one first, or run several servers on PostgreSQL "
         "(README: Several servers on one PostgreSQL).");
  }
}

void run_server(const config::loaded_settings& loaded, const common_options& opts) {
  const auto& cfg = loaded.values;
  log::set_threshold(cfg.logging.level);  // the loader accepts only names the log knows
  auto target = persistence::parse_database_url(cfg.effective_database_url());
  if (!target) fail(target.error().message(), exit_usage);

  persistence::connection_options conn_options;
  conn_options.busy_timeout = cfg.database.busy_timeout;
  conn_options.sqlite_synchronous = cfg.database.sqlite_synchronous;
  conn_options.sqlite_max_size_mb = cfg.database.sqlite_max_size_mb;
  migrate_or_fail(*target, conn_options, cfg.database.migrate_on_start);
  refuse_second_sqlite_server(*target, conn_options, cfg.services.cluster_dead_after);
  register_system_blocks_or_fail(*target, conn_options);
  install_planner_statistics_or_fail(*target, conn_options);
  auto block_secrets = persistence::secret_box::load_or_create(cfg.effective_encryption_key_file());
  if (!block_secrets) fail(block_secrets.error().message());

  // Block the stop signals before any thread starts, so every thread inherits the mask and only
  // sigwait() below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // Output is only informative: when its reader is gone (`| tee` killed by the same Ctrl+C), a write must fail
  // quietly rather than raise SIGPIPE and kill the server before it has drained its writes.
  signal(SIGPIPE, SIG_IGN);

  persistence::database_options db_options;
  db_options.target = *target;
  db_options.connection = conn_options;
  db_options.max_batch = cfg.database.group_commit_max_batch;
  db_options.max_delay = cfg.database.group_commit_max_delay;
  db_options.readers = cfg.database.readers;
  auto db = persistence::database::start(db_options);
  if (!db) fail(db.error().message());

  // The actor system keeps a reference to its config: both live until the end of this function.
  caf::actor_system_config caf_config;
  caf_config.set("scheduler.max-threads", std::size_t{2});
  caf::actor_system system{caf_config};
  actors::event_bus_options bus_options;
  bus_options.db = *db;
  // Several servers on one PostgreSQL database share the live stream (one server per SQLite file).
  if (target->dialect == persistence::dialect::postgresql)
    bus_options.peers = persistence::event_listener_options{*target};
  auto event_bus = actors::spawn_event_bus(system, bus_options);
  auto transport = notifiers::transport::start();
  if (!transport) {
    db->drain_and_stop();
    fail(transport.error().message());
  }
  auto rules = load_notification_rules(*db, cfg.notifications);
  if (!rules) {
    transport->stop();
    db->drain_and_stop();
    fail(rules.error().message());
  }
  auto book = std::make_shared<notifications::policy_book>(*rules);
  // This process among the servers sharing the database: its id owns its outbox leases.
  const bool sole_server = target->dialect == persistence::dialect::sqlite;
  persistence::server_instance instance = this_server_instance();
  auto leadership = std::make_shared<actors::service_leadership>();
  actors::dispatcher_options dispatch_options{*db, book, *transport, instance.id};
  dispatch_options.release_leases_at_start = sole_server;
  // The action runner acts on flow runs through their registry, which is spawned after the dispatcher.
  auto action_peers = std::make_shared<actors::action_peers>();
  dispatch_options.action_runner = [db = *db, secrets = *block_secrets, transport = *transport, event_bus,
                                    private_ok = cfg.notifications.blocks_allow_private_network,
                                    action_peers](caf::actor_system& sys, actors::delivery_listener_actor listener) {
    return actors::spawn_automation_action_runner(
        sys, {db, secrets, transport, event_bus, &system_clock::instance(), private_ok, action_peers},
        std::move(listener));
  };
  auto dispatcher = actors::spawn_notification_dispatcher(system, dispatch_options);
  // Automations: evaluated on the services-lease holder only when servers share a database (see the header).
  actors::automation_evaluator_options evaluator_options{*db, event_bus, dispatcher, dispatch_options.owner};
  if (!sole_server) evaluator_options.leadership = leadership;
  auto automations = actors::spawn_automation_evaluator(system, evaluator_options);
  actors::flow_run_options run_options{*db, event_bus};
  run_options.notifications = book;
  run_options.notification_dispatcher = dispatcher;
  run_options.notification_owner = dispatch_options.owner;
  run_options.deployment_slots.caps = {static_cast<double>(cfg.concurrency.tag_slot_wait.count()),
                                       static_cast<double>(cfg.concurrency.maximum_slot_wait.count())};
  auto flow_runs = actors::spawn_flow_run_registry(system, run_options);
  action_peers->set_flow_runs(flow_runs);
  // States a crash cut off from their events get them now, before new transitions: the evaluator and the
  // events page hear of every committed state.
  actors::restore_lost_state_events(*db, event_bus, [](result<std::size_t> restored) {
    if (!restored)
      log::line(log::level::warning, "events",
                "looking for flow-run state events lost in a crash failed: ", restored.error().message());
    else if (*restored > 0)
      log::line(log::level::info, "events", "restored ", *restored,
                " flow-run state event(s) a crash had cut off from their committed states");
  });
  auto task_run_recorder = actors::spawn_task_run_recorder(system, *db);
  const slot_wait_caps slot_waits{static_cast<double>(cfg.concurrency.tag_slot_wait.count()),
                                  static_cast<double>(cfg.concurrency.maximum_slot_wait.count())};
  caf::actor lease_reaper;
  if (cfg.services.lease_reaper_enabled) {
    actors::lease_reaper_options reaper_options{*db};
    reaper_options.leadership = leadership;
    reaper_options.interval = cfg.services.lease_reaper_interval;
    reaper_options.caps = slot_waits;
    lease_reaper = actors::spawn_lease_reaper(system, reaper_options);
  }
  caf::actor foreman;
  if (cfg.services.foreman_enabled) {
    actors::foreman_options foreman_options{*db};
    foreman_options.leadership = leadership;
    foreman_options.interval = cfg.services.foreman_interval;
    foreman_options.limits = {cfg.services.foreman_heartbeat_multiple, cfg.services.foreman_fallback_heartbeat.count(),
                              cfg.services.foreman_queue_timeout, cfg.services.foreman_deployment_timeout};
    foreman = actors::spawn_foreman(system, foreman_options);
  }
  caf::actor scheduler;
  if (cfg.services.scheduler_enabled) {
    actors::scheduler_options scheduler_options{*db, flow_runs};
    scheduler_options.leadership = leadership;
    scheduler_options.interval = cfg.services.scheduler_loop;
    scheduler_options.batch = cfg.services.scheduler_batch;
    scheduler_options.window = {cfg.services.scheduler_min_runs, cfg.services.scheduler_max_runs,
                                cfg.services.scheduler_min_time, cfg.services.scheduler_max_time};
    scheduler = actors::spawn_scheduler(system, scheduler_options);
  }
  caf::actor late_runs;
  if (cfg.services.late_runs_enabled) {
    actors::late_runs_options late_options{*db, flow_runs};
    late_options.leadership = leadership;
    late_options.interval = cfg.services.late_runs_interval;
    late_options.after = cfg.services.late_runs_after;
    late_runs = actors::spawn_late_runs(system, late_options);
  }
  caf::actor cancellation_cleanup;
  if (cfg.services.cancellation_cleanup_enabled) {
    actors::cancellation_cleanup_options cleanup_options{*db, flow_runs};
    cleanup_options.leadership = leadership;
    cleanup_options.interval = cfg.services.cancellation_cleanup_interval;
    cleanup_options.cancelling_timeout = cfg.services.cancelling_timeout;
    cancellation_cleanup = actors::spawn_cancellation_cleanup(system, cleanup_options);
  }
  caf::actor pause_expirations;
  if (cfg.services.pause_expirations_enabled) {
    actors::pause_expirations_options pause_options{*db, flow_runs};
    pause_options.leadership = leadership;
    pause_options.interval = cfg.services.pause_expirations_interval;
    pause_expirations = actors::spawn_pause_expirations(system, pause_options);
  }
  caf::actor db_vacuum;
  if (cfg.services.db_vacuum_enabled) {
    actors::db_vacuum_options vacuum_options{*db, flow_runs};
    vacuum_options.leadership = leadership;
    vacuum_options.interval = cfg.services.db_vacuum_interval;
    vacuum_options.batch = cfg.services.db_vacuum_batch;
    vacuum_options.event_retention = std::chrono::days(cfg.services.event_retention_days);
    if (cfg.services.db_vacuum_flow_runs)
      vacuum_options.flow_run_retention = std::chrono::days(cfg.services.flow_run_retention_days);
    db_vacuum = actors::spawn_db_vacuum(system, vacuum_options);
  }
  auto stop_actors = [&] {
    {
      // Hand every event the recorder and the bus hold (including writes the database refused and that wait
      // for a retry) to the writer before they stop; the writer drains after this.
      caf::scoped_actor self{system};
      for (const auto& holder : {task_run_recorder, caf::actor_cast<caf::actor>(event_bus)})
        self->request(holder, std::chrono::seconds(10), actors::flush_atom_v).receive([] {}, [](const caf::error&) {});
    }
    if (scheduler) caf::anon_send_exit(scheduler, caf::exit_reason::user_shutdown);
    if (late_runs) caf::anon_send_exit(late_runs, caf::exit_reason::user_shutdown);
    if (cancellation_cleanup) caf::anon_send_exit(cancellation_cleanup, caf::exit_reason::user_shutdown);
    if (pause_expirations) caf::anon_send_exit(pause_expirations, caf::exit_reason::user_shutdown);
    if (db_vacuum) caf::anon_send_exit(db_vacuum, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(automations.evaluator, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(automations.proactive, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(task_run_recorder, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(flow_runs, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(event_bus, caf::exit_reason::user_shutdown);
    if (lease_reaper) caf::anon_send_exit(lease_reaper, caf::exit_reason::user_shutdown);
    if (foreman) caf::anon_send_exit(foreman, caf::exit_reason::user_shutdown);
    // Deliveries still in flight stay pending in the outbox and are sent again after the next start.
    caf::anon_send_exit(dispatcher, caf::exit_reason::user_shutdown);
    transport->stop();
  };

  // Background task runs still Scheduled when the server stopped wait for task workers again.
  auto background_tasks = std::make_shared<actors::background_task_queue>();
  persistence::read_value(
      *db, [](persistence::sql_connection& c) { return actors::scheduled_background_tasks(c); },
      [background_tasks](result<std::vector<std::pair<uuid, std::string>>> waiting) {
        if (!waiting) {
          log::line(log::level::warning, "tasks",
                    "reading the background task runs still scheduled failed: ", waiting.error().message());
          return;
        }
        for (const auto& [run, key] : *waiting) background_tasks->enqueue(run, key);
        if (!waiting->empty())
          log::line(log::level::info, "tasks", waiting->size(), " background task run(s) wait for task workers");
      });
  http::router routes;
  http::api_context api{*db, event_bus, flow_runs, task_run_recorder};
  api.background_tasks = background_tasks;
  api.notifications = book;
  api.notification_dispatcher = dispatcher;
  api.concurrency_waits = slot_waits;
  api.auth_string = cfg.server.auth_string;
  api.require_api_key = cfg.server.require_api_key;
  api.health_without_auth = cfg.server.health_without_auth;
  api.max_name_length = cfg.server.max_name_length;
  api.csrf_protection = cfg.server.csrf_protection;
  api.csrf_token_lifetime = cfg.server.csrf_token_expiration;
  api.block_secrets = *block_secrets;
  api.scheduler = scheduler;
  api.scheduling = {cfg.services.scheduler_min_runs, cfg.services.scheduler_max_runs, cfg.services.scheduler_min_time,
                    cfg.services.scheduler_max_time};
  const std::map<std::string, caf::actor> service_actors{{"scheduler", scheduler},
                                                         {"late_runs", late_runs},
                                                         {"cancellation_cleanup", cancellation_cleanup},
                                                         {"pause_expirations", pause_expirations},
                                                         {"foreman", foreman},
                                                         {"concurrency_lease_reaper", lease_reaper},
                                                         {"db_vacuum", db_vacuum}};
  for (const auto& row : services_of(cfg)) {
    auto actor = service_actors.find(row.name);
    api.services.push_back({row.name, row.purpose, row.interval,
                            row.enabled && actor != service_actors.end() ? actor->second : caf::actor{}});
  }
  http::register_api(routes, api);
  const std::string host =
      cfg.server.host.find(':') != std::string::npos ? "[" + cfg.server.host + "]" : cfg.server.host;
  http::ui_options ui_options;
  ui_options.enabled = cfg.server.ui.enabled;
  ui_options.dir = cfg.effective_ui_dir();
  ui_options.api_url = cfg.server.ui.api_url;
  ui_options.base_path = cfg.server.ui.base_path;
  ui_options.default_ui = cfg.server.ui.default_ui;
  ui_options.listen_address = host + ":" + std::to_string(cfg.server.port);
  // The UI asks for the auth string and sends it as Basic credentials; an API key works there too.
  ui_options.basic_auth = !cfg.server.auth_string.empty() || cfg.server.require_api_key;
  ui_options.csrf_enabled = cfg.server.csrf_protection;
  std::vector<std::string> ui_notes;
  const auto ui = http::ui_site::load(ui_options, ui_notes);
  http::register_ui_site(routes, ui);
  http::server_options http_options;
  http_options.host = cfg.server.host;
  http_options.port = cfg.server.port;
  http_options.io_threads = cfg.server.io_threads;
  http_options.max_body_bytes = cfg.server.max_body_bytes;
  http_options.max_header_bytes = cfg.server.max_header_bytes;
  http_options.max_connections = cfg.server.max_connections;
  http_options.max_websockets = cfg.server.max_websockets;
  http_options.json_max_depth = cfg.server.json_max_depth;
  http_options.allowed_origins = cfg.server.allowed_origins;
  http_options.keep_alive_timeout = cfg.server.keep_alive_timeout;
  http::server server(http_options, routes);
  if (auto s = server.start(); !s) {
    stop_actors();
    db->drain_and_stop();
    fail(s.message());
  }
  instance.listen = host + ":" + std::to_string(server.bound_port());
  actors::cluster_membership_options membership_options{*db, instance, leadership};
  membership_options.services = {scheduler,    late_runs, cancellation_cleanup, pause_expirations, foreman,
                                 lease_reaper, db_vacuum, automations.proactive};
  membership_options.heartbeat = cfg.services.cluster_heartbeat;
  membership_options.dead_after = cfg.services.cluster_dead_after;
  membership_options.sole_server = sole_server;
  if (!sole_server) membership_options.policies = book;
  auto membership = actors::spawn_cluster_membership(system, membership_options);
  std::cout << "Osprey " << osprey_version << " (Prefect API " << prefect_compatible_version << ")\n"
            << "  listening on http://" << host << ":" << server.bound_port() << "  (API at /api)\n"
            << "  database     " << target->display << "\n"
            << "  " << describe_ui(*ui, ui_notes, "http://" + host + ":" + std::to_string(server.bound_port())) << "\n"
            << "  " << describe_notifications(*book->current()) << "\n"
            << "  point Prefect at it: PREFECT_API_URL=http://" << host << ":" << server.bound_port() << "/api\n"
            << "Press Ctrl+C to stop." << std::endl;

  const int sig = wait_for_stop_signal(signals, [&] { reload_notifications(opts, *db, *book, dispatcher, event_bus); });
  std::cout << "Received " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
            << ": stopping (finishing in-flight requests, committing queued writes)..." << std::endl;
  server.stop(cfg.server.shutdown_grace);
  caf::anon_send_exit(membership, caf::exit_reason::user_shutdown);
  stop_actors();
  actors::leave_cluster(*db, instance.id);
  db->drain_and_stop();
  std::cout << "Stopped cleanly." << std::endl;
}

}  // namespace

void register_server_commands(CLI::App& app, common_options& opts) {
  auto* server = app.add_subcommand("server", "Run the server, manage its database, list its services");
  server->require_subcommand(1);
  auto* start = server->add_subcommand("start", "Start the API server (foreground; Ctrl+C or SIGTERM stops it)");
  add_config_option(*start, opts);
  add_setting_flag(*start, opts, "--host", "server.host", "Address to listen on (default 127.0.0.1)");
  add_setting_flag(*start, opts, "--port", "server.port", "Port to listen on (default 4200; 0 picks a free one)");
  add_setting_flag(*start, opts, "--database-url", "database.url",
                   "sqlite:///path.db or postgresql://user:pass@host:5432/db");
  add_setting_flag(*start, opts, "--log-level", "logging.level", "debug, info, warning or error");
  start->callback([&opts] {
    auto loaded = load_settings_or_report(opts);
    if (!loaded) throw CLI::RuntimeError(exit_usage);
    run_server(*loaded, opts);
  });
  register_database_commands(*server, opts);
  register_services_commands(*server, opts);
}

}  // namespace osprey::cli

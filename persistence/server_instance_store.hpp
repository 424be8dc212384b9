#pragma once
// Servers sharing one database (tables `server_instance` and `service_lease`). Each running server has a row
// it renews (its heartbeat); the background services run on whichever server holds the `services` lease.
// Run on a connection the caller owns, inside the caller's transaction; throw sql_error.
//
// Times are the servers' own clocks: servers on several machines need them in step (NTP), within the margin
// a lease holder keeps before its lease ends (actors/cluster_membership.hpp).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/time.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// One running server, as it registered itself.
struct server_instance {
  std::string id;  ///< unique per process: host:pid:random; its outbox leases carry it as their owner
  std::string host;
  std::int64_t pid = 0;
  std::string version;
  std::string listen;  ///< the address its HTTP server listens on, for people reading `osprey server ls`
  timestamp started;
  timestamp heartbeat;
  std::optional<std::int64_t> db_session;  ///< PostgreSQL: the backend pid of the connection that last beat
};

/// Records `server`'s heartbeat at `server.heartbeat`, inserting its row when there is none (at start, or after
/// another server took it for dead and removed it). On PostgreSQL it also records the connection's backend pid,
/// so the server counts as dead as soon as that session ends: call it on the writer's connection.
void beat_server_instance(sql_connection& conn, const server_instance& server);

/// Removes the server's row (a clean stop).
void remove_server_instance(sql_connection& conn, const std::string& id);

/// Every registered server, newest heartbeat first.
std::vector<server_instance> list_server_instances(sql_connection& conn);

/// Removes the rows of dead servers — heartbeat older than `dead_before`, or (PostgreSQL) whose database
/// session has ended — and releases their outbox leases (and any whose owner has no row at all), so the live
/// servers deliver those jobs. Returns the number of dead servers removed.
std::int64_t reap_dead_servers(sql_connection& conn, timestamp dead_before);

/// The lease of the background services' timed passes (actors/cluster_membership.hpp).
inline constexpr const char* services_lease_name = "services";

/// Takes or renews the lease `name` for `owner` until `until`: taken when nobody holds it, when it expired
/// before `now`, when its holder is no registered server (reaped), or renewed when `owner` holds it already.
/// Returns whether `owner` holds it now.
bool acquire_service_lease(sql_connection& conn, const std::string& name, const std::string& owner, timestamp now,
                           timestamp until);

/// Gives the lease up when `owner` holds it (a clean stop: another server takes over at its next beat).
void release_service_lease(sql_connection& conn, const std::string& name, const std::string& owner);

/// Who holds the lease `name`, and until when (nullopt: nobody ever took it).
struct service_lease {
  std::string owner;
  timestamp acquired;
  timestamp expires;
};
std::optional<service_lease> find_service_lease(sql_connection& conn, const std::string& name);

}  // namespace osprey::persistence

// The membership service (see the header).
#include "actors/cluster_membership.hpp"

#include <caf/all.hpp>

#include <future>

#include "actors/periodic_service.hpp"
#include "logging/log.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/notification_store.hpp"

namespace osprey::actors {
namespace {

/// What one beat found, read by the pass's completion.
struct beat_outcome {
  std::int64_t dead = 0;  ///< dead servers removed
  bool leading = false;   ///< this server holds the services lease
  std::string policies_fingerprint;
  std::optional<std::vector<notification_policy>> policies;  ///< the stored ones, when their fingerprint moved
};

/// Shared by the passes (which never overlap): whether the last beat held the lease, to log and poke on changes.
struct membership_memory {
  bool leading = false;
  bool failing = false;              ///< the last beat failed (logged once per episode)
  std::string policies_fingerprint;  ///< as the last beat read it ("" before the first)
};

void beat(const cluster_membership_options& options, const std::shared_ptr<membership_memory>& memory,
          const pass_done& done) {
  using steady = std::chrono::steady_clock;
  const auto sent = steady::now();
  persistence::write_value(
      options.db,
      [options, seen = memory->policies_fingerprint](persistence::sql_connection& c) {
        const auto now = options.time->now();
        auto self = options.self;
        self.heartbeat = now;
        persistence::beat_server_instance(c, self);
        beat_outcome out;
        const auto dead_before =
            options.sole_server ? now : now - std::chrono::duration_cast<std::chrono::microseconds>(options.dead_after);
        out.dead = persistence::reap_dead_servers(c, dead_before);
        out.leading = persistence::acquire_service_lease(c, persistence::services_lease_name, self.id, now,
                                                         now + options.dead_after);
        if (options.policies) {
          out.policies_fingerprint = persistence::policies_fingerprint(c);
          if (!seen.empty() && out.policies_fingerprint != seen) out.policies = persistence::list_policies(c);
        }
        return out;
      },
      [options, memory, sent, done](result<beat_outcome> beat) {
        if (!beat) {
          // The lease runs out on its own: leadership ends at its deadline unless a later beat renews it.
          if (!std::exchange(memory->failing, true))
            log::line(log::level::warning, "cluster", "heartbeat failed: ", beat.error().message());
          return done({});
        }
        if (std::exchange(memory->failing, false)) log::info("cluster", "heartbeat written again");
        if (beat->dead > 0 && !options.sole_server)
          log::line(log::level::info, "cluster", "removed ", beat->dead,
                    " dead server(s) and released their notification leases");
        if (beat->leading) {
          options.leadership->hold_until(sent + options.dead_after - options.dead_after / 3);
        } else {
          options.leadership->drop();
        }
        const bool gained = beat->leading && !memory->leading;
        if (beat->leading != memory->leading && !options.sole_server)
          log::line(log::level::info, "cluster",
                    beat->leading ? "this server now runs the background services"
                                  : "another server runs the background services");
        memory->leading = beat->leading;
        // Completions of write jobs run in commit order, so this never replaces a newer local change.
        if (beat->policies) {
          options.policies->replace(
              notifications::notification_rules::combine(options.policies->current()->settings, *beat->policies));
          log::debug("cluster", "notification policies changed since the last beat: reloaded from the database");
        }
        memory->policies_fingerprint = beat->policies_fingerprint;
        if (gained)
          for (const auto& service : options.services)
            if (service) caf::anon_send(service, sweep_atom_v);
        done({static_cast<std::size_t>(beat->dead), false});
      });
}

}  // namespace

caf::actor spawn_cluster_membership(caf::actor_system& system, cluster_membership_options options) {
  auto memory = std::make_shared<membership_memory>();
  const auto interval = options.heartbeat;
  return spawn_periodic_service(
      system, {"osprey.cluster_membership", interval,
               [options = std::move(options), memory](pass_done done) { beat(options, memory, done); }, nullptr});
}

void leave_cluster(const persistence::database& db, const std::string& server_id) {
  std::promise<void> left;
  db.write(
      [server_id](persistence::sql_connection& c) {
        persistence::release_service_lease(c, persistence::services_lease_name, server_id);
        persistence::remove_server_instance(c, server_id);
      },
      [&left](const status& s) {
        if (!s) log::line(log::level::warning, "cluster", "leaving the cluster failed: ", s.message());
        left.set_value();
      });
  left.get_future().wait();
}

}  // namespace osprey::actors

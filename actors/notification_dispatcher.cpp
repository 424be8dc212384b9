// The dispatcher: routes outbox jobs to notifier actors and records their verdicts (see the header).
#include <map>
#include <random>
#include <unordered_set>

#include "actors/notification_dispatcher.hpp"
#include "logging/log.hpp"
#include "persistence/database_calls.hpp"

namespace osprey::actors {
namespace {

constexpr std::chrono::seconds lease_length{300};
constexpr std::int64_t sweep_batch = 500;

struct dispatcher_state {
  dispatcher_options options;
  std::map<config::channel_type, notifier_actor> notifiers;
  std::optional<notifier_actor> actions;
  std::unordered_set<uuid> in_flight;
  bool sweeping = false;
  bool sweep_again = false;
  std::mt19937_64 random{std::random_device{}()};
  static inline const char* name = "osprey.notification_dispatcher";
};

using dispatcher_actor = notification_dispatcher_with_internals::stateful_pointer<dispatcher_state>;

/// Exponential backoff from retry.initial, doubled per attempt, capped at retry.max; "equal jitter" (half
/// fixed, half random) spreads retries without ever retrying at once; never earlier than Retry-After.
std::chrono::milliseconds backoff(dispatcher_state& st, std::int64_t attempts,
                                  std::optional<std::chrono::seconds> retry_after) {
  const auto& retry = st.options.book->current()->settings.retry;
  const auto shift = std::min<std::int64_t>(std::max<std::int64_t>(attempts - 1, 0), 30);
  auto base = std::min<std::int64_t>(retry.initial.count() << shift, retry.max.count());
  base = std::max<std::int64_t>(base, 1);
  std::uniform_int_distribution<std::int64_t> half(0, base / 2);
  std::chrono::milliseconds wait(base - base / 2 + half(st.random));
  if (retry_after) wait = std::max<std::chrono::milliseconds>(wait, *retry_after);
  return wait;
}

notifier_actor notifier_for(dispatcher_actor self, config::channel_type type) {
  auto& st = self->state;
  auto it = st.notifiers.find(type);
  if (it != st.notifiers.end()) return it->second;
  auto actor =
      spawn_notifier_actor(self->system(), type, st.options.book, st.options.transport, delivery_listener_actor{self});
  self->link_to(actor);
  st.notifiers.emplace(type, actor);
  return actor;
}

void record(dispatcher_actor self, const delivery_result& result) {
  auto& st = self->state;
  const auto now = st.options.time->now();
  const auto rules = st.options.book->current();
  const std::string reason = config::redact_secrets(rules->settings, result.reason);
  std::optional<std::chrono::milliseconds> earliest_retry;
  for (const auto& job : result.jobs) {
    st.in_flight.erase(job.id);
    const auto attempts = job.attempts + 1;
    auto outcome = result.outcome;
    std::string error = reason;
    if (outcome == notifiers::verdict::retry && now - job.created >= rules->settings.retry.max_age) {
      outcome = notifiers::verdict::dead;
      error = "gave up after " + std::to_string(attempts) + " attempts (retry.max_age reached): " + reason;
    }
    persistence::write_job write;
    if (outcome == notifiers::verdict::delivered) {
      write = [id = job.id, attempts, now](persistence::sql_connection& c) {
        persistence::mark_delivered(c, id, attempts, now);
      };
    } else if (outcome == notifiers::verdict::retry) {
      const auto wait = backoff(st, attempts, result.retry_after);
      earliest_retry = earliest_retry ? std::min(*earliest_retry, wait) : wait;
      auto retried = job;
      if (result.jobs.size() == 1) retried.parts_done = result.parts_done;
      log::line(log::level::warning, "notifications", "notification ", job.id.to_string(), " (", job.policy_name,
                " -> ", job.channel_name, ") failed, retrying in ", wait.count(), " ms: ", error);
      write = [retried, attempts, next = now + std::chrono::duration_cast<std::chrono::microseconds>(wait), error, now](
                  persistence::sql_connection& c) { persistence::mark_retry(c, retried, attempts, next, error, now); };
    } else {
      log::line(log::level::error, "notifications", "notification ", job.id.to_string(), " (", job.policy_name, " -> ",
                job.channel_name, ") is dead: ", error);
      write = [id = job.id, attempts, error, now](persistence::sql_connection& c) {
        persistence::mark_dead(c, id, attempts, error, now);
      };
    }
    st.options.db.write(std::move(write), [](const status& s) {
      if (!s) log::line(log::level::warning, "notifications", "recording a notification outcome failed: ", s.message());
    });
  }
  // Retries scheduled here are found by a sweep when due (the outbox, not memory, holds them).
  if (earliest_retry) self->delayed_send(self, *earliest_retry + std::chrono::milliseconds(5), sweep_atom_v);
}

void route(dispatcher_actor self, persistence::outbox_job job) {
  auto& st = self->state;
  if (job.kind == notification_kind::action && !st.options.action_runner)
    return;                                         // left pending for a server that runs them
  if (!st.in_flight.insert(job.id).second) return;  // already on its way
  if (job.kind == notification_kind::action) {
    if (!st.actions) {
      st.actions = st.options.action_runner(self->system(), delivery_listener_actor{self});
      self->link_to(*st.actions);
    }
    self->send(*st.actions, deliver_atom_v, std::move(job));
    return;
  }
  const auto rules = st.options.book->current();
  const auto* channel = rules->settings.find_channel(job.channel_name);
  if (!channel) {
    delivery_result dead;
    dead.reason = "channel '" + job.channel_name + "' is not configured (notifications.channels)";
    dead.jobs.push_back(std::move(job));
    return record(self, dead);
  }
  self->send(notifier_for(self, channel->type), deliver_atom_v, std::move(job));
}

void sweep(dispatcher_actor self) {
  auto& st = self->state;
  if (st.sweeping) {
    st.sweep_again = true;
    return;
  }
  st.sweeping = true;
  notification_dispatcher_with_internals handle{self};
  const auto now = st.options.time->now();
  // A cheap read first: leasing is a write (a commit, an fsync), so it only happens when something is due.
  persistence::read_value(
      st.options.db,
      [now](persistence::sql_connection& c) {
        const auto next = persistence::next_due_time(c);
        return next && *next <= now;
      },
      [self = handle, db = st.options.db, owner = st.options.owner, now](result<bool> due) {
        if (!due || !*due) {
          caf::anon_send(self, swept_atom_v, outbox_jobs{});
          return;
        }
        persistence::write_value(
            db,
            [owner, now](persistence::sql_connection& c) {
              return persistence::lease_due_jobs(c, owner, now, now + lease_length, sweep_batch);
            },
            [self](result<outbox_jobs> leased) {
              caf::anon_send(self, swept_atom_v, leased ? std::move(*leased) : outbox_jobs{});
            });
      });
}

notification_dispatcher_with_internals::behavior_type dispatcher_behavior(dispatcher_actor self,
                                                                          dispatcher_options options) {
  self->state.options = std::move(options);
  if (self->state.options.release_leases_at_start) {
    self->state.options.db.write(
        [](persistence::sql_connection& c) { persistence::release_all_leases(c); },
        [self = notification_dispatcher_with_internals{self}](const status&) { caf::anon_send(self, sweep_atom_v); });
  } else {
    caf::anon_send(notification_dispatcher_with_internals{self}, sweep_atom_v);
  }
  self->delayed_send(self, self->state.options.sweep_interval, tick_atom_v);
  return {
      [self](sent_atom, const delivery_result& result) { record(self, result); },
      [self](enqueued_atom, outbox_jobs& jobs) {
        for (auto& j : jobs) route(self, std::move(j));
      },
      [self](sweep_atom) { sweep(self); },
      [self](swept_atom, outbox_jobs& jobs) {
        auto& st = self->state;
        st.sweeping = false;
        const bool full = static_cast<std::int64_t>(jobs.size()) >= sweep_batch;
        for (auto& j : jobs) route(self, std::move(j));
        if (full || std::exchange(st.sweep_again, false)) sweep(self);
      },
      [self](tick_atom) {
        sweep(self);
        self->delayed_send(self, self->state.options.sweep_interval, tick_atom_v);
      },
  };
}

}  // namespace

notification_dispatcher_actor spawn_notification_dispatcher(caf::actor_system& system, dispatcher_options options) {
  return system.spawn(dispatcher_behavior, std::move(options));  // the world sees only the public messages
}

}  // namespace osprey::actors

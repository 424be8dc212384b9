// The automations' trigger evaluator and its proactive pass (see the header).
#include "actors/automation_evaluator.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <atomic>
#include <mutex>

#include "actors/periodic_service.hpp"
#include "domain/automation_firing.hpp"
#include "logging/log.hpp"
#include "persistence/automation_bucket_store.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/event_store.hpp"

namespace osprey::actors {
namespace {

constexpr std::chrono::seconds action_lease{300};
/// Read back from this long before the recorded progress: another server's events may be stored (received)
/// slightly out of the order the bus delivered them in.
constexpr std::chrono::seconds replay_margin{60};
/// Evaluated-event marks are kept this long behind the progress: longer than any replay reads back.
constexpr std::chrono::minutes evaluated_marks_kept{10};
/// A bucket whose window closed this long ago is deleted (Prefect's PREFECT_EVENTS_EXPIRED_BUCKET_BUFFER).
constexpr std::chrono::seconds closed_bucket_buffer{60};
/// At most this many events are read back after a crash.
constexpr std::int64_t replay_limit = 100000;

/// The outbox rows of one firing: one per action, keyed by (automation, action index, firing) so that the same
/// firing written twice keeps one of each.
void act(persistence::sql_connection& conn, const armed_trigger& t, const std::vector<std::string>& key,
         const trigger_firing& f, timestamp now, const std::string& owner, automation_evaluation& out) {
  const auto firing = firing_id(t.owner.id, key, f);
  // The triggered event's id is the firing's: a firing evaluated twice announces itself once.
  const std::optional<trigger_posture> posture = t.parents.empty() ? std::optional(t.rules.posture) : std::nullopt;
  const auto triggered = automation_triggered_event(t.owner, posture, f, firing, now);
  std::vector<persistence::outbox_job> jobs;
  for (auto& action : triggered_actions(t.owner, f, firing, now, triggered)) {
    persistence::outbox_job job;
    job.id = new_uuid4();
    job.created = job.next_attempt_at = now;
    job.policy_name = "automation/" + t.owner.id.to_string();
    job.channel_name = "action/" + std::to_string(action.index);
    job.state = state_id{firing};
    job.state_name = action.payload["action"].value("type", "");
    job.dedup_key = firing.to_string();
    job.kind = notification_kind::action;
    job.payload = std::move(action.payload);
    if (!owner.empty()) {
      job.lease_owner = owner;
      job.lease_expires_at = now + action_lease;
    }
    jobs.push_back(std::move(job));
  }
  auto inserted = persistence::insert_outbox_jobs(conn, jobs);
  if (!jobs.empty() && inserted.empty()) return;  // written before: neither its actions nor its event again
  log::line(log::level::info, "automations", "automation ", t.owner.id.to_string(), " (", t.owner.name, ") triggered");
  out.events.push_back(triggered);
  for (auto& j : inserted) out.jobs.push_back(std::move(j));
}

/// A child's firing reaches its composite parent: the parent's own firing when the kept firings now satisfy
/// it (Prefect's evaluate_composite_trigger), nullopt while it waits for more.
std::optional<trigger_firing> fire_composite(persistence::sql_connection& conn, const automation_id& automation,
                                             const composite_trigger_rules& parent, const std::vector<std::string>& key,
                                             const trigger_firing& child, timestamp now) {
  // The parent's firing carries the child's event; its window is the child's, so that a replayed event
  // makes the same firing (and the outbox keeps its actions once).
  trigger_firing fired{parent.id, {}, child.triggering_event, child.count, child.window_start};
  if (parent.expected == 1) return fired;  // one child firing is enough: no need to keep it
  if (parent.within) persistence::forget_child_firings(conn, automation, parent.id, now - *parent.within);
  persistence::keep_child_firing(conn, automation, parent.id,
                                 {child.trigger, firing_id(automation, key, child), now, child}, now);
  if (!composite_ready(parent, persistence::kept_child_firings(conn, automation, parent.id))) return std::nullopt;
  persistence::forget_child_firings(conn, automation, parent.id);
  return fired;
}

/// A trigger fired: its composite parents, innermost first, each fire in turn or keep the firing; what reaches
/// the automation acts.
void fire(persistence::sql_connection& conn, const armed_trigger& t, const std::vector<std::string>& key,
          const trigger_firing& f, timestamp now, const std::string& owner, automation_evaluation& out) {
  trigger_firing current = f;
  for (const auto& parent : t.parents) {
    auto up = fire_composite(conn, t.owner.id, parent, key, current, now);
    if (!up) return;
    current = std::move(*up);
  }
  act(conn, t, key, current, now, owner, out);
}

void store_and_fire(persistence::sql_connection& conn, const armed_trigger& t, const std::vector<std::string>& key,
                    const trigger_step& step, timestamp now, const std::string& owner, automation_evaluation& out) {
  persistence::store_bucket(conn, t.owner.id, t.rules.id, key, step.bucket, now);
  for (const auto& f : step.firings) fire(conn, t, key, f, now, owner, out);
}

bool is_automation_change(const event& e) {
  return e.name == "prefect.automation.created" || e.name == "prefect.automation.updated" ||
         e.name == "prefect.automation.deleted";
}

/// The triggers as the writer thread last loaded them; jobs run on the writer thread one at a time, the actor
/// only reads a snapshot to skip events no trigger covers.
struct trigger_cache {
  std::mutex lock;
  std::shared_ptr<const std::vector<armed_trigger>> triggers;
  bool stale = true;  ///< reload in the next job (set by the actor when automations changed)

  std::shared_ptr<const std::vector<armed_trigger>> snapshot() {
    std::lock_guard guard(lock);
    return stale ? nullptr : triggers;
  }
  void mark_stale() {
    std::lock_guard guard(lock);
    stale = true;
  }
  /// On the writer thread: the triggers to evaluate with, reloaded when stale.
  std::shared_ptr<const std::vector<armed_trigger>> current(persistence::sql_connection& conn) {
    {
      std::lock_guard guard(lock);
      if (!stale && triggers) return triggers;
    }
    auto loaded =
        std::make_shared<const std::vector<armed_trigger>>(arm_triggers(persistence::enabled_automations(conn)));
    std::lock_guard guard(lock);
    triggers = loaded;
    stale = false;
    return loaded;
  }
};

/// What the evaluator has handled, shared with the proactive pass that records it (see the header, "After a
/// crash").
struct evaluation_progress {
  std::mutex lock;
  std::optional<timestamp> seen;       ///< the newest `received` of an event the evaluator handled
  std::atomic<bool> replay_due{true};  ///< read back what the last evaluator may have missed, before going on

  void saw(const event& e) {
    if (!e.received) return;
    std::lock_guard guard(lock);
    if (!seen || *seen < *e.received) seen = e.received;
  }
  std::optional<timestamp> handled() {
    std::lock_guard guard(lock);
    return seen;
  }
};

void hand_over(const automation_evaluator_options& options, automation_evaluation done) {
  if (!done.events.empty()) publish_events(options.bus, std::move(done.events));
  if (!done.jobs.empty() && options.dispatcher && !options.owner.empty())
    caf::anon_send(*options.dispatcher, enqueued_atom_v, std::move(done.jobs));
}

struct evaluator_state {
  automation_evaluator_options options;
  std::shared_ptr<trigger_cache> cache = std::make_shared<trigger_cache>();
  std::shared_ptr<evaluation_progress> progress;
  std::uint64_t subscription = 0;
  static inline const char* name = "osprey.automation_evaluator";
};

/// Queues the replay (once per start or lease gained) ahead of whatever the caller queues next.
void replay_if_due(const automation_evaluator_options& options, const std::shared_ptr<evaluation_progress>& progress) {
  if (!progress->replay_due.exchange(false)) return;
  const auto now = options.time->now();
  persistence::write_value(
      options.db,
      [now, owner = options.owner](persistence::sql_connection& c) {
        return replay_unevaluated_events(c, arm_triggers(persistence::enabled_automations(c)), now, owner);
      },
      [options, progress](result<automation_evaluation> done) {
        if (!done) {
          progress->replay_due = true;  // tried again with the next event or pass
          log::line(log::level::warning, "automations",
                    "reading back unevaluated events failed: ", done.error().message());
          return;
        }
        hand_over(options, std::move(*done));
      });
}

caf::behavior evaluator_behavior(caf::stateful_actor<evaluator_state>* self, automation_evaluator_options options,
                                 std::shared_ptr<evaluation_progress> progress) {
  auto& init = self->state;
  init.options = std::move(options);
  init.progress = std::move(progress);
  if (!init.options.leadership) replay_if_due(init.options, init.progress);
  init.subscription = subscribe_events(
      init.options.bus, [handle = caf::actor{self}](const shared_event& e) { caf::anon_send(handle, e); });
  self->attach_functor([bus = init.options.bus, token = init.subscription] { unsubscribe_events(bus, token); });
  return {
      [self](const shared_event& e) {
        auto& st = self->state;
        if (is_automation_change(*e)) st.cache->mark_stale();
        if (st.options.leadership && !st.options.leadership->held()) {
          st.progress->replay_due = true;  // whoever holds the lease now handles events; on regaining it, read back
          return;
        }
        replay_if_due(st.options, st.progress);
        if (auto known = st.cache->snapshot()) {
          const bool covered = std::any_of(known->begin(), known->end(),
                                           [&](const armed_trigger& t) { return trigger_covers(t.rules, *e); });
          if (!covered) return st.progress->saw(*e);
        }
        const auto now = st.options.time->now();
        persistence::write_value(
            st.options.db,
            [cache = st.cache, e, now, owner = st.options.owner](persistence::sql_connection& c) {
              return evaluate_event(c, *cache->current(c), *e, now, owner);
            },
            [options = st.options](result<automation_evaluation> done) {
              if (!done) {
                log::line(log::level::warning, "automations", "evaluating an event failed: ", done.error().message());
                return;
              }
              hand_over(options, std::move(*done));
            });
        // After queueing: a progress record queued from now on runs after this event's evaluation.
        st.progress->saw(*e);
      },
  };
}

void proactive_pass(const automation_evaluator_options& options, const std::shared_ptr<evaluation_progress>& progress,
                    const pass_done& done) {
  const auto now = options.time->now();
  replay_if_due(options, progress);
  persistence::write_value(
      options.db,
      [now, owner = options.owner, handled = progress->handled()](persistence::sql_connection& c) {
        // The evaluations of every event handled so far were queued before this job: recording the progress
        // here never claims one still to be written.
        if (handled) {
          persistence::record_evaluation_progress(c, *handled, now);
          persistence::forget_evaluated_events(c, *handled - evaluated_marks_kept);
        }
        auto out = evaluate_proactive(c, arm_triggers(persistence::enabled_automations(c)), now, owner);
        // After the proactive buckets were evaluated (and moved on): what is still closed is done with.
        persistence::sweep_closed_buckets(c, now - closed_bucket_buffer);
        return out;
      },
      [options, done](result<automation_evaluation> out) {
        if (!out) {
          log::line(log::level::warning, "automations", "proactive evaluation failed: ", out.error().message());
          return done({});
        }
        const auto fired = out->events.size();
        hand_over(options, std::move(*out));
        done({fired, false});
      });
}

}  // namespace

namespace {

/// Arms the event triggers in `trigger` (itself, or inside it); false (with `why`) when one cannot be read.
bool arm(const automation& a, const nlohmann::json& trigger, std::vector<composite_trigger_rules> parents,
         std::vector<armed_trigger>& out, std::string& why) {
  const auto type = trigger.value("type", "");
  if (type == "event") {
    auto rules = read_event_trigger_rules(trigger);
    if (!rules) {
      why = rules.error().message();
      return false;
    }
    out.push_back({a, std::move(*rules), std::move(parents)});
    return true;
  }
  auto composite = read_composite_trigger_rules(trigger);
  if (!composite) {
    why = composite.error().message();
    return false;
  }
  parents.insert(parents.begin(), *composite);
  for (const auto& child : trigger.value("triggers", nlohmann::json::array()))
    if (!arm(a, child, parents, out, why)) return false;
  return true;
}

}  // namespace

std::vector<armed_trigger> arm_triggers(const std::vector<automation>& automations) {
  std::vector<armed_trigger> out;
  for (const auto& a : automations) {
    if (!a.enabled) continue;
    std::vector<armed_trigger> armed;
    std::string why;
    if (!arm(a, a.trigger, {}, armed, why)) {
      log::line(log::level::warning, "automations", "automation ", a.id.to_string(), " is not evaluated: ", why);
      continue;
    }
    for (auto& t : armed) out.push_back(std::move(t));
  }
  return out;
}

automation_evaluation evaluate_event(persistence::sql_connection& conn, const std::vector<armed_trigger>& triggers,
                                     const event& e, timestamp now, const std::string& lease_owner) {
  automation_evaluation out;
  const bool covered =
      std::any_of(triggers.begin(), triggers.end(), [&](const armed_trigger& t) { return trigger_covers(t.rules, e); });
  if (!covered) return out;
  // An event evaluated before (read back after a crash while the bus also delivers it) is not counted again.
  if (e.received && !persistence::mark_event_evaluated(conn, e.id, *e.received)) return out;
  for (const auto& t : triggers) {
    if (!trigger_covers(t.rules, e)) continue;
    const auto key = bucketing_key(t.rules, e);
    auto step = react(t.rules, persistence::find_bucket(conn, t.owner.id, t.rules.id, key), e);
    store_and_fire(conn, t, key, step, now, lease_owner, out);
  }
  return out;
}

automation_evaluation evaluate_proactive(persistence::sql_connection& conn, const std::vector<armed_trigger>& triggers,
                                         timestamp now, const std::string& lease_owner) {
  automation_evaluation out;
  for (const auto& t : triggers) {
    if (t.rules.posture != trigger_posture::proactive) continue;
    auto buckets = persistence::trigger_buckets(conn, t.owner.id, t.rules.id);
    if (t.rules.for_each.empty() && buckets.empty()) {
      // Prefect's ensure_bucket for a trigger without for_each: a window is always open.
      auto first = initial_proactive_bucket(t.rules, now);
      persistence::store_bucket(conn, t.owner.id, t.rules.id, first.key, first, now);
      buckets.push_back(std::move(first));
    }
    for (auto& b : buckets) {
      const auto key = b.key;
      auto step = evaluate_bucket(t.rules, std::move(b), now);
      store_and_fire(conn, t, key, step, now, lease_owner, out);
    }
  }
  return out;
}

automation_evaluation replay_unevaluated_events(persistence::sql_connection& conn,
                                                const std::vector<armed_trigger>& triggers, timestamp now,
                                                const std::string& lease_owner) {
  automation_evaluation out;
  const auto handled = persistence::evaluation_progress(conn);
  if (!handled) {
    // A database no evaluator has used: nothing was missed. From now on progress is recorded.
    persistence::record_evaluation_progress(conn, now, now);
    return out;
  }
  if (triggers.empty()) return out;
  const auto events = persistence::events_received_after(conn, *handled - replay_margin, replay_limit);
  std::size_t evaluated = 0;
  for (const auto& e : events) {
    auto one = evaluate_event(conn, triggers, e, now, lease_owner);
    evaluated += one.jobs.size() + one.events.size() > 0 ? 1 : 0;
    for (auto& j : one.jobs) out.jobs.push_back(std::move(j));
    for (auto& ev : one.events) out.events.push_back(std::move(ev));
  }
  if (events.size() == static_cast<std::size_t>(replay_limit))
    log::line(log::level::warning, "automations", "read back the first ", replay_limit,
              " events stored since the evaluator last recorded its progress; later ones are not evaluated");
  if (!events.empty())
    log::line(log::level::info, "automations", "read back ", events.size(), " events stored since ",
              format_iso8601(*handled - replay_margin), " that the evaluator may have missed; ", evaluated,
              " of them fired");
  return out;
}

automation_evaluator_actors spawn_automation_evaluator(caf::actor_system& system,
                                                       automation_evaluator_options options) {
  automation_evaluator_actors out;
  auto progress = std::make_shared<evaluation_progress>();
  out.evaluator = system.spawn(evaluator_behavior, options, progress);
  out.proactive = spawn_periodic_service(
      system, {"osprey.automation_proactive", options.proactive_interval,
               [options, progress](pass_done done) { proactive_pass(options, progress, done); }, options.leadership});
  return out;
}

}  // namespace osprey::actors

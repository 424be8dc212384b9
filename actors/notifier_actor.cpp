// A notifier actor: one per backend. It keeps, per channel, a token bucket (the channel's rate limit), a
// FIFO of messages waiting for a token, and the group_wait buffers; it builds requests with the channel's
// notifier and sends them through the transport, then reports the verdict to its listener (the dispatcher).
// Its messages: notifier_actor in actors/notification_protocol.hpp.
#include <deque>
#include <map>
#include <string_view>

#include "actors/notification_dispatcher.hpp"

namespace osprey::actors {
namespace {

using steady = std::chrono::steady_clock;
constexpr std::size_t max_folded_messages = 20;  // a folded message lists this many runs, then counts the rest
constexpr std::string_view legacy_resolve_prefix = "Resolved: ";

struct lane {
  double tokens = 0;
  steady::time_point refilled;
  bool initialised = false;
  bool tick_scheduled = false;
  std::deque<outbox_jobs> waiting;
  std::map<std::string, outbox_jobs> groups;  ///< policy -> jobs waiting for its group_wait to end
};

struct send_in_flight {
  outbox_jobs jobs;
  /// The notifier that built the requests judges their replies, even if a reload removed its channel since.
  std::shared_ptr<const notifiers::notifier> notifier;
  std::size_t outstanding = 0;
  std::vector<int> parts_done;
  std::optional<notifiers::classification> worst;  ///< dead beats retry; the first failure's reason is kept
};

struct notifier_state {
  config::channel_type backend = config::channel_type::slack;
  std::shared_ptr<notifications::policy_book> book;
  notifiers::transport transport;
  delivery_listener_actor listener;
  std::map<std::string, lane> lanes;
  std::map<std::uint64_t, send_in_flight> sends;
  std::uint64_t next_send = 0;
  /// The rules the cached notifiers were made from.
  std::shared_ptr<const notifications::notification_rules> built_for;
  std::map<std::string, std::shared_ptr<const notifiers::notifier>> cache;
  static inline const char* name = "osprey.notifier";
};

using notifier_self = notifier_actor_with_internals::stateful_pointer<notifier_state>;

std::shared_ptr<const notifiers::notifier> notifier_for(notifier_self self, const std::string& channel) {
  auto& st = self->state;
  auto rules = st.book->current();
  if (rules != st.built_for) {
    st.cache.clear();
    st.built_for = rules;
  }
  if (auto it = st.cache.find(channel); it != st.cache.end()) return it->second;
  const auto* settings = rules->settings.find_channel(channel);
  if (!settings) return nullptr;
  return st.cache.emplace(channel, notifiers::make_notifier(*settings)).first->second;
}

notifiers::notification notification_of(const outbox_jobs& jobs) {
  const auto& first = jobs.front();
  notifiers::notification n;
  n.id = first.id.to_string();
  n.kind = first.kind;
  n.policy_name = first.policy_name;
  n.dedup_key = first.dedup_key;
  n.title = first.payload.value("title", "");
  // Resolve rows enqueued by older versions carry a "Resolved: " prefix; headline() adds "Recovered: ".
  if (n.kind == notifiers::delivery_kind::resolve && n.title.starts_with(legacy_resolve_prefix))
    n.title.erase(0, legacy_resolve_prefix.size());
  n.message = first.payload.value("message", "");
  if (auto v = first.payload.find("values"); v != first.payload.end()) n.values = *v;
  n.created = first.created;
  if (jobs.size() > 1) {
    // group_wait folded a burst: one message listing the runs.
    n.title = std::to_string(jobs.size()) + " notifications from policy " + first.policy_name + ": " + n.title;
    n.message.clear();
    for (std::size_t i = 0; i < jobs.size() && i < max_folded_messages; ++i) {
      if (i) n.message += "\n\n---\n\n";
      n.message += jobs[i].payload.value("message", "");
    }
    if (jobs.size() > max_folded_messages)
      n.message += "\n\n… and " + std::to_string(jobs.size() - max_folded_messages) + " more";
  }
  return n;
}

void report(notifier_self self, delivery_result result) {
  self->send(self->state.listener, sent_atom_v, std::move(result));
}

void start_send(notifier_self self, const std::string& channel, outbox_jobs jobs) {
  auto& st = self->state;
  auto notifier = notifier_for(self, channel);
  if (!notifier) {
    report(self, {std::move(jobs),
                  notifiers::verdict::dead,
                  std::nullopt,
                  "channel '" + channel + "' is not configured (notifications.channels)",
                  {}});
    return;
  }
  const auto requests = notifier->requests(notification_of(jobs));
  std::vector<int> done;
  if (jobs.size() == 1) done = jobs.front().parts_done;
  const auto id = st.next_send++;
  auto& send = st.sends[id];
  send.jobs = std::move(jobs);
  send.notifier = notifier;
  send.parts_done = done;
  notifier_actor_with_internals handle{self};
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (std::find(done.begin(), done.end(), static_cast<int>(i)) != done.end()) continue;
    ++send.outstanding;
    st.transport.send(requests[i], notifier->channel().timeout, [handle, id, i](notifiers::reply r) {
      caf::anon_send(handle, reply_atom_v, id, static_cast<int>(i), std::move(r));
    });
  }
  if (send.outstanding == 0) {
    // Nothing (left) to send: e.g. a resolve for a channel that cannot resolve, or every part delivered.
    auto finished = std::move(send);
    st.sends.erase(id);
    report(self, {std::move(finished.jobs), notifiers::verdict::delivered, std::nullopt, "", finished.parts_done});
  }
}

void pump(notifier_self self, const std::string& channel) {
  auto& st = self->state;
  auto& l = st.lanes[channel];
  const auto rules = st.book->current();
  const auto* settings = rules->settings.find_channel(channel);
  const config::rate_limit limit = settings ? settings->limit : config::rate_limit{1e9, 1000000};
  const auto now = steady::now();
  if (!l.initialised) {
    l.tokens = limit.burst;
    l.refilled = now;
    l.initialised = true;
  }
  l.tokens = std::min<double>(limit.burst,
                              l.tokens + std::chrono::duration<double>(now - l.refilled).count() * limit.per_second);
  l.refilled = now;
  while (!l.waiting.empty() && l.tokens >= 1) {
    l.tokens -= 1;
    auto jobs = std::move(l.waiting.front());
    l.waiting.pop_front();
    start_send(self, channel, std::move(jobs));
  }
  if (!l.waiting.empty() && !l.tick_scheduled) {
    l.tick_scheduled = true;
    const auto wait = std::chrono::duration<double>((1 - l.tokens) / limit.per_second);
    self->delayed_send(self, std::chrono::duration_cast<std::chrono::microseconds>(wait) + std::chrono::microseconds(1),
                       refill_atom_v, channel);
  }
}

void on_reply(notifier_self self, std::uint64_t id, int part, const notifiers::reply& r) {
  auto& st = self->state;
  auto it = st.sends.find(id);
  if (it == st.sends.end()) return;
  auto& send = it->second;
  auto verdict = send.notifier->classify(r);
  if (verdict.outcome == notifiers::verdict::delivered) {
    send.parts_done.push_back(part);
  } else if (!send.worst ||
             (verdict.outcome == notifiers::verdict::dead && send.worst->outcome != notifiers::verdict::dead)) {
    send.worst = verdict;
  }
  if (--send.outstanding > 0) return;
  delivery_result result;
  result.jobs = std::move(send.jobs);
  result.parts_done = std::move(send.parts_done);
  if (send.worst) {
    result.outcome = send.worst->outcome;
    result.retry_after = send.worst->retry_after;
    result.reason = send.worst->reason;
  } else {
    result.outcome = notifiers::verdict::delivered;
  }
  st.sends.erase(it);
  report(self, std::move(result));
}

notifier_actor_with_internals::behavior_type notifier_behavior(notifier_self self, config::channel_type backend,
                                                               std::shared_ptr<notifications::policy_book> book,
                                                               notifiers::transport transport,
                                                               delivery_listener_actor listener) {
  auto& st = self->state;
  st.backend = backend;
  st.book = std::move(book);
  st.transport = std::move(transport);
  st.listener = std::move(listener);
  return {
      [self](deliver_atom, persistence::outbox_job& job) {
        const auto channel = job.channel_name;
        const auto wait = job.group_wait;
        auto& l = self->state.lanes[channel];
        if (wait.count() > 0 && job.kind == notification_kind::trigger) {
          auto& group = l.groups[job.policy_name];
          if (group.empty()) self->delayed_send(self, wait, group_due_atom_v, channel, job.policy_name);
          group.push_back(std::move(job));
          return;
        }
        l.waiting.push_back(outbox_jobs{std::move(job)});
        pump(self, channel);
      },
      [self](refill_atom, const std::string& channel) {
        self->state.lanes[channel].tick_scheduled = false;
        pump(self, channel);
      },
      [self](group_due_atom, const std::string& channel, const std::string& policy) {
        auto& l = self->state.lanes[channel];
        auto group = std::move(l.groups[policy]);
        l.groups.erase(policy);
        if (group.empty()) return;
        l.waiting.push_back(std::move(group));
        pump(self, channel);
      },
      [self](reply_atom, std::uint64_t id, int part, const notifiers::reply& r) { on_reply(self, id, part, r); },
  };
}

}  // namespace

notifier_actor spawn_notifier_actor(caf::actor_system& system, config::channel_type backend,
                                    std::shared_ptr<notifications::policy_book> book, notifiers::transport transport,
                                    delivery_listener_actor listener) {
  return system.spawn(notifier_behavior, backend, std::move(book), std::move(transport), std::move(listener));
}

}  // namespace osprey::actors

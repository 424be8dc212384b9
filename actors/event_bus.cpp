#include "actors/event_bus.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "logging/log.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/event_store.hpp"

namespace osprey::actors {
namespace {

/// The completion of one publication, shared by its parts when a refused batch is retried event by event.
struct publication {
  publish_callback done;
  std::size_t parts = 1;
  status error;  ///< why a part was given up, if one was
};

/// Events on their way into the store.
struct unstored {
  std::shared_ptr<const event_batch> events;
  std::shared_ptr<publication> owner;
  unsigned failures = 0;   ///< refusals so far
  bool delivered = false;  ///< delivered already (a refusal does not hold up the live stream)
  std::shared_ptr<std::vector<bool>> inserted = std::make_shared<std::vector<bool>>();  ///< set by the write job
  /// The rows of the write in flight, built on this actor so that the writer thread only binds and steps; held
  /// here until the write is answered so that they are freed here too, not on the writer thread.
  std::shared_ptr<const persistence::event_insert> rows{};
};

/// A read of events other servers stored: the ids they announced, or everything stored since a gap began.
struct fetch {
  std::vector<uuid> ids;
  std::optional<timestamp> since;
  unsigned failures = 0;  ///< failed tries so far
};

/// The most ids one read of announced events asks for (announcements waiting together are read together).
constexpr std::size_t max_fetch_ids = 1000;

struct event_bus_state {
  event_bus_options options;
  std::vector<state_change_listener_actor> subscribers;     ///< state_change listeners
  std::vector<std::pair<std::uint64_t, event_sink>> sinks;  ///< event subscribers, by token
  std::deque<uuid> recent_order;                            ///< the last delivered ids, oldest first
  std::unordered_set<uuid> recent;
  std::uint64_t next_write = 1;
  std::unordered_map<std::uint64_t, std::vector<unstored>> writing;  ///< handed to the writer, by write number
  std::deque<unstored> waiting;                                      ///< refused, to be tried again (oldest first)
  /// New publications wait here while the previous ones' write is in flight, then go to the writer together as
  /// one insert: under load a write carries everything that arrived during the last one (multi-row statements,
  /// one round trip each on PostgreSQL, instead of a few per event); when idle, nothing waits.
  std::vector<unstored> queued;
  std::optional<std::uint64_t> queue_write;  ///< the number of the queue's write in flight, if one is
  bool retry_scheduled = false;
  bool refusing = false;                                  ///< a refusal was logged and not yet made good
  std::shared_ptr<persistence::event_listener> listener;  ///< hears the other servers (options.peers)
  std::deque<fetch> fetches;                              ///< reads of their events, in announcement order
  bool fetching = false;                                  ///< the front fetch is being read
  bool fetch_failing = false;                             ///< a failed read was logged and not yet made good
  static inline const char* name = "osprey.event_bus";
};

using bus_actor = event_bus_with_internals::stateful_pointer<event_bus_state>;

std::atomic<std::uint64_t> next_token{1};

/// Remembers `id`; false when it was delivered recently already.
bool remember(event_bus_state& st, const uuid& id) {
  if (st.options.recent_ids == 0) return true;
  if (!st.recent.insert(id).second) return false;
  st.recent_order.push_back(id);
  if (st.recent_order.size() > st.options.recent_ids) {
    st.recent.erase(st.recent_order.front());
    st.recent_order.pop_front();
  }
  return true;
}

/// Delivers the events of `events` (those `only` marks, when given) that were not delivered recently. Each
/// subscriber gets a pointer into the batch, which it keeps alive: events are not copied.
void deliver(bus_actor self, const std::shared_ptr<const event_batch>& events,
             const std::vector<bool>* only = nullptr) {
  auto& st = self->state;
  for (std::size_t i = 0; i < events->size(); ++i) {
    if (only && (i >= only->size() || !(*only)[i])) continue;
    const auto& e = (*events)[i];
    if (!remember(st, e.id)) continue;
    const shared_event shared(events, &e);
    // A sink may unsubscribe another (or itself) only through a message, so iterating here is safe.
    for (const auto& [token, sink] : st.sinks) {
      try {
        sink(shared);
      } catch (const std::exception& ex) {
        log::line(log::level::error, "events", "event subscriber ", token, " threw: ", ex.what());
      }
    }
  }
}

void finish(publication& p, const status& s) {
  if (!s) p.error = s;
  if (--p.parts == 0 && p.done) p.done(p.error);
}

/// Whether some event the store refused is still waiting or being written again.
bool holds_refused(const event_bus_state& st) {
  return !st.waiting.empty() || std::any_of(st.writing.begin(), st.writing.end(), [](const auto& w) {
    return std::any_of(w.second.begin(), w.second.end(), [](const unstored& u) { return u.failures > 0; });
  });
}

/// Hands `group` to the writer as one job, its events as one insert; its end comes back as (stored_atom, write
/// number, status). Returns the write number.
std::uint64_t store(bus_actor self, std::vector<unstored> group) {
  auto& st = self->state;
  const auto number = st.next_write++;
  event_bus_with_internals bus{self};
  const timestamp now = st.options.time->now();
  struct part {
    std::shared_ptr<const event_batch> events;  ///< keeps the events `refs` points into alive
    std::shared_ptr<std::vector<bool>> inserted;
  };
  std::vector<part> parts;
  persistence::event_refs refs;
  for (auto& u : group) {
    for (const auto& e : *u.events) refs.push_back(&e);
    parts.push_back({u.events, u.inserted});
  }
  auto rows = std::make_shared<const persistence::event_insert>(persistence::prepare_event_insert(refs, now));
  for (auto& u : group) u.rows = rows;
  std::optional<std::string> origin;
  if (st.options.peers) origin = st.options.origin;
  auto job = [parts = std::move(parts), refs = std::move(refs), rows, origin](persistence::sql_connection& c) {
    const auto inserted = persistence::insert_prepared_events(c, refs, *rows);
    std::vector<uuid> fresh;
    std::size_t next = 0;
    for (const auto& [events, part_inserted] : parts) {
      part_inserted->assign(inserted.begin() + static_cast<std::ptrdiff_t>(next),
                            inserted.begin() + static_cast<std::ptrdiff_t>(next + events->size()));
      next += events->size();
      for (std::size_t i = 0; origin && i < events->size(); ++i)
        if ((*part_inserted)[i]) fresh.push_back((*events)[i].id);
    }
    // In the same transaction: the other servers hear of the new events only if they are committed.
    if (origin) persistence::announce_events(c, *origin, fresh);
  };
  st.writing.emplace(number, std::move(group));
  st.options.db->write_bulk(std::move(job),
                            [bus, number](const status& s) { caf::anon_send(bus, stored_atom_v, number, s); });
  return number;
}

/// Hands the queued publications to the writer, unless their previous write is still in flight.
void store_queued(bus_actor self) {
  auto& st = self->state;
  if (st.queue_write || st.queued.empty()) return;
  std::vector<unstored> group;
  group.swap(st.queued);
  st.queue_write = store(self, std::move(group));
}

/// Hands the queued publications to the writer now, in flight or not (shutdown).
void hand_over_queued(bus_actor self) {
  auto& st = self->state;
  if (st.queued.empty()) return;
  std::vector<unstored> group;
  group.swap(st.queued);
  store(self, std::move(group));
}

void schedule_retry(bus_actor self, unsigned failures) {
  auto& st = self->state;
  if (st.retry_scheduled) return;
  st.retry_scheduled = true;
  self->delayed_send(self, st.options.retry.delay_after(failures), retry_atom_v);
}

/// Every refused event goes to the writer again now, in one job: while the database is locked each job
/// costs the writer a lock timeout, so one per waiting publication would hold it up that many times.
void retry_waiting(bus_actor self) {
  auto& st = self->state;
  if (st.waiting.empty()) return;
  std::vector<unstored> group(std::make_move_iterator(st.waiting.begin()), std::make_move_iterator(st.waiting.end()));
  st.waiting.clear();
  store(self, std::move(group));
}

/// The store refused `group`: deliver its events now (once), and keep them for the next try.
void refused(bus_actor self, std::vector<unstored> group, const status& s) {
  auto& st = self->state;
  std::size_t events = 0;
  unsigned failures = 0;
  for (auto& u : group) {
    if (!u.delivered) deliver(self, u.events);
    u.delivered = true;
    failures = std::max(failures, ++u.failures);
    events += u.events->size();
  }
  if (!st.refusing) {
    log::line(log::level::warning, "events", "storing ", events,
              " event(s) failed (delivered; retrying until stored): ", s.message());
    st.refusing = true;
  }
  if (s.code() != errc::unavailable && events > 1) {
    // Not a lock or a lost connection: perhaps one bad event. Each is written on its own now, so the bad one
    // cannot hold back the others.
    for (auto& u : group) {
      u.owner->parts += u.events->size() - 1;
      for (const auto& e : *u.events)
        store(self, {unstored{std::make_shared<const event_batch>(1, e), u.owner, u.failures, true}});
    }
    return;
  }
  for (auto& u : group) {
    if (st.options.retry.gives_up(s, u.failures)) {
      log::line(log::level::error, "events", "giving up storing event ", u.events->front().id.to_string(), " after ",
                u.failures, " attempts: ", s.message());
      finish(*u.owner, s);
    } else {
      st.waiting.push_back(std::move(u));
    }
  }
  if (st.waiting.empty()) {
    if (!holds_refused(st)) st.refusing = false;
    return;
  }
  schedule_retry(self, failures);
}

void on_stored(bus_actor self, std::uint64_t number, const status& s) {
  auto& st = self->state;
  auto found = st.writing.find(number);
  if (found == st.writing.end()) return;  // cannot happen: every write is registered before it is handed over
  auto group = std::move(found->second);
  st.writing.erase(found);
  if (st.queue_write == number) {
    st.queue_write.reset();
    store_queued(self);  // what arrived meanwhile
  }
  if (!s) return refused(self, std::move(group), s);
  bool retried = false;
  for (const auto& u : group) {
    retried = retried || u.failures > 0;
    if (!u.delivered) deliver(self, u.events, u.inserted.get());
  }
  if (retried && !holds_refused(st)) {
    log::line(log::level::warning, "events", "storing events works again; every refused event is stored");
    st.refusing = false;
  }
  for (const auto& u : group) finish(*u.owner, status::ok());
}

/// Stores `events` (when there is a store), then delivers those that were new.
void store_and_deliver(bus_actor self, event_batch events, publish_callback done) {
  auto& st = self->state;
  const timestamp now = st.options.time->now();
  for (auto& e : events)
    if (!e.received) e.received = now;
  if (!st.options.db) {
    deliver(self, std::make_shared<const event_batch>(std::move(events)));
    if (done) done(status::ok());
    return;
  }
  auto owner = std::make_shared<publication>();
  owner->done = std::move(done);
  st.queued.push_back(unstored{std::make_shared<const event_batch>(std::move(events)), std::move(owner)});
  store_queued(self);
}

void publish_state_change(bus_actor self, const state_change& change, const flow_run_event_info& info) {
  for (const auto& s : self->state.subscribers) self->send(s, change);
  store_and_deliver(self, {flow_run_state_event(change, info)}, {});
}

/// Reads the front fetch, unless one is under way. Announcements queued behind it are read with it.
void fetch_next(bus_actor self) {
  auto& st = self->state;
  if (st.fetching || st.fetches.empty() || !st.options.db) return;
  // Taken off the queue while merging (a deque's erase in the middle would move the front) and put back.
  fetch current = std::move(st.fetches.front());
  st.fetches.pop_front();
  while (!current.since && !st.fetches.empty() && !st.fetches.front().since &&
         current.ids.size() + st.fetches.front().ids.size() <= max_fetch_ids) {
    current.ids.insert(current.ids.end(), st.fetches.front().ids.begin(), st.fetches.front().ids.end());
    st.fetches.pop_front();
  }
  st.fetches.push_front(std::move(current));
  const auto& front = st.fetches.front();
  st.fetching = true;
  event_bus_with_internals bus{self};
  persistence::read_value(
      *st.options.db,
      [ids = front.ids, since = front.since, limit = st.options.catch_up_limit](persistence::sql_connection& c) {
        return since ? persistence::events_stored_since(c, *since, limit) : persistence::events_with_ids(c, ids);
      },
      [bus](const result<event_batch>& found) {
        if (found)
          caf::anon_send(bus, fetched_atom_v, *found);
        else
          caf::anon_send(bus, fetched_atom_v, found.error());
      });
}

/// Queues a read of other servers' events. Without subscribers there is no one to deliver them to, and a
/// later subscriber's backfill reads the store anyway.
void fetch_later(bus_actor self, fetch f) {
  auto& st = self->state;
  if (st.sinks.empty()) return;
  st.fetches.push_back(std::move(f));
  fetch_next(self);
}

void on_fetched(bus_actor self, event_batch events) {
  auto& st = self->state;
  st.fetching = false;
  if (!st.fetches.empty()) st.fetches.pop_front();
  if (st.fetch_failing) {
    log::line(log::level::info, "events", "reading the events other servers stored works again");
    st.fetch_failing = false;
  }
  deliver(self, std::make_shared<const event_batch>(std::move(events)));
  fetch_next(self);
}

void on_fetch_failed(bus_actor self, const status& s) {
  auto& st = self->state;
  st.fetching = false;
  if (st.fetches.empty()) return;  // cannot happen: the fetch stays queued until its read ends
  auto& front = st.fetches.front();
  ++front.failures;
  if (st.options.retry.gives_up(s, front.failures)) {
    log::line(log::level::error, "events", "giving up reading ", front.since ? "the missed events" : "announced events",
              " of other servers after ", front.failures, " attempts: ", s.message());
    st.fetches.pop_front();
    return fetch_next(self);
  }
  if (!st.fetch_failing) {
    log::line(log::level::warning, "events",
              "reading the events other servers stored failed (retrying): ", s.message());
    st.fetch_failing = true;
  }
  self->delayed_send(self, st.options.retry.delay_after(front.failures), fetch_atom_v);
}

event_bus_with_internals::behavior_type event_bus(bus_actor self, event_bus_options options,
                                                  std::shared_ptr<persistence::event_listener> listener) {
  self->state.options = std::move(options);
  self->state.listener = std::move(listener);
  // Refused events still waiting go to the writer before the bus stops; the writer drains after this.
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    auto& st = self->state;
    // Joins the listener's thread: it waits in poll(), so this returns at once (or within its connect timeout).
    if (st.listener) st.listener->stop();
    if (!st.waiting.empty()) {
      std::size_t n = 0;
      for (const auto& u : st.waiting) n += u.events->size();
      log::line(log::level::warning, "events", "handing ", n, " refused event(s) to the writer before stopping");
      retry_waiting(self);
    }
    hand_over_queued(self);
    self->quit(msg.reason);
  });
  self->set_down_handler([self](const caf::down_msg& down) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const state_change_listener_actor& a) { return a.address() == down.source; }),
               subs.end());
  });
  return {
      [self](subscribe_atom, const state_change_listener_actor& subscriber) {
        self->monitor(subscriber);
        self->state.subscribers.push_back(subscriber);
      },
      [self](publish_atom, const state_change& change) { publish_state_change(self, change, {}); },
      [self](publish_atom, const state_change& change, const flow_run_event_info& info) {
        publish_state_change(self, change, info);
      },
      [self](publish_atom, event_batch& events) { store_and_deliver(self, std::move(events), {}); },
      [self](publish_atom, event_batch& events, const publish_callback& done) {
        store_and_deliver(self, std::move(events), done);
      },
      [self](stored_atom, std::uint64_t number, const status& s) { on_stored(self, number, s); },
      [self](retry_atom) {
        self->state.retry_scheduled = false;
        retry_waiting(self);
      },
      [self](flush_atom) {
        hand_over_queued(self);
        retry_waiting(self);
      },
      [self](peer_atom, peer_events& announced) {
        fetch_later(self, fetch{std::move(announced.ids), {}});
      },
      [self](peer_atom, const peer_gap& gap) {
        fetch_later(self, fetch{{}, gap.since});
      },
      [self](fetched_atom, event_batch& events) { on_fetched(self, std::move(events)); },
      [self](fetched_atom, const status& s) { on_fetch_failed(self, s); },
      [self](fetch_atom) { fetch_next(self); },
      [self](subscribe_atom, std::uint64_t token, const event_sink& sink) {
        self->state.sinks.emplace_back(token, sink);
      },
      [self](unsubscribe_atom, std::uint64_t token) {
        auto& sinks = self->state.sinks;
        sinks.erase(std::remove_if(sinks.begin(), sinks.end(), [token](const auto& s) { return s.first == token; }),
                    sinks.end());
      },
  };
}

/// Where the listener's thread sends what it hears: the bus, once spawned. Held weakly, as the bus owns the
/// listener.
class listener_target {
 public:
  void set(const event_bus_with_internals& bus) {
    std::lock_guard lock(mutex_);
    bus_ = caf::actor_cast<caf::weak_actor_ptr>(bus);
  }

  template <class... Ts>
  void send(Ts&&... xs) {
    caf::strong_actor_ptr bus;
    {
      std::lock_guard lock(mutex_);
      bus = bus_.lock();
    }
    if (bus) caf::anon_send(caf::actor_cast<event_bus_with_internals>(bus), std::forward<Ts>(xs)...);
  }

 private:
  std::mutex mutex_;
  caf::weak_actor_ptr bus_;
};

/// Starts the listener `options.peers` asks for; none (and `peers` reset) when it cannot be had.
std::shared_ptr<persistence::event_listener> start_listener(event_bus_options& options,
                                                            const std::shared_ptr<listener_target>& target) {
  if (!options.peers) return nullptr;
  if (!options.db) {
    log::line(log::level::error, "events", "a bus without a store cannot share events with other servers");
    options.peers.reset();
    return nullptr;
  }
  if (options.origin.empty() || options.origin.size() > persistence::max_origin_bytes) {
    options.origin = new_uuid4().to_string();
    log::line(log::level::warning, "events", "the bus's origin must have 1 to ", persistence::max_origin_bytes,
              " bytes; using ", options.origin);
  }
  persistence::event_listener_callbacks callbacks{
      [target](std::vector<uuid> ids) { target->send(peer_atom_v, peer_events{std::move(ids)}); },
      [target](timestamp since) { target->send(peer_atom_v, peer_gap{since}); }};
  auto started = persistence::start_event_listener(*options.peers, options.origin, std::move(callbacks));
  if (!started) {
    log::line(log::level::warning, "events", "not sharing events with other servers: ", started.error().message());
    options.peers.reset();
    return nullptr;
  }
  return std::move(*started);
}

}  // namespace

event_bus_actor spawn_event_bus(caf::actor_system& system, event_bus_options options) {
  auto target = std::make_shared<listener_target>();
  auto listener = start_listener(options, target);
  auto bus = system.spawn(event_bus, std::move(options), std::move(listener));
  target->set(bus);
  return bus;  // the world sees only the public messages
}

event_bus_actor spawn_event_bus(caf::actor_system& system) { return spawn_event_bus(system, event_bus_options{}); }

std::uint64_t subscribe_events(const event_bus_actor& bus, event_sink sink) {
  const auto token = next_token.fetch_add(1, std::memory_order_relaxed);
  caf::anon_send(bus, subscribe_atom_v, token, std::move(sink));
  return token;
}

void unsubscribe_events(const event_bus_actor& bus, std::uint64_t token) {
  caf::anon_send(bus, unsubscribe_atom_v, token);
}

void publish_events(const event_bus_actor& bus, event_batch events, publish_callback done) {
  if (done)
    caf::anon_send(bus, publish_atom_v, std::move(events), std::move(done));
  else
    caf::anon_send(bus, publish_atom_v, std::move(events));
}

}  // namespace osprey::actors

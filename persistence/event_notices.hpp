#pragma once
// Event notices: how several Osprey servers on one PostgreSQL database tell each other which events they
// stored, so that every server can deliver them to its own /api/events/out subscribers.
//
// The server that stores events announces their ids with NOTIFY inside the transaction that stores them:
// PostgreSQL delivers a notification only once that transaction commits, and never when it rolls back, so an
// announced id is always readable by the time it is heard. Every server follows the channel on a connection
// of its own (`event_listener`), ignores its own announcements and reads the others' events from the store.
// A listener that lost its connection reconnects and reports the span it may have missed, which the caller
// reads from the store by the database's clock (events.updated). SQLite serves one server per file: there is
// nothing to announce, and no listener.
//
// This header names no driver; the listener is PostgreSQL's (persistence/postgres/postgres_listener.cpp).

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/time.hpp"
#include "domain/uuid.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// The channel every server announces on and listens to.
inline constexpr std::string_view event_channel = "osprey_events";
/// PostgreSQL refuses a payload of 8000 bytes or more; an announcement is split into payloads below this.
inline constexpr std::size_t max_notice_bytes = 7800;
/// The longest origin an announcement carries (longer ones would leave too little room for ids).
inline constexpr std::size_t max_origin_bytes = 200;

/// What one notification says: who stored the events, and their ids.
struct event_notice {
  std::string origin;
  std::vector<uuid> ids;
};

/// The payloads that announce `ids` stored by `origin` (at most max_origin_bytes), in order: as few as fit
/// below max_notice_bytes each. None for no ids.
std::vector<std::string> event_notice_payloads(std::string_view origin, const std::vector<uuid>& ids);

/// Reads a payload event_notice_payloads made; nullopt for anything else (someone else's NOTIFY).
std::optional<event_notice> parse_event_notice(std::string_view payload);

/// Announces, inside the caller's open write transaction, that `origin` stored `ids` (pg_notify on
/// event_channel; delivered at COMMIT). Does nothing on SQLite or for no ids. Throws sql_error like any
/// statement.
void announce_events(sql_connection& conn, std::string_view origin, const std::vector<uuid>& ids);

/// How a listener reaches the database and rides out a lost connection.
struct event_listener_options {
  database_target target;  ///< the PostgreSQL database the servers share
  /// One connection attempt at most; stop() may wait this long when it falls during an attempt.
  std::chrono::seconds connect_timeout{5};
  std::chrono::milliseconds first_retry{100};  ///< wait before the second reconnection attempt; doubles after
  std::chrono::milliseconds max_retry{5000};   ///< the longest wait between two attempts
  /// How far before the moment the connection was found lost a catch-up starts. It covers the time a lost
  /// connection takes to be noticed (a closed socket at once; a silent network at most ~25 s, by TCP
  /// keepalives), write transactions that began before the loss and committed after it (their rows carry
  /// their start time; lock waits last up to database.timeout_ms), and the clocks' drift.
  std::chrono::seconds catch_up_margin{120};
};

/// What a listener hands on. Both run on the listener's thread: they must be quick and must not block.
struct event_listener_callbacks {
  /// Ids another origin announced, in the order it announced them.
  std::function<void(std::vector<uuid>)> announced;
  /// The listener listens again after it was not listening (a lost connection, or a first connection that
  /// failed): every event stored (events.updated, the database's clock) at or after `since` may have been
  /// missed. Announcements from now on arrive through `announced`.
  std::function<void(timestamp since)> missed_since;
};

/// Follows event_channel on a dedicated connection and thread, until stopped. Thread-safe.
class event_listener {
 public:
  virtual ~event_listener() = default;  ///< stops first
  /// Stops listening and joins the thread; returns at once, or within connect_timeout when a connection
  /// attempt is under way. Idempotent. The callbacks are not called after it returns.
  virtual void stop() noexcept = 0;
};

/// Starts a listener for `options.target` that ignores announcements from `origin`. Tries to connect (and
/// LISTEN) before returning, for at most connect_timeout; when that fails it logs why once and keeps trying
/// in the background, reporting the gap through missed_since once it listens. Refused (errc::invalid_argument)
/// for SQLite.
result<std::unique_ptr<event_listener>> start_event_listener(const event_listener_options& options, std::string origin,
                                                             event_listener_callbacks callbacks);

}  // namespace osprey::persistence

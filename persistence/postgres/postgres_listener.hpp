#pragma once
// PostgreSQL's event listener (the contract is persistence/event_notices.hpp): one dedicated libpqxx
// connection that LISTENs on the event channel, on a thread of its own that waits in poll() on the
// connection's socket and a wake-up descriptor, so stop() never waits on the database. A lost connection is
// noticed when the socket reports it (at once when the server closes it; by TCP keepalives within ~25 s on a
// silent network); the thread then reconnects with backoff and reports the gap. The connection is named
// `osprey-events-<origin>` (application_name), so an operator can find it in pg_stat_activity.

#include <memory>
#include <string>

#include "persistence/event_notices.hpp"

namespace osprey::persistence {

/// See start_event_listener(); `options.target` must be PostgreSQL.
result<std::unique_ptr<event_listener>> start_postgres_listener(const event_listener_options& options,
                                                                std::string origin, event_listener_callbacks callbacks);

}  // namespace osprey::persistence

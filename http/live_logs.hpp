#pragma once
// The live log stream behind WS /api/logs/out. POST /api/logs publishes every batch here once it is committed;
// each subscriber (one websocket) gets, in publication order, the logs its LogFilter matches
// (domain/log_match.hpp) as {"type":"log","log":{...}}. Live only, as in Prefect: nothing stored before the
// subscription is sent. Logs accepted by other servers sharing the database are not seen here (each server
// streams the logs it accepted). A subscriber that does not read is closed by the websocket's outgoing-queue
// limit (http/websocket.hpp), so a slow client never holds up the writer. Thread-safe.

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "domain/filters.hpp"
#include "domain/log_record.hpp"
#include "http/websocket.hpp"

namespace osprey::http {

class live_logs {
 public:
  /// Adds a subscriber; the token removes it. The connection is held weakly.
  std::uint64_t subscribe(filters::log_filter filter, std::weak_ptr<websocket_connection> conn);
  void unsubscribe(std::uint64_t token);
  /// Sends each log to every subscriber whose filter matches it. Cheap without subscribers.
  void publish(const std::vector<log_record>& logs);
  [[nodiscard]] std::size_t subscribers() const;

 private:
  struct subscriber {
    filters::log_filter filter;
    std::weak_ptr<websocket_connection> conn;
  };
  mutable std::mutex mutex_;
  std::uint64_t next_token_ = 1;
  std::unordered_map<std::uint64_t, subscriber> subscribers_;
};

}  // namespace osprey::http

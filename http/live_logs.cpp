#include "http/live_logs.hpp"

#include <optional>
#include <string>
#include <utility>

#include "domain/log_match.hpp"
#include "http/shapes.hpp"

namespace osprey::http {

std::uint64_t live_logs::subscribe(filters::log_filter filter, std::weak_ptr<websocket_connection> conn) {
  std::lock_guard lock(mutex_);
  const auto token = next_token_++;
  subscribers_.emplace(token, subscriber{std::move(filter), std::move(conn)});
  return token;
}

void live_logs::unsubscribe(std::uint64_t token) {
  std::lock_guard lock(mutex_);
  subscribers_.erase(token);
}

std::size_t live_logs::subscribers() const {
  std::lock_guard lock(mutex_);
  return subscribers_.size();
}

void live_logs::publish(const std::vector<log_record>& logs) {
  std::lock_guard lock(mutex_);  // held while sending: send_text only queues, and keeps the order per subscriber
  if (subscribers_.empty()) return;
  for (const auto& log : logs) {
    std::optional<std::string> message;  // rendered once, for the first subscriber that wants it
    for (auto it = subscribers_.begin(); it != subscribers_.end();) {
      auto conn = it->second.conn.lock();
      if (!conn) {
        it = subscribers_.erase(it);
        continue;
      }
      if (matches_live(it->second.filter, log)) {
        if (!message)
          message = nlohmann::json{{"type", "log"}, {"log", to_json(log)}}.dump(
              -1, ' ', false, nlohmann::json::error_handler_t::replace);
        conn->send_text(*message);
      }
      ++it;
    }
  }
}

}  // namespace osprey::http

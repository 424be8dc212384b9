#include "persistence/postgres/postgres_listener.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "logging/log.hpp"

namespace osprey::persistence {
namespace {

/// How long one poll() waits at most: a safety net only, the socket and the wake-up descriptor end the wait.
constexpr int poll_timeout_ms = 5000;
/// TCP keepalives on the listener's idle connection: a peer gone silent is noticed after ~10 + 3 × 5 s.
constexpr const char* keepalive_params = "keepalives=1&keepalives_idle=10&keepalives_interval=5&keepalives_count=3";
/// The database's clock, in microseconds since the epoch: exact as an integer.
constexpr const char* clock_sql = "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)";

std::string first_line(const char* what) {
  std::string s = what;
  s.resize(std::min(s.find('\n'), s.size()));
  return s;
}

/// The connection's application_name: the origin, kept to characters a URL carries as they are.
std::string application_name(const std::string& origin) {
  std::string name = "osprey-events-";
  for (const char c : origin.substr(0, 48)) {
    const bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    name.push_back(plain ? c : '_');
  }
  return name;
}

/// The shared database's URL with the listener's own parameters (parse_database_url keeps URLs as URLs).
std::string listener_conninfo(const std::string& url, const std::string& origin, std::chrono::seconds timeout) {
  std::string out = url;
  if (out.find('?') == std::string::npos)
    out.push_back('?');
  else if (out.back() != '?' && out.back() != '&')
    out.push_back('&');
  out += "application_name=" + application_name(origin) +
         "&connect_timeout=" + std::to_string(std::max<std::int64_t>(timeout.count(), 2)) + "&" + keepalive_params;
  return out;
}

/// The origin as this server's own announcements carry it (cut and cleaned up the same way).
std::string announced_origin(const std::string& origin) {
  const auto payloads = event_notice_payloads(origin, {uuid{}});
  const auto notice = payloads.empty() ? std::nullopt : parse_event_notice(payloads.front());
  return notice ? notice->origin : origin;
}

class postgres_listener final : public event_listener {
 public:
  postgres_listener(const event_listener_options& options, std::string origin, event_listener_callbacks callbacks)
      : options_(options),
        conninfo_(listener_conninfo(options.target.postgres_conninfo, origin, options.connect_timeout)),
        origin_(announced_origin(origin)),
        callbacks_(std::move(callbacks)),
        wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

  ~postgres_listener() override {
    stop();
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  postgres_listener(const postgres_listener&) = delete;
  postgres_listener& operator=(const postgres_listener&) = delete;

  status start() {
    if (wake_fd_ < 0) return status(errc::internal, "cannot create the listener's wake-up descriptor");
    // A first attempt here, so that the server listens before it serves anyone; if it fails, the thread goes on.
    if (!connect()) {
      gap_from_ = now();
      outage_logged_ = true;
      log::line(log::level::warning, "events", "cannot follow the events other servers store in ",
                options_.target.display, " yet (", last_error_, "); retrying in the background");
    }
    thread_ = std::thread([this] { run(); });
    return status::ok();
  }

  void stop() noexcept override {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
    const std::uint64_t one = 1;
    if (wake_fd_ >= 0 && ::write(wake_fd_, &one, sizeof one) < 0) {
      // Only a full counter refuses a write, and a full counter is readable anyway: the thread wakes up.
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  /// Hands every notification on the channel to its listener.
  class receiver final : public pqxx::notification_receiver {
   public:
    receiver(pqxx::connection_base& conn, postgres_listener& owner)
        : pqxx::notification_receiver(conn, std::string(event_channel)), owner_(owner) {}
    void operator()(const std::string& payload, int) override { owner_.heard(payload); }

   private:
    postgres_listener& owner_;
  };

  static timestamp now() { return system_clock::instance().now(); }

  /// An announcement arrived (called by the receiver, inside get_notifs, on the listener's thread).
  void heard(const std::string& payload) {
    auto notice = parse_event_notice(payload);
    if (!notice) {
      log::line(log::level::debug, "events", "ignored a notification on ", event_channel, " that is not Osprey's");
      return;
    }
    if (notice->origin == origin_ || stopping_ || !callbacks_.announced) return;
    callbacks_.announced(std::move(notice->ids));
  }

  /// Connects, reads the database's clock and LISTENs; false (with last_error_) when any step fails.
  bool connect() {
    try {
      conn_ = std::make_unique<pqxx::connection>(conninfo_);
      {
        pqxx::nontransaction tx(*conn_);
        const auto before = now();
        const auto micros = tx.exec1(clock_sql)[0].as<std::int64_t>();
        clock_offset_ = timestamp(std::chrono::microseconds(micros)) - before;
      }
      // LISTEN last, so that pg_stat_activity shows it as the connection's query.
      receiver_ = std::make_unique<receiver>(*conn_, *this);
      // libpqxx swallows a connection lost during LISTEN: check.
      if (!conn_->is_open()) throw pqxx::broken_connection("the connection was lost while starting to listen");
      last_error_ = "the connection was lost";
      return true;
    } catch (const std::exception& e) {
      last_error_ = first_line(e.what());
      drop();
      return false;
    }
  }

  /// Closes the connection first, so that the receiver leaves without an UNLISTEN round trip.
  void drop() noexcept {
    if (conn_) conn_->disconnect();
    receiver_.reset();
    conn_.reset();
  }

  /// Waits `delay` unless stop() comes first.
  void pause(std::chrono::milliseconds delay) const {
    pollfd wake{wake_fd_, POLLIN, 0};
    ::poll(&wake, 1, static_cast<int>(delay.count()));
  }

  [[nodiscard]] std::chrono::milliseconds backoff(unsigned failures) const {
    auto delay = options_.first_retry;
    for (unsigned i = 1; i < failures && delay < options_.max_retry; ++i) delay *= 2;
    return std::min(delay, options_.max_retry);
  }

  void lost() {
    gap_from_ = now();
    drop();
    if (outage_logged_) return;
    outage_logged_ = true;
    log::line(log::level::warning, "events", "lost the connection that follows the events other servers store (",
              last_error_, "); reconnecting, then catching up on what they stored meanwhile");
  }

  /// Reconnects (the first attempt at once, then with backoff) and reports the gap; false when stopping.
  bool reconnect() {
    unsigned failures = 0;
    while (!stopping_) {
      if (failures > 0) pause(backoff(failures));
      if (stopping_) return false;
      if (!connect()) {
        ++failures;
        continue;
      }
      const timestamp since = gap_from_.value_or(now()) + clock_offset_ - options_.catch_up_margin;
      log::line(log::level::info, "events",
                "following the events other servers store again; catching up on those"
                " stored since ",
                format_iso8601(since));
      gap_from_.reset();
      outage_logged_ = false;
      if (callbacks_.missed_since) callbacks_.missed_since(since);
      return true;
    }
    return false;
  }

  void run() {
    while (!stopping_) {
      if (!conn_ && !reconnect()) break;
      try {
        conn_->get_notifs();  // also those libpq read along with earlier results
      } catch (const pqxx::broken_connection&) {
        last_error_ = "the server closed it, or the network failed";  // libpqxx's own text says nothing more
      } catch (const std::exception& e) {
        last_error_ = first_line(e.what());
      }
      if (!conn_->is_open()) {
        lost();
        continue;
      }
      pollfd fds[2] = {{conn_->sock(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      if (::poll(fds, 2, poll_timeout_ms) < 0 && errno != EINTR) {
        last_error_ = "poll failed";
        lost();
      }
    }
    drop();
  }

  const event_listener_options options_;
  const std::string conninfo_;
  const std::string origin_;
  const event_listener_callbacks callbacks_;
  const int wake_fd_;

  // The listener's thread owns these after start().
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<receiver> receiver_;
  std::chrono::microseconds clock_offset_{0};  ///< the database's clock minus ours, measured at each connect
  std::optional<timestamp> gap_from_;          ///< our clock: since when nothing was heard (nullopt: listening)
  bool outage_logged_ = false;
  std::string last_error_ = "the connection was lost";

  std::atomic<bool> stopping_{false};
  std::mutex stop_mutex_;
  std::thread thread_;
};

}  // namespace

result<std::unique_ptr<event_listener>> start_postgres_listener(const event_listener_options& options,
                                                                std::string origin,
                                                                event_listener_callbacks callbacks) {
  auto listener = std::make_unique<postgres_listener>(options, std::move(origin), std::move(callbacks));
  if (auto s = listener->start(); !s) return s;
  return std::unique_ptr<event_listener>(std::move(listener));
}

}  // namespace osprey::persistence

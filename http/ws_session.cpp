// One websocket connection after its upgrade (http/websocket.hpp states the rules) and the handle routes hold.
// See http/server.cpp's file comment for the threading and lifetime rules.
#include <deque>
#include <exception>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "domain/json_text.hpp"
#include "http/transport.hpp"

namespace osprey::http::transport {
namespace {

namespace websocket = boost::beast::websocket;

constexpr std::size_t max_close_reason = 123;  ///< RFC 6455: a close frame's payload is at most 125 bytes
constexpr std::string_view slow_consumer_reason = "Slow consumer: the outgoing message queue is full";

/// One websocket connection after the upgrade. Strand-only members are touched by its io handlers alone; the
/// outgoing queue and the close request are shared with other threads (through ws_handle) under `mutex_`.
///
/// Order of events: handshake → open (reads delivered to on_message; the queue is written one message at a
/// time) → a close request (ours, the route's, or server stop) is honoured once the queue before it is written
/// → closing handshake → finish(): on_close, removal from the hub. Any error tears the socket down and
/// finishes at once.
class ws_session final : public connection, public std::enable_shared_from_this<ws_session> {
 public:
  ws_session(beast::tcp_stream&& stream, const context& ctx, std::shared_ptr<hub> h, std::uint64_t id,
             std::shared_ptr<websocket_upgrade> accepted, bhttp::request<bhttp::string_body>&& upgrade_request)
      : ws_(std::move(stream)),
        executor_(ws_.get_executor()),
        ctx_(ctx),
        hub_(std::move(h)),
        id_(id),
        accepted_(std::move(accepted)),
        upgrade_request_(std::move(upgrade_request)),
        close_timer_(executor_) {}

  void start() override {
    net::dispatch(executor_, [self = shared_from_this()] { self->accept(); });
  }

  void drain() override { request_close(close_code::going_away, std::string(shutting_down_reason)); }

  // Thread-safe entry points; callers guarantee the io_context is alive (they hold the hub's mutex and saw
  // `stopped` false, or run on an io thread).

  bool send(std::string message) {
    std::unique_lock lock(mutex_);
    if (ended_ || close_request_) return false;
    if (queued_bytes_ + message.size() > ctx_.options.websocket_max_queued_bytes) {
      for (const auto& m : queue_) queued_bytes_ -= m.size();
      queue_.clear();
      close_request_.emplace(close_code::policy_violation, std::string(slow_consumer_reason));
      kick(lock);
      return false;
    }
    queued_bytes_ += message.size();
    queue_.push_back(std::move(message));
    kick(lock);
    return true;
  }

  void request_close(std::uint16_t code, std::string reason) {
    // Cut between characters: a close reason must be valid UTF-8, or the client fails the connection (1007).
    if (reason.size() > max_close_reason) reason.resize(utf8_prefix(reason, max_close_reason).size());
    std::unique_lock lock(mutex_);
    if (ended_ || close_request_) return;
    close_request_.emplace(code, std::move(reason));
    kick(lock);
  }

  void when_drained(std::function<void()> callback) {
    std::unique_lock lock(mutex_);
    if (ended_) return;
    drained_.push_back(std::move(callback));
    kick(lock);
  }

  /// Tears the connection down now (server stop after its grace period).
  void force_close() override {
    net::post(executor_, [self = shared_from_this()] {
      self->teardown();
      self->finish(close_code::abnormal, std::string(shutting_down_reason));
    });
  }

 private:
  enum class phase { handshake, open, closing, closed };

  /// Schedules pump() unless one is already scheduled. Releases `lock`.
  void kick(std::unique_lock<std::mutex>& lock) {
    if (kick_pending_) return;
    kick_pending_ = true;
    lock.unlock();
    net::post(executor_, [self = shared_from_this()] { self->pump(); });
  }

  void accept() {
    const auto ping =
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(ctx_.options.websocket_ping_interval);
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = ctx_.options.read_timeout;
    timeouts.idle_timeout = 2 * ping;  // Beast pings after half of it and gives up after all of it
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    // The message size limit is enforced in on_read, not by Beast: when Beast fails a connection itself it
    // closes the socket with unread data still queued (Boost 1.81 teardown), so the client sees a reset instead
    // of our close frame. Our close goes through async_close, which reads and discards the rest first.
    ws_.read_message_max(0);
    ws_.set_option(websocket::stream_base::decorator([sub = accepted_->subprotocol](websocket::response_type& res) {
      res.set(bhttp::field::server, "osprey");
      if (!sub.empty()) res.set(bhttp::field::sec_websocket_protocol, sub);
    }));
    ws_.async_accept(upgrade_request_, [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
  }

  void on_accept(beast::error_code ec) {
    upgrade_request_ = {};
    if (ec || phase_ != phase::handshake) {  // Beast answered a bad handshake itself; or stop() forced us
      teardown();
      return finish(close_code::abnormal, {});
    }
    phase_ = phase::open;
    handle_ = make_handle();
    try {
      callbacks_ = accepted_->start(handle_);
    } catch (const std::exception& e) {
      log_error("websocket factory threw", e.what());
      request_close(close_code::internal_error, "Internal Server Error");
    }
    accepted_.reset();
    read();
    pump();
  }

  std::shared_ptr<websocket_connection> make_handle();

  /// Reads the next piece of a message (never more than the size limit plus one byte in memory).
  void read() {
    const std::size_t limit = ctx_.options.websocket_max_message_bytes;
    const std::size_t room = limit + 1 - std::min(limit, read_buffer_.size());
    ws_.async_read_some(read_buffer_, std::min(room, read_chunk * 4),
                        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    if (phase_ != phase::open) {  // closing: what still arrives is dropped
      read_buffer_.consume(read_buffer_.size());
      return read();
    }
    if (read_buffer_.size() > ctx_.options.websocket_max_message_bytes) {
      read_buffer_.consume(read_buffer_.size());
      // No further read: the close handshake discards the rest of the message.
      return request_close(
          close_code::too_big,
          "Message too big: the limit is " + std::to_string(ctx_.options.websocket_max_message_bytes) + " bytes");
    }
    if (!ws_.is_message_done()) return read();
    if (!ws_.got_text()) {
      read_buffer_.consume(read_buffer_.size());
      return request_close(close_code::unsupported_data, "Binary messages are not supported");
    }
    std::string message = beast::buffers_to_string(read_buffer_.data());
    read_buffer_.consume(read_buffer_.size());
    if (callbacks_.on_message && !close_requested()) {  // after close(), messages are read and dropped
      try {
        callbacks_.on_message(std::move(message));
      } catch (const std::exception& e) {
        log_error("websocket on_message threw", e.what());
        request_close(close_code::internal_error, "Internal Server Error");
      }
    }
    if (phase_ != phase::closed) read();
  }

  void on_read_error(beast::error_code ec) {
    if (phase_ == phase::closed) return;
    std::uint16_t code = close_code::abnormal;
    std::string reason;
    if (we_closed_) {
      code = our_close_.first;
      reason = our_close_.second;
    } else if (ec == websocket::error::closed) {
      const auto& peer = ws_.reason();
      code = peer.code == websocket::close_code::none ? std::uint16_t{1005} : static_cast<std::uint16_t>(peer.code);
      reason = std::string(peer.reason.data(), peer.reason.size());
    } else if (ec == websocket::error::message_too_big) {
      code = close_code::too_big;
    } else if (ec == websocket::error::bad_frame_payload) {
      code = close_code::invalid_payload;
    } else if (ec.category() == websocket::make_error_code(websocket::error::closed).category()) {
      code = close_code::protocol_error;
    }
    teardown();
    finish(code, std::move(reason));
  }

  /// Writes the next queued message, or starts the requested close once the queue is empty, or runs the
  /// drained callbacks.
  void pump() {
    std::vector<std::function<void()>> drained;
    bool start_close = false;
    bool arm_close_timer = false;
    {
      std::lock_guard lock(mutex_);
      kick_pending_ = false;
      if (phase_ != phase::open) return;
      if (close_request_ && !close_timer_armed_) arm_close_timer = close_timer_armed_ = true;
      if (!writing_) {
        if (!queue_.empty()) {
          current_ = std::move(queue_.front());
          queue_.pop_front();
          writing_ = true;
        } else if (close_request_) {
          start_close = true;
          our_close_ = *close_request_;
        } else {
          drained.swap(drained_);
        }
      }
    }
    if (arm_close_timer) {
      // A client that stopped reading keeps a write pending forever: give the close a deadline of its own.
      close_timer_.expires_after(ctx_.options.read_timeout);
      close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec || self->phase_ == phase::closed) return;
        self->teardown();
        self->finish(self->close_request_code(), {});
      });
    }
    if (writing_ && !write_started_) {
      write_started_ = true;
      ws_.text(true);
      ws_.async_write(net::buffer(current_),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
      return;
    }
    if (start_close) return begin_close();
    for (auto& callback : drained) {
      try {
        callback();
      } catch (const std::exception& e) {
        log_error("websocket drained callback threw", e.what());
      }
    }
  }

  bool close_requested() {
    std::lock_guard lock(mutex_);
    return close_request_.has_value();
  }

  std::uint16_t close_request_code() {
    std::lock_guard lock(mutex_);
    return close_request_ ? close_request_->first : close_code::abnormal;
  }

  void on_write(beast::error_code ec) {
    {
      std::lock_guard lock(mutex_);
      queued_bytes_ -= current_.size();
      writing_ = false;
    }
    write_started_ = false;
    std::string().swap(current_);  // do not hold a large message while idle
    if (phase_ == phase::closed) return;
    if (ec) {
      teardown();
      return finish(close_code::abnormal, {});
    }
    pump();
  }

  void begin_close() {
    phase_ = phase::closing;
    we_closed_ = true;
    const websocket::close_reason reason(static_cast<websocket::close_code>(our_close_.first), our_close_.second);
    ws_.async_close(reason, [self = shared_from_this()](beast::error_code ec) {
      // Success: the peer answered and the socket is shut down (a pending read ends with an error too).
      if (ec) self->teardown();
      self->finish(self->our_close_.first, self->our_close_.second);
    });
  }

  void teardown() {
    auto& lowest = beast::get_lowest_layer(ws_);
    beast::error_code ignored;
    lowest.socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest.close();
  }

  /// Ends the connection exactly once: on_close, then removal from the hub.
  void finish(std::uint16_t code, std::string reason) {
    if (phase_ == phase::closed) return;
    phase_ = phase::closed;
    close_timer_.cancel();
    auto callbacks = std::move(callbacks_);
    callbacks_ = {};
    handle_.reset();
    std::vector<std::function<void()>> dropped;
    {
      std::lock_guard lock(mutex_);
      ended_ = true;
      queue_.clear();
      dropped.swap(drained_);
    }
    if (callbacks.on_close) {
      try {
        callbacks.on_close(code, reason);
      } catch (const std::exception& e) {
        log_error("websocket on_close threw", e.what());
      }
    }
    std::shared_ptr<connection> self;  // released outside the lock
    std::lock_guard lock(hub_->mutex);
    const auto it = hub_->websockets.find(id_);
    if (it != hub_->websockets.end()) {
      self = std::move(it->second);
      hub_->websockets.erase(it);
    }
    hub_->notify_if_drained();
  }

  websocket::stream<beast::tcp_stream> ws_;
  const net::any_io_executor executor_;  ///< the connection's strand
  const context& ctx_;
  std::shared_ptr<hub> hub_;
  const std::uint64_t id_;

  // Strand only.
  std::shared_ptr<websocket_upgrade> accepted_;         ///< until the handshake is done
  bhttp::request<bhttp::string_body> upgrade_request_;  ///< until the handshake is done
  websocket_callbacks callbacks_;
  std::shared_ptr<websocket_connection> handle_;  ///< kept while open, so routes may hold it weakly
  beast::flat_buffer read_buffer_;
  net::steady_timer close_timer_;
  std::string current_;  ///< the message being written
  bool write_started_ = false;
  bool close_timer_armed_ = false;
  bool we_closed_ = false;
  std::pair<std::uint16_t, std::string> our_close_{close_code::abnormal, {}};
  phase phase_ = phase::handshake;  ///< read under `mutex_` by pump(), written only on the strand

  // Shared with other threads, under mutex_.
  std::mutex mutex_;
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;  ///< queue_ plus the message being written
  bool writing_ = false;
  bool kick_pending_ = false;
  bool ended_ = false;
  std::optional<std::pair<std::uint16_t, std::string>> close_request_;
  std::vector<std::function<void()>> drained_;
};

/// What routes hold. It reaches its ws_session only under the hub's mutex with `stopped` false, so it is safe to
/// use from any thread, after the connection ended, and after the server is gone.
class ws_handle final : public websocket_connection {
 public:
  ws_handle(std::weak_ptr<ws_session> s, std::shared_ptr<hub> h, std::string subprotocol)
      : session_(std::move(s)), hub_(std::move(h)), subprotocol_(std::move(subprotocol)) {}

  bool send_text(std::string message) override {
    std::lock_guard lock(hub_->mutex);
    if (hub_->stopped) return false;
    const auto s = session_.lock();
    return s && s->send(std::move(message));
  }

  void close(std::uint16_t code, std::string reason) override {
    std::lock_guard lock(hub_->mutex);
    if (hub_->stopped) return;
    if (const auto s = session_.lock()) s->request_close(code, std::move(reason));
  }

  void when_drained(std::function<void()> callback) override {
    std::lock_guard lock(hub_->mutex);
    if (hub_->stopped) return;
    if (const auto s = session_.lock()) s->when_drained(std::move(callback));
  }

  [[nodiscard]] const std::string& subprotocol() const override { return subprotocol_; }

 private:
  std::weak_ptr<ws_session> session_;
  std::shared_ptr<hub> hub_;
  std::string subprotocol_;
};

std::shared_ptr<websocket_connection> ws_session::make_handle() {
  return std::make_shared<ws_handle>(weak_from_this(), hub_, accepted_->subprotocol);
}

}  // namespace

std::shared_ptr<connection> adopt_websocket(beast::tcp_stream&& stream, const context& ctx,
                                            const std::shared_ptr<hub>& h, std::shared_ptr<websocket_upgrade> accepted,
                                            bhttp::request<bhttp::string_body>&& upgrade_request) {
  std::lock_guard lock(h->mutex);
  if (h->draining) return nullptr;
  const auto id = h->next_id++;
  auto ws =
      std::make_shared<ws_session>(std::move(stream), ctx, h, id, std::move(accepted), std::move(upgrade_request));
  h->websockets.emplace(id, ws);
  return ws;
}

}  // namespace osprey::http::transport

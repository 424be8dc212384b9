// The Beast transport. This is the only translation unit that includes Beast (about 15 s and 1 GiB to compile):
// keep it that way, and keep route code in files of their own.
//
// Threading: N io threads run one io_context; every connection is a `session` whose handlers all run on its own
// strand, so a session's members need no lock. Route handlers run on that strand too and answer through a
// `responder` that may be called from any thread: it posts the response back onto the strand.
//
// Lifetimes: the `hub` (shared by the server, every session and every responder) holds the open sessions and a
// `stopped` flag. Responders hold the session only weakly and post under the hub's mutex after checking
// `stopped`, which is set before the io_context is destroyed; a responder that outlives the server therefore
// never touches a dead io_context, and one whose connection has closed finds nothing to post to.
//
// WebSockets: a route answers an upgrade request with response::upgrade (router::add_websocket); the HTTP
// session then hands its socket to a `ws_session` and ends. Routes get a `ws_handle`, which holds the
// ws_session weakly and reaches it under the hub's mutex, exactly like a responder.

#include "http/server.hpp"

#include <array>
#include <atomic>
#include <cassert>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>

#include "domain/json_text.hpp"
#include "logging/log.hpp"
#include "http/websocket.hpp"

namespace osprey::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;

constexpr std::uint32_t header_limit = 64 * 1024;         ///< larger request heads: 431
constexpr std::size_t read_chunk = 16 * 1024;             ///< first read of a request
constexpr auto linger_timeout = std::chrono::seconds(1);  ///< reading the rest of a rejected request
constexpr auto force_close_wait = std::chrono::seconds(1);
constexpr auto accept_retry = std::chrono::milliseconds(50);
constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view exception_body = R"({"exception_message":"Internal Server Error"})";

void log_error(const char* what, std::string_view detail) { log::line(log::level::error, "http", what, ": ", detail); }

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Percent-decodes `in` into `out` (reusing its capacity). Malformed escapes are kept literally.
void percent_decode(std::string_view in, std::string& out, bool plus_as_space) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_as_space && c == '+' ? ' ' : c);
  }
}

/// "a=1&b=x+y" → {a: "1", b: "x y"}; the last of repeated keys wins, empty pieces are skipped.
void parse_query(std::string_view query, std::map<std::string, std::string>& out) {
  std::string key;
  std::string value;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    const auto eq = piece.find('=');
    percent_decode(piece.substr(0, eq), key, true);
    percent_decode(eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1), value, true);
    out.insert_or_assign(key, value);
  }
}

/// Appends `s` without CR or LF, so a handler's header value can never split the response head.
void append_clean(std::string& out, std::string_view s) {
  for (const char c : s) {
    if (c != '\r' && c != '\n') out.push_back(c);
  }
}

void append_number(std::string& out, std::size_t n) {
  std::array<char, 24> digits{};
  const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), n);
  (void)ec;  // 24 digits always suffice for a size_t
  out.append(digits.data(), end);
}

class session;
class ws_session;

/// State shared by the server, its sessions and every outstanding responder (see the file comment).
struct hub {
  std::mutex mutex;
  std::condition_variable drained;  ///< notified when the last connection closes while draining
  bool draining = false;            ///< stop() has begun: new connections are refused
  bool stopped = false;             ///< the io threads are gone or going: responders drop their responses
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, std::shared_ptr<session>> sessions;       ///< open HTTP connections
  std::unordered_map<std::uint64_t, std::shared_ptr<ws_session>> websockets;  ///< open websockets

  /// Call with `mutex` held.
  [[nodiscard]] bool empty() const { return sessions.empty() && websockets.empty(); }
  void notify_if_drained() {
    if (draining && empty()) drained.notify_all();
  }
};

/// What sessions read; owned by server::impl, which outlives the io threads.
struct context {
  const server_options& options;
  const router& routes;
  origin_policy origins;  ///< complete (with the bound port) before the io threads start
};

/// One request's completion, shared by every copy of its responder. The first complete() wins; later calls are
/// ignored. If the last copy dies without completing (a bug in a handler or an actor), the destructor answers
/// 500 {"detail":"Internal Server Error"} so that the connection never hangs.
class completion {
public:
  completion(std::weak_ptr<session> s, std::shared_ptr<hub> h, std::uint64_t seq)
      : session_(std::move(s)), hub_(std::move(h)), seq_(seq) {}
  completion(const completion&) = delete;
  completion& operator=(const completion&) = delete;
  ~completion();

  void complete(response r) {
    if (done_.exchange(true, std::memory_order_acq_rel)) return;
    send(std::move(r));
  }

private:
  void send(response r);

  std::weak_ptr<session> session_;
  std::shared_ptr<hub> hub_;
  std::uint64_t seq_;
  std::atomic<bool> done_{false};
};

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket&& socket, const context& ctx, std::shared_ptr<hub> h, std::uint64_t id)
      : stream_(std::move(socket)), executor_(stream_.get_executor()), ctx_(ctx), hub_(std::move(h)), id_(id) {}

  void start() {
    net::dispatch(executor_, [self = shared_from_this()] { self->read_next(); });
  }

  /// Any thread. Closes the connection if it is idle between requests, otherwise after the current response.
  void drain() {
    net::post(executor_, [self = shared_from_this()] {
      self->draining_ = true;
      if (self->phase_ == phase::idle) self->close();
    });
  }

  /// Any thread. Closes the connection now; a response still to come is dropped.
  void force_close() {
    net::post(executor_, [self = shared_from_this()] { self->close(); });
  }

  /// Any thread (called by a completion under the hub's mutex, with the io_context alive).
  void deliver(std::uint64_t seq, response r) {
    net::post(executor_, [self = shared_from_this(), seq, r = std::move(r)]() mutable {
      self->on_response(seq, std::move(r));
    });
  }

private:
  enum class phase { idle, reading, handling, writing, lingering, closed };

  // Each request: [wait for first bytes: keep_alive_timeout] → head → [100 Continue] → body (the whole request
  // within read_timeout) → handler → write → next request or close.
  void read_next() {
    if (draining_) return close();
    parser_.emplace();
    parser_->header_limit(header_limit);
    parser_->body_limit(static_cast<std::uint64_t>(ctx_.options.max_body_bytes));
    if (buffer_.size() > 0) return read_header();  // a pipelined request is already buffered
    phase_ = phase::idle;
    stream_.expires_after(ctx_.options.keep_alive_timeout);
    stream_.async_read_some(buffer_.prepare(read_chunk),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->on_first_bytes(ec, n);
                            });
  }

  void on_first_bytes(beast::error_code ec, std::size_t n) {
    if (phase_ == phase::closed) return;
    if (ec) return close();  // peer closed, idle timeout, or drained
    buffer_.commit(n);
    read_header();
  }

  void read_header() {
    phase_ = phase::reading;
    stream_.expires_after(ctx_.options.read_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                               self->on_header(ec);
                             });
  }

  void on_header(beast::error_code ec) {
    if (phase_ == phase::closed) return;
    if (ec) return on_read_error(ec);
    if (parser_->is_done()) return on_request();
    if (beast::iequals(parser_->get()[bhttp::field::expect], "100-continue")) {
      net::async_write(stream_, net::buffer(continue_line.data(), continue_line.size()),
                       [self = shared_from_this()](beast::error_code wec, std::size_t) {
                         if (wec || self->phase_ == phase::closed) return self->close();
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    bhttp::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (self->phase_ == phase::closed) return;
      if (ec) return self->on_read_error(ec);
      self->on_request();
    });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return reject(413, "Request body too large: limit is " + std::to_string(ctx_.options.max_body_bytes) +
                             " bytes");
    }
    if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
      return reject(431, "Request header fields too large");
    }
    static const auto& http_category = bhttp::make_error_code(bhttp::error::bad_method).category();
    if (ec.category() == http_category && ec != bhttp::error::end_of_stream &&
        ec != bhttp::error::partial_message) {
      return reject(400, "Invalid HTTP request: " + ec.message());
    }
    close();  // peer went away, read timeout, or closed by stop()
  }

  /// Answers a request that could not be read, then closes after reading what the client still sends.
  void reject(int status, const std::string& message) {
    keep_alive_ = false;
    linger_ = true;
    write(response::detail(status, message));
  }

  void on_request() {
    phase_ = phase::handling;
    auto& msg = parser_->get();
    keep_alive_ = msg.keep_alive();
    http10_ = msg.version() == 10;
    fill_request(msg);
    started_ = std::chrono::steady_clock::now();
    auto done = std::make_shared<completion>(weak_from_this(), hub_, ++seq_);
    try {
      ctx_.routes.dispatch(req_, [done](response r) { done->complete(std::move(r)); });
    } catch (const std::exception& e) {
      log_error("handler threw", e.what());
      done->complete(response::json(500, std::string(exception_body)));
    } catch (...) {
      log_error("handler threw", "a non-standard exception");
      done->complete(response::json(500, std::string(exception_body)));
    }
  }

  void fill_request(bhttp::request<bhttp::string_body>& msg) {
    req_.method.assign(sv(msg.method_string()));
    req_.target.assign(sv(msg.target()));
    const std::string_view target = req_.target;
    const auto question = target.find('?');
    percent_decode(target.substr(0, question), req_.path, false);
    req_.query.clear();
    if (question != std::string_view::npos) parse_query(target.substr(question + 1), req_.query);
    req_.headers.clear();
    for (const auto& field : msg) {
      std::string name(sv(field.name_string()));
      for (char& c : name) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      const std::string_view value = sv(field.value());
      auto [it, inserted] = req_.headers.try_emplace(std::move(name), value);
      if (!inserted) {  // repeated header: combine as RFC 9110 allows
        it->second += ", ";
        it->second += value;
      }
    }
    req_.body = std::move(msg.body());
    req_.path_params.clear();
    req_.json_max_depth = ctx_.options.json_max_depth;
  }

  void on_response(std::uint64_t seq, response r) {
    if (phase_ != phase::handling || seq != seq_) return;  // connection closed meanwhile, or a stale answer
    if (log::enabled(log::level::debug)) {
      const auto took =
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started_);
      log::line(log::level::debug, "http", req_.method, ' ', req_.target, " -> ", r.status, " in ", took.count(),
                " us");
    }
    if (r.upgrade) return upgrade(std::move(r.upgrade));
    write(std::move(r));
  }

  /// Hands the socket to a ws_session, which does the handshake; this session ends here. Bytes the client sent
  /// after the upgrade request, before our 101, are dropped (clients wait for the 101).
  void upgrade(std::shared_ptr<websocket_upgrade> accepted);

  void write(response r) {
    close_after_ = !keep_alive_ || draining_;
    int status = r.status;
    if (status < 100 || status > 999) status = 500;
    const bool bodyless = status < 200 || status == 204 || status == 304;
    if (bodyless) r.body.clear();

    head_.clear();
    head_ += "HTTP/1.1 ";
    append_number(head_, static_cast<std::size_t>(status));
    head_ += ' ';
    const auto code = bhttp::int_to_status(static_cast<unsigned>(status));
    head_ += code == bhttp::status::unknown ? std::string_view("Unknown") : sv(bhttp::obsolete_reason(code));
    head_ += "\r\nServer: osprey\r\n";
    if (!r.content_type.empty()) {
      head_ += "Content-Type: ";
      append_clean(head_, r.content_type);
      head_ += "\r\n";
    }
    if (!bodyless) {
      head_ += "Content-Length: ";
      append_number(head_, r.body.size());
      head_ += "\r\n";
    }
    for (const auto& [name, value] : r.headers) {
      // Framing headers are ours to set.
      if (beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding") ||
          beast::iequals(name, "connection")) {
        continue;
      }
      append_clean(head_, name);
      head_ += ": ";
      append_clean(head_, value);
      head_ += "\r\n";
    }
    if (close_after_) {
      head_ += "Connection: close\r\n";
    } else if (http10_) {
      head_ += "Connection: keep-alive\r\n";
    }
    head_ += "\r\n";
    body_ = std::move(r.body);

    phase_ = phase::writing;
    stream_.expires_after(ctx_.options.read_timeout);
    const std::array<net::const_buffer, 2> buffers{net::buffer(head_), net::buffer(body_)};
    net::async_write(stream_, buffers, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_write(ec);
    });
  }

  void on_write(beast::error_code ec) {
    if (phase_ == phase::closed) return;
    body_ = std::string();  // do not hold a large body while the connection idles
    if (ec) return close();
    if (!close_after_) return read_next();
    if (linger_) return linger();
    close();
  }

  /// After rejecting a request the client may still be sending its body; closing with unread data would send
  /// an RST that can destroy our response in flight. So: half-close, read and discard briefly, then close.
  void linger() {
    phase_ = phase::lingering;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(linger_timeout);
    discard();
  }

  void discard() {
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(read_chunk),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec || self->phase_ == phase::closed) return self->close();
                              self->discard();
                            });
  }

  void close() {
    if (phase_ == phase::closed) return;
    phase_ = phase::closed;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();  // cancels the pending operation and the timer
    forget();
  }

  /// Removes this session from the hub (it owns no socket any more).
  void forget() {
    std::shared_ptr<session> self;  // released outside the lock (a running handler still holds another)
    std::lock_guard lock(hub_->mutex);
    const auto it = hub_->sessions.find(id_);
    if (it != hub_->sessions.end()) {
      self = std::move(it->second);
      hub_->sessions.erase(it);
    }
    hub_->notify_if_drained();
  }

  beast::tcp_stream stream_;
  const net::any_io_executor executor_;  ///< the connection's strand; stays valid when stream_ moves to a websocket
  const context& ctx_;
  std::shared_ptr<hub> hub_;
  const std::uint64_t id_;

  beast::flat_buffer buffer_;  ///< reused for the connection's lifetime
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;  ///< fresh per request
  request req_;                ///< reused; valid for the handler until it responds
  std::chrono::steady_clock::time_point started_{};  ///< when req_ was read (the debug request log)
  std::string head_;           ///< response head, reused
  std::string body_;           ///< response body being written
  std::uint64_t seq_ = 0;      ///< number of the request being handled
  phase phase_ = phase::idle;
  bool keep_alive_ = true;
  bool http10_ = false;
  bool close_after_ = false;
  bool linger_ = false;
  bool draining_ = false;
};

completion::~completion() {
  if (done_.load(std::memory_order_acquire)) return;
  log_error("responder dropped without a response", "answering 500 if the connection is open");
  send(response::detail(500, "Internal Server Error"));
}

void completion::send(response r) {
  std::lock_guard lock(hub_->mutex);
  if (hub_->stopped) return;  // the io_context may be gone
  if (auto s = session_.lock()) s->deliver(seq_, std::move(r));
}

// ---- WebSockets ---------------------------------------------------------------------------------------------

constexpr std::size_t max_close_reason = 123;  ///< RFC 6455: a close frame's payload is at most 125 bytes
constexpr std::string_view shutting_down_reason = "Server shutting down";
constexpr std::string_view slow_consumer_reason = "Slow consumer: the outgoing message queue is full";

/// One websocket connection after the upgrade. Strand-only members are touched by its io handlers alone; the
/// outgoing queue and the close request are shared with other threads (through ws_handle) under `mutex_`.
///
/// Order of events: handshake → open (reads delivered to on_message; the queue is written one message at a
/// time) → a close request (ours, the route's, or server stop) is honoured once the queue before it is written
/// → closing handshake → finish(): on_close, removal from the hub. Any error tears the socket down and
/// finishes at once.
class ws_session : public std::enable_shared_from_this<ws_session> {
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

  void start() {
    net::dispatch(executor_, [self = shared_from_this()] { self->accept(); });
  }

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
  void force_close() {
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
    const auto ping = std::chrono::duration_cast<std::chrono::steady_clock::duration>(ctx_.options.websocket_ping_interval);
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
      return request_close(close_code::too_big, "Message too big: the limit is " +
                                                    std::to_string(ctx_.options.websocket_max_message_bytes) + " bytes");
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
    std::shared_ptr<ws_session> self;  // released outside the lock
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
  std::shared_ptr<websocket_upgrade> accepted_;           ///< until the handshake is done
  bhttp::request<bhttp::string_body> upgrade_request_;    ///< until the handshake is done
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

void session::upgrade(std::shared_ptr<websocket_upgrade> accepted) {
  if (!websocket::is_upgrade(parser_->get())) {
    // Only router::add_websocket sets `upgrade`, and only for upgrade requests.
    log_error("a route accepted a websocket upgrade for a plain request", req_.path);
    return write(response::json(500, std::string(exception_body)));
  }
  if (draining_) {
    keep_alive_ = false;
    return write(response::detail(503, "Server shutting down"));
  }
  if (const auto& origin = req_.header("origin"); !origin_allowed(origin, ctx_.origins)) {
    keep_alive_ = false;
    return write(response::detail(403, "Origin '" + origin + "' may not open websockets on this server "
                                       "(allowed: its own origin and server.allowed_origins)"));
  }
  stream_.expires_never();
  std::shared_ptr<ws_session> ws;
  {
    std::lock_guard lock(hub_->mutex);
    if (!hub_->draining) {
      const auto id = hub_->next_id++;
      ws = std::make_shared<ws_session>(std::move(stream_), ctx_, hub_, id, std::move(accepted), parser_->release());
      hub_->websockets.emplace(id, ws);
    }
  }
  if (!ws) return close();  // stop() began meanwhile
  phase_ = phase::closed;   // the socket now belongs to the ws_session
  forget();
  ws->start();
}

std::string host_port(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

struct server::impl {
  impl(server_options o, const router& r)
      : options(std::move(o)),
        ctx{options, r, {options.host, options.port, options.allowed_origins}},
        ioc(static_cast<int>(options.io_threads == 0 ? 1 : options.io_threads)),
        acceptor(net::make_strand(ioc)),
        accept_timer(acceptor.get_executor()) {}

  void do_accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      on_accept(ec, std::move(socket));
    });
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open()) return;  // stop() closed it
    if (ec) {
      // Typically EMFILE: back off briefly instead of spinning.
      log_error("accept failed", ec.message());
      accept_timer.expires_after(accept_retry);
      accept_timer.async_wait([this](beast::error_code tec) {
        if (!tec && acceptor.is_open()) do_accept();
      });
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::shared_ptr<session> s;
    {
      std::lock_guard lock(h->mutex);
      if (!h->draining) {
        const auto id = h->next_id++;
        s = std::make_shared<session>(std::move(socket), ctx, h, id);
        h->sessions.emplace(id, s);
      }
    }
    if (s) s->start();
    do_accept();
  }

  server_options options;
  context ctx;
  std::shared_ptr<hub> h = std::make_shared<hub>();
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  tcp::acceptor acceptor;
  net::steady_timer accept_timer;
  std::vector<std::thread> threads;
  std::uint16_t port = 0;
  bool running = false;
};

server::server(server_options options, const router& routes)
    : impl_(std::make_unique<impl>(std::move(options), routes)) {}

server::~server() { stop(); }

status server::start() {
  impl& m = *impl_;
  if (m.running || m.h->draining) return {errc::failed_precondition, "the HTTP server was already started"};
  std::string host = m.options.host;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string where = host_port(host, m.options.port);

  beast::error_code ec;
  tcp::endpoint endpoint;
  const auto address = net::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, m.options.port);
  } else {  // a name such as "localhost"; resolving it once at start-up may block briefly
    tcp::resolver resolver(m.ioc);
    const auto results = resolver.resolve(host, std::to_string(m.options.port), ec);
    if (ec || results.empty()) {
      return {errc::unavailable,
              "cannot listen on " + where + ": " + (ec ? ec.message() : std::string("no address found"))};
    }
    endpoint = results.begin()->endpoint();
  }

  m.acceptor.open(endpoint.protocol(), ec);
  if (!ec) m.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(endpoint, ec);
  if (!ec) m.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (!ec) m.port = m.ctx.origins.port = m.acceptor.local_endpoint(ec).port();
  if (ec) {
    beast::error_code ignored;
    m.acceptor.close(ignored);
    return {errc::unavailable, "cannot listen on " + where + ": " + ec.message()};
  }

  m.work.emplace(m.ioc.get_executor());
  m.do_accept();
  const unsigned n = m.options.io_threads == 0 ? 1 : m.options.io_threads;
  try {
    for (unsigned i = 0; i < n; ++i) {
      m.threads.emplace_back([&io = m.ioc] {
        for (;;) {
          try {
            io.run();
            return;
          } catch (const std::exception& e) {  // handlers catch their own; keep serving regardless
            log_error("io thread caught", e.what());
          }
        }
      });
    }
  } catch (const std::system_error& e) {
    if (m.threads.empty()) {  // nothing runs the io_context: tear down here
      beast::error_code ignored;
      m.acceptor.close(ignored);
      m.work.reset();
      std::lock_guard lock(m.h->mutex);
      m.h->draining = m.h->stopped = true;
    } else {
      m.running = true;
      stop(std::chrono::milliseconds(0));
    }
    return {errc::internal, std::string("cannot start the HTTP io threads: ") + e.what()};
  }
  m.running = true;
  return {};
}

std::uint16_t server::bound_port() const { return impl_->port; }

void server::stop(std::chrono::milliseconds grace) {
  impl& m = *impl_;
  if (!m.running) return;
  m.running = false;
  // Joining our own io thread would deadlock: stop() belongs to the controlling thread, never to a handler.
  assert(!m.ioc.get_executor().running_in_this_thread());
  const auto deadline = std::chrono::steady_clock::now() + grace;

  // 1. No new connections. Closing on the acceptor's strand also cancels a pending accept; an accept that had
  //    already completed finds `draining` set and drops its socket.
  {
    std::lock_guard lock(m.h->mutex);
    m.h->draining = true;
  }
  std::promise<void> acceptor_closed;
  net::post(m.acceptor.get_executor(), [&m, &acceptor_closed] {
    beast::error_code ignored;
    m.acceptor.close(ignored);
    m.accept_timer.cancel();
    acceptor_closed.set_value();
  });
  acceptor_closed.get_future().wait();

  // 2. Idle connections close now, busy ones after their response, websockets after their queued messages
  //    (1001); wait for them up to `grace`, then close whatever is left. Only then do responders stop posting.
  {
    std::unique_lock lock(m.h->mutex);
    for (auto& entry : m.h->sessions) entry.second->drain();
    for (auto& entry : m.h->websockets)
      entry.second->request_close(close_code::going_away, std::string(shutting_down_reason));
    const auto all_closed = [&m] { return m.h->empty(); };
    if (!m.h->drained.wait_until(lock, deadline, all_closed)) {
      for (auto& entry : m.h->sessions) entry.second->force_close();
      for (auto& entry : m.h->websockets) entry.second->force_close();
      m.h->drained.wait_for(lock, force_close_wait, all_closed);
    }
    m.h->stopped = true;
  }

  // 3. Stop and join the io threads. Handlers still queued are destroyed with the io_context (~impl).
  m.work.reset();
  m.ioc.stop();
  for (auto& t : m.threads) t.join();
  m.threads.clear();
  std::unordered_map<std::uint64_t, std::shared_ptr<session>> left;
  std::unordered_map<std::uint64_t, std::shared_ptr<ws_session>> left_websockets;
  {
    std::lock_guard lock(m.h->mutex);
    left.swap(m.h->sessions);
    left_websockets.swap(m.h->websockets);
  }
}

}  // namespace osprey::http

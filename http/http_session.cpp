// One HTTP/1.1 connection (keep-alive, pipelining, 100-continue, limits) on its own strand, and the completion
// that carries a handler's response back to it from any thread. See http/server.cpp's file comment for the
// threading and lifetime rules.
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "http/transport.hpp"

namespace osprey::http::transport {
namespace {

namespace websocket = boost::beast::websocket;

/// Logs that a limit refused a client, at most once a minute per limit: a flood of refusals must not become a
/// flood of log lines.
void log_limit_once(const char* limit, std::size_t cap) {
  static std::mutex m;
  static std::map<std::string, std::chrono::steady_clock::time_point> last;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(m);
    auto& when = last[limit];
    if (when != std::chrono::steady_clock::time_point{} && now - when < std::chrono::minutes(1)) return;
    when = now;
  }
  log::line(log::level::warning, "http", "refusing clients: ", limit, " at their limit of ", cap, " (raise server.max_",
            limit, " if this load is expected)");
}

constexpr auto linger_timeout = std::chrono::seconds(1);  ///< reading the rest of a rejected request
constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";

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

class session final : public connection, public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket&& socket, const context& ctx, std::shared_ptr<hub> h, std::uint64_t id)
      : stream_(std::move(socket)), executor_(stream_.get_executor()), ctx_(ctx), hub_(std::move(h)), id_(id) {}

  void start() override {
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) req_.remote_address = peer.address().to_string();
    net::dispatch(executor_, [self = shared_from_this()] { self->read_next(); });
  }

  /// Any thread. Closes the connection if it is idle between requests, otherwise after the current response.
  void drain() override {
    net::post(executor_, [self = shared_from_this()] {
      self->draining_ = true;
      if (self->phase_ == phase::idle) self->close();
    });
  }

  /// Any thread. Closes the connection now; a response still to come is dropped.
  void force_close() override {
    net::post(executor_, [self = shared_from_this()] { self->close(); });
  }

  /// Any thread (called by a completion under the hub's mutex, with the io_context alive).
  void deliver(std::uint64_t seq, response r) {
    net::post(executor_,
              [self = shared_from_this(), seq, r = std::move(r)]() mutable { self->on_response(seq, std::move(r)); });
  }

 private:
  enum class phase { idle, reading, handling, writing, lingering, closed };

  // Each request: [wait for first bytes: keep_alive_timeout] → head → [100 Continue] → body (the whole request
  // within read_timeout) → handler → write → next request or close.
  void read_next() {
    if (draining_) return close();
    head_only_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(ctx_.options.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(static_cast<std::uint64_t>(ctx_.options.max_body_bytes));
    if (buffer_.size() > 0) return read_header();  // a pipelined request is already buffered
    phase_ = phase::idle;
    stream_.expires_after(ctx_.options.keep_alive_timeout);
    stream_.async_read_some(
        buffer_.prepare(read_chunk),
        [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->on_first_bytes(ec, n); });
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
                             [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
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
      return reject(413, "Request body too large: limit is " + std::to_string(ctx_.options.max_body_bytes) + " bytes");
    }
    if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
      return reject(431, "Request header fields too large");
    }
    static const auto& http_category = bhttp::make_error_code(bhttp::error::bad_method).category();
    if (ec.category() == http_category && ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
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
    head_only_ = req_.method == "HEAD";
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
    if (head_only_) body_.clear();  // HEAD: the GET's head, Content-Length included, and no body

    phase_ = phase::writing;
    stream_.expires_after(ctx_.options.read_timeout);
    const std::array<net::const_buffer, 2> buffers{net::buffer(head_), net::buffer(body_)};
    net::async_write(stream_, buffers,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
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
    std::shared_ptr<connection> self;  // released outside the lock (a running handler still holds another)
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

  beast::flat_buffer buffer_;                                        ///< reused for the connection's lifetime
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;  ///< fresh per request
  request req_;                                      ///< reused; valid for the handler until it responds
  std::chrono::steady_clock::time_point started_{};  ///< when req_ was read (the debug request log)
  std::string head_;                                 ///< response head, reused
  std::string body_;                                 ///< response body being written
  std::uint64_t seq_ = 0;                            ///< number of the request being handled
  bool head_only_ = false;                           ///< the request being answered is a HEAD
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
    return write(response::detail(403, "Origin '" + origin +
                                           "' may not open websockets on this server "
                                           "(allowed: its own origin and server.allowed_origins)"));
  }
  if (const auto cap = ctx_.options.max_websockets; cap > 0) {
    std::lock_guard lock(hub_->mutex);
    if (hub_->websockets.size() >= cap) {
      keep_alive_ = false;
      log_limit_once("websockets", cap);
      return write(response::detail(
          503, "Too many open websockets (server.max_websockets = " + std::to_string(cap) + "); try again later"));
    }
  }
  stream_.expires_never();
  auto ws = adopt_websocket(std::move(stream_), ctx_, hub_, std::move(accepted), parser_->release());
  if (!ws) return close();  // stop() began meanwhile
  phase_ = phase::closed;   // the socket now belongs to the ws_session
  forget();
  ws->start();
}

}  // namespace

void serve_http(tcp::socket&& socket, const context& ctx, const std::shared_ptr<hub>& h) {
  std::shared_ptr<session> s;
  {
    std::lock_guard lock(h->mutex);
    if (h->draining) return;
    if (const auto cap = ctx.options.max_connections; cap > 0 && h->sessions.size() + h->websockets.size() >= cap) {
      // Refused before any request is read: a short 503 written at once (a fresh socket's send buffer takes
      // it without blocking), then closed, so a client sees why instead of a reset.
      log_limit_once("connections", cap);
      const std::string body =
          "{\"detail\":\"Too many open connections (server.max_connections = " + std::to_string(cap) +
          "); try again later\"}";
      const std::string answer =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
          "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body;
      beast::error_code ignored;
      socket.non_blocking(true, ignored);
      socket.write_some(net::buffer(answer), ignored);
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
      return;
    }
    const auto id = h->next_id++;
    s = std::make_shared<session>(std::move(socket), ctx, h, id);
    h->sessions.emplace(id, s);
  }
  s->start();
}

}  // namespace osprey::http::transport

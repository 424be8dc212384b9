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

#include "http/server.hpp"

#include <array>
#include <atomic>
#include <cassert>
#include <charconv>
#include <condition_variable>
#include <cstdio>
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

namespace osprey::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

constexpr std::uint32_t header_limit = 64 * 1024;         ///< larger request heads: 431
constexpr std::size_t read_chunk = 16 * 1024;             ///< first read of a request
constexpr auto linger_timeout = std::chrono::seconds(1);  ///< reading the rest of a rejected request
constexpr auto force_close_wait = std::chrono::seconds(1);
constexpr auto accept_retry = std::chrono::milliseconds(50);
constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view exception_body = R"({"exception_message":"Internal Server Error"})";

void log_error(const char* what, std::string_view detail) {
  std::fprintf(stderr, "osprey http: %s: %.*s\n", what, static_cast<int>(detail.size()), detail.data());
}

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

/// State shared by the server, its sessions and every outstanding responder (see the file comment).
struct hub {
  std::mutex mutex;
  std::condition_variable drained;  ///< notified when `sessions` becomes empty while draining
  bool draining = false;            ///< stop() has begun: new connections are refused
  bool stopped = false;             ///< the io threads are gone or going: responders drop their responses
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, std::shared_ptr<session>> sessions;  ///< open connections
};

/// What sessions read; owned by server::impl, which outlives the io threads.
struct context {
  const server_options& options;
  const router& routes;
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
      : stream_(std::move(socket)), ctx_(ctx), hub_(std::move(h)), id_(id) {}

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_next(); });
  }

  /// Any thread. Closes the connection if it is idle between requests, otherwise after the current response.
  void drain() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->draining_ = true;
      if (self->phase_ == phase::idle) self->close();
    });
  }

  /// Any thread. Closes the connection now; a response still to come is dropped.
  void force_close() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
  }

  /// Any thread (called by a completion under the hub's mutex, with the io_context alive).
  void deliver(std::uint64_t seq, response r) {
    net::post(stream_.get_executor(), [self = shared_from_this(), seq, r = std::move(r)]() mutable {
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
  }

  void on_response(std::uint64_t seq, response r) {
    if (phase_ != phase::handling || seq != seq_) return;  // connection closed meanwhile, or a stale answer
    write(std::move(r));
  }

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
    std::shared_ptr<session> self;  // released outside the lock (a running handler still holds another)
    {
      std::lock_guard lock(hub_->mutex);
      const auto it = hub_->sessions.find(id_);
      if (it != hub_->sessions.end()) {
        self = std::move(it->second);
        hub_->sessions.erase(it);
      }
      if (hub_->draining && hub_->sessions.empty()) hub_->drained.notify_all();
    }
  }

  beast::tcp_stream stream_;
  const context& ctx_;
  std::shared_ptr<hub> hub_;
  const std::uint64_t id_;

  beast::flat_buffer buffer_;  ///< reused for the connection's lifetime
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;  ///< fresh per request
  request req_;                ///< reused; valid for the handler until it responds
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

std::string host_port(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

struct server::impl {
  impl(server_options o, const router& r)
      : options(std::move(o)),
        ctx{options, r},
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
  if (!ec) m.port = m.acceptor.local_endpoint(ec).port();
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

  // 2. Idle connections close now, busy ones after their response; wait for them up to `grace`, then close
  //    whatever is left. Only then do responders stop posting.
  {
    std::unique_lock lock(m.h->mutex);
    for (auto& entry : m.h->sessions) entry.second->drain();
    const auto all_closed = [&m] { return m.h->sessions.empty(); };
    if (!m.h->drained.wait_until(lock, deadline, all_closed)) {
      for (auto& entry : m.h->sessions) entry.second->force_close();
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
  {
    std::lock_guard lock(m.h->mutex);
    left.swap(m.h->sessions);
  }
}

}  // namespace osprey::http

// The Beast transport's server: the acceptor, the io threads, start and stop. The transport is three translation
// units (this one, http_session.cpp, ws_session.cpp; their shared internals in transport.hpp), the only ones
// that include Beast (each about 15 s and 1 GiB to compile): keep route code in files of their own.
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

#include <cassert>
#include <future>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/error.hpp>

#include "http/transport.hpp"

namespace osprey::http {
namespace {

using namespace transport;

constexpr auto force_close_wait = std::chrono::seconds(1);
constexpr auto accept_retry = std::chrono::milliseconds(50);

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
    acceptor.async_accept(net::make_strand(ioc),
                          [this](beast::error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
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
    transport::serve_http(std::move(socket), ctx, h);
    do_accept();
  }

  server_options options;
  transport::context ctx;
  std::shared_ptr<transport::hub> h = std::make_shared<transport::hub>();
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
    for (auto& entry : m.h->websockets) entry.second->drain();
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
  std::unordered_map<std::uint64_t, std::shared_ptr<transport::connection>> left;
  std::unordered_map<std::uint64_t, std::shared_ptr<transport::connection>> left_websockets;
  {
    std::lock_guard lock(m.h->mutex);
    left.swap(m.h->sessions);
    left_websockets.swap(m.h->websockets);
  }
}

}  // namespace osprey::http

// The test HTTP receiver: Beast on one io thread. Each connection is a `session` that reads a request,
// records it, waits (timer) if the answer is delayed, writes the answer and reads the next one.
//
// Lifetimes: sessions hold the shared `state` (recordings, scripts), never the receiver. The destructor stops
// the io_context and joins the thread; destroying the io_context then destroys the pending handlers and
// with them the sessions and their sockets.

#include "tests/support/http_receiver.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace osprey::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t max_request_body = 64U << 20U;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct state {
  mutable std::mutex mu;
  mutable std::condition_variable arrived;
  std::vector<recorded_request> requests;
  scripted_response fallback{200, {}, "ok", std::chrono::milliseconds(0)};
  std::deque<scripted_response> scripts;
  std::vector<std::pair<std::string, std::deque<scripted_response>>> by_prefix;
  std::atomic<std::size_t> connections{0};

  // Records `r` and picks its answer.
  scripted_response take(recorded_request r) {
    std::lock_guard lock(mu);
    scripted_response answer = fallback;
    std::deque<scripted_response>* best = nullptr;
    std::size_t best_length = 0;
    for (auto& [prefix, queue] : by_prefix) {
      if (!queue.empty() && r.target.starts_with(prefix) && (best == nullptr || prefix.size() > best_length)) {
        best = &queue;
        best_length = prefix.size();
      }
    }
    if (best != nullptr) {
      answer = std::move(best->front());
      best->pop_front();
    } else if (!scripts.empty()) {
      answer = std::move(scripts.front());
      scripts.pop_front();
    }
    requests.push_back(std::move(r));
    arrived.notify_all();
    return answer;
  }
};

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, std::shared_ptr<state> st)
      : stream_(std::move(socket)), timer_(stream_.get_executor()), state_(std::move(st)) {}

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(max_request_body);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) return close();
    auto& req = parser_->get();
    recorded_request r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    for (const auto& field : req) {
      auto name = lower(field.name_string());
      auto [it, inserted] = r.headers.emplace(name, std::string(field.value()));
      if (!inserted) it->second += ", " + std::string(field.value());
    }
    r.body = std::move(req.body());
    r.received = std::chrono::steady_clock::now();
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    scripted_response answer = state_->take(std::move(r));

    res_ = {};
    res_.version(version);
    res_.result(static_cast<unsigned>(answer.status));
    for (const auto& [name, value] : answer.headers) res_.insert(name, value);
    res_.body() = std::move(answer.body);
    res_.keep_alive(keep_alive);
    res_.prepare_payload();
    if (answer.delay.count() > 0) {
      timer_.expires_after(answer.delay);
      timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
        if (!wait_ec) self->write();
      });
    } else {
      write();
    }
  }

  void write() {
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      if (!self->res_.keep_alive()) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  asio::steady_timer timer_;
  std::shared_ptr<state> state_;
};

}  // namespace

struct http_receiver::impl {
  std::shared_ptr<state> st = std::make_shared<state>();
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::uint16_t port = 0;
  std::thread thread;

  impl() {
    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    port = acceptor.local_endpoint().port();
    accept();
    thread = std::thread([this] { ioc.run(); });
  }

  ~impl() {
    ioc.stop();
    if (thread.joinable()) thread.join();
  }

  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        st->connections.fetch_add(1);
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<session>(std::move(socket), st)->start();
      }
      accept();
    });
  }
};

http_receiver::http_receiver() : impl_(std::make_unique<impl>()) {}
http_receiver::~http_receiver() = default;

std::uint16_t http_receiver::port() const { return impl_->port; }

std::string http_receiver::base_url() const { return "http://127.0.0.1:" + std::to_string(impl_->port); }

void http_receiver::set_default(scripted_response r) {
  std::lock_guard lock(impl_->st->mu);
  impl_->st->fallback = std::move(r);
}

void http_receiver::script(scripted_response r) {
  std::lock_guard lock(impl_->st->mu);
  impl_->st->scripts.push_back(std::move(r));
}

void http_receiver::script_for(std::string target_prefix, scripted_response r) {
  std::lock_guard lock(impl_->st->mu);
  auto& by_prefix = impl_->st->by_prefix;
  auto found =
      std::find_if(by_prefix.begin(), by_prefix.end(), [&](const auto& entry) { return entry.first == target_prefix; });
  if (found == by_prefix.end()) {
    by_prefix.emplace_back(std::move(target_prefix), std::deque<scripted_response>{});
    found = std::prev(by_prefix.end());
  }
  found->second.push_back(std::move(r));
}

std::vector<recorded_request> http_receiver::requests() const {
  std::lock_guard lock(impl_->st->mu);
  return impl_->st->requests;
}

std::size_t http_receiver::count() const {
  std::lock_guard lock(impl_->st->mu);
  return impl_->st->requests.size();
}

std::size_t http_receiver::connections() const { return impl_->st->connections.load(); }

bool http_receiver::wait_for(std::size_t n, std::chrono::milliseconds deadline) const {
  std::unique_lock lock(impl_->st->mu);
  return impl_->st->arrived.wait_for(lock, deadline, [&] { return impl_->st->requests.size() >= n; });
}

void http_receiver::clear() {
  std::lock_guard lock(impl_->st->mu);
  impl_->st->requests.clear();
  impl_->st->scripts.clear();
  impl_->st->by_prefix.clear();
}

std::uint16_t unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  if (port == 0) throw std::runtime_error("could not find a free port");
  return port;
}

}  // namespace osprey::testing

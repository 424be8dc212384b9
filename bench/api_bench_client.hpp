#pragma once
// The two connections api_bench opens per simulated client, as C++20 coroutines on Boost.Asio:
// - http_client: one HTTP/1.1 keep-alive connection, reconnecting once when a kept-alive connection went stale;
// - event_stream: the `/api/events/in` websocket with Prefect's handshake (subprotocol "prefect", then
//   {"type":"auth","token":null} → {"type":"auth_success"}), one text frame per event, and checkpoints by
//   ping/pong the way the Prefect client confirms delivery (the server has read every earlier frame when it
//   answers a ping).
// Not thread-safe: each object is used from one strand (the coroutine that owns it).

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "bench/api_bench_support.hpp"

namespace osprey::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

inline constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
/// What the Prefect client sends; the server parses the client version out of it for two orchestration rules.
inline constexpr const char* user_agent = "prefect/3.9.1 (API 0.8.4)";
inline constexpr const char* api_version = "0.8.4";

inline double elapsed_ms(steady::time_point from, steady::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

/// One answer. `status` 0 means a transport failure, described in `error`.
struct reply {
  unsigned status = 0;
  std::string body;
  std::string error;
  unsigned retry_after_seconds = 0;  ///< from a Retry-After header, 0 if none
  double retry_after = 0;            ///< the same with its fraction (Prefect's 423s say "0.6931471805599453")
  [[nodiscard]] bool ok() const { return error.empty() && status >= 200 && status < 300; }
};

class http_client {
 public:
  http_client(asio::any_io_executor executor, const target& where, tcp::resolver::results_type endpoints)
      : stream_(std::move(executor)), target_(where), endpoints_(std::move(endpoints)) {}

  /// Sends one request and reads the answer. A kept-alive connection the server had closed is reopened and the
  /// request sent once more (counted in reconnects()); any other transport failure is returned as status 0.
  asio::awaitable<reply> request(bhttp::verb verb, const std::string& path, std::string body) {
    bhttp::request<bhttp::string_body> req{verb, path, 11};
    req.set(bhttp::field::host, target_.host_header());
    req.set(bhttp::field::user_agent, user_agent);
    req.set("X-PREFECT-API-VERSION", api_version);
    if (!body.empty()) req.set(bhttp::field::content_type, "application/json");
    req.body() = std::move(body);
    req.keep_alive(true);
    req.prepare_payload();
    for (int attempt = 0;; ++attempt) {
      const bool reused = open_;
      if (!open_) {
        stream_.expires_after(std::chrono::seconds(10));
        auto [ec, endpoint] = co_await stream_.async_connect(endpoints_, nothrow);
        if (ec) co_return reply{0, {}, "connect: " + ec.message(), 0};
        stream_.socket().set_option(tcp::no_delay(true));
        open_ = true;
      }
      stream_.expires_after(std::chrono::seconds(120));
      auto [write_error, written] = co_await bhttp::async_write(stream_, req, nothrow);
      beast::error_code ec = write_error;
      if (!ec) {
        bhttp::response_parser<bhttp::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        auto [read_error, read] = co_await bhttp::async_read(stream_, buffer_, parser, nothrow);
        ec = read_error;
        if (!ec) {
          auto res = parser.release();
          reply out{res.result_int(), std::move(res.body()), {}, 0};
          if (auto it = res.find(bhttp::field::retry_after); it != res.end()) {
            const std::string text(it->value());
            out.retry_after_seconds = static_cast<unsigned>(std::strtoul(text.c_str(), nullptr, 10));
            out.retry_after = std::strtod(text.c_str(), nullptr);
          }
          if (!res.keep_alive()) close();
          co_return out;
        }
      }
      close();
      if (reused && attempt == 0) {
        ++reconnects_;
        continue;
      }
      co_return reply{0, {}, ec.message(), 0};
    }
  }

  [[nodiscard]] std::uint64_t reconnects() const { return reconnects_; }

 private:
  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    buffer_.clear();
    open_ = false;
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  target target_;
  tcp::resolver::results_type endpoints_;
  bool open_ = false;
  std::uint64_t reconnects_ = 0;
};

/// The events websocket. Create with std::make_shared (its reader coroutine keeps it alive until closed).
class event_stream : public std::enable_shared_from_this<event_stream> {
 public:
  explicit event_stream(asio::any_io_executor executor) : ws_(executor), pong_waiter_(executor) {}

  /// Connects, upgrades and authenticates. "" on success, else what went wrong (e.g. "HTTP 404").
  asio::awaitable<std::string> open(const target& where, const tcp::resolver::results_type& endpoints) {
    auto& tcp_stream = beast::get_lowest_layer(ws_);
    tcp_stream.expires_after(std::chrono::seconds(10));
    auto [connect_error, endpoint] = co_await tcp_stream.async_connect(endpoints, nothrow);
    if (connect_error) co_return "connect: " + connect_error.message();
    tcp_stream.socket().set_option(tcp::no_delay(true));
    tcp_stream.expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
      req.set(bhttp::field::sec_websocket_protocol, "prefect");
      req.set(bhttp::field::user_agent, user_agent);
    }));
    ws_.text(true);
    websocket::response_type upgrade;
    auto [handshake_error] =
        co_await ws_.async_handshake(upgrade, where.host_header(), where.base_path + "/events/in", nothrow);
    if (handshake_error) {
      if (upgrade.result_int() != 0 && upgrade.result() != bhttp::status::switching_protocols)
        co_return "HTTP " + std::to_string(upgrade.result_int()) + " on the websocket upgrade";
      co_return "handshake: " + handshake_error.message();
    }
    constexpr std::string_view auth = R"({"type":"auth","token":null})";
    auto [auth_error, auth_sent] = co_await ws_.async_write(asio::buffer(auth), nothrow);
    if (auth_error) co_return "auth: " + auth_error.message();
    beast::flat_buffer answer;
    auto [read_error, read] = co_await ws_.async_read(answer, nothrow);
    if (read_error) co_return "auth reply: " + read_error.message();
    const auto text = beast::buffers_to_string(answer.data());
    if (text.find("auth_success") == std::string::npos) co_return "auth reply: " + text;
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view payload) {
      if (kind == websocket::frame_type::pong) on_pong(payload);
    });
    asio::co_spawn(ws_.get_executor(), read_loop(shared_from_this()), asio::detached);
    co_return "";
  }

  /// Sends one event (one text frame). False when the connection failed.
  asio::awaitable<bool> send(const std::string& event) {
    auto [ec, n] = co_await ws_.async_write(asio::buffer(event), nothrow);
    if (ec) failed_ = true;
    co_return !ec;
  }

  /// Pings; when the pong comes back, `started` → pong is added to `into` (if not null). Returns at once after
  /// the ping was written.
  asio::awaitable<bool> checkpoint(steady::time_point started, samples* into) {
    const auto seq = ++last_ping_;
    pending_.push_back({seq, started, into});
    const auto payload = std::to_string(seq);
    auto [ec] = co_await ws_.async_ping(websocket::ping_data(payload.c_str()), nothrow);
    if (ec) failed_ = true;
    co_return !ec;
  }

  /// Waits until every checkpoint was answered (true) or `limit` passed (false).
  asio::awaitable<bool> wait_for_pongs(std::chrono::milliseconds limit) {
    const auto deadline = steady::now() + limit;
    while (!pending_.empty() && !failed_ && steady::now() < deadline) {
      pong_waiter_.expires_at(deadline);
      co_await pong_waiter_.async_wait(nothrow);  // cancelled by on_pong when the last one arrives
    }
    co_return pending_.empty();
  }

  asio::awaitable<void> close() {
    auto [ec] = co_await ws_.async_close(websocket::close_code::normal, nothrow);
    (void)ec;
  }

  [[nodiscard]] bool failed() const { return failed_; }

 private:
  struct checkpoint_entry {
    std::uint64_t seq;
    steady::time_point started;
    samples* into;
  };

  // Keeps a read pending: Beast processes control frames (our pongs, the server's pings) only inside a read.
  static asio::awaitable<void> read_loop(std::shared_ptr<event_stream> self) {
    beast::flat_buffer ignored;
    for (;;) {
      auto [ec, n] = co_await self->ws_.async_read(ignored, nothrow);
      if (ec) break;
      ignored.clear();
    }
    self->failed_ = true;
    self->pong_waiter_.cancel();
  }

  void on_pong(beast::string_view payload) {
    const auto seq = std::strtoull(std::string(payload).c_str(), nullptr, 10);
    const auto now = steady::now();
    while (!pending_.empty() && pending_.front().seq <= seq) {  // frames arrive in order: earlier pings are done
      if (pending_.front().into) pending_.front().into->ms.push_back(elapsed_ms(pending_.front().started, now));
      pending_.pop_front();
    }
    if (pending_.empty()) pong_waiter_.cancel();
  }

  websocket::stream<beast::tcp_stream> ws_;
  asio::steady_timer pong_waiter_;
  std::deque<checkpoint_entry> pending_;
  std::uint64_t last_ping_ = 0;
  bool failed_ = false;
};

}  // namespace osprey::bench

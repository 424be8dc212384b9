#pragma once
// A small blocking WebSocket client (Boost.Beast) for tests, loopback only. Every call has a deadline, so a
// misbehaving server fails a test instead of hanging it. Header-only: include it only in test files that need
// it (Beast is slow to compile) and link Boost::headers.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace osprey::testing {

class ws_client {
public:
  static constexpr std::chrono::milliseconds default_deadline{5000};

  /// How the connection ended, as seen by the client.
  struct close_info {
    bool closed = false;       ///< the connection is over
    std::uint16_t code = 0;    ///< the server's close code (1006 when it sent none)
    std::string reason;
  };

  ws_client() = default;
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;
  ~ws_client() {
    boost::beast::error_code ignored;
    boost::beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  /// Sends `origin` as the Origin header of the next handshake, as a browser would ("" sends none, the default).
  void set_origin(std::string origin) { origin_ = std::move(origin); }

  /// Connects to ws://127.0.0.1:<port><target> offering `subprotocols` ("a, b"; "" offers none). False on
  /// failure; handshake_status() then holds the HTTP status of a declined upgrade (0 if none arrived).
  bool connect(std::uint16_t port, const std::string& target, const std::string& subprotocols = "prefect",
               std::chrono::milliseconds deadline = default_deadline) {
    namespace net = boost::asio;
    boost::beast::error_code ec;
    const net::ip::tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
    bool done = run(deadline, [&](auto finish) {
      boost::beast::get_lowest_layer(ws_).async_connect(endpoint, [finish, &ec](boost::beast::error_code e) {
        ec = e;
        finish();
      });
    });
    if (!done || ec) return false;
    ws_.set_option(boost::beast::websocket::stream_base::decorator(
        [subprotocols, origin = origin_](boost::beast::websocket::request_type& req) {
          if (!subprotocols.empty()) req.set(boost::beast::http::field::sec_websocket_protocol, subprotocols);
          if (!origin.empty()) req.set(boost::beast::http::field::origin, origin);
        }));
    done = run(deadline, [&](auto finish) {
      ws_.async_handshake(response_, "127.0.0.1:" + std::to_string(port), target,
                          [finish, &ec](boost::beast::error_code e) {
                            ec = e;
                            finish();
                          });
    });
    handshake_status_ = response_.result_int();
    if (!done || ec) return false;
    subprotocol_ = std::string(response_[boost::beast::http::field::sec_websocket_protocol]);
    // Let the server's large test messages through (the client's own limit is not under test).
    ws_.read_message_max(64u << 20);
    return true;
  }

  [[nodiscard]] unsigned handshake_status() const { return handshake_status_; }
  [[nodiscard]] const std::string& subprotocol() const { return subprotocol_; }
  [[nodiscard]] const close_info& closed() const { return closed_; }
  [[nodiscard]] std::size_t pings_received() const { return pings_; }

  /// Sends one text (or binary) message.
  bool send(const std::string& message, bool binary = false,
            std::chrono::milliseconds deadline = default_deadline) {
    boost::beast::error_code ec;
    ws_.binary(binary);
    const bool done = run(deadline, [&](auto finish) {
      ws_.async_write(boost::asio::buffer(message), [finish, &ec](boost::beast::error_code e, std::size_t) {
        ec = e;
        finish();
      });
    });
    return done && !ec;
  }

  /// The next message; nullopt when the connection closed (see closed()) or nothing came before the deadline.
  std::optional<std::string> read(std::chrono::milliseconds deadline = default_deadline) {
    if (closed_.closed) return std::nullopt;
    ws_.control_callback([this](boost::beast::websocket::frame_type kind, boost::beast::string_view) {
      if (kind == boost::beast::websocket::frame_type::ping) ++pings_;
    });
    boost::beast::error_code ec;
    boost::beast::flat_buffer buffer;
    const bool done = run(deadline, [&](auto finish) {
      ws_.async_read(buffer, [finish, &ec](boost::beast::error_code e, std::size_t) {
        ec = e;
        finish();
      });
    });
    if (!done) return std::nullopt;
    if (ec) {
      note_closed(ec);
      return std::nullopt;
    }
    return boost::beast::buffers_to_string(buffer.data());
  }

  /// Reads (and discards) messages until the server closes the connection; how it ended, or closed=false
  /// when it was still open at the deadline.
  close_info wait_closed(std::chrono::milliseconds deadline = default_deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!closed_.closed) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      if (!read(left) && !closed_.closed) break;
    }
    return closed_;
  }

  /// Closes from the client side with `code` and waits for the server's answer.
  bool close(std::uint16_t code = 1000, const std::string& reason = "",
             std::chrono::milliseconds deadline = default_deadline) {
    boost::beast::error_code ec;
    const boost::beast::websocket::close_reason why(static_cast<boost::beast::websocket::close_code>(code), reason);
    const bool done = run(deadline, [&](auto finish) {
      ws_.async_close(why, [finish, &ec](boost::beast::error_code e) {
        ec = e;
        finish();
      });
    });
    closed_.closed = true;
    closed_.code = code;
    return done && !ec;
  }

private:
  /// Starts `op` and runs the io_context until it calls `finish` or the deadline passes (then the socket is
  /// closed so that nothing outlives the call). True when it finished in time.
  template <class Op>
  bool run(std::chrono::milliseconds deadline, Op op) {
    bool finished = false;
    op([&finished] { finished = true; });
    ioc_.restart();
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!finished && std::chrono::steady_clock::now() < until) ioc_.run_one_until(until);
    if (finished) return true;
    boost::beast::error_code ignored;
    boost::beast::get_lowest_layer(ws_).socket().close(ignored);
    ioc_.restart();
    while (!finished) ioc_.run_one_for(std::chrono::seconds(1));
    closed_ = {true, 1006, "client deadline passed"};
    return false;
  }

  void note_closed(boost::beast::error_code ec) {
    closed_.closed = true;
    if (ec == boost::beast::websocket::error::closed) {
      closed_.code = ws_.reason().code;
      closed_.reason = std::string(ws_.reason().reason.data(), ws_.reason().reason.size());
    } else {
      closed_.code = 1006;
      closed_.reason = ec.message();
    }
  }

  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_{ioc_};
  boost::beast::websocket::response_type response_;
  unsigned handshake_status_ = 0;
  std::string origin_;
  std::string subprotocol_;
  close_info closed_;
  std::size_t pings_ = 0;
};

}  // namespace osprey::testing

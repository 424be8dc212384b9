#include "tests/support/ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <utility>

namespace osprey::testing {

namespace beast = boost::beast;
namespace net = boost::asio;

struct ws_client::connection {
  net::io_context ioc;
  beast::websocket::stream<beast::tcp_stream> ws{ioc};
  beast::websocket::response_type response;
  unsigned handshake_status = 0;
  std::string origin;
  std::string subprotocol;
  close_info closed;
  std::size_t pings = 0;

  /// Starts `op` and runs the io_context until it calls `finish` or the deadline passes (then the socket is
  /// closed so that nothing outlives the call). True when it finished in time.
  template <class Op>
  bool run(std::chrono::milliseconds deadline, Op op) {
    bool finished = false;
    op([&finished] { finished = true; });
    ioc.restart();
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!finished && std::chrono::steady_clock::now() < until) ioc.run_one_until(until);
    if (finished) return true;
    beast::error_code ignored;
    beast::get_lowest_layer(ws).socket().close(ignored);
    ioc.restart();
    while (!finished) ioc.run_one_for(std::chrono::seconds(1));
    closed = {true, 1006, "client deadline passed"};
    return false;
  }

  void note_closed(beast::error_code ec) {
    closed.closed = true;
    if (ec == beast::websocket::error::closed) {
      closed.code = ws.reason().code;
      closed.reason = std::string(ws.reason().reason.data(), ws.reason().reason.size());
    } else {
      closed.code = 1006;
      closed.reason = ec.message();
    }
  }
};

ws_client::ws_client() : impl_(std::make_unique<connection>()) {}

ws_client::~ws_client() {
  beast::error_code ignored;
  beast::get_lowest_layer(impl_->ws).socket().close(ignored);
}

void ws_client::set_origin(std::string origin) { impl_->origin = std::move(origin); }

bool ws_client::connect(std::uint16_t port, const std::string& target, const std::string& subprotocols,
                        std::chrono::milliseconds deadline) {
  auto& c = *impl_;
  beast::error_code ec;
  const net::ip::tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
  bool done = c.run(deadline, [&](auto finish) {
    beast::get_lowest_layer(c.ws).async_connect(endpoint, [finish, &ec](beast::error_code e) {
      ec = e;
      finish();
    });
  });
  if (!done || ec) return false;
  c.ws.set_option(
      beast::websocket::stream_base::decorator([subprotocols, origin = c.origin](beast::websocket::request_type& req) {
        if (!subprotocols.empty()) req.set(beast::http::field::sec_websocket_protocol, subprotocols);
        if (!origin.empty()) req.set(beast::http::field::origin, origin);
      }));
  done = c.run(deadline, [&](auto finish) {
    c.ws.async_handshake(c.response, "127.0.0.1:" + std::to_string(port), target, [finish, &ec](beast::error_code e) {
      ec = e;
      finish();
    });
  });
  c.handshake_status = c.response.result_int();
  if (!done || ec) return false;
  c.subprotocol = std::string(c.response[beast::http::field::sec_websocket_protocol]);
  // Let the server's large test messages through (the client's own limit is not under test).
  c.ws.read_message_max(64u << 20);
  return true;
}

unsigned ws_client::handshake_status() const { return impl_->handshake_status; }
const std::string& ws_client::subprotocol() const { return impl_->subprotocol; }
const ws_client::close_info& ws_client::closed() const { return impl_->closed; }
std::size_t ws_client::pings_received() const { return impl_->pings; }

bool ws_client::send(const std::string& message, bool binary, std::chrono::milliseconds deadline) {
  auto& c = *impl_;
  beast::error_code ec;
  c.ws.binary(binary);
  const bool done = c.run(deadline, [&](auto finish) {
    c.ws.async_write(net::buffer(message), [finish, &ec](beast::error_code e, std::size_t) {
      ec = e;
      finish();
    });
  });
  return done && !ec;
}

std::optional<std::string> ws_client::read(std::chrono::milliseconds deadline) {
  auto& c = *impl_;
  if (c.closed.closed) return std::nullopt;
  c.ws.control_callback([&c](beast::websocket::frame_type kind, beast::string_view) {
    if (kind == beast::websocket::frame_type::ping) ++c.pings;
  });
  beast::error_code ec;
  beast::flat_buffer buffer;
  const bool done = c.run(deadline, [&](auto finish) {
    c.ws.async_read(buffer, [finish, &ec](beast::error_code e, std::size_t) {
      ec = e;
      finish();
    });
  });
  if (!done) return std::nullopt;
  if (ec) {
    c.note_closed(ec);
    return std::nullopt;
  }
  return beast::buffers_to_string(buffer.data());
}

ws_client::close_info ws_client::wait_closed(std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!impl_->closed.closed) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    if (!read(left) && !impl_->closed.closed) break;
  }
  return impl_->closed;
}

bool ws_client::close(std::uint16_t code, const std::string& reason, std::chrono::milliseconds deadline) {
  auto& c = *impl_;
  beast::error_code ec;
  const beast::websocket::close_reason why(static_cast<beast::websocket::close_code>(code), reason);
  const bool done = c.run(deadline, [&](auto finish) {
    c.ws.async_close(why, [finish, &ec](beast::error_code e) {
      ec = e;
      finish();
    });
  });
  c.closed.closed = true;
  c.closed.code = code;
  return done && !ec;
}

}  // namespace osprey::testing

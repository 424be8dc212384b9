#pragma once
// A small blocking WebSocket client (Boost.Beast) for tests, loopback only. Every call has a deadline, so a
// misbehaving server fails a test instead of hanging it. Beast stays inside ws_client.cpp, compiled once into
// osprey_test_support: instantiating its stream templates in each test file cost 15-20 s of compile per file.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace osprey::testing {

class ws_client {
 public:
  static constexpr std::chrono::milliseconds default_deadline{5000};

  /// How the connection ended, as seen by the client.
  struct close_info {
    bool closed = false;     ///< the connection is over
    std::uint16_t code = 0;  ///< the server's close code (1006 when it sent none)
    std::string reason;
  };

  ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;
  ~ws_client();

  /// Sends `origin` as the Origin header of the next handshake, as a browser would ("" sends none, the default).
  void set_origin(std::string origin);

  /// Connects to ws://127.0.0.1:<port><target> offering `subprotocols` ("a, b"; "" offers none). False on
  /// failure; handshake_status() then holds the HTTP status of a declined upgrade (0 if none arrived).
  bool connect(std::uint16_t port, const std::string& target, const std::string& subprotocols = "prefect",
               std::chrono::milliseconds deadline = default_deadline);

  [[nodiscard]] unsigned handshake_status() const;
  [[nodiscard]] const std::string& subprotocol() const;
  [[nodiscard]] const close_info& closed() const;
  [[nodiscard]] std::size_t pings_received() const;

  /// Sends one text (or binary) message.
  bool send(const std::string& message, bool binary = false, std::chrono::milliseconds deadline = default_deadline);

  /// The next message; nullopt when the connection closed (see closed()) or nothing came before the deadline.
  std::optional<std::string> read(std::chrono::milliseconds deadline = default_deadline);

  /// Reads (and discards) messages until the server closes the connection; how it ended, or closed=false
  /// when it was still open at the deadline.
  close_info wait_closed(std::chrono::milliseconds deadline = default_deadline);

  /// Closes from the client side with `code` and waits for the server's answer.
  bool close(std::uint16_t code = 1000, const std::string& reason = "",
             std::chrono::milliseconds deadline = default_deadline);

 private:
  struct connection;
  std::unique_ptr<connection> impl_;
};

}  // namespace osprey::testing

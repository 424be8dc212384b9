#pragma once
// A real HTTP/1.1 server on 127.0.0.1 for notifier and transport tests: it records every request and answers
// as scripted. Keep-alive, hundreds of concurrent connections, thousands of requests a second; a delayed
// answer waits on a timer, so it never holds up other connections.
//
// Thread-safety: every member may be called from any thread. The server runs on its own thread from
// construction to destruction; the destructor abandons requests still waiting for a delayed answer.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace osprey::testing {

struct recorded_request {
  std::string method;
  std::string target;                          ///< path and query, as sent
  std::map<std::string, std::string> headers;  ///< lower-case names; repeated headers joined with ", "
  std::string body;
  std::chrono::steady_clock::time_point received;
};

struct scripted_response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds delay{0};  ///< wait this long before answering
};

class http_receiver {
 public:
  /// Listens on an ephemeral port; answers 200 "ok" until told otherwise.
  http_receiver();
  ~http_receiver();
  http_receiver(const http_receiver&) = delete;
  http_receiver& operator=(const http_receiver&) = delete;

  [[nodiscard]] std::uint16_t port() const;
  /// "http://127.0.0.1:PORT"
  [[nodiscard]] std::string base_url() const;

  /// The answer when nothing is scripted.
  void set_default(scripted_response r);
  /// Queues an answer for the next request (FIFO, each used once).
  void script(scripted_response r);
  /// Queues an answer for the next request whose target starts with `target_prefix` (FIFO per prefix, each
  /// used once). Takes precedence over script(); among matching prefixes the longest wins.
  void script_for(std::string target_prefix, scripted_response r);

  /// Requests received so far, in arrival order (recorded before the answer is sent).
  [[nodiscard]] std::vector<recorded_request> requests() const;
  [[nodiscard]] std::size_t count() const;
  /// Connections accepted so far (keep-alive clients reuse them).
  [[nodiscard]] std::size_t connections() const;
  /// Waits until at least `n` requests arrived or `deadline` passed; true when they did.
  bool wait_for(std::size_t n, std::chrono::milliseconds deadline) const;
  /// Forgets recorded requests and queued scripts (the default answer and the connection count stay).
  void clear();

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

/// A loopback port nothing listens on (bound, then closed): connecting to it is refused.
std::uint16_t unused_port();

}  // namespace osprey::testing

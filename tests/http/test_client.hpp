#pragma once
// A small blocking HTTP/1.1 client over POSIX sockets for the server tests: it sends raw bytes (so tests can
// send garbage or pipeline) and parses responses with Content-Length framing. Every read has a deadline, so a
// misbehaving server fails a test instead of hanging it.

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace osprey::http::test {

struct reply {
  int status = 0;
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;

  [[nodiscard]] std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class client {
 public:
  static constexpr auto default_deadline = std::chrono::seconds(5);

  explicit client(std::uint16_t port, const std::string& host = "127.0.0.1") {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return;
    fd_ = ::socket(found->ai_family, SOCK_STREAM, 0);
    if (fd_ >= 0 && ::connect(fd_, found->ai_addr, found->ai_addrlen) != 0) {
      error_ = errno;
      ::close(fd_);
      fd_ = -1;
    }
    ::freeaddrinfo(found);
    if (fd_ >= 0) {
      const int one = 1;
      ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
  }
  ~client() {
    if (fd_ >= 0) ::close(fd_);
  }
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  [[nodiscard]] bool connected() const { return fd_ >= 0; }
  [[nodiscard]] int connect_error() const { return error_; }

  /// True when nothing listens on the port any more.
  static bool refused(std::uint16_t port) {
    const client c(port);
    return !c.connected() && c.connect_error() == ECONNREFUSED;
  }

  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /// Sends one request built from the parts (Host and Content-Length added) and reads the reply.
  std::optional<reply> request(const std::string& method, const std::string& target, const std::string& body = "",
                               const std::string& extra_headers = "") {
    if (!send(format(method, target, body, extra_headers))) return std::nullopt;
    return read_reply();
  }

  static std::string format(const std::string& method, const std::string& target, const std::string& body = "",
                            const std::string& extra_headers = "") {
    std::string out = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers;
    if (!body.empty() || method == "POST") out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    return out + "\r\n" + body;
  }

  /// Reads one response (a 1xx interim response counts as one). nullopt on timeout, EOF or malformed input.
  std::optional<reply> read_reply(std::chrono::milliseconds deadline = default_deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    std::size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(until)) return std::nullopt;
    }
    reply r;
    const std::string head = buffer_.substr(0, head_end);
    buffer_.erase(0, head_end + 4);
    std::size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) return std::nullopt;
    r.status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
      const std::size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const auto value_start = line.find_first_not_of(' ', colon + 1);
      r.headers[name] = value_start == std::string::npos ? "" : line.substr(value_start);
    }
    const std::size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    while (buffer_.size() < length) {
      if (!fill(until)) return std::nullopt;
    }
    r.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return r;
  }

  /// True when the server closes the connection (EOF or reset) before the deadline, with no more bytes sent.
  bool closed_by_peer(std::chrono::milliseconds deadline = default_deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    if (!buffer_.empty()) return false;
    for (;;) {
      const int ready = wait_readable(until);
      if (ready <= 0) return false;
      char byte;
      const auto n = ::recv(fd_, &byte, 1, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
      return false;
    }
  }

 private:
  int wait_readable(std::chrono::steady_clock::time_point until) const {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return 0;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(left.count()));
  }

  bool fill(std::chrono::steady_clock::time_point until) {
    if (wait_readable(until) <= 0) return false;
    char chunk[16384];
    const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  int error_ = 0;
  std::string buffer_;
};

}  // namespace osprey::http::test

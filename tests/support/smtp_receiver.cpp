// The test SMTP receiver: Asio on one io thread, one `smtp_session` per connection. A session reads a line,
// answers it and reads the next; inside DATA it only collects lines until the lone ".".
//
// Lifetimes as in http_receiver.cpp: sessions hold the shared `smtp_state`, never the receiver; the
// destructor stops the io_context, joins the thread, and the io_context's destruction frees the sessions.

#include "tests/support/smtp_receiver.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

namespace osprey::testing {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr std::size_t max_line = 4U << 20U;

struct scripted_reply {
  int code = 250;
  std::string text;
};

struct smtp_state {
  mutable std::mutex mu;
  mutable std::condition_variable arrived;
  std::vector<recorded_mail> mails;
  std::deque<scripted_reply> mail_replies;
  std::deque<scripted_reply> rcpt_replies;
  std::deque<scripted_reply> data_replies;
  std::optional<std::pair<std::string, std::string>> required;
  std::atomic<std::size_t> connections{0};

  std::optional<scripted_reply> pop(std::deque<scripted_reply> smtp_state::*queue) {
    std::lock_guard lock(mu);
    auto& q = this->*queue;
    if (q.empty()) return std::nullopt;
    auto r = std::move(q.front());
    q.pop_front();
    return r;
  }
};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string base64_decode(std::string_view in) {
  static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (char c : in) {
    const auto at = alphabet.find(c);
    if (at == std::string_view::npos) continue;  // '=' padding and whitespace
    bits = (bits << 6U) | static_cast<unsigned>(at);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> static_cast<unsigned>(count)) & 0xFFU));
    }
  }
  return out;
}

// "FROM:<a@b> SIZE=10" → "a@b"
std::string address_in(std::string_view arg) {
  const auto open = arg.find('<');
  const auto close = arg.find('>', open == std::string_view::npos ? 0 : open);
  if (open != std::string_view::npos && close != std::string_view::npos) {
    return std::string(arg.substr(open + 1, close - open - 1));
  }
  const auto colon = arg.find(':');
  auto rest = colon == std::string_view::npos ? arg : arg.substr(colon + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return std::string(rest.substr(0, rest.find(' ')));
}

std::string line_of(int code, const std::string& text) { return std::to_string(code) + " " + text + "\r\n"; }

class smtp_session : public std::enable_shared_from_this<smtp_session> {
 public:
  smtp_session(tcp::socket socket, std::shared_ptr<smtp_state> st)
      : socket_(std::move(socket)), state_(std::move(st)) {}

  void start() { send("220 osprey-test ESMTP ready\r\n"); }

 private:
  enum class mode { command, data, auth_plain, auth_login_user, auth_login_password };

  void send(std::string text, bool then_close = false) {
    out_ = std::move(text);
    asio::async_write(socket_, asio::buffer(out_), [self = shared_from_this(), then_close](error_code ec, std::size_t) {
      if (ec) return;
      if (then_close) {
        error_code ignored;
        self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
        return;
      }
      self->read_line();
    });
  }

  void read_line() {
    asio::async_read_until(socket_, asio::dynamic_buffer(in_, max_line), "\r\n",
                           [self = shared_from_this()](error_code ec, std::size_t n) {
                             if (ec) return;
                             std::string line = self->in_.substr(0, n - 2);
                             self->in_.erase(0, n);
                             self->on_line(line);
                           });
  }

  void on_line(const std::string& line) {
    switch (mode_) {
      case mode::data: return on_data_line(line);
      case mode::auth_plain: return on_plain(line);
      case mode::auth_login_user:
        if (line == "*") return cancel_auth();
        user_ = base64_decode(line);
        mode_ = mode::auth_login_password;
        return send("334 UGFzc3dvcmQ6\r\n");
      case mode::auth_login_password:
        if (line == "*") return cancel_auth();
        return finish_auth("LOGIN", user_, base64_decode(line));
      case mode::command: return on_command(line);
    }
  }

  void on_command(const std::string& line) {
    const auto space = line.find(' ');
    const std::string verb = upper(line.substr(0, space));
    const std::string arg = space == std::string::npos ? "" : line.substr(space + 1);
    if (verb == "EHLO") {
      reset();
      return send("250-osprey-test\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SIZE 52428800\r\n");
    }
    if (verb == "HELO") {
      reset();
      return send("250 osprey-test\r\n");
    }
    if (verb == "AUTH") return on_auth(arg);
    if (verb == "MAIL") return on_mail(arg);
    if (verb == "RCPT") return on_rcpt(arg);
    if (verb == "DATA") {
      if (!from_ || rcpt_.empty()) return send("554 5.5.1 No valid recipients\r\n");
      data_.clear();
      mode_ = mode::data;
      return send("354 End data with <CR><LF>.<CR><LF>\r\n");
    }
    if (verb == "RSET") {
      reset();
      return send("250 2.0.0 OK\r\n");
    }
    if (verb == "NOOP") return send("250 2.0.0 OK\r\n");
    if (verb == "VRFY") return send("252 2.1.5 Cannot VRFY user\r\n");
    if (verb == "QUIT") return send("221 2.0.0 Bye\r\n", true);
    return send("502 5.5.2 Command not recognized\r\n");
  }

  void on_auth(const std::string& arg) {
    if (authenticated_) return send("503 5.5.1 Already authenticated\r\n");
    const auto space = arg.find(' ');
    const std::string mechanism = upper(arg.substr(0, space));
    const std::string initial = space == std::string::npos ? "" : arg.substr(space + 1);
    if (mechanism == "PLAIN") {
      if (!initial.empty()) return on_plain(initial);
      mode_ = mode::auth_plain;
      return send("334 \r\n");
    }
    if (mechanism == "LOGIN") {
      if (!initial.empty()) {
        user_ = base64_decode(initial);
        mode_ = mode::auth_login_password;
        return send("334 UGFzc3dvcmQ6\r\n");
      }
      mode_ = mode::auth_login_user;
      return send("334 VXNlcm5hbWU6\r\n");
    }
    return send("504 5.5.4 Unrecognized authentication type\r\n");
  }

  // PLAIN: base64("authzid\0user\0password").
  void on_plain(const std::string& encoded) {
    if (encoded == "*") return cancel_auth();
    const std::string decoded = base64_decode(encoded);
    const auto first = decoded.find('\0');
    const auto second = first == std::string::npos ? std::string::npos : decoded.find('\0', first + 1);
    if (second == std::string::npos) {
      mode_ = mode::command;
      return send("501 5.5.2 Cannot decode response\r\n");
    }
    finish_auth("PLAIN", decoded.substr(first + 1, second - first - 1), decoded.substr(second + 1));
  }

  void finish_auth(const std::string& mechanism, const std::string& user, const std::string& password) {
    mode_ = mode::command;
    bool ok = true;
    {
      std::lock_guard lock(state_->mu);
      if (state_->required) ok = state_->required->first == user && state_->required->second == password;
    }
    if (!ok) return send("535 5.7.8 Authentication credentials invalid\r\n");
    authenticated_ = true;
    mechanism_ = mechanism;
    user_ = user;
    password_ = password;
    send("235 2.7.0 Authentication successful\r\n");
  }

  void cancel_auth() {
    mode_ = mode::command;
    send("501 5.0.0 Authentication cancelled\r\n");
  }

  void on_mail(const std::string& arg) {
    if (upper(arg).rfind("FROM:", 0) != 0) return send("501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
    bool auth_missing = false;
    {
      std::lock_guard lock(state_->mu);
      auth_missing = state_->required.has_value() && !authenticated_;
    }
    if (auth_missing) return send("530 5.7.0 Authentication required\r\n");
    if (auto scripted = state_->pop(&smtp_state::mail_replies); scripted && scripted->code / 100 != 2) {
      return send(line_of(scripted->code, scripted->text));
    }
    from_ = address_in(arg);
    rcpt_.clear();
    send("250 2.1.0 OK\r\n");
  }

  void on_rcpt(const std::string& arg) {
    if (!from_) return send("503 5.5.1 Need MAIL before RCPT\r\n");
    if (upper(arg).rfind("TO:", 0) != 0) return send("501 5.5.4 Syntax: RCPT TO:<address>\r\n");
    if (auto scripted = state_->pop(&smtp_state::rcpt_replies); scripted && scripted->code / 100 != 2) {
      return send(line_of(scripted->code, scripted->text));
    }
    rcpt_.push_back(address_in(arg));
    send("250 2.1.5 OK\r\n");
  }

  void on_data_line(const std::string& line) {
    if (line != ".") {
      data_ += line.starts_with('.') ? line.substr(1) : line;  // un-dot-stuff
      data_ += "\r\n";
      return read_line();
    }
    mode_ = mode::command;
    auto scripted = state_->pop(&smtp_state::data_replies);
    if (scripted && scripted->code / 100 != 2) {
      reset();
      return send(line_of(scripted->code, scripted->text));
    }
    {
      std::lock_guard lock(state_->mu);
      state_->mails.push_back(recorded_mail{*from_, rcpt_, data_, authenticated_ ? user_ : "",
                                            authenticated_ ? password_ : "", authenticated_ ? mechanism_ : ""});
      state_->arrived.notify_all();
    }
    reset();
    send(scripted ? line_of(scripted->code, scripted->text) : "250 2.0.0 OK queued\r\n");
  }

  void reset() {
    from_.reset();
    rcpt_.clear();
    data_.clear();
  }

  tcp::socket socket_;
  std::shared_ptr<smtp_state> state_;
  std::string in_;
  std::string out_;
  mode mode_ = mode::command;
  bool authenticated_ = false;
  std::string user_;
  std::string password_;
  std::string mechanism_;
  std::optional<std::string> from_;
  std::vector<std::string> rcpt_;
  std::string data_;
};

}  // namespace

struct smtp_receiver::impl {
  std::shared_ptr<smtp_state> st = std::make_shared<smtp_state>();
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
    acceptor.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        st->connections.fetch_add(1);
        std::make_shared<smtp_session>(std::move(socket), st)->start();
      }
      accept();
    });
  }
};

smtp_receiver::smtp_receiver() : impl_(std::make_unique<impl>()) {}
smtp_receiver::~smtp_receiver() = default;

std::uint16_t smtp_receiver::port() const { return impl_->port; }

std::string smtp_receiver::url() const { return "smtp://127.0.0.1:" + std::to_string(impl_->port); }

void smtp_receiver::require_auth(std::string user, std::string password) {
  std::lock_guard lock(impl_->st->mu);
  impl_->st->required.emplace(std::move(user), std::move(password));
}

void smtp_receiver::script_mail_reply(int code, std::string text) {
  std::lock_guard lock(impl_->st->mu);
  impl_->st->mail_replies.push_back({code, std::move(text)});
}

void smtp_receiver::script_rcpt_reply(int code, std::string text) {
  std::lock_guard lock(impl_->st->mu);
  impl_->st->rcpt_replies.push_back({code, std::move(text)});
}

void smtp_receiver::script_data_reply(int code, std::string text) {
  std::lock_guard lock(impl_->st->mu);
  impl_->st->data_replies.push_back({code, std::move(text)});
}

std::vector<recorded_mail> smtp_receiver::mails() const {
  std::lock_guard lock(impl_->st->mu);
  return impl_->st->mails;
}

std::size_t smtp_receiver::count() const {
  std::lock_guard lock(impl_->st->mu);
  return impl_->st->mails.size();
}

std::size_t smtp_receiver::connections() const { return impl_->st->connections.load(); }

bool smtp_receiver::wait_for(std::size_t n, std::chrono::milliseconds deadline) const {
  std::unique_lock lock(impl_->st->mu);
  return impl_->st->arrived.wait_for(lock, deadline, [&] { return impl_->st->mails.size() >= n; });
}

void smtp_receiver::clear() {
  std::lock_guard lock(impl_->st->mu);
  impl_->st->mails.clear();
  impl_->st->mail_replies.clear();
  impl_->st->rcpt_replies.clear();
  impl_->st->data_replies.clear();
}

}  // namespace osprey::testing

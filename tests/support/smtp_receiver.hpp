#pragma once
// A real SMTP server (an RFC 5321 subset, no TLS) on 127.0.0.1 for e-mail notifier and transport tests.
// It greets 220 and speaks EHLO (advertising AUTH PLAIN LOGIN, 8BITMIME, SIZE), HELO, AUTH PLAIN and AUTH
// LOGIN (with or without an initial response), MAIL FROM, RCPT TO, DATA (dot-unstuffed), RSET, NOOP, VRFY
// and QUIT. Connections stay open across mails, as libcurl reuses them. Replies can be scripted per stage.
//
// Thread-safety: every member may be called from any thread. The server runs on its own thread from
// construction to destruction.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace osprey::testing {

/// One mail the server accepted (250 after DATA).
struct recorded_mail {
  std::string mail_from;             ///< the envelope sender, without <>
  std::vector<std::string> rcpt_to;  ///< accepted recipients, without <>
  std::string data;                  ///< the message, dot-unstuffed, up to (and with) the CRLF before "."
  std::string auth_user;             ///< "" when the session did not authenticate
  std::string auth_password;
  std::string auth_mechanism;  ///< "PLAIN", "LOGIN" or ""
};

class smtp_receiver {
 public:
  /// Listens on an ephemeral port; accepts everything (no AUTH required) until told otherwise.
  smtp_receiver();
  ~smtp_receiver();
  smtp_receiver(const smtp_receiver&) = delete;
  smtp_receiver& operator=(const smtp_receiver&) = delete;

  [[nodiscard]] std::uint16_t port() const;
  /// "smtp://127.0.0.1:PORT"
  [[nodiscard]] std::string url() const;

  /// From now on MAIL FROM needs a successful AUTH (530 otherwise) and AUTH needs these credentials (535).
  void require_auth(std::string user, std::string password);

  /// Queue one reply for the next MAIL FROM / RCPT TO / end of DATA (FIFO, each used once). A 2xx reply
  /// accepts as usual; any other refuses: the sender, that recipient or the mail is not kept.
  void script_mail_reply(int code, std::string text);
  void script_rcpt_reply(int code, std::string text);
  void script_data_reply(int code, std::string text);

  /// Accepted mails, in order.
  [[nodiscard]] std::vector<recorded_mail> mails() const;
  [[nodiscard]] std::size_t count() const;
  /// Connections accepted so far.
  [[nodiscard]] std::size_t connections() const;
  /// Waits until at least `n` mails were accepted or `deadline` passed; true when they were.
  bool wait_for(std::size_t n, std::chrono::milliseconds deadline) const;
  /// Forgets accepted mails and queued scripts (required credentials stay).
  void clear();

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace osprey::testing

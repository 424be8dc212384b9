#pragma once
// Sends notifier requests without blocking anyone: one thread drives a libcurl multi handle, so hundreds of
// HTTP and SMTP exchanges are in flight at once while actors and HTTP threads carry on. Callbacks run on
// that thread; keep them short (hand the reply to an actor).
//
// Rules for every request: no redirects followed (a 3xx is reported as is), connect timeout 5 s (or the
// total timeout if shorter) and the request's total timeout, keep-alive connections reused (at most 16
// requests in flight per host; further requests to that host wait in the transport's queue, in order, and
// both timeouts start only when a request leaves the queue: time spent waiting never counts), User-Agent
// "osprey/<version>", only http/https (smtp/smtps for SMTP) protocols, TLS peer and host verified, no
// "Expect: 100-continue" round trip. At most 2 KiB of each reply body is kept. Proxies come from the usual
// environment variables (http_proxy, https_proxy, all_proxy, no_proxy; loopback is never proxied).
//
// Addresses: unless the request sets allow_private_network, a direct connection to a loopback, link-local
// or private address (domain/network_address.hpp) is refused, judged on the address actually connected to
// (after DNS, so a rebound name is caught) and again before each request on a reused connection. The reply
// then has address_refused, transport_error 7 and an error naming the address; the classifiers call it
// dead. Connections through a proxy are the proxy's to judge.
//
// What a reply holds:
// - HTTP: status, the last response's headers (lower-case names, repeats joined with ", ") and body.
// - SMTP: status is the last SMTP reply code and body that reply's line ("451 4.3.0 try later"). A refusal
//   sets both status and transport_error, so read status first: 451 after DATA gives 8, 550 to RCPT gives
//   55, 535 to AUTH gives 67 (CURLE_LOGIN_DENIED). A missing STARTTLS gives transport_error 64 with the
//   EHLO's 250 as status. With several recipients a refused one is skipped (CURLOPT_MAIL_RCPT_ALLLOWFAILS);
//   with one, the mail fails.
// - transport_error 42 (CURLE_ABORTED_BY_CALLBACK) with error "transport stopped" after stop().
// - error never quotes the URL's userinfo, path, query or fragment, nor a password: webhook URLs carry
//   their secrets there.

#include <chrono>
#include <functional>
#include <memory>

#include "domain/status.hpp"
#include "notifiers/notifier.hpp"

namespace osprey::notifiers {

using reply_callback = std::function<void(reply)>;

class transport {
 public:
  /// Starts the sending thread (libcurl's global init is done once per process).
  static result<transport> start();

  /// Queues `r`; `done` runs exactly once on the transport thread with the reply (or transport error).
  /// After stop(), `done` runs at once on the caller's thread with error "transport stopped". Never blocks.
  /// A `done` that throws is ignored (the exception is swallowed so other requests still complete).
  void send(request r, std::chrono::milliseconds timeout, reply_callback done) const;

  /// Requests queued or in flight.
  [[nodiscard]] std::size_t in_flight() const;

  /// Abandons requests still queued or in flight (their callbacks run with "transport stopped" before
  /// stop() returns) and joins the thread. Idempotent and thread-safe; copies share the thread, and the
  /// last copy's destruction stops it too. Called from a callback, it returns at once and the thread
  /// finishes (and runs the remaining callbacks) after that callback returns.
  void stop() const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

/// Sends one request and waits for its reply: for `osprey notifications test` and tests.
reply send_blocking(const request& r, std::chrono::milliseconds timeout);

}  // namespace osprey::notifiers

// The libcurl transport against real receivers on loopback (tests/support/http_receiver, smtp_receiver).
// Every test checks, at TearDown, that each callback ran exactly once.

#include "notifiers/transport.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "domain/version.hpp"
#include "tests/support/http_receiver.hpp"
#include "tests/support/smtp_receiver.hpp"

namespace osprey::notifiers {
namespace {

using namespace std::chrono_literals;
using testing::http_receiver;
using testing::scripted_response;
using testing::smtp_receiver;

constexpr auto reply_deadline = 20s;

class TransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = transport::start();
    ASSERT_TRUE(started) << started.error().message();
    transport_ = *started;
  }

  void TearDown() override {
    transport_.stop();
    for (const auto& calls : calls_) EXPECT_EQ(calls->load(), 1) << "a callback did not run exactly once";
    EXPECT_EQ(transport_.in_flight(), 0U);
  }

  /// Sends `r`; the future holds the reply of the callback's first run.
  std::future<reply> start_send(request r, std::chrono::milliseconds timeout = 5s) {
    auto promise = std::make_shared<std::promise<reply>>();
    auto calls = std::make_shared<std::atomic<int>>(0);
    calls_.push_back(calls);
    auto answer = promise->get_future();
    transport_.send(std::move(r), timeout, [promise, calls](reply rep) {
      if (calls->fetch_add(1) == 0) promise->set_value(std::move(rep));
    });
    return answer;
  }

  reply send(request r, std::chrono::milliseconds timeout = 5s) {
    auto answer = start_send(std::move(r), timeout);
    if (answer.wait_for(reply_deadline) != std::future_status::ready) {
      ADD_FAILURE() << "no reply within " << reply_deadline.count() << " s";
      return {};
    }
    return answer.get();
  }

  http_request post(const std::string& path, std::string body = "{}") const {
    http_request r;
    r.url = http_.base_url() + path;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = std::move(body);
    r.allow_private_network = true;  // the receiver is on loopback
    return r;
  }

  smtp_request mail(std::vector<std::string> recipients) const {
    smtp_request r;
    r.url = smtp_.url();
    r.allow_private_network = true;
    r.tls = config::smtp_tls::none;
    r.mail_from = "alerts@example.com";
    r.recipients = std::move(recipients);
    r.message =
        "From: Osprey <alerts@example.com>\r\n"
        "To: ops@example.com\r\n"
        "Subject: Flow run etl/daily entered Failed\r\n"
        "\r\n"
        "line one\r\n"
        ".a line that starts with a dot\r\n"
        "..and one with two\r\n"
        ".\r\n"
        "last line\r\n";
    return r;
  }

  http_receiver http_;
  smtp_receiver smtp_;
  transport transport_;
  std::vector<std::shared_ptr<std::atomic<int>>> calls_;
};

TEST_F(TransportTest, PostArrivesExactlyAndTheReplyComesBack) {
  http_.script_for("/hook", {201, {{"X-Request-Id", "r-17"}, {"Content-Type", "text/plain"}}, "created", 0ms});
  http_request r = post("/hook/abc?x=1&y=two%20words", std::string("{\"text\":\"caf\xC3\xA9\"}\n\x01\x00 end", 21));
  r.headers.emplace_back("X-Custom", "value with  spaces");

  reply rep = send(r);

  ASSERT_EQ(http_.count(), 1U);
  auto got = http_.requests().front();
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/hook/abc?x=1&y=two%20words");
  EXPECT_EQ(got.headers["content-type"], "application/json");
  EXPECT_EQ(got.headers["x-custom"], "value with  spaces");
  EXPECT_EQ(got.headers["user-agent"], std::string("osprey/") + osprey_version);
  EXPECT_EQ(got.headers.count("expect"), 0U);
  EXPECT_EQ(got.body, r.body);
  EXPECT_EQ(got.body.size(), 21U);

  EXPECT_EQ(rep.transport_error, 0) << rep.error;
  EXPECT_EQ(rep.status, 201);
  EXPECT_EQ(rep.headers["x-request-id"], "r-17");
  EXPECT_EQ(rep.headers["content-type"], "text/plain");
  EXPECT_EQ(rep.body, "created");
}

TEST_F(TransportTest, OtherMethodsAreSentAsGiven) {
  for (const std::string method : {"PUT", "PATCH", "DELETE"}) {
    http_request r = post("/m", "{\"m\":\"" + method + "\"}");
    r.method = method;
    EXPECT_EQ(send(r).status, 200);
  }
  http_request get = post("/g", "");
  get.method = "GET";
  EXPECT_EQ(send(get).body, "ok");

  auto got = http_.requests();
  ASSERT_EQ(got.size(), 4U);
  EXPECT_EQ(got[0].method, "PUT");
  EXPECT_EQ(got[0].body, "{\"m\":\"PUT\"}");
  EXPECT_EQ(got[1].method, "PATCH");
  EXPECT_EQ(got[2].method, "DELETE");
  EXPECT_EQ(got[2].body, "{\"m\":\"DELETE\"}");
  EXPECT_EQ(got[3].method, "GET");
  EXPECT_EQ(got[3].body, "");
}

TEST_F(TransportTest, ReplyBodyIsCappedAt2KiB) {
  const std::string big = std::string(2048, 'a') + std::string(3000, 'b');
  http_.script({500, {}, big, 0ms});

  reply rep = send(post("/big"));

  EXPECT_EQ(rep.transport_error, 0) << rep.error;
  EXPECT_EQ(rep.status, 500);
  EXPECT_EQ(rep.body, std::string(2048, 'a'));
}

TEST_F(TransportTest, BasicAuthSendsTheAuthorizationHeader) {
  http_request r = post("/2010-04-01/Accounts/AC123/Messages.json", "To=%2B15550100");
  r.basic_auth = {{"AC123", "s3cret"}};

  EXPECT_EQ(send(r).status, 200);

  ASSERT_EQ(http_.count(), 1U);
  EXPECT_EQ(http_.requests().front().headers["authorization"], "Basic QUMxMjM6czNjcmV0");  // AC123:s3cret
}

TEST_F(TransportTest, RetryAfterIsVisibleInTheReplyHeaders) {
  http_.script({429, {{"Retry-After", "17"}}, "rate_limited", 0ms});

  reply rep = send(post("/slack"));

  EXPECT_EQ(rep.transport_error, 0) << rep.error;
  EXPECT_EQ(rep.status, 429);
  EXPECT_EQ(rep.headers["retry-after"], "17");
  EXPECT_EQ(rep.body, "rate_limited");
}

TEST_F(TransportTest, RedirectIsReportedNotFollowed) {
  http_.script_for("/old", {302, {{"Location", http_.base_url() + "/elsewhere"}}, "", 0ms});

  reply rep = send(post("/old"));

  EXPECT_EQ(rep.transport_error, 0) << rep.error;
  EXPECT_EQ(rep.status, 302);
  EXPECT_EQ(rep.headers["location"], http_.base_url() + "/elsewhere");
  EXPECT_EQ(http_.count(), 1U);  // the reply came after the only request; a followed redirect comes before
}

TEST_F(TransportTest, SlowAnswerTimesOutWithCurlError28) {
  http_.script({200, {}, "too late", 3s});

  reply rep = send(post("/slow"), 300ms);

  EXPECT_EQ(rep.transport_error, CURLE_OPERATION_TIMEDOUT) << rep.error;
  EXPECT_EQ(rep.status, 0);
  EXPECT_NE(rep.error.find("Timeout"), std::string::npos) << rep.error;
  EXPECT_EQ(http_.count(), 1U);
}

TEST_F(TransportTest, RefusedConnectionGivesCurlError7) {
  http_request r;
  r.url = "http://127.0.0.1:" + std::to_string(testing::unused_port()) + "/hook";
  r.allow_private_network = true;

  reply rep = send(r);

  EXPECT_EQ(rep.transport_error, CURLE_COULDNT_CONNECT) << rep.error;
  EXPECT_FALSE(rep.address_refused);
  EXPECT_EQ(rep.status, 0);
  EXPECT_FALSE(rep.error.empty());
  EXPECT_EQ(classify_http(rep).outcome, verdict::retry);
}

TEST_F(TransportTest, PrivateAddressesAreRefusedUnlessTheRequestAllowsThem) {
  for (const std::string host : {"127.0.0.1", "[::ffff:127.0.0.1]", "localhost", "2130706433"}) {
    http_request r = post("/private");
    r.url = "http://" + host + ":" + std::to_string(http_.port()) + "/private";
    r.allow_private_network = false;

    reply rep = send(r);

    EXPECT_TRUE(rep.address_refused) << host << ": " << rep.error;
    EXPECT_EQ(rep.transport_error, CURLE_COULDNT_CONNECT) << host;
    EXPECT_NE(rep.error.find("loopback"), std::string::npos) << rep.error;
    EXPECT_NE(rep.error.find("allow_private_network"), std::string::npos) << rep.error;
    EXPECT_EQ(classify_http(rep).outcome, verdict::dead) << host;
  }
  smtp_request m = mail({"ops@example.com"});
  m.allow_private_network = false;
  reply rep = send(m);
  EXPECT_TRUE(rep.address_refused) << rep.error;
  EXPECT_EQ(classify_smtp(rep).outcome, verdict::dead);
  EXPECT_EQ(http_.count(), 0U);
  EXPECT_EQ(smtp_.count(), 0U);
}

TEST_F(TransportTest, AKeptAliveConnectionIsNotReusedByARequestThatMayNotReachIt) {
  ASSERT_EQ(send(post("/allowed")).status, 200);
  http_request r = post("/refused");
  r.allow_private_network = false;

  reply rep = send(r);

  EXPECT_TRUE(rep.address_refused) << rep.error;
  EXPECT_EQ(http_.count(), 1U);
  EXPECT_EQ(send(post("/allowed-again")).status, 200);
}

TEST_F(TransportTest, ErrorTextNeverContainsTheUrlsSecrets) {
  const std::string port = std::to_string(testing::unused_port());
  http_request refused;
  refused.url = "http://127.0.0.1:" + port + "/services/T0SECRETA/B0SECRETB/XXSECRETC?token=SECRETD#SECRETE";
  refused.basic_auth = {{"user", "SECRETPW"}};
  http_request not_http;
  not_http.url = "ftp://files.example.com/services/T0SECRETA?token=SECRETD";
  http_request malformed;
  malformed.url = "http://exa mple.com/services/SECRETX?key=SECRETY";
  smtp_request smtp = mail({"ops@example.com"});
  smtp.url = "smtp://127.0.0.1:" + port + "/SECRETDOMAIN";
  smtp.username = "alerts";
  smtp.password = "SECRETPW";

  for (const request& r : std::vector<request>{refused, not_http, malformed, smtp}) {
    reply rep = send(r);
    EXPECT_NE(rep.transport_error, 0);
    EXPECT_FALSE(rep.error.empty());
    EXPECT_EQ(rep.error.find("SECRET"), std::string::npos) << rep.error;
    EXPECT_EQ(rep.error.find("services"), std::string::npos) << rep.error;
  }
}

TEST_F(TransportTest, ConcurrentRequestsAllArriveOverFewConnections) {
  constexpr std::size_t n = 200;
  std::vector<std::future<reply>> answers;
  answers.reserve(n);
  for (std::size_t i = 0; i < n; ++i) answers.push_back(start_send(post("/c/" + std::to_string(i))));

  for (auto& answer : answers) {
    ASSERT_EQ(answer.wait_for(reply_deadline), std::future_status::ready);
    reply rep = answer.get();
    EXPECT_EQ(rep.transport_error, 0) << rep.error;
    EXPECT_EQ(rep.status, 200);
  }
  ASSERT_EQ(http_.count(), n);
  std::vector<int> seen(n, 0);
  for (const auto& r : http_.requests()) ++seen.at(std::stoul(r.target.substr(3)));
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(seen[i], 1) << "request " << i;
  EXPECT_LT(http_.connections(), n / 4) << "keep-alive connections should be reused";

  // The pool stays warm: another round opens no new connections.
  const std::size_t before = http_.connections();
  EXPECT_EQ(send(post("/again")).status, 200);
  EXPECT_EQ(http_.connections(), before);
}

// Regression: with ~800 alerts waiting after a restart, requests queued behind the per-host connection
// limit "timed out" before they were sent, and alerts the receiver had already accepted were sent again.
TEST_F(TransportTest, TimeQueuedBehindTheConnectionLimitDoesNotCountAgainstTheTimeout) {
  // 10 rounds of 16 connections at 150 ms each: the last request waits ~1.4 s for a connection, longer than
  // its 1 s timeout, which still leaves each request more than six times what it needs.
  constexpr std::size_t n = 160;
  http_.set_default({200, {}, "slow ok", 150ms});
  std::vector<std::future<reply>> answers;
  answers.reserve(n);
  for (std::size_t i = 0; i < n; ++i) answers.push_back(start_send(post("/q/" + std::to_string(i)), 1000ms));

  for (auto& answer : answers) {
    ASSERT_EQ(answer.wait_for(reply_deadline), std::future_status::ready);
    reply rep = answer.get();
    EXPECT_EQ(rep.transport_error, 0) << rep.error;
    EXPECT_EQ(rep.status, 200);
  }
  ASSERT_EQ(http_.count(), n);
  std::vector<int> seen(n, 0);
  for (const auto& r : http_.requests()) ++seen.at(std::stoul(r.target.substr(3)));
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(seen[i], 1) << "request " << i;
  EXPECT_LE(http_.connections(), 16U) << "at most 16 connections to one host";
}

TEST_F(TransportTest, StopAbandonsRequestsInFlightPromptly) {
  http_.set_default({200, {}, "late", 10s});
  std::vector<std::future<reply>> answers;
  for (int i = 0; i < 5; ++i) answers.push_back(start_send(post("/hang"), 30s));
  ASSERT_TRUE(http_.wait_for(5, 10s));
  EXPECT_EQ(transport_.in_flight(), 5U);

  const auto begin = std::chrono::steady_clock::now();
  transport_.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 2s);

  for (auto& answer : answers) {
    ASSERT_EQ(answer.wait_for(0s), std::future_status::ready) << "callbacks run before stop() returns";
    reply rep = answer.get();
    EXPECT_NE(rep.transport_error, 0);
    EXPECT_EQ(rep.error, "transport stopped");
  }
  EXPECT_EQ(transport_.in_flight(), 0U);
}

TEST_F(TransportTest, StopAlsoAbandonsRequestsWaitingForAConnection) {
  http_.set_default({200, {}, "late", 10s});
  std::vector<std::future<reply>> answers;
  for (int i = 0; i < 20; ++i) answers.push_back(start_send(post("/hang"), 30s));  // 16 in flight, 4 waiting
  ASSERT_TRUE(http_.wait_for(16, 10s));
  EXPECT_EQ(transport_.in_flight(), 20U);

  transport_.stop();

  for (auto& answer : answers) {
    ASSERT_EQ(answer.wait_for(0s), std::future_status::ready) << "callbacks run before stop() returns";
    EXPECT_EQ(answer.get().error, "transport stopped");
  }
  EXPECT_EQ(http_.count(), 16U) << "the waiting ones were never sent";
}

TEST_F(TransportTest, SendAfterStopAnswersAtOnce) {
  transport_.stop();
  transport_.stop();  // idempotent

  auto answer = start_send(post("/late"));

  ASSERT_EQ(answer.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(answer.get().error, "transport stopped");
  EXPECT_EQ(http_.count(), 0U);
}

TEST_F(TransportTest, StopFromACallbackDoesNotDeadlock) {
  http_.script_for("/slow", {200, {}, "late", 10s});
  auto slow = start_send(post("/slow"), 30s);
  ASSERT_TRUE(http_.wait_for(1, 10s));
  std::promise<void> stopped;
  transport copy = transport_;
  copy.send(post("/fast"), 5s, [copy, &stopped](reply) {
    copy.stop();  // on the transport thread: returns at once
    stopped.set_value();
  });

  ASSERT_EQ(stopped.get_future().wait_for(reply_deadline), std::future_status::ready);
  ASSERT_EQ(slow.wait_for(reply_deadline), std::future_status::ready);
  EXPECT_EQ(slow.get().error, "transport stopped");
}

TEST_F(TransportTest, DroppingTheLastCopyStopsTheTransport) {
  http_.script_for("/slow", {200, {}, "late", 10s});
  std::promise<reply> answer;
  {
    auto own = transport::start();
    ASSERT_TRUE(own);
    own->send(post("/slow"), 30s, [&answer](reply rep) { answer.set_value(std::move(rep)); });
    ASSERT_TRUE(http_.wait_for(1, 10s));
  }
  auto result = answer.get_future();
  ASSERT_EQ(result.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(result.get().error, "transport stopped");
}

TEST_F(TransportTest, SendBlockingWaitsForTheReply) {
  http_.script({202, {}, "accepted", 0ms});

  reply rep = send_blocking(post("/blocking"), 5s);

  EXPECT_EQ(rep.status, 202);
  EXPECT_EQ(rep.body, "accepted");
}

TEST_F(TransportTest, MailWithTwoRecipientsAndAuthArrives) {
  smtp_.require_auth("alerts", "app-password");
  smtp_request r = mail({"a@example.com", "b@example.com"});
  r.username = "alerts";
  r.password = "app-password";

  reply rep = send(r);

  EXPECT_EQ(rep.transport_error, 0) << rep.error;
  EXPECT_EQ(rep.status, 250);
  ASSERT_TRUE(smtp_.wait_for(1, 0ms));
  auto got = smtp_.mails().front();
  EXPECT_EQ(got.mail_from, "alerts@example.com");
  EXPECT_EQ(got.rcpt_to, (std::vector<std::string>{"a@example.com", "b@example.com"}));
  EXPECT_EQ(got.data, r.message);
  EXPECT_EQ(got.auth_mechanism, "PLAIN");
  EXPECT_EQ(got.auth_user, "alerts");
  EXPECT_EQ(got.auth_password, "app-password");
}

TEST_F(TransportTest, MailRefusedAtDataGivesItsStatus) {
  smtp_.script_data_reply(451, "4.3.0 try later");

  reply rep = send(mail({"ops@example.com"}));

  EXPECT_EQ(rep.status, 451);
  EXPECT_NE(rep.transport_error, 0);
  EXPECT_EQ(rep.body, "451 4.3.0 try later");
  EXPECT_EQ(smtp_.count(), 0U);

  reply again = send(mail({"ops@example.com"}));  // the next attempt goes through
  EXPECT_EQ(again.transport_error, 0) << again.error;
  EXPECT_EQ(again.status, 250);
  EXPECT_EQ(smtp_.count(), 1U);
}

TEST_F(TransportTest, RecipientRefusedGivesItsStatus) {
  smtp_.script_rcpt_reply(550, "5.1.1 no such user");

  reply rep = send(mail({"nobody@example.com"}));

  EXPECT_EQ(rep.status, 550);
  EXPECT_NE(rep.transport_error, 0);
  EXPECT_EQ(rep.body, "550 5.1.1 no such user");
  EXPECT_EQ(smtp_.count(), 0U);
}

TEST_F(TransportTest, OneRefusedRecipientOfTwoStillGetsTheMailToTheOther) {
  smtp_.script_rcpt_reply(550, "5.1.1 no such user");

  reply rep = send(mail({"nobody@example.com", "ops@example.com"}));

  EXPECT_EQ(rep.transport_error, 0) << rep.error;
  EXPECT_EQ(rep.status, 250);
  ASSERT_EQ(smtp_.count(), 1U);
  EXPECT_EQ(smtp_.mails().front().rcpt_to, std::vector<std::string>{"ops@example.com"});
}

TEST_F(TransportTest, WrongPasswordIsLoginDenied) {
  smtp_.require_auth("alerts", "right");
  smtp_request r = mail({"ops@example.com"});
  r.username = "alerts";
  r.password = "wrong";

  reply rep = send(r);

  EXPECT_EQ(rep.transport_error, CURLE_LOGIN_DENIED) << rep.error;
  EXPECT_EQ(rep.status, 535);
  EXPECT_EQ(rep.error.find("wrong"), std::string::npos) << rep.error;
}

TEST_F(TransportTest, StartTlsRequiredButNotOfferedFails) {
  smtp_request r = mail({"ops@example.com"});
  r.tls = config::smtp_tls::starttls;

  reply rep = send(r);

  EXPECT_EQ(rep.transport_error, CURLE_USE_SSL_FAILED) << rep.error;
  EXPECT_EQ(smtp_.count(), 0U);
}

}  // namespace
}  // namespace osprey::notifiers

// Reply classification per backend (what is delivered, retried, dead), Retry-After, and that no reason
// ever quotes a channel secret; plus the text helpers the backends share.

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "notifiers/backends.hpp"
#include "tests/notifiers/fixtures.hpp"

namespace osprey::notifiers {
namespace {

using namespace fixtures;
using std::chrono::seconds;

reply http(int status, std::string body = "", std::map<std::string, std::string> headers = {}) {
  reply r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

reply failed_transport(int code, std::string error) {
  reply r;
  r.transport_error = code;
  r.error = std::move(error);
  return r;
}

std::string http_date(std::chrono::sys_seconds t) {
  using namespace std::chrono;
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto day = floor<std::chrono::days>(t);
  year_month_day ymd{day};
  hh_mm_ss<seconds> hms{t - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d GMT", days[weekday(day).c_encoding()],
                static_cast<unsigned>(ymd.day()), months[static_cast<unsigned>(ymd.month()) - 1],
                static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return buf;
}

struct http_case {
  reply r;
  verdict expected;
  std::optional<seconds> retry_after = std::nullopt;
};

/// The HTTP table every HTTP backend follows (the baseline of notifier.hpp).
std::vector<http_case> http_table() {
  auto now = std::chrono::floor<seconds>(std::chrono::system_clock::now());
  return {
      {http(200), verdict::delivered},
      {http(201, R"({"sid":"SM123","status":"queued"})"), verdict::delivered},
      {http(202, R"({"status":"success","message":"Event processed"})"), verdict::delivered},
      {http(204), verdict::delivered},
      {http(301, "", {{"location", "https://elsewhere.example.com/"}}), verdict::dead},
      {http(400, "invalid_payload"), verdict::dead},
      {http(401), verdict::dead},
      {http(403, "action_prohibited"), verdict::dead},
      {http(404, "channel_not_found"), verdict::dead},
      {http(408), verdict::retry},
      {http(410, "channel_is_archived"), verdict::dead},
      {http(413), verdict::dead},
      {http(422, R"({"message":"Request body is not valid"})"), verdict::dead},
      {http(429, R"({"ok":false,"error":"rate_limited"})", {{"retry-after", "7"}}), verdict::retry, seconds(7)},
      {http(429, "", {{"retry-after", http_date(now + std::chrono::hours(5))}}), verdict::retry, seconds(3600)},
      {http(429, "", {{"retry-after", http_date(now - std::chrono::minutes(1))}}), verdict::retry, seconds(0)},
      {http(500, "rollup_error"), verdict::retry},
      {http(502), verdict::retry},
      {http(503, "", {{"retry-after", "120"}}), verdict::retry, seconds(120)},
      {failed_transport(CURLE_COULDNT_CONNECT, "Failed to connect to host port 443"), verdict::retry},
      {failed_transport(CURLE_OPERATION_TIMEDOUT, "Operation timed out after 10000 milliseconds"), verdict::retry},
  };
}

void expect_table(const config::channel_settings& channel, const std::vector<http_case>& table) {
  auto n = make_notifier(channel);
  for (const auto& c : table) {
    auto got = n->classify(c.r);
    SCOPED_TRACE(channel.name + ": HTTP " + std::to_string(c.r.status) + " transport " +
                 std::to_string(c.r.transport_error));
    EXPECT_EQ(got.outcome, c.expected) << got.reason;
    EXPECT_EQ(got.retry_after, c.retry_after);
    EXPECT_FALSE(got.reason.empty());
  }
}

TEST(ClassifyHttp, EveryHttpBackendFollowsTheBaseline) {
  expect_table(slack_channel(), http_table());
  expect_table(teams_channel(), http_table());
  expect_table(opsgenie_channel(), http_table());
  expect_table(twilio_channel(), http_table());
  auto table = http_table();
  for (auto& c : table)
    if (c.r.status == 429 && !c.retry_after) c.retry_after = seconds(30);
  expect_table(pagerduty_channel(), table);
}

TEST(ClassifyHttp, ReasonQuotesStatusAndFirstBodyLine) {
  EXPECT_EQ(classify_http(http(404, "channel_not_found\nsecond line")).reason, "HTTP 404: channel_not_found");
  EXPECT_EQ(classify_http(http(502)).reason, "HTTP 502");
  auto long_body = classify_http(http(400, std::string(500, 'e'))).reason;
  EXPECT_EQ(long_body, "HTTP 400: " + std::string(199, 'e') + "…");
  EXPECT_EQ(classify_http(failed_transport(CURLE_COULDNT_RESOLVE_HOST, "Could not resolve host: x")).reason,
            "Could not resolve host: x");
}

TEST(ClassifyHttp, SlackErrorTokenWith200IsDead) {
  auto slack = make_notifier(slack_channel());
  EXPECT_EQ(slack->classify(http(200, "ok")).outcome, verdict::delivered);
  EXPECT_EQ(slack->classify(http(200, "ok\n")).outcome, verdict::delivered);
  EXPECT_EQ(slack->classify(http(200, "no_text")).outcome, verdict::dead);
  EXPECT_EQ(slack->classify(http(200, R"({"success":true})")).outcome, verdict::delivered);  // Rocket.Chat
}

TEST(ClassifyHttp, PagerDutyThrottleWaitsAtLeastHalfAMinuteWithoutRetryAfter) {
  auto pd = make_notifier(pagerduty_channel());
  EXPECT_EQ(pd->classify(http(429)).retry_after, seconds(30));
  EXPECT_EQ(pd->classify(http(429, "", {{"retry-after", "5"}})).retry_after, seconds(5));
  EXPECT_EQ(pd->classify(http(500)).retry_after, std::nullopt);
}

TEST(RetryAfter, DeltaSecondsAndHttpDates) {
  auto now = fixtures::at("1994-11-06T08:48:00.250000Z");
  EXPECT_EQ(parse_retry_after("7", now), seconds(7));
  EXPECT_EQ(parse_retry_after(" 120 ", now), seconds(120));
  EXPECT_EQ(parse_retry_after("0", now), seconds(0));
  EXPECT_EQ(parse_retry_after("99999999999999999999", now), seconds(3600));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), seconds(97));  // 96.75 s, rounded up
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:40:00 GMT", now), seconds(0));   // already past
  EXPECT_EQ(parse_retry_after("Mon, 07 Nov 1994 08:49:37 GMT", now), seconds(3600));
  EXPECT_EQ(parse_retry_after("", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("-5", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("soon", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 CET", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("Sun, 31 Feb 1994 08:49:37 GMT", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), std::nullopt);  // obsolete forms: unsupported
}

TEST(ClassifySmtp, RepliesAndTransportErrors) {
  auto mail = make_notifier(smtp_channel());
  auto smtp_reply = [](int code, int error = 0) {
    reply r;
    r.status = code;
    r.transport_error = error;
    r.error = error ? "curl says no" : "";
    return r;
  };
  struct {
    reply r;
    verdict expected;
  } table[] = {
      {smtp_reply(250), verdict::delivered},
      {smtp_reply(221), verdict::delivered},
      {smtp_reply(421, CURLE_RECV_ERROR), verdict::retry},
      {smtp_reply(451), verdict::retry},
      {smtp_reply(550, CURLE_SEND_ERROR), verdict::dead},
      {smtp_reply(535, CURLE_LOGIN_DENIED), verdict::dead},
      {smtp_reply(0, CURLE_LOGIN_DENIED), verdict::dead},
      {smtp_reply(0, CURLE_PEER_FAILED_VERIFICATION), verdict::dead},
      {smtp_reply(0, CURLE_USE_SSL_FAILED), verdict::dead},
      {smtp_reply(0, CURLE_SSL_CACERT_BADFILE), verdict::dead},
      {smtp_reply(0, CURLE_COULDNT_CONNECT), verdict::retry},
      {smtp_reply(0, CURLE_OPERATION_TIMEDOUT), verdict::retry},
      {smtp_reply(250, CURLE_RECV_ERROR), verdict::retry},  // dropped after the last good reply
  };
  for (const auto& c : table) {
    auto got = mail->classify(c.r);
    EXPECT_EQ(got.outcome, c.expected) << "SMTP " << c.r.status << " curl " << c.r.transport_error << ": "
                                       << got.reason;
    EXPECT_EQ(got.retry_after, std::nullopt);
  }
  EXPECT_EQ(mail->classify(smtp_reply(550, CURLE_SEND_ERROR)).reason, "SMTP 550: curl says no");
  EXPECT_EQ(mail->classify(smtp_reply(0, CURLE_COULDNT_CONNECT)).reason, "curl says no");
}

/// Every piece of 16 characters of every secret: a reason must contain none, so neither a whole secret
/// nor a half cut off by truncation.
void expect_no_secret(const config::channel_settings& channel, const std::string& reason) {
  for (const auto& s : channel.secrets())
    for (std::size_t i = 0; i + 16 <= s.size(); ++i)
      ASSERT_EQ(reason.find(s.substr(i, 16)), std::string::npos)
          << channel.name << " leaks " << s.substr(i, 16) << " in: " << reason;
}

TEST(SecretLeak, NoBackendQuotesASecretInItsReason) {
  for (const auto& channel : all_channels()) {
    ASSERT_FALSE(channel.secrets().empty()) << channel.name;
    auto n = make_notifier(channel);
    std::string all, escaped, encoded;
    for (const auto& s : channel.secrets()) {
      all += s + " ";
      std::string e;
      for (char c : s) e += c == '/' ? std::string("\\/") : std::string(1, c);
      escaped += e + " ";
      encoded += percent_encode(s) + " ";
    }
    const auto first = channel.secrets().front();
    std::vector<reply> replies = {
        http(400, "bad request for " + all),
        http(500, R"({"error":"no such hook )" + escaped + R"("})"),
        http(404, "not found: " + encoded),
        http(200, "ok " + all),
        http(403, std::string(190, '.') + first),                    // the 200-character cut would halve it
        http(400, "cut: " + first.substr(0, first.size() / 2 + 4)),  // the transport's 2 KiB cap halved it
        failed_transport(CURLE_COULDNT_CONNECT, "Failed to connect to " + all),
    };
    if (channel.type == config::channel_type::smtp)
      for (int code : {0, 250, 451, 535}) {
        reply r = http(code, "5.7.8 Authentication failed for " + all);
        r.transport_error = code == 535 ? CURLE_LOGIN_DENIED : 0;
        r.error = "Login denied " + all;
        replies.push_back(r);
      }
    for (const auto& r : replies) expect_no_secret(channel, n->classify(r).reason);
  }
}

TEST(Factory, OneNotifierPerChannelType) {
  for (const auto& channel : all_channels()) {
    auto n = make_notifier(channel);
    ASSERT_TRUE(n);
    EXPECT_EQ(n->channel().name, channel.name);
    bool resolves = channel.type == config::channel_type::pagerduty || channel.type == config::channel_type::opsgenie;
    EXPECT_EQ(n->resolves(), resolves) << channel.name;
  }
  EXPECT_STREQ(to_string(delivery_kind::trigger), "trigger");
  EXPECT_STREQ(to_string(delivery_kind::resolve), "resolve");
  EXPECT_STREQ(to_string(delivery_kind::test), "test");
}

TEST(Build, ResolveWithoutDedupKeySendsNothingToAlertingBackends) {
  auto n = completed_resolve();
  n.dedup_key.clear();
  EXPECT_TRUE(make_notifier(pagerduty_channel())->build(n).empty());
  EXPECT_TRUE(make_notifier(opsgenie_channel())->build(n).empty());
  EXPECT_EQ(make_notifier(slack_channel())->build(n).size(), 1u);
}

TEST(Build, TwilioShortensTheHeadlineAndKeepsTheLink) {
  auto n = failed();
  n.title = std::string(400, 'x');
  auto requests = make_notifier(twilio_channel())->build(n);
  ASSERT_EQ(requests.size(), 1u);
  auto text = std::string(320 - 1 - run_url.size() - 1, 'x') + "… " + run_url;  // 320 characters
  EXPECT_TRUE(std::get<http_request>(requests[0]).body.ends_with("&Body=" + percent_encode(text)));
}

TEST(Text, TruncationKeepsWholeCharacters) {
  EXPECT_EQ(truncate_chars("abc", 3), "abc");
  EXPECT_EQ(truncate_chars("abcd", 3), "ab…");
  EXPECT_EQ(truncate_chars("äöüß", 3), "äö…");
  EXPECT_EQ(truncate_chars("abc", 0), "");
  EXPECT_EQ(truncate_bytes("äöü", 6), "äöü");
  EXPECT_EQ(truncate_bytes("äöüx", 6), "ä…");  // 3 bytes left for text: one 2-byte character
  EXPECT_EQ(truncate_bytes("abcdefgh", 6), "abc…");
}

TEST(Text, KeysAndEncoding) {
  EXPECT_EQ(fit_key("short", 255), "short");
  auto long_key = std::string(300, 'k');
  auto fitted = fit_key(long_key, 255);
  EXPECT_EQ(fitted.size(), 255u);
  EXPECT_EQ(fitted, std::string(238, 'k') + "-" + hash_hex(long_key));
  EXPECT_NE(fit_key(long_key + "x", 255), fitted);
  EXPECT_EQ(hash_hex(""), "cbf29ce484222325");  // FNV-1a 64 offset basis
  EXPECT_EQ(percent_encode("a-Z_0.~ /+?&=%é"), "a-Z_0.~%20%2F%2B%3F%26%3D%25%C3%A9");
}

}  // namespace
}  // namespace osprey::notifiers

// Golden requests: every backend's requests for fixed notifications (fixtures.hpp), rendered to text and
// compared byte for byte with tests/notifiers/golden/<backend>_<case>.txt.
//
// To accept a deliberate change, regenerate the files and review the diff before committing:
//   OSPREY_UPDATE_GOLDEN=1 build/tests/notifier_golden_tests --gtest_filter='Golden*'
//
// The text of one request: method and URL (SMTP: the URL and the envelope), one header per line, HTTP Basic
// credentials as "basic-auth: user:password", a blank line, then the body exactly as sent. A JSON body is
// followed by an indented copy for reading and a form body by its decoded fields; SMTP messages show each
// CR as \r and each LF as \n followed by a line break, so line endings are visible and exact.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/notifiers/fixtures.hpp"

namespace osprey::notifiers {
namespace {

using namespace fixtures;

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

std::string visible_line_ends(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\n')
      out += "\\n\n";
    else
      out += c;
  }
  return out;
}

std::string render(const http_request& r) {
  std::string out = r.method + " " + r.url + "\n";
  std::string content_type;
  for (const auto& [name, value] : r.headers) {
    out += name + ": " + value + "\n";
    if (name == "Content-Type") content_type = value;
  }
  if (r.basic_auth) out += "basic-auth: " + r.basic_auth->first + ":" + r.basic_auth->second + "\n";
  out += "\n" + r.body + "\n";
  if (content_type == "application/json") {
    // What is sent must be valid, compact JSON: exactly what parsing and re-dumping it gives.
    EXPECT_TRUE(nlohmann::json::accept(r.body)) << r.body;
    if (nlohmann::json::accept(r.body)) {
      auto parsed = nlohmann::json::parse(r.body);
      EXPECT_EQ(parsed.dump(), r.body);
      out += "\n--- the body above as indented JSON, for reading ---\n" + parsed.dump(2) + "\n";
    }
  } else if (content_type == "application/x-www-form-urlencoded") {
    out += "\n--- the form fields above, decoded, for reading ---\n";
    std::istringstream fields(r.body);
    for (std::string field; std::getline(fields, field, '&');) out += percent_decode(field) + "\n";
  }
  return out;
}

std::string render(const smtp_request& r) {
  static constexpr const char* tls_names[] = {"starttls", "implicit", "none"};
  std::string out = "SMTP " + r.url + "\n";
  out += std::string("tls: ") + tls_names[static_cast<int>(r.tls)] + "\n";
  out += "username: " + r.username + "\npassword: " + r.password + "\nca-file: " + r.ca_file + "\n";
  out += "mail-from: " + r.mail_from + "\n";
  for (const auto& to : r.recipients) out += "rcpt: " + to + "\n";
  out += "\n" + visible_line_ends(r.message);
  // Every line ends with CRLF (no bare CR or LF) and fits RFC 5322's 998 octets.
  std::size_t start = 0;
  for (auto end = r.message.find("\r\n"); end != std::string::npos; end = r.message.find("\r\n", start)) {
    auto line = std::string_view(r.message).substr(start, end - start);
    EXPECT_EQ(line.find_first_of("\r\n"), std::string_view::npos) << "bare CR or LF in: " << line;
    EXPECT_LE(line.size(), 998u);
    start = end + 2;
  }
  EXPECT_EQ(start, r.message.size()) << "the message must end with CRLF";
  return out;
}

std::string render(const std::vector<request>& requests) {
  std::string out;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (requests.size() > 1)
      out += (i ? "\n" : "") + std::string("=== request ") + std::to_string(i + 1) + " of " +
             std::to_string(requests.size()) + " ===\n";
    out += std::visit([](const auto& r) { return render(r); }, requests[i]);
  }
  if (requests.empty()) out = "(no requests)\n";
  return out;
}

/// Compares the requests `channel` builds for `n` with golden/<name>.txt (or rewrites it when
/// OSPREY_UPDATE_GOLDEN=1).
void expect_golden(const std::string& name, const config::channel_settings& channel, const notification& n) {
  auto requests = make_notifier(channel)->build(n);
  auto actual = render(requests);
  // build() is pure: a second call gives the same bytes.
  EXPECT_EQ(render(make_notifier(channel)->build(n)), actual);
  const std::string path = std::string(OSPREY_GOLDEN_DIR) + "/" + name + ".txt";
  if (const char* update = std::getenv("OSPREY_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    std::ofstream out(path, std::ios::binary);
    out << actual;
    EXPECT_TRUE(out.good()) << "cannot write " << path;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path << " is missing; run with OSPREY_UPDATE_GOLDEN=1 to create it";
  std::string expected((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (actual == expected) return;
  // Name the first differing line rather than printing two whole requests.
  std::istringstream a(actual), e(expected);
  std::string a_line, e_line;
  int line = 0;
  for (bool more = true; more;) {
    ++line;
    bool got_a = static_cast<bool>(std::getline(a, a_line)), got_e = static_cast<bool>(std::getline(e, e_line));
    if (!got_a) a_line = "(end of file)";
    if (!got_e) e_line = "(end of file)";
    more = got_a && got_e && a_line == e_line;
  }
  std::size_t column = 0;
  while (column < a_line.size() && column < e_line.size() && a_line[column] == e_line[column]) ++column;
  const std::size_t from = column > 60 ? column - 60 : 0;
  ADD_FAILURE() << path << " differs at line " << line << ", column " << column + 1 << " (excerpts from column "
                << from + 1 << ")\n  built:  " << a_line.substr(std::min(from, a_line.size()), 160)
                << "\n  golden: " << e_line.substr(std::min(from, e_line.size()), 160)
                << "\nReview the change; if it is intended, rerun with OSPREY_UPDATE_GOLDEN=1.";
}

TEST(GoldenSlack, TriggerResolveTest) {
  expect_golden("slack_trigger", slack_channel(), failed());
  expect_golden("slack_resolve", slack_channel(), completed_resolve());
  expect_golden("slack_test", slack_channel(), test_kind());
}

TEST(GoldenTeams, TriggerResolveTest) {
  expect_golden("teams_trigger", teams_channel(), failed());
  expect_golden("teams_resolve", teams_channel(), completed_resolve());
  expect_golden("teams_test", teams_channel(), test_kind());
}

TEST(GoldenTeams, RawCardIsTheCardAlone) {
  auto channel = teams_channel();
  channel.payload = "raw_card";
  expect_golden("teams_raw_card", channel, crashed());
}

TEST(GoldenPagerDuty, TriggerResolveTest) {
  expect_golden("pagerduty_trigger", pagerduty_channel(), failed());
  expect_golden("pagerduty_resolve", pagerduty_channel(), completed_resolve());
  expect_golden("pagerduty_test", pagerduty_channel(), test_kind());
}

TEST(GoldenPagerDuty, CrashedIsCritical) { expect_golden("pagerduty_crashed", pagerduty_channel(), crashed()); }

TEST(GoldenPagerDuty, EuRegionAndApiUrl) {
  auto eu = pagerduty_channel();
  eu.region = "eu";
  expect_golden("pagerduty_eu", eu, failed());
  auto proxy = pagerduty_channel();
  proxy.api_url = "http://127.0.0.1:8099/";
  proxy.region = "eu";  // api_url wins over the region
  expect_golden("pagerduty_api_url", proxy, completed_resolve());
}

TEST(GoldenPagerDuty, ChannelSeverityMapAndLongFields) {
  auto channel = pagerduty_channel();
  channel.severity = {{"Crashed", "error"}, {"default", "info"}};
  auto n = failed();  // Failed is not in the map: the channel's default applies
  n.title = std::string(1100, 'x') + " entered state Failed";
  n.dedup_key = "osprey/" + std::string(300, 'k');
  expect_golden("pagerduty_severity_map_long", channel, n);
}

TEST(GoldenOpsgenie, TriggerResolveTest) {
  expect_golden("opsgenie_trigger", opsgenie_channel(), failed());
  expect_golden("opsgenie_resolve", opsgenie_channel(), completed_resolve());
  expect_golden("opsgenie_test", opsgenie_channel(), test_kind());
}

TEST(GoldenOpsgenie, CrashedIsP1) { expect_golden("opsgenie_crashed", opsgenie_channel(), crashed()); }

TEST(GoldenOpsgenie, EuRegionAndApiUrl) {
  auto eu = opsgenie_channel();
  eu.region = "eu";
  expect_golden("opsgenie_eu", eu, completed_resolve());
  auto proxy = opsgenie_channel();
  proxy.api_url = "https://jsm.example.net:8443";
  proxy.priority = {{"Failed", "P1"}};
  proxy.responders.clear();
  proxy.tags.clear();
  expect_golden("opsgenie_api_url", proxy, failed());
}

TEST(GoldenOpsgenie, LongTitleIsCutTo130Characters) {
  auto n = crashed();
  n.title = "Flow run étl/" + std::string(200, 'y') + " entered state Crashed";
  expect_golden("opsgenie_long_title", opsgenie_channel(), n);
}

TEST(GoldenTwilio, TriggerResolveTest) {
  expect_golden("twilio_trigger", twilio_channel(), failed());
  expect_golden("twilio_resolve", twilio_channel(), completed_resolve());
  expect_golden("twilio_test", twilio_channel(), test_kind());
}

TEST(GoldenTwilio, OneRequestPerRecipient) {
  auto channel = twilio_channel();
  channel.to = {"+15551234567", "+447700900123"};
  channel.api_url = "http://127.0.0.1:8098";
  expect_golden("twilio_two_recipients", channel, crashed());
}

TEST(GoldenSendgrid, OneMailPerRecipientForTriggerResolveAndTest) {
  expect_golden("sendgrid_trigger", sendgrid_channel(), failed());
  expect_golden("sendgrid_resolve", sendgrid_channel(), completed_resolve());
  expect_golden("sendgrid_test", sendgrid_channel(), test_kind());
  auto relay = sendgrid_channel();
  relay.api_url = "http://127.0.0.1:8025/";
  relay.to = {"oncall@example.com"};
  expect_golden("sendgrid_api_url", relay, failed());
}

TEST(GoldenSmtp, TriggerResolveTest) {
  expect_golden("smtp_trigger", smtp_channel(), failed());
  expect_golden("smtp_resolve", smtp_channel(), completed_resolve());
  expect_golden("smtp_test", smtp_channel(), test_kind());
}

TEST(GoldenSmtp, ImplicitTlsNonAsciiSubjectAndLongLines) {
  auto channel = smtp_channel();
  channel.tls = config::smtp_tls::implicit;
  channel.from = "Präfekt Alarme <alerts@example.com>";
  channel.to = {"daten@example.com"};
  channel.ca_file = "/etc/osprey/ca.pem";
  auto n = failed();
  n.title = "Flow run Übernacht-Import/odd-bee entered state Failed — 3 Versuche";
  n.message = "Bare LF\nbare CR\rCRLF\r\n.leading dot\n" + std::string(1200, 'z') + "\nend";
  expect_golden("smtp_implicit_non_ascii", channel, n);
}

TEST(GoldenSmtp, LoopbackRelayWithoutTls) {
  auto channel = smtp_channel();
  channel.host = "::1";
  channel.tls = config::smtp_tls::none;
  channel.username.clear();
  channel.password.clear();
  expect_golden("smtp_loopback_none", channel, crashed());
}

}  // namespace
}  // namespace osprey::notifiers

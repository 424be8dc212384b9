// E-mail over SMTP: one smtp_request carrying the envelope (bare addresses) and the whole RFC 5322
// message, plain text in UTF-8 sent 8bit. Mails of one alert thread together: every trigger and resolve
// for a dedup key References the same synthetic thread id, and a resolve is also In-Reply-To it.
// libcurl dot-stuffs the body, so lines starting with "." need nothing here.

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "notifiers/backends.hpp"

namespace osprey::notifiers {
namespace {

constexpr std::size_t max_subject_chars = 250;
/// RFC 5322 allows 998 octets per line; longer body lines are broken (on a character boundary).
constexpr std::size_t max_line_bytes = 998;
/// Input bytes per RFC 2047 encoded word: base64 of 45 bytes is 60, so each word is 72 ≤ 75 characters.
constexpr std::size_t encoded_word_bytes = 45;

bool is_ascii(std::string_view text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

/// A header value cannot span lines (that would inject headers): CR and LF become spaces.
std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\r' || c == '\n') c = ' ';
  return text;
}

std::string base64(std::string_view in) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? alphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? alphabet[v & 63] : '=';
  }
  return out;
}

/// The text as is when ASCII, else RFC 2047 "=?UTF-8?B?...?=" words (whole characters each), folded.
std::string encode_header_text(std::string_view text) {
  if (is_ascii(text)) return std::string(text);
  std::string out;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t len = std::min(encoded_word_bytes, text.size() - pos);
    while (pos + len < text.size() && len > 0 && (static_cast<unsigned char>(text[pos + len]) & 0xC0) == 0x80) --len;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(text.substr(pos, len)) + "?=";
    pos += len;
  }
  return out;
}

/// "Name <a@b>" -> "a@b"; a bare address stays (trimmed).
std::string bare_address(std::string_view address) {
  auto open = address.rfind('<');
  auto close = address.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && open < close)
    return std::string(address.substr(open + 1, close - open - 1));
  while (!address.empty() && address.front() == ' ') address.remove_prefix(1);
  while (!address.empty() && address.back() == ' ') address.remove_suffix(1);
  return std::string(address);
}

/// A From/To mailbox for the header: a non-ASCII display name is RFC 2047 encoded.
std::string header_mailbox(std::string_view mailbox) {
  auto open = mailbox.rfind('<');
  if (is_ascii(mailbox) || open == std::string_view::npos) return one_line(std::string(mailbox));
  auto name = mailbox.substr(0, open);
  while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
  return one_line(encode_header_text(name) + " " + std::string(mailbox.substr(open)));
}

/// RFC 5322 date-time in UTC: "Sat, 14 Mar 2026 09:26:53 +0000".
std::string rfc5322_date(timestamp t) {
  using namespace std::chrono;
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto day = floor<std::chrono::days>(t);
  year_month_day ymd{day};
  hh_mm_ss<seconds> hms{floor<seconds>(t - day)};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d +0000", days[weekday(day).c_encoding()],
                static_cast<unsigned>(ymd.day()), months[static_cast<unsigned>(ymd.month()) - 1],
                static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return buf;
}

/// `text` with CRLF line endings (bare LF and bare CR converted), lines over max_line_bytes broken, and a
/// final CRLF.
std::string crlf_body(std::string_view text) {
  std::string out;
  std::size_t line = 0;  // bytes on the current output line
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      out += "\r\n";
      line = 0;
      continue;
    }
    bool starts_char = (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    if (line >= max_line_bytes - 3 && starts_char) {  // room for one more code point of up to 4 bytes
      out += "\r\n";
      line = 0;
    }
    out += c;
    ++line;
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

class smtp final : public channel_notifier {
 public:
  using channel_notifier::channel_notifier;

  [[nodiscard]] std::vector<request> build(const notification& n) const override {
    smtp_request r;
    r.url = url();
    r.tls = channel_.tls;
    r.username = channel_.username;
    r.password = channel_.password;
    r.ca_file = channel_.ca_file;
    r.mail_from = bare_address(channel_.from);
    for (const auto& to : channel_.to) r.recipients.push_back(bare_address(to));
    r.message = message(n);
    return {std::move(r)};
  }

 private:
  [[nodiscard]] std::string url() const {
    std::uint16_t port = channel_.port;
    if (port == 0) {
      switch (channel_.tls) {
        case config::smtp_tls::starttls: port = 587; break;
        case config::smtp_tls::implicit: port = 465; break;
        case config::smtp_tls::none: port = 25; break;
      }
    }
    auto host = channel_.host.find(':') != std::string::npos && channel_.host.front() != '['
                    ? "[" + channel_.host + "]"  // an IPv6 literal
                    : channel_.host;
    return (channel_.tls == config::smtp_tls::implicit ? "smtps://" : "smtp://") + host + ":" + std::to_string(port);
  }

  [[nodiscard]] std::string message(const notification& n) const {
    std::string to;
    std::size_t line = 4;  // "To: "; fold before a mailbox that would pass 78 characters
    for (const auto& address : channel_.to) {
      auto mailbox = header_mailbox(address);
      if (!to.empty()) {
        bool fold = line + 2 + mailbox.size() > 78;
        to += fold ? ",\r\n " : ", ";
        line = fold ? 1 : line + 2;
      }
      to += mailbox;
      line += mailbox.size();
    }
    std::string m;
    auto header = [&m](std::string_view name, const std::string& value) {
      m.append(name).append(": ").append(value).append("\r\n");
    };
    header("Date", rfc5322_date(n.created));
    header("From", header_mailbox(channel_.from));
    header("To", to);
    header("Subject", encode_header_text(truncate_chars(one_line(headline(n)), max_subject_chars)));
    header("Message-ID", one_line("<" + n.id + "@osprey>"));
    if (n.kind != delivery_kind::test && !n.dedup_key.empty()) {
      // Every mail of one alert points at the same thread id, so mail clients group them.
      auto thread = "<thread-" + hash_hex(n.dedup_key) + "@osprey>";
      if (n.kind == delivery_kind::resolve) header("In-Reply-To", thread);
      header("References", thread);
    }
    header("MIME-Version", "1.0");
    header("Content-Type", "text/plain; charset=UTF-8");
    header("Content-Transfer-Encoding", "8bit");
    header("Auto-Submitted", "auto-generated");
    m += "\r\n";
    std::string body = n.message.empty() ? headline(n) : n.message;
    if (n.kind == delivery_kind::test) body = "This is a test notification from Osprey.\n\n" + body;
    m += crlf_body(body);
    return m;
  }
};

}  // namespace

std::unique_ptr<notifier> make_smtp(const config::channel_settings& channel) { return std::make_unique<smtp>(channel); }

}  // namespace osprey::notifiers

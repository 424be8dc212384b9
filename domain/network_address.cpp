#include "domain/network_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace osprey {
namespace {

std::optional<std::string_view> v4_range(std::uint8_t a, std::uint8_t b, std::uint8_t c) {
  if (a == 0) return "unspecified";
  if (a == 10) return "private";
  if (a == 100 && (b & 0xC0) == 64) return "shared (carrier-grade NAT)";  // 100.64.0.0/10
  if (a == 127) return "loopback";
  if (a == 169 && b == 254) return "link-local";  // cloud metadata services live here
  if (a == 172 && (b & 0xF0) == 16) return "private";
  if (a == 192 && b == 0 && c == 0) return "reserved";  // IETF protocol assignments
  if (a == 192 && b == 168) return "private";
  if (a == 198 && (b & 0xFE) == 18) return "benchmarking";
  if ((a & 0xF0) == 224) return "multicast";
  if ((a & 0xF0) == 240) return "reserved";  // 240.0.0.0/4, broadcast included
  return std::nullopt;
}

bool all_zero(const std::uint8_t* p, std::size_t n) {
  return std::all_of(p, p + n, [](std::uint8_t b) { return b == 0; });
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

std::optional<ip_address> ip_address::parse(std::string_view literal) {
  if (literal.size() >= 2 && literal.front() == '[' && literal.back() == ']') {
    literal = literal.substr(1, literal.size() - 2);
  }
  if (literal.empty() || literal.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string text(literal);
  ip_address out;
  if (inet_pton(AF_INET, text.c_str(), out.bytes.data()) == 1) return out;
  out.v6 = true;
  if (inet_pton(AF_INET6, text.c_str(), out.bytes.data()) == 1) return out;
  return std::nullopt;
}

std::optional<ip_address> ip_address::of(const sockaddr& address) {
  ip_address out;
  if (address.sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, &address, sizeof in);
    std::memcpy(out.bytes.data(), &in.sin_addr, 4);
    return out;
  }
  if (address.sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, &address, sizeof in6);
    out.v6 = true;
    std::memcpy(out.bytes.data(), &in6.sin6_addr, 16);
    return out;
  }
  return std::nullopt;
}

std::string ip_address::text() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buffer, sizeof buffer);
  return buffer;
}

std::optional<std::string_view> non_public_range(const ip_address& address) {
  const auto& b = address.bytes;
  if (!address.v6) return v4_range(b[0], b[1], b[2]);
  if (all_zero(b.data(), 16)) return "unspecified";
  if (all_zero(b.data(), 15) && b[15] == 1) return "loopback";
  // IPv4-mapped (::ffff:0:0/96) and NAT64 (64:ff9b::/96) carry the IPv4 address in the last 4 bytes.
  const bool mapped = all_zero(b.data(), 10) && b[10] == 0xFF && b[11] == 0xFF;
  const bool nat64 = b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && all_zero(b.data() + 4, 8);
  if (mapped || nat64) return v4_range(b[12], b[13], b[14]);
  if (b[0] == 0x20 && b[1] == 0x02) return v4_range(b[2], b[3], b[4]);  // 6to4 2002:a.b.c.d::/48
  if ((b[0] & 0xFE) == 0xFC) return "unique-local";                     // fc00::/7
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return "link-local";       // fe80::/10
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) return "site-local";       // fec0::/10, deprecated
  if (b[0] == 0xFF) return "multicast";
  return std::nullopt;
}

std::optional<std::string_view> non_public_host(std::string_view host) {
  const auto name = lower(host);
  if (name == "localhost" || name == "localhost." || name.ends_with(".localhost") || name.ends_with(".localhost.")) {
    return "loopback";
  }
  if (const auto address = ip_address::parse(name)) return non_public_range(*address);
  return std::nullopt;
}

}  // namespace osprey

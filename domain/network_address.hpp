#pragma once
// Which IP addresses are on the public internet. Notification channels send to the hosts their config names;
// a channel that could reach loopback, link-local or private addresses would let whoever writes the config
// (or controls a webhook host's DNS) make the server call its own admin ports or the cloud metadata service.
// The transport asks this for every address it is about to connect to (notifiers/transport.cpp), and the
// config loader for IP literals it can judge before any DNS lookup. Pure: no lookups, no sockets.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;

namespace osprey {

/// An IPv4 or IPv6 address; IPv4 uses the first 4 bytes.
struct ip_address {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};

  /// "10.0.0.1", "::1", "[fe80::1]" (brackets allowed, no zone id or port); nullopt for anything else,
  /// host names included.
  static std::optional<ip_address> parse(std::string_view literal);
  /// The address of an AF_INET or AF_INET6 socket address; nullopt for other families.
  static std::optional<ip_address> of(const sockaddr& address);

  /// "10.0.0.1", "fe80::1" (the usual compressed IPv6 spelling).
  [[nodiscard]] std::string text() const;
};

/// The range `address` lies in when it is not publicly routable: "loopback", "private", "link-local",
/// "unspecified", "shared (carrier-grade NAT)", "multicast", "reserved", "benchmarking",
/// "unique-local", "site-local". nullopt for a public address. IPv4 inside IPv6 (mapped ::ffff:a.b.c.d,
/// NAT64 64:ff9b::/96, 6to4 2002::/16) is judged by the IPv4 address it carries, so no spelling slips past.
std::optional<std::string_view> non_public_range(const ip_address& address);

/// For a host as written in a URL or config: "localhost" (and names under .localhost) is loopback, an IP
/// literal is judged as above; other names are nullopt (only their resolved addresses can be judged).
std::optional<std::string_view> non_public_host(std::string_view host);

}  // namespace osprey

#include "domain/network_address.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

namespace osprey {
namespace {

std::string range_of(std::string_view literal) {
  const auto address = ip_address::parse(literal);
  EXPECT_TRUE(address) << literal;
  if (!address) return "unparsed";
  return std::string(non_public_range(*address).value_or("public"));
}

TEST(NetworkAddress, JudgesIpv4Ranges) {
  EXPECT_EQ(range_of("127.0.0.1"), "loopback");
  EXPECT_EQ(range_of("127.255.1.2"), "loopback");
  EXPECT_EQ(range_of("10.1.2.3"), "private");
  EXPECT_EQ(range_of("172.16.0.1"), "private");
  EXPECT_EQ(range_of("172.31.255.255"), "private");
  EXPECT_EQ(range_of("172.32.0.1"), "public");
  EXPECT_EQ(range_of("192.168.1.1"), "private");
  EXPECT_EQ(range_of("169.254.169.254"), "link-local");
  EXPECT_EQ(range_of("100.64.0.1"), "shared (carrier-grade NAT)");
  EXPECT_EQ(range_of("100.128.0.1"), "public");
  EXPECT_EQ(range_of("0.0.0.0"), "unspecified");
  EXPECT_EQ(range_of("224.0.0.1"), "multicast");
  EXPECT_EQ(range_of("255.255.255.255"), "reserved");
  EXPECT_EQ(range_of("198.18.0.1"), "benchmarking");
  EXPECT_EQ(range_of("8.8.8.8"), "public");
  EXPECT_EQ(range_of("52.1.2.3"), "public");
}

TEST(NetworkAddress, JudgesIpv6RangesAndIpv4CarriedInside) {
  EXPECT_EQ(range_of("::1"), "loopback");
  EXPECT_EQ(range_of("[::1]"), "loopback");
  EXPECT_EQ(range_of("::"), "unspecified");
  EXPECT_EQ(range_of("fe80::1"), "link-local");
  EXPECT_EQ(range_of("fd00::5"), "unique-local");
  EXPECT_EQ(range_of("fec0::1"), "site-local");
  EXPECT_EQ(range_of("ff02::1"), "multicast");
  EXPECT_EQ(range_of("::ffff:127.0.0.1"), "loopback");
  EXPECT_EQ(range_of("::ffff:169.254.169.254"), "link-local");
  EXPECT_EQ(range_of("64:ff9b::10.0.0.1"), "private");
  EXPECT_EQ(range_of("2002:c0a8:0101::1"), "private");  // 6to4 of 192.168.1.1
  EXPECT_EQ(range_of("::ffff:8.8.8.8"), "public");
  EXPECT_EQ(range_of("2606:4700::1111"), "public");
}

TEST(NetworkAddress, ParsesOnlyLiterals) {
  EXPECT_FALSE(ip_address::parse("example.com"));
  EXPECT_FALSE(ip_address::parse(""));
  EXPECT_FALSE(ip_address::parse("[]"));
  EXPECT_FALSE(ip_address::parse("127.0.0.1:80"));
  EXPECT_FALSE(ip_address::parse("2130706433"));  // resolvers accept it; the transport judges what it resolves to
  EXPECT_EQ(ip_address::parse("[fe80::1]")->text(), "fe80::1");
  EXPECT_EQ(ip_address::parse("10.0.0.7")->text(), "10.0.0.7");
}

TEST(NetworkAddress, HostsAsWrittenInConfig) {
  EXPECT_EQ(non_public_host("localhost"), "loopback");
  EXPECT_EQ(non_public_host("LocalHost"), "loopback");
  EXPECT_EQ(non_public_host("api.localhost"), "loopback");
  EXPECT_EQ(non_public_host("[::1]"), "loopback");
  EXPECT_EQ(non_public_host("192.168.0.10"), "private");
  EXPECT_FALSE(non_public_host("hooks.slack.com"));
  EXPECT_FALSE(non_public_host("1.1.1.1"));
}

TEST(NetworkAddress, ReadsSocketAddresses) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  inet_pton(AF_INET, "169.254.169.254", &in.sin_addr);
  sockaddr generic{};
  static_assert(sizeof generic <= sizeof in);
  const auto v4 = ip_address::of(*reinterpret_cast<const sockaddr*>(&in));
  ASSERT_TRUE(v4);
  EXPECT_EQ(non_public_range(*v4), "link-local");

  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:10.0.0.1", &in6.sin6_addr);
  const auto v6 = ip_address::of(*reinterpret_cast<const sockaddr*>(&in6));
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->text(), "::ffff:10.0.0.1");
  EXPECT_EQ(non_public_range(*v6), "private");

  sockaddr unix_like{};
  unix_like.sa_family = AF_UNIX;
  EXPECT_FALSE(ip_address::of(unix_like));
}

}  // namespace
}  // namespace osprey

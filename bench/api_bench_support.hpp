#pragma once
// Small, server-independent helpers for api_bench: the target URL (loopback only), ids and timestamps shaped
// like the Prefect client's, and latency statistics. Header-only; nothing here links Osprey code, so the
// load generator measures any Prefect-compatible server the same way.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

namespace osprey::bench {

/// Where the benchmark sends its requests: `http://HOST:PORT/BASE` (BASE is the API mount, e.g. "/api").
struct target {
  std::string host;       ///< as written in the URL, without brackets ("127.0.0.1", "::1", "localhost")
  std::string port;       ///< "80" when the URL has none
  std::string base_path;  ///< "/api" in `http://127.0.0.1:4200/api`; never ends in '/'
  /// The Host header value: host[:port], with brackets around an IPv6 literal.
  [[nodiscard]] std::string host_header() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + port;
  }
};

/// Parses `http://HOST[:PORT][/BASE]`. Only plain http; nullopt with `why` set for anything else.
inline std::optional<target> parse_url(std::string_view url, std::string& why) {
  constexpr std::string_view scheme = "http://";
  if (url.substr(0, scheme.size()) != scheme) {
    why = "only http:// URLs are supported";
    return std::nullopt;
  }
  url.remove_prefix(scheme.size());
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : url.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  target t;
  t.base_path = std::string(path);
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      why = "unbalanced '[' in the host";
      return std::nullopt;
    }
    t.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    t.port = authority.empty() ? "80" : std::string(authority.substr(1));
  } else {
    const auto colon = authority.rfind(':');
    t.host = std::string(authority.substr(0, colon));
    t.port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  }
  if (t.host.empty() || t.port.empty() || t.port.find_first_not_of("0123456789") != std::string::npos) {
    why = "expected http://HOST:PORT/BASE";
    return std::nullopt;
  }
  return t;
}

/// True for 127.0.0.0/8 and ::1 (also ::ffff:127.x.y.z). The benchmark refuses any other address: it is a load
/// generator and must never be pointed at someone else's machine by accident.
inline bool is_loopback(const boost::asio::ip::address& a) {
  if (a.is_v4()) return a.to_v4().is_loopback();
  const auto v6 = a.to_v6();
  if (v6.is_loopback()) return true;
  return v6.is_v4_mapped() && boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).is_loopback();
}

/// Random ids; one generator per thread.
inline std::mt19937_64& rng() {
  thread_local std::mt19937_64 engine{std::random_device{}() ^ (std::uint64_t{std::random_device{}()} << 32)};
  return engine;
}

inline std::string format_uuid(const std::array<std::uint8_t, 16>& b) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += hex[b[i] >> 4];
    out += hex[b[i] & 0xf];
  }
  return out;
}

inline std::array<std::uint8_t, 16> random_bytes() {
  std::array<std::uint8_t, 16> b{};
  const std::uint64_t hi = rng()(), lo = rng()();
  for (int i = 0; i < 8; ++i) {
    b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(hi >> (56 - 8 * i));
    b[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(lo >> (56 - 8 * i));
  }
  return b;
}

/// A random (version 4) UUID: Prefect's dynamic keys and transition ids.
inline std::string uuid4() {
  auto b = random_bytes();
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  return format_uuid(b);
}

/// A time-ordered (version 7) UUID, as the Prefect client makes for task runs and state ids.
inline std::string uuid7(std::chrono::system_clock::time_point at) {
  auto b = random_bytes();
  const auto ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count());
  for (int i = 0; i < 6; ++i) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x70);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  return format_uuid(b);
}

/// `2026-11-26T03:40:20.123456+00:00`: UTC with microseconds, the form Python's isoformat() gives.
inline std::string iso8601(std::chrono::system_clock::time_point at) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld+00:00", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(us % 1'000'000));
  return buffer;
}

/// Latencies of one operation, in milliseconds.
struct samples {
  std::vector<double> ms;
  std::uint64_t errors = 0;   ///< gave up: non-2xx after retries, unexpected body, or transport error
  std::uint64_t retries = 0;  ///< 408/429/502/503 or reconnects that were retried (the Prefect client retries these)

  void merge(const samples& other) {
    ms.insert(ms.end(), other.ms.begin(), other.ms.end());
    errors += other.errors;
    retries += other.retries;
  }
};

/// Nearest-rank percentile of sorted values; 0 for none.
inline double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace osprey::bench

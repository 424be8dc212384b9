// Which browser origins may open a websocket (origin_allowed), as a table: the CSRF guard of the websockets.

#include <gtest/gtest.h>

#include "http/websocket.hpp"

namespace osprey::http {
namespace {

const origin_policy loopback{"127.0.0.1", 4200, {}};

TEST(OriginAllowed, ClientsWithoutAnOriginAreAllowed) { EXPECT_TRUE(origin_allowed("", loopback)); }

TEST(OriginAllowed, TheServersOwnOriginIsAllowed) {
  for (const char* same : {"http://127.0.0.1:4200", "http://localhost:4200", "http://LocalHost:4200",
                           "http://[::1]:4200", "http://127.0.0.1:4200/"})
    EXPECT_TRUE(origin_allowed(same, loopback)) << same;
  const origin_policy lan{"192.168.1.5", 4200, {}};
  EXPECT_TRUE(origin_allowed("http://192.168.1.5:4200", lan));
  EXPECT_TRUE(origin_allowed("http://localhost:4200", lan));
  const origin_policy v6{"[::1]", 4200, {}};
  EXPECT_TRUE(origin_allowed("http://[::1]:4200", v6));
}

TEST(OriginAllowed, OtherOriginsAreRefused) {
  for (const char* other : {"http://evil.example", "https://evil.example:4200", "http://127.0.0.1:4201",
                            "http://localhost", "https://127.0.0.1:4200", "http://rebound.example:4200",
                            "http://192.168.1.5:4200", "null", "file://", "127.0.0.1:4200", "http://:4200",
                            "http://127.0.0.1:99999", "http://127.0.0.1:4200/path", "http://user@127.0.0.1:4200"})
    EXPECT_FALSE(origin_allowed(other, loopback)) << other;
}

TEST(OriginAllowed, ConfiguredOriginsAreAllowed) {
  const origin_policy configured{"0.0.0.0", 4200, {"https://ui.example.com", "http://10.0.0.5:8080", "not an origin"}};
  EXPECT_TRUE(origin_allowed("https://ui.example.com", configured));
  EXPECT_TRUE(origin_allowed("https://UI.example.com:443", configured));  // default port implied
  EXPECT_TRUE(origin_allowed("http://10.0.0.5:8080", configured));
  EXPECT_FALSE(origin_allowed("http://ui.example.com", configured));  // another scheme is another origin
  EXPECT_FALSE(origin_allowed("http://10.0.0.5", configured));
  EXPECT_FALSE(origin_allowed("not an origin", configured));
}

TEST(OriginAllowed, ValidOriginsForTheSetting) {
  EXPECT_TRUE(is_valid_origin("https://ui.example.com"));
  EXPECT_TRUE(is_valid_origin("http://[::1]:8080/"));
  EXPECT_FALSE(is_valid_origin("ui.example.com"));
  EXPECT_FALSE(is_valid_origin("https://ui.example.com/app"));
}

}  // namespace
}  // namespace osprey::http

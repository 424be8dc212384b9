// The shared-secret check of HTTP requests: only "Basic " + base64(secret) opens.
#include <gtest/gtest.h>

#include "domain/basic_auth.hpp"

using namespace osprey;

TEST(BasicAuth, OnlyTheSecretInPrefectsHeaderShapeMatches) {
  // base64("admin:pass") = YWRtaW46cGFzcw== (two padding characters), base64("ab") = YWI= (one), "abc" = YWJj.
  EXPECT_TRUE(basic_auth_matches("Basic YWRtaW46cGFzcw==", "admin:pass"));
  EXPECT_TRUE(basic_auth_matches("Basic YWI=", "ab"));
  EXPECT_TRUE(basic_auth_matches("Basic YWJj", "abc"));
  EXPECT_FALSE(basic_auth_matches("Basic YWRtaW46cGFzcw==", "admin:pasS"));
  EXPECT_FALSE(basic_auth_matches("Basic YWRtaW46cGFzcw==", "admin:pass "));
  EXPECT_FALSE(basic_auth_matches("Bearer YWRtaW46cGFzcw==", "admin:pass"));
  EXPECT_FALSE(basic_auth_matches("basic YWRtaW46cGFzcw==", "admin:pass"));
  EXPECT_FALSE(basic_auth_matches("Basic YWRtaW46cGFzcw", "admin:pass")) << "unpadded";
  EXPECT_FALSE(basic_auth_matches("Basic ****", "admin:pass")) << "not base64";
  EXPECT_FALSE(basic_auth_matches("Basic ", ""));
  EXPECT_FALSE(basic_auth_matches("", "admin:pass"));
  EXPECT_FALSE(basic_auth_matches("admin:pass", "admin:pass")) << "the secret itself is not the header";
}

TEST(BasicAuth, SameSecretComparesWholeValues) {
  EXPECT_TRUE(same_secret("admin:pass", "admin:pass"));
  EXPECT_FALSE(same_secret("admin:pas", "admin:pass"));
  EXPECT_FALSE(same_secret("", "admin:pass"));
  EXPECT_FALSE(same_secret("admin:past", "admin:pass"));
}

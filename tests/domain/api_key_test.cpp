// API keys: their shape, hashing, verdicts, the credentials a request presents, and the scope each route needs.
#include "domain/api_key.hpp"

#include <gtest/gtest.h>

#include <set>

namespace osprey {
namespace {

const timestamp now = timestamp(std::chrono::seconds(1'800'000'000));

TEST(ApiKey, IssuedKeysHaveTheDocumentedShapeAndAreNeverStoredAsText) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto k = issue_api_key("ci", api_scope::write, now, std::nullopt);
    EXPECT_EQ(k.text.size(), 4u + 12u + 1u + 48u) << k.text;
    EXPECT_EQ(api_key_id_of(k.text), k.record.key_id);
    EXPECT_EQ(k.record.secret_hash, api_key_hash(k.text));
    EXPECT_EQ(k.record.secret_hash.find(k.text.substr(17)), std::string::npos);
    EXPECT_TRUE(seen.insert(k.text).second) << "repeated key";
  }
  EXPECT_EQ(api_key_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ApiKey, TextsOfAnotherShapeAreNotKeys) {
  const std::string good = "osp_0123456789ab_" + std::string(48, 'a');
  EXPECT_TRUE(api_key_id_of(good));
  for (const std::string& bad : {std::string(""), std::string("osp_"), "osq_0123456789ab_" + std::string(48, 'a'),
                                 "osp_0123456789aB_" + std::string(48, 'a'), "osp_0123456789ab-" + std::string(48, 'a'),
                                 "osp_0123456789ab_" + std::string(47, 'a'), "osp_0123456789ab_" + std::string(49, 'a'),
                                 "osp_0123456789ab_" + std::string(47, 'a') + "g"})
    EXPECT_FALSE(api_key_id_of(bad)) << bad;
}

TEST(ApiKey, VerdictsFollowHashRevocationExpiryAndScope) {
  auto k = issue_api_key("ci", api_scope::write, now, now + std::chrono::hours(1));
  const auto& r = k.record;
  EXPECT_EQ(judge_api_key(k.text, &r, api_scope::read, now), api_key_verdict::accepted);
  EXPECT_EQ(judge_api_key(k.text, &r, api_scope::write, now), api_key_verdict::accepted);
  EXPECT_EQ(judge_api_key(k.text, &r, api_scope::admin, now), api_key_verdict::insufficient_scope);
  EXPECT_EQ(judge_api_key(k.text, nullptr, api_scope::read, now), api_key_verdict::unknown);
  auto other = k.text;
  other.back() = other.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(judge_api_key(other, &r, api_scope::read, now), api_key_verdict::unknown);
  EXPECT_EQ(judge_api_key(k.text, &r, api_scope::read, now + std::chrono::hours(1)), api_key_verdict::expired);
  auto revoked = r;
  revoked.revoked = now;
  EXPECT_EQ(judge_api_key(k.text, &revoked, api_scope::read, now), api_key_verdict::revoked);
  // A wrong secret says nothing about revocation.
  EXPECT_EQ(judge_api_key(other, &revoked, api_scope::read, now), api_key_verdict::unknown);
}

TEST(ApiKey, CredentialsComeAsBearerOrBasic) {
  EXPECT_EQ(presented_credential("Bearer abc"), "abc");
  EXPECT_EQ(presented_credential("bearer abc"), "abc");
  EXPECT_EQ(presented_credential("Basic YWRtaW46cGFzcw=="), "admin:pass");
  EXPECT_FALSE(presented_credential(""));
  EXPECT_FALSE(presented_credential("Bearer "));
  EXPECT_FALSE(presented_credential("Digest x"));
  const std::string key = "osp_0123456789ab_" + std::string(48, 'c');
  EXPECT_EQ(api_key_in(key), key);
  EXPECT_EQ(api_key_in("anyone:" + key), key);
  EXPECT_FALSE(api_key_in("admin:pass"));
  EXPECT_FALSE(api_key_in(key + ":x"));
}

TEST(ApiKey, RoutesNeedTheScopeOfWhatTheyDo) {
  struct row {
    const char* method;
    const char* path;
    api_scope needed;
  };
  const row rows[] = {
      {"GET", "/api/flows/{id}", api_scope::read},
      {"GET", "/api/admin/storage", api_scope::read},  // the client reads it before persisting results
      {"POST", "/api/flows/filter", api_scope::read},
      {"POST", "/api/flow_runs/count", api_scope::read},
      {"POST", "/api/deployments/paginate", api_scope::read},
      {"POST", "/api/flow_runs/history", api_scope::read},
      {"POST", "/api/events/count-by/{countable}", api_scope::read},
      {"POST", "/api/ui/flows/next-runs", api_scope::read},
      {"POST", "/api/work_pools/{name}/concurrency_status", api_scope::read},
      {"POST", "/api/flow_runs/{id}/input/filter", api_scope::read},
      {"POST", "/api/flows/", api_scope::write},
      {"POST", "/api/flow_runs/{id}/set_state", api_scope::write},
      {"POST", "/api/work_pools/{name}/get_scheduled_flow_runs", api_scope::write},
      {"POST", "/api/v2/concurrency_limits/increment-with-lease", api_scope::write},
      {"PATCH", "/api/deployments/{id}", api_scope::write},
      {"DELETE", "/api/flows/{id}", api_scope::write},
      {"POST", "/api/logs/", api_scope::write},
      {"PUT", "/api/admin/storage", api_scope::admin},
      {"DELETE", "/api/admin/storage", api_scope::admin},
      {"POST", "/api/admin/database/clear", api_scope::admin},
  };
  for (const auto& r : rows) EXPECT_EQ(scope_needed(r.method, r.path), r.needed) << r.method << " " << r.path;
}

TEST(ApiKey, ScopesNest) {
  EXPECT_TRUE(scope_covers(api_scope::admin, api_scope::write));
  EXPECT_TRUE(scope_covers(api_scope::write, api_scope::read));
  EXPECT_FALSE(scope_covers(api_scope::read, api_scope::write));
  for (auto s : {api_scope::read, api_scope::write, api_scope::admin}) EXPECT_EQ(parse_api_scope(to_string(s)), s);
  EXPECT_FALSE(parse_api_scope("root"));
}

}  // namespace
}  // namespace osprey

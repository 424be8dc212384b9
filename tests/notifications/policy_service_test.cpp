// The rules of API notification policies (notifications/policy_service): what check_api_policy refuses and
// on which field, file policies read-only for every change, taken names, and the policy book following each
// committed change. The service on real SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <future>

#include "notifications/policy_service.hpp"
#include "persistence/migrator.hpp"
#include "persistence/notification_store.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using persistence::dialect;

namespace {

config::notification_settings settings_with_file_policy() {
  config::notification_settings s;
  config::channel_settings pager;
  pager.name = "pager";
  pager.type = config::channel_type::pagerduty;
  s.channels = {pager};
  notification_policy file;
  file.name = "from-file";
  file.channels = {"pager"};
  s.policies = {file};
  return s;
}

notification_policy api_policy(const std::string& name, std::vector<std::string> channels = {"pager"}) {
  notification_policy p;
  p.source = "api";
  p.id = new_uuid4();
  p.name = name;
  p.channels = std::move(channels);
  return p;
}

/// One callback's answer.
template <class Answer>
class awaited {
 public:
  auto callback() {
    return [p = promise_](Answer a) { p->set_value(std::move(a)); };
  }
  Answer get() {
    EXPECT_EQ(future_.wait_for(30s), std::future_status::ready) << "no answer within 30 s";
    return future_.get();
  }

 private:
  std::shared_ptr<std::promise<Answer>> promise_ = std::make_shared<std::promise<Answer>>();
  std::future<Answer> future_ = promise_->get_future();
};

TEST(CheckApiPolicy, AnUnnamedPolicyIsNamedAfterItsId) {
  auto rules = notifications::notification_rules::combine(settings_with_file_policy(), {});
  auto p = api_policy("");
  EXPECT_FALSE(notifications::check_api_policy(p, *rules));
  EXPECT_EQ(p.name, "api-" + p.id->to_string().substr(0, 8));
}

TEST(CheckApiPolicy, ChannelsMustBeNamedAndConfigured) {
  auto rules = notifications::notification_rules::combine(settings_with_file_policy(), {});
  auto none = api_policy("a", {});
  auto problem = notifications::check_api_policy(none, *rules);
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->field, "channels");
  EXPECT_EQ(problem->why.code(), errc::invalid_argument);

  auto unknown = api_policy("a", {"pager", "fax"});
  problem = notifications::check_api_policy(unknown, *rules);
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->field, "channels");
  EXPECT_EQ(problem->why.message(), "Unknown channel 'fax' (configured: pager)");
}

TEST(CheckApiPolicy, ATemplateWithAnUnknownPlaceholderIsRefusedOnItsField) {
  auto rules = notifications::notification_rules::combine(settings_with_file_policy(), {});
  auto p = api_policy("a");
  p.message_template = "{nope} failed";
  auto problem = notifications::check_api_policy(p, *rules);
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->field, "message_template");
  EXPECT_NE(problem->why.message().find("nope"), std::string::npos) << problem->why.message();
}

TEST(CheckApiPolicy, AFilePolicysNameIsAConflict) {
  auto rules = notifications::notification_rules::combine(settings_with_file_policy(), {});
  auto p = api_policy("from-file");
  auto problem = notifications::check_api_policy(p, *rules);
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->field, "");
  EXPECT_EQ(problem->why.code(), errc::conflict);
}

class PolicyService : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(scratch_);
    auto conn = scratch_.connect();
    persistence::migrator m(*conn);
    ASSERT_TRUE(m.reset());
    const auto settings = settings_with_file_policy();
    ASSERT_TRUE(persistence::in_write_transaction(*conn, "file policies", [&](persistence::sql_connection& c) {
      persistence::sync_file_policies(c, settings.policies, now_);
    }));
    file_policy_ = persistence::list_policies(*conn).at(0);
    persistence::database_options options;
    options.target = scratch_.target();
    auto started = persistence::database::start(options);
    ASSERT_TRUE(started) << started.error().message();
    database_ = std::move(*started);
    book_ = std::make_shared<notifications::policy_book>(notifications::notification_rules::combine(settings, {}));
  }

  void TearDown() override {
    if (database_) database_->drain_and_stop();
  }

  notifications::policy_service service() const { return {*database_, book_}; }

  result<notification_policy> create(notification_policy p) {
    awaited<result<notification_policy>> created;
    service().create(std::move(p), now_, created.callback());
    return created.get();
  }

  osprey::testing::scratch_database scratch_{GetParam()};
  std::optional<persistence::database> database_;
  std::shared_ptr<notifications::policy_book> book_;
  notification_policy file_policy_;
  timestamp now_ = system_clock::instance().now();
};

TEST_P(PolicyService, FilePoliciesAreReadOnlyForEveryChange) {
  awaited<result<notification_policy>> editable;
  service().find_editable(*file_policy_.id, editable.callback());
  auto found = editable.get();
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code(), errc::failed_precondition);

  auto changed = file_policy_;
  changed.is_active = false;
  awaited<status> updated, removed;
  service().update(changed, now_, updated.callback());
  service().remove(*file_policy_.id, removed.callback());
  for (const auto& s : {updated.get(), removed.get()}) {
    EXPECT_EQ(s.code(), errc::failed_precondition) << s.message();
    EXPECT_NE(s.message().find("SIGHUP"), std::string::npos) << s.message();
  }
  awaited<result<notification_policy>> read;
  service().find(*file_policy_.id, read.callback());
  auto stored = read.get();
  ASSERT_TRUE(stored) << stored.error().message();
  EXPECT_TRUE(stored->is_active);
}

TEST_P(PolicyService, TheBookFollowsEachCommittedChange) {
  auto created = create(api_policy("api-one"));
  ASSERT_TRUE(created) << created.error().message();
  EXPECT_NE(book_->current()->find_policy("api-one"), nullptr);

  auto paused = *created;
  paused.is_active = false;
  awaited<status> updated;
  service().update(paused, now_, updated.callback());
  EXPECT_TRUE(updated.get());
  EXPECT_EQ(book_->current()->find_policy("api-one"), nullptr);  // inactive policies are not matched

  awaited<status> removed, again;
  service().remove(*created->id, removed.callback());
  EXPECT_TRUE(removed.get());
  service().remove(*created->id, again.callback());
  EXPECT_EQ(again.get().code(), errc::not_found);
}

TEST_P(PolicyService, ATakenNameIsAConflictThatSaysSo) {
  ASSERT_TRUE(create(api_policy("twice")));
  auto second = create(api_policy("twice"));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), errc::conflict);
  EXPECT_EQ(second.error().message(), "A policy named 'twice' already exists");
}

INSTANTIATE_TEST_SUITE_P(D, PolicyService, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace

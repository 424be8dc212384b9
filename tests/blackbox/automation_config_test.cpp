// Automations declared in the config file (notifications.automations), with the real binary on SQLite and
// PostgreSQL: `osprey notifications check` validates and lists them; the server stores them at start, serves
// them read-only (PUT, PATCH and DELETE answer 409), replaces a changed one under the same id and removes one
// the file no longer declares.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "tests/support/daemon_test.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;

std::string automation_yaml(const std::string& description) {
  return "notifications:\n"
         "  automations:\n"
         "    - name: nightly-watch\n"
         "      description: " +
         description +
         "\n"
         "      trigger: {type: event, expect: [nightly.failed], posture: Reactive, threshold: 1, within: 0}\n"
         "      actions: [{type: do-nothing}]\n";
}

class AutomationConfigTest : public daemon_test {
 protected:
  void SetUp() override { OSPREY_SKIP_IF_UNAVAILABLE(db_); }  // each test starts the daemon with its config file

  std::string write_config(const std::string& yaml) {
    const auto path = (home_.path() / "config.yaml").string();
    std::ofstream(path) << yaml;
    return path;
  }

  json automations() {
    auto r = http_request("POST", daemon_->base_url() + "/api/automations/filter", "{}");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }
};

TEST_P(AutomationConfigTest, TheFileDeclaresTheAutomationsTheApiServesReadOnly) {
  const auto config = write_config(automation_yaml("first"));
  auto checked = run_osprey({"notifications", "check", "--config", config});
  EXPECT_EQ(checked.exit_code, 0) << checked.out;
  EXPECT_NE(checked.out.find("Automations (1):\n  nightly-watch\n    trigger:    event\n    actions:    do-nothing"),
            std::string::npos)
      << checked.out;
  EXPECT_NE(checked.out.find("OK: 0 channel(s), 0 policy(ies), 1 automation(s)"), std::string::npos) << checked.out;

  start({}, {"--config", config});
  auto listed = automations();
  ASSERT_EQ(listed.size(), 1u) << listed;
  const std::string id = listed[0]["id"];
  EXPECT_EQ(listed[0]["description"], "first");
  EXPECT_EQ(listed[0]["tags"], json::array({"osprey:config-file"}));
  const auto base = daemon_->base_url() + "/api/automations/" + id;
  auto own = listed[0];
  for (const char* key : {"id", "created", "updated"}) own.erase(key);
  const auto put = http_request("PUT", base, own.dump());
  EXPECT_EQ(put.status, 409) << put.body;
  EXPECT_NE(put.body.find("declared in Osprey's config file"), std::string::npos) << put.body;
  EXPECT_EQ(http_request("PATCH", base, R"({"enabled": false})").status, 409);
  EXPECT_EQ(http_request("DELETE", base).status, 409);
  // The API cannot take the tag for an automation of its own either.
  EXPECT_EQ(http_request("POST", daemon_->base_url() + "/api/automations/", own.dump()).status, 422);

  // Changed in the file: replaced under the same id.
  start({}, {"--config", write_config(automation_yaml("second"))});
  listed = automations();
  ASSERT_EQ(listed.size(), 1u) << listed;
  EXPECT_EQ(listed[0]["id"], id);
  EXPECT_EQ(listed[0]["description"], "second");

  start({}, {"--config", write_config("notifications: {}\n")});  // no longer declared: removed
  EXPECT_TRUE(automations().empty());
}

TEST(AutomationConfigCheck, ARefusedAutomationFailsTheCheckWithItsFieldAndLine) {
  scratch_dir home;
  const auto path = (home.path() / "config.yaml").string();
  std::ofstream(path) << "notifications:\n  automations:\n    - name: broken\n      trigger: {type: event, "
                         "posture: Sideways}\n      actions: []\n";
  auto r = run_osprey({"notifications", "check", "--config", path});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("config.yaml:3: notifications.automations[0].trigger.EventTrigger.posture: Input should be "
                       "Posture.Reactive or Posture.Proactive"),
            std::string::npos)
      << r.out;
}

INSTANTIATE_TEST_SUITE_P(D, AutomationConfigTest, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

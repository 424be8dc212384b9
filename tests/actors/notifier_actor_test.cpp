// A notifier actor on its own, against a real receiver on loopback: it reads an outbox row as any version of
// Osprey wrote it.
#include <gtest/gtest.h>

#include "actors/notification_dispatcher.hpp"
#include "tests/support/http_receiver.hpp"

using namespace osprey;
using namespace std::chrono_literals;

namespace {

// Resolve rows enqueued before the "Recovered: Resolved: ..." fix carry "Resolved: " in their stored title;
// one still pending after an upgrade must be titled like a new one.
TEST(NotifierActor, AResolveRowEnqueuedByAnOlderVersionIsTitledRecoveredOnce) {
  osprey::testing::http_receiver slack;
  config::notification_settings settings;
  config::channel_settings chat;
  chat.name = "chat";
  chat.type = config::channel_type::slack;
  chat.url = slack.base_url() + "/hook";
  settings.channels = {chat};
  auto book = std::make_shared<notifications::policy_book>(notifications::notification_rules::combine(settings, {}));
  auto transport = notifiers::transport::start();
  ASSERT_TRUE(transport) << transport.error().message();
  caf::actor_system_config caf_config;
  caf_config.set("scheduler.max-threads", std::size_t{2});
  caf::actor_system system{caf_config};
  caf::scoped_actor dispatcher{system};
  auto notifier = actors::spawn_notifier_actor(system, config::channel_type::slack, book, *transport, dispatcher);

  persistence::outbox_job job;
  job.id = new_uuid4();
  job.policy_name = "failures";
  job.channel_name = "chat";
  job.kind = notification_kind::resolve;
  job.payload = {{"title", "Resolved: Flow run etl/odd-bee entered state Completed"}, {"message", ""}};
  caf::anon_send(notifier, actors::deliver_atom_v, job);

  std::optional<notifiers::verdict> outcome;
  dispatcher->receive([&](actors::sent_atom, const actors::delivery_result& r) { outcome = r.outcome; },
                      caf::after(std::chrono::seconds(20)) >> [] {});
  EXPECT_EQ(outcome, notifiers::verdict::delivered);
  ASSERT_EQ(slack.count(), 1u);
  EXPECT_EQ(slack.requests()[0].body, R"({"text":"Recovered: Flow run etl/odd-bee entered state Completed"})");
  caf::anon_send_exit(notifier, caf::exit_reason::user_shutdown);
  transport->stop();
}

}  // namespace

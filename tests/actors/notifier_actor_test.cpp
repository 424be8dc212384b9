// A notifier actor on its own, against a real receiver on loopback: it reads an outbox row as any version of
// Osprey wrote it.
#include <gtest/gtest.h>

#include <future>

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
  chat.allow_private_network = true;
  settings.channels = {chat};
  auto book = std::make_shared<notifications::policy_book>(notifications::notification_rules::combine(settings, {}));
  auto transport = notifiers::transport::start();
  ASSERT_TRUE(transport) << transport.error().message();
  caf::actor_system_config caf_config;
  caf_config.set("scheduler.max-threads", std::size_t{2});
  caf::actor_system system{caf_config};
  // The dispatcher's part, played by a listener that keeps the first verdict.
  auto reported = std::make_shared<std::promise<actors::delivery_result>>();
  // The promise travels as a spawn argument: CAF 0.17 binds a spawn without arguments through a null pointer,
  // which UBSan reports.
  auto listener = system.spawn(
      [](std::shared_ptr<std::promise<actors::delivery_result>> promise)
          -> actors::delivery_listener_actor::behavior_type {
        return {[promise](actors::sent_atom, const actors::delivery_result& r) { promise->set_value(r); }};
      },
      reported);
  auto notifier = actors::spawn_notifier_actor(system, config::channel_type::slack, book, *transport, listener);

  persistence::outbox_job job;
  job.id = new_uuid4();
  job.policy_name = "failures";
  job.channel_name = "chat";
  job.kind = notification_kind::resolve;
  job.payload = {{"title", "Resolved: Flow run etl/odd-bee entered state Completed"}, {"message", ""}};
  caf::anon_send(notifier, actors::deliver_atom_v, job);

  auto verdict = reported->get_future();
  const bool answered = verdict.wait_for(20s) == std::future_status::ready;
  EXPECT_TRUE(answered);  // not ASSERT: the actors below must be stopped either way
  if (answered) {
    EXPECT_EQ(verdict.get().outcome, notifiers::verdict::delivered);
  }
  ASSERT_EQ(slack.count(), 1u);
  EXPECT_EQ(slack.requests()[0].body, R"({"text":"Recovered: Flow run etl/odd-bee entered state Completed"})");
  caf::anon_send_exit(notifier, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(listener, caf::exit_reason::user_shutdown);
  transport->stop();
}

}  // namespace

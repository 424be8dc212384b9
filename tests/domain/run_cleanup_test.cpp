// Prefect's cancellation cleanup and pause expiration decisions.
#include <gtest/gtest.h>

#include "domain/run_cleanup.hpp"

using namespace osprey;
using namespace std::chrono_literals;

namespace {

const timestamp t0 = *parse_iso8601("2026-05-01T08:00:00Z");

TEST(RunCleanup, AnOrphanedSubflowIsCancelledOrWithADeploymentCancelling) {
  EXPECT_EQ(orphaned_subflow_state(state_type::running, false, t0)->type, state_type::cancelled);
  EXPECT_EQ(orphaned_subflow_state(state_type::paused, true, t0)->type, state_type::cancelling);
  EXPECT_EQ(orphaned_subflow_state(state_type::scheduled, true, t0)->message, parent_cancelled_message);
  EXPECT_EQ(orphaned_subflow_state(state_type::cancelling, false, t0)->type, state_type::cancelled);
  EXPECT_FALSE(orphaned_subflow_state(state_type::cancelling, true, t0)) << "its worker is already stopping it";
  EXPECT_FALSE(orphaned_subflow_state(state_type::completed, false, t0));
}

TEST(RunCleanup, ACancellationTimesOutOnlyOnceItsTimeoutPassed) {
  EXPECT_FALSE(cancelling_timed_out(t0, 300s, t0 + 299s));
  EXPECT_TRUE(cancelling_timed_out(t0, 300s, t0 + 300s));
  EXPECT_EQ(cancelling_timeout_state(t0).type, state_type::cancelled);
  EXPECT_EQ(cancelling_timeout_state(t0).message, cancelling_timeout_message);
}

TEST(RunCleanup, APauseExpiresOnlyPastItsTimeout) {
  auto paused = make_server_state(state_type::paused, t0);
  EXPECT_FALSE(pause_expired(paused, t0 + 24h)) << "no timeout: waits for ever";
  set_detail_time(paused, "pause_timeout", t0 + 60s);
  EXPECT_FALSE(pause_expired(paused, t0 + 60s));
  EXPECT_TRUE(pause_expired(paused, t0 + 61s));
  auto running = make_server_state(state_type::running, t0);
  set_detail_time(running, "pause_timeout", t0);
  EXPECT_FALSE(pause_expired(running, t0 + 1h)) << "only a Paused run";
  EXPECT_EQ(pause_expired_state(t0).type, state_type::failed);
  EXPECT_EQ(pause_expired_state(t0).message, pause_expired_message);
}

TEST(RunCleanup, TheChildTaskRunsOfACancelledRunAreCancelledWithAMessage) {
  const auto s = cancelled_by_parent_task_state(t0);
  EXPECT_EQ(s.type, state_type::cancelled);
  EXPECT_EQ(s.message, parent_cancelled_message);
}

}  // namespace

// Work pool rules: reserved names, statuses after a pause, queue priorities, stale workers, base job templates.
#include <gtest/gtest.h>

#include "domain/work_pool.hpp"

using namespace osprey;
using namespace std::chrono_literals;

namespace {

const timestamp t0 = *parse_iso8601("2026-05-01T08:00:00Z");

TEST(WorkPool, NamesStartingWithPrefectInAnyCaseAreReserved) {
  EXPECT_TRUE(is_reserved_pool_name("prefect"));
  EXPECT_TRUE(is_reserved_pool_name("Prefect-managed"));
  EXPECT_FALSE(is_reserved_pool_name("my-prefect"));
  EXPECT_FALSE(is_reserved_pool_name("pref"));
}

TEST(WorkPool, PausingAndUnpausingMoveThePoolStatusButNotAnAgentPool) {
  EXPECT_EQ(pool_status_after_pause("process", true, true), pool_status::paused);
  EXPECT_EQ(pool_status_after_pause("process", false, true), pool_status::ready);
  EXPECT_EQ(pool_status_after_pause("process", false, false), pool_status::not_ready);
  EXPECT_EQ(pool_status_after_pause("prefect-agent", true, false), std::nullopt);
  EXPECT_EQ(initial_pool_status("process", true), pool_status::paused);
  EXPECT_EQ(initial_pool_status("prefect-agent", false), std::nullopt);
}

TEST(WorkPool, AHeartbeatMakesANotReadyPoolReadyButNotAnAgentPoolNorAPausedOne) {
  work_pool pool;
  pool.type = "process";
  EXPECT_TRUE(apply_heartbeat(pool, t0));
  EXPECT_EQ(pool.status, pool_status::ready);
  EXPECT_EQ(pool.updated, t0);
  EXPECT_EQ(pool.last_transitioned_status_at, t0);
  EXPECT_FALSE(apply_heartbeat(pool, t0 + 1s));  // already READY: nothing to store
  pool.status = pool_status::paused;
  EXPECT_FALSE(apply_heartbeat(pool, t0 + 2s));
  work_pool agent;  // prefect-agent
  EXPECT_FALSE(apply_heartbeat(agent, t0));
  EXPECT_EQ(agent.status, pool_status::not_ready);
}

TEST(WorkPool, AnUnpausedQueueIsReadyOnlyWhenPolledWithinAMinute) {
  EXPECT_EQ(queue_status_after_pause(pool_status::ready, true, std::nullopt, t0), pool_status::paused);
  EXPECT_EQ(queue_status_after_pause(pool_status::paused, true, std::nullopt, t0), std::nullopt);
  EXPECT_EQ(queue_status_after_pause(pool_status::paused, false, t0 - 30s, t0), pool_status::ready);
  EXPECT_EQ(queue_status_after_pause(pool_status::paused, false, t0 - 61s, t0), pool_status::not_ready);
  EXPECT_EQ(queue_status_after_pause(pool_status::ready, false, std::nullopt, t0), std::nullopt);
}

TEST(WorkPool, ANewQueueTakesTheFirstFreePriority) {
  EXPECT_EQ(first_free_priority({}), 1);
  EXPECT_EQ(first_free_priority({1, 2}), 3);
  EXPECT_EQ(first_free_priority({3, 1}), 2);
}

TEST(WorkPool, MovingAQueueShiftsOnlyTheQueuesInItsWay) {
  const work_queue_id a{new_uuid4()}, b{new_uuid4()}, c{new_uuid4()};
  // c moves to 1: a and b move down by one.
  auto changed = reprioritized({{a, 1}, {b, 2}, {c, 3}}, c, 1);
  EXPECT_EQ(changed, (std::map<work_queue_id, std::int64_t>{{a, 2}, {b, 3}, {c, 1}}));
  // a moves to 5 past the others: nothing else changes.
  EXPECT_EQ(reprioritized({{a, 1}, {b, 2}, {c, 3}}, a, 5), (std::map<work_queue_id, std::int64_t>{{a, 5}}));
  // a gap is left alone.
  EXPECT_TRUE(reprioritized({{a, 1}, {c, 3}}, std::nullopt, 0).empty());
}

TEST(WorkPool, AWorkerIsStalePastItsIntervalTimesTheMultiple) {
  worker w;
  w.status = worker_status::online;
  w.last_heartbeat_time = t0;
  w.heartbeat_interval_seconds = 10;
  EXPECT_FALSE(worker_is_stale(w, t0 + 30s, 3, 30));
  EXPECT_TRUE(worker_is_stale(w, t0 + 31s, 3, 30));
  w.heartbeat_interval_seconds.reset();
  EXPECT_FALSE(worker_is_stale(w, t0 + 90s, 3, 30));
  EXPECT_TRUE(worker_is_stale(w, t0 + 91s, 3, 30));
  w.status = worker_status::offline;
  EXPECT_FALSE(worker_is_stale(w, t0 + 1h, 3, 30));
}

TEST(WorkPool, ABaseJobTemplateMustDeclareEveryPlaceholderItUses) {
  EXPECT_EQ(check_base_job_template(nlohmann::json::object()), std::nullopt);
  auto ok = nlohmann::json::parse(R"({"job_configuration": {"command": "{{ command }}", "env": "{{env}}"},
                                      "variables": {"properties": {"command": {}, "env": {}}}})");
  EXPECT_EQ(check_base_job_template(ok), std::nullopt);
  auto missing = ok;
  missing["variables"]["properties"].erase("env");
  auto problem = check_base_job_template(missing);
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->message.find("undeclared variable(s): env."), std::string::npos);
  EXPECT_TRUE(check_base_job_template(nlohmann::json{{"variables", {{"properties", nlohmann::json::object()}}}}));
}

}  // namespace

// The worker channel's frames (Prefect 3.9.1 client/schemas/worker_channel.py): what a worker's hello,
// heartbeat and cleanup frames must look like to be read, and the server's ready, snapshot and refusal frames.
#include "http/worker_channel_frames.hpp"

#include <gtest/gtest.h>

namespace osprey::http::worker_channel {
namespace {

using nlohmann::json;

const timestamp t0 = *parse_iso8601("2026-05-01T08:00:00Z");
const std::string consumer = "0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

json envelope(const std::string& type, json payload) {
  return {{"type", type},
          {"id", "0195a1b2-c3d4-7e5f-8a9b-000000000001"},
          {"sent_at", "2026-05-01T08:00:00Z"},
          {"payload", std::move(payload)}};
}

/// The hello a `prefect worker start --pool p --type process` sends, give or take its template and metadata.
json worker_hello() {
  return envelope("worker.hello.v1", {{"consumer_id", consumer},
                                      {"worker_name", "ProcessWorker 1"},
                                      {"worker_type", "process"},
                                      {"heartbeat_interval_seconds", 30},
                                      {"supported_channel_versions", json::array({channel_version})},
                                      {"requested_capabilities", {"worker_heartbeat.v1", "work_pool_snapshot.v1"}},
                                      {"work_queue_names", json::array()},
                                      {"handled_cleanup_kinds", json::array()},
                                      {"max_cleanup_concurrency", 0},
                                      {"create_pool_if_not_found", true},
                                      {"default_base_job_template", {{"job_configuration", json::object()}}},
                                      {"worker_metadata", nullptr}});
}

std::optional<frame> read(const json& j) { return read_frame(j.dump(), 64); }

TEST(WorkerChannelFrames, AWorkersHelloReadsWithWhatTheServerUses) {
  const auto f = read(worker_hello());
  ASSERT_TRUE(f);
  const auto& h = std::get<hello>(*f);
  EXPECT_EQ(h.consumer_id.to_string(), consumer);
  EXPECT_EQ(h.worker_name, "ProcessWorker 1");
  EXPECT_EQ(h.heartbeat_interval_seconds, 30);
  EXPECT_TRUE(h.create_pool_if_not_found);
  EXPECT_TRUE(h.work_queue_names.empty());
  EXPECT_TRUE(supports_channel_version(h));
}

TEST(WorkerChannelFrames, MalformedFramesAreNotRead) {
  EXPECT_FALSE(read_frame("{not json", 64));
  EXPECT_FALSE(read(json::array()));
  for (const char* key : {"type", "id", "sent_at", "payload"}) {
    auto j = worker_hello();
    j.erase(key);
    EXPECT_FALSE(read(j)) << "without " << key;
  }
  auto extra = worker_hello();
  extra["extra"] = 1;
  EXPECT_FALSE(read(extra));
  auto extra_payload = worker_hello();
  extra_payload["payload"]["surprise"] = true;
  EXPECT_FALSE(read(extra_payload));
  auto bad_id = worker_hello();
  bad_id["id"] = "not-a-uuid";
  EXPECT_FALSE(read(bad_id));
  auto zero_interval = worker_hello();
  zero_interval["payload"]["heartbeat_interval_seconds"] = 0;
  EXPECT_FALSE(read(zero_interval));
  auto missing_capability = worker_hello();
  missing_capability["payload"]["requested_capabilities"] = json::array({"worker_heartbeat.v1"});
  EXPECT_FALSE(read(missing_capability));
  auto cleanup_without_capability = worker_hello();
  cleanup_without_capability["payload"]["handled_cleanup_kinds"] = json::array({"pending_claim_teardown.v1"});
  EXPECT_FALSE(read(cleanup_without_capability));
  auto empty_name = worker_hello();
  empty_name["payload"]["worker_name"] = "";
  EXPECT_FALSE(read(empty_name));
  // Frames only a server sends are protocol errors from a worker.
  EXPECT_FALSE(read(envelope("worker.ready.v1", json::object())));
  EXPECT_FALSE(read(envelope("worker.bogus.v1", json::object())));
}

TEST(WorkerChannelFrames, AHelloWithoutTheVersionIsReadButNotSupported) {
  auto j = worker_hello();
  j["payload"]["supported_channel_versions"] = json::array({"work_pool_worker_channel.v2"});
  const auto f = read(j);
  ASSERT_TRUE(f);
  EXPECT_FALSE(supports_channel_version(std::get<hello>(*f)));
}

TEST(WorkerChannelFrames, HeartbeatsAndCleanupOperationsRead) {
  const auto beat = read(envelope(
      "worker.heartbeat.v1", {{"consumer_id", consumer}, {"worker_name", "w"}, {"heartbeat_interval_seconds", 5}}));
  ASSERT_TRUE(beat);
  EXPECT_EQ(std::get<heartbeat>(*beat).heartbeat_interval_seconds, 5);
  const auto release =
      read(envelope("cleanup.release.v1", {{"message_id", consumer}, {"reservation_token", "t"}, {"reason", "busy"}}));
  ASSERT_TRUE(release);
  EXPECT_EQ(std::get<cleanup_operation>(*release).operation, "release");
  EXPECT_FALSE(read(envelope("cleanup.ack.v1", {{"message_id", consumer}, {"reservation_token", ""}})));
}

TEST(WorkerChannelFrames, TheReadyFrameGrantsTheRequiredCapabilitiesOnly) {
  auto j = worker_hello();
  j["payload"]["requested_capabilities"] = {"worker_heartbeat.v1", "work_pool_snapshot.v1", "cleanup_delivery.v1",
                                            "cleanup_delivery.v1"};
  j["payload"]["handled_cleanup_kinds"] = json::array({"pending_claim_teardown.v1"});
  j["payload"]["max_cleanup_concurrency"] = 2;
  const auto h = std::get<hello>(*read(j));
  work_queue q;
  q.id = work_queue_id{new_uuid4()};
  q.name = "default";
  const json pool{{"name", "p"}};
  const auto ready = ready_frame(h, {q}, pool, t0);
  EXPECT_EQ(ready["type"], "worker.ready.v1");
  EXPECT_EQ(ready["sent_at"], format_iso8601(t0));
  const auto& p = ready["payload"];
  EXPECT_EQ(p["consumer_id"], consumer);
  EXPECT_EQ(p["worker_id"], nullptr);
  EXPECT_EQ(p["selected_channel_version"], channel_version);
  EXPECT_EQ(p["effective_heartbeat_interval_seconds"], 30);
  EXPECT_EQ(p["accepted_capabilities"], json({"worker_heartbeat.v1", "work_pool_snapshot.v1"}));
  EXPECT_EQ(p["rejected_capabilities"], json({"cleanup_delivery.v1"}));
  EXPECT_EQ(p["effective_max_cleanup_concurrency"], 0);
  EXPECT_EQ(p["resolved_work_queues"], json::array({{{"id", q.id.to_string()}, {"name", "default"}}}));
  EXPECT_EQ(p["initial_snapshot"], json({{"snapshot_sequence", 1}, {"reason", "initial"}, {"work_pool", pool}}));
}

TEST(WorkerChannelFrames, CloseReasonsCarryPrefectsCodes) {
  EXPECT_EQ(close_code(close_reason::protocol_error), 1002);
  EXPECT_EQ(close_code(close_reason::authorization_failed), 1008);
  EXPECT_EQ(close_code(close_reason::unsupported_version), 1008);
  EXPECT_EQ(close_code(close_reason::heartbeat_persistence_failed), 1011);
  EXPECT_STREQ(to_string(close_reason::transient_server_error), "transient_server_error");
}

TEST(WorkerChannelFrames, CleanupOperationsAreRefusedAsNotAccepted) {
  const cleanup_operation op{new_uuid4(), new_uuid4(), "renew"};
  const auto f = cleanup_refusal_frame(op, t0);
  EXPECT_EQ(f["type"], "cleanup.operation_result.v1");
  EXPECT_EQ(f["payload"]["request_frame_id"], op.frame_id.to_string());
  EXPECT_EQ(f["payload"]["status"], "unauthorized");
  EXPECT_EQ(f["payload"]["reason"], "cleanup_delivery_not_accepted");
  EXPECT_EQ(f["payload"]["lease_expires_at"], nullptr);
}

}  // namespace
}  // namespace osprey::http::worker_channel

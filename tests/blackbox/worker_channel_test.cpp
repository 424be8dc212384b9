// WS /api/work_pools/{name}/workers/connect of the built daemon, on SQLite and PostgreSQL, driven as Prefect
// 3.9.1's worker drives it: auth, worker.hello.v1 → worker.ready.v1 with the pool's first snapshot, heartbeat
// frames recorded like REST heartbeats, snapshots when the pool changes, and Prefect's close codes and reasons
// for unknown pools, malformed frames and deleted pools. Bad input never costs the server its health.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tests/support/daemon_test.hpp"
#include "tests/support/ws_client.hpp"

namespace osprey::testing {
namespace {

using nlohmann::json;
using persistence::dialect;
using namespace std::chrono_literals;

const std::string consumer = "0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

json frame(const std::string& type, json payload) {
  return {{"type", type},
          {"id", new_uuid4().to_string()},
          {"sent_at", format_iso8601(system_clock::instance().now())},
          {"payload", std::move(payload)}};
}

json hello(const std::string& worker, bool create = false, json queues = json::array(), json tpl = json::object()) {
  return frame("worker.hello.v1", {{"consumer_id", consumer},
                                   {"worker_name", worker},
                                   {"worker_type", "process"},
                                   {"heartbeat_interval_seconds", 30},
                                   {"supported_channel_versions", json::array({"work_pool_worker_channel.v1"})},
                                   {"requested_capabilities", {"worker_heartbeat.v1", "work_pool_snapshot.v1"}},
                                   {"work_queue_names", std::move(queues)},
                                   {"create_pool_if_not_found", create},
                                   {"default_base_job_template", std::move(tpl)},
                                   {"worker_metadata", nullptr}});
}

json heartbeat(const std::string& worker) {
  return frame("worker.heartbeat.v1",
               {{"consumer_id", consumer}, {"worker_name", worker}, {"heartbeat_interval_seconds", 30}});
}

const json process_template = json::parse(R"({"job_configuration": {"command": "{{ command }}"},
                                              "variables": {"properties": {"command": {"type": "string"}}}})");

class WorkerChannel : public daemon_test {
 protected:
  /// A channel to `pool`, past the auth handshake.
  std::unique_ptr<ws_client> channel(const std::string& pool) {
    auto ws = std::make_unique<ws_client>();
    EXPECT_TRUE(
        ws->connect(static_cast<std::uint16_t>(daemon_->port()), "/api/work_pools/" + pool + "/workers/connect"));
    EXPECT_TRUE(ws->send(R"({"type":"auth","token":null})"));
    EXPECT_EQ(ws->read(), R"({"type":"auth_success"})");
    return ws;
  }

  /// The next frame, parsed (null when none came).
  static json next(ws_client& ws) {
    const auto m = ws.read();
    return m ? json::parse(*m) : json();
  }

  /// A channel that said hello as `worker` and got its ready frame (returned in `ready`).
  std::unique_ptr<ws_client> ready_channel(const std::string& pool, const std::string& worker, json& ready,
                                           json hello_frame = nullptr) {
    auto ws = channel(pool);
    EXPECT_TRUE(ws->send((hello_frame.is_null() ? hello(worker) : hello_frame).dump()));
    ready = next(*ws);
    EXPECT_EQ(ready.value("type", ""), "worker.ready.v1") << ready.dump() << " closed " << ws->closed().reason;
    return ws;
  }

  void create_pool(const std::string& name, json extra = json::object()) {
    extra["name"] = name;
    extra["type"] = "process";
    const auto r = api("POST", "/work_pools/", extra);
    ASSERT_EQ(r.status, 201) << r.body;
  }

  json pool(const std::string& name) { return json::parse(api("GET", "/work_pools/" + name).body); }

  json workers(const std::string& pool) {
    return json::parse(api("POST", "/work_pools/" + pool + "/workers/filter", json::object()).body);
  }

  /// How `ws` was closed, after sending `message` (when not empty).
  static ws_client::close_info closed_after(ws_client& ws, const std::string& message = "") {
    if (!message.empty()) {
      EXPECT_TRUE(ws.send(message));
    }
    return ws.wait_closed();
  }

  void expect_healthy() { EXPECT_EQ(api("GET", "/health").body, "true"); }
};

TEST_P(WorkerChannel, AHelloIsAnsweredReadyWithThePoolsFirstSnapshotAndPoolChangesSendMore) {
  create_pool("wc-ready");
  EXPECT_EQ(pool("wc-ready")["status"], "NOT_READY");
  json ready;
  auto ws = ready_channel("wc-ready", "worker-1", ready);
  const auto& p = ready["payload"];
  EXPECT_EQ(p["consumer_id"], consumer);
  EXPECT_EQ(p["selected_channel_version"], "work_pool_worker_channel.v1");
  EXPECT_EQ(p["accepted_capabilities"], json({"worker_heartbeat.v1", "work_pool_snapshot.v1"}));
  EXPECT_EQ(p["effective_heartbeat_interval_seconds"], 30);
  ASSERT_EQ(p["resolved_work_queues"].size(), 1u);
  EXPECT_EQ(p["resolved_work_queues"][0]["name"], "default");
  const auto& snapshot = p["initial_snapshot"];
  EXPECT_EQ(snapshot["snapshot_sequence"], 1);
  EXPECT_EQ(snapshot["reason"], "initial");
  EXPECT_EQ(snapshot["work_pool"]["name"], "wc-ready");
  EXPECT_EQ(snapshot["work_pool"]["status"], "READY");  // the hello's heartbeat, as a REST heartbeat does
  EXPECT_EQ(snapshot["work_pool"]["default_queue_id"], p["resolved_work_queues"][0]["id"]);
  EXPECT_EQ(pool("wc-ready")["status"], "READY");
  const auto listed = workers("wc-ready");
  ASSERT_EQ(listed.size(), 1u) << listed.dump();
  EXPECT_EQ(listed[0]["name"], "worker-1");
  EXPECT_EQ(listed[0]["status"], "ONLINE");

  ASSERT_EQ(api("PATCH", "/work_pools/wc-ready", {{"concurrency_limit", 3}}).status, 204);
  const auto changed = next(*ws);
  EXPECT_EQ(changed["type"], "work_pool.snapshot.v1") << changed.dump();
  EXPECT_EQ(changed["payload"]["snapshot_sequence"], 2);
  EXPECT_EQ(changed["payload"]["reason"], "work_pool_updated");
  EXPECT_EQ(changed["payload"]["work_pool"]["concurrency_limit"], 3);
  EXPECT_EQ(changed["payload"]["work_pool"]["active_slots"], 0);
  // A description is nothing a worker acts on: no snapshot, and the next one is still number 3.
  ASSERT_EQ(api("PATCH", "/work_pools/wc-ready", {{"description", "d"}}).status, 204);
  ASSERT_EQ(api("PATCH", "/work_pools/wc-ready", {{"is_paused", true}}).status, 204);
  const auto paused = next(*ws);
  EXPECT_EQ(paused["payload"]["snapshot_sequence"], 3);
  EXPECT_EQ(paused["payload"]["work_pool"]["is_paused"], true);
  EXPECT_EQ(paused["payload"]["work_pool"]["description"], "d");
}

TEST_P(WorkerChannel, HeartbeatFramesAreRecordedAsRestHeartbeatsAndMakeANotReadyPoolReady) {
  create_pool("wc-beat");
  json ready;
  auto ws = ready_channel("wc-beat", "worker-1", ready);
  const auto first = workers("wc-beat")[0]["last_heartbeat_time"].get<std::string>();
  // Without its worker, an unpaused pool is NOT_READY again (each change a snapshot).
  ASSERT_EQ(api("DELETE", "/work_pools/wc-beat/workers/worker-1").status, 204);
  ASSERT_EQ(api("PATCH", "/work_pools/wc-beat", {{"is_paused", true}}).status, 204);
  ASSERT_EQ(api("PATCH", "/work_pools/wc-beat", {{"is_paused", false}}).status, 204);
  for (int sequence = 2; sequence <= 3; ++sequence) EXPECT_EQ(next(*ws)["payload"]["snapshot_sequence"], sequence);
  ASSERT_EQ(pool("wc-beat")["status"], "NOT_READY");
  ASSERT_TRUE(workers("wc-beat").empty());

  ASSERT_TRUE(ws->send(heartbeat("worker-1").dump()));
  // The heartbeat moved the pool: the worker is told with a snapshot, which is also when it is stored.
  const auto reconciled = next(*ws);
  EXPECT_EQ(reconciled["payload"]["reason"], "heartbeat_reconciliation") << reconciled.dump();
  EXPECT_EQ(reconciled["payload"]["snapshot_sequence"], 4);
  EXPECT_EQ(reconciled["payload"]["work_pool"]["status"], "READY");
  EXPECT_EQ(pool("wc-beat")["status"], "READY");
  const auto listed = workers("wc-beat");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["status"], "ONLINE");
  EXPECT_EQ(listed[0]["heartbeat_interval_seconds"], 30);
  EXPECT_GE(listed[0]["last_heartbeat_time"].get<std::string>(), first);

  // A heartbeat that changes nothing is recorded without a snapshot; a later pool change is number 5.
  ASSERT_TRUE(ws->send(heartbeat("worker-1").dump()));
  ASSERT_EQ(api("PATCH", "/work_pools/wc-beat", {{"concurrency_limit", 1}}).status, 204);
  EXPECT_EQ(next(*ws)["payload"]["snapshot_sequence"], 5);
}

TEST_P(WorkerChannel, AnUnknownPoolOrQueueIsRefusedAsAuthorizationFailedAndCreatesNothing) {
  auto ws = channel("wc-missing");
  auto closed = closed_after(*ws, hello("w").dump());
  EXPECT_EQ(closed.code, 1008);
  EXPECT_EQ(closed.reason, "authorization_failed");
  EXPECT_EQ(api("GET", "/work_pools/wc-missing").status, 404);

  auto reserved = channel("prefect-mine");
  EXPECT_EQ(closed_after(*reserved, hello("w", true).dump()).reason, "authorization_failed");
  EXPECT_EQ(api("GET", "/work_pools/prefect-mine").status, 404);

  // A queue the new pool lacks: the pool created for the hello is rolled back with it.
  auto queue = channel("wc-no-queue");
  closed = closed_after(*queue, hello("w", true, json::array({"urgent"})).dump());
  EXPECT_EQ(closed.code, 1008);
  EXPECT_EQ(closed.reason, "authorization_failed");
  EXPECT_EQ(api("GET", "/work_pools/wc-no-queue").status, 404);
  expect_healthy();
}

TEST_P(WorkerChannel, CreatePoolIfNotFoundCreatesThePoolWithTheWorkersTypeAndTemplate) {
  json ready;
  auto ws = ready_channel("wc-created", "w", ready, hello("w", true, json::array({"default"}), process_template));
  const auto created = pool("wc-created");
  EXPECT_EQ(created["type"], "process");
  EXPECT_EQ(created["base_job_template"], process_template);
  EXPECT_EQ(created["status"], "READY");
  EXPECT_EQ(ready["payload"]["initial_snapshot"]["work_pool"]["id"], created["id"]);
  EXPECT_EQ(workers("wc-created").size(), 1u);
}

TEST_P(WorkerChannel, APoolWithoutATemplateTakesTheHellosAndSaysSoInASnapshot) {
  create_pool("wc-bare");
  ASSERT_EQ(pool("wc-bare")["base_job_template"], json::object());
  json ready;
  auto ws = ready_channel("wc-bare", "w", ready, hello("w", false, json::array(), process_template));
  EXPECT_EQ(ready["payload"]["initial_snapshot"]["work_pool"]["base_job_template"], process_template);
  const auto update = next(*ws);
  EXPECT_EQ(update["payload"]["snapshot_sequence"], 2);
  EXPECT_EQ(update["payload"]["reason"], "work_pool_updated");
  EXPECT_EQ(pool("wc-bare")["base_job_template"], process_template);
}

TEST_P(WorkerChannel, MalformedOrOutOfTurnFramesCloseAsProtocolErrors) {
  create_pool("wc-bad");
  const std::vector<std::string> firsts{"{not json",
                                        "[]",
                                        "null",
                                        heartbeat("w").dump(),
                                        frame("worker.ready.v1", json::object()).dump(),
                                        R"({"type":"worker.hello.v1"})"};
  for (const auto& first : firsts) {
    auto ws = channel("wc-bad");
    const auto closed = closed_after(*ws, first);
    EXPECT_EQ(closed.code, 1002) << first;
    EXPECT_EQ(closed.reason, "protocol_error") << first;
  }
  auto old = hello("w");
  old["payload"]["supported_channel_versions"] = json::array({"work_pool_worker_channel.v0"});
  auto ws = channel("wc-bad");
  const auto closed = closed_after(*ws, old.dump());
  EXPECT_EQ(closed.code, 1008);
  EXPECT_EQ(closed.reason, "unsupported_version");

  // After the ready frame: a heartbeat naming another worker, a second hello, garbage.
  for (const auto& later : std::vector<std::string>{heartbeat("someone-else").dump(), hello("w").dump(), "\"x\""}) {
    json ready;
    auto open = ready_channel("wc-bad", "w", ready);
    const auto after = closed_after(*open, later);
    EXPECT_EQ(after.code, 1002) << later;
    EXPECT_EQ(after.reason, "protocol_error") << later;
  }
  expect_healthy();
}

TEST_P(WorkerChannel, CleanupOperationsAreAnsweredUnauthorized) {
  create_pool("wc-cleanup");
  json ready;
  auto ws = ready_channel("wc-cleanup", "w", ready);
  const auto ack = frame("cleanup.ack.v1", {{"message_id", new_uuid4().to_string()}, {"reservation_token", "t"}});
  ASSERT_TRUE(ws->send(ack.dump()));
  const auto answer = next(*ws);
  EXPECT_EQ(answer["type"], "cleanup.operation_result.v1");
  EXPECT_EQ(answer["payload"]["request_frame_id"], ack["id"]);
  EXPECT_EQ(answer["payload"]["status"], "unauthorized");
  EXPECT_EQ(answer["payload"]["reason"], "cleanup_delivery_not_accepted");
}

TEST_P(WorkerChannel, DeletingThePoolClosesItsChannels) {
  create_pool("wc-gone");
  json ready;
  auto ws = ready_channel("wc-gone", "w", ready);
  ASSERT_EQ(api("DELETE", "/work_pools/wc-gone").status, 204);
  const auto closed = ws->wait_closed();
  EXPECT_EQ(closed.code, 1008);
  EXPECT_EQ(closed.reason, "authorization_failed");
}

TEST_P(WorkerChannel, TheHandshakeNeedsThePrefectSubprotocolAndAnAuthMessage) {
  create_pool("wc-auth");
  ws_client legacy;
  ASSERT_TRUE(
      legacy.connect(static_cast<std::uint16_t>(daemon_->port()), "/api/work_pools/wc-auth/workers/connect", ""));
  auto closed = legacy.wait_closed();
  EXPECT_EQ(closed.code, 1008);
  EXPECT_EQ(closed.reason, "authentication_failed");

  ws_client rude;
  ASSERT_TRUE(rude.connect(static_cast<std::uint16_t>(daemon_->port()), "/api/work_pools/wc-auth/workers/connect"));
  closed = closed_after(rude, hello("w").dump());
  EXPECT_EQ(closed.code, 1008);
  EXPECT_EQ(closed.reason, "authentication_failed");
  expect_healthy();
}

INSTANTIATE_TEST_SUITE_P(D, WorkerChannel, ::testing::ValuesIn(all_dialects()),
                         dialect_test_name<::testing::TestParamInfo<dialect>>);

}  // namespace
}  // namespace osprey::testing

#pragma once
// Internal to http/: the frames of Prefect 3.9.1's worker channel (client/schemas/worker_channel.py, version
// "work_pool_worker_channel.v1"), read and written as pure functions; the route is routes_worker_channel.cpp.
//
// Every application frame is {"type", "id" (a UUID), "sent_at" (a datetime), "payload"}, with no other key, and
// payloads refuse unknown keys too (Prefect's models forbid extras). A worker sends worker.hello.v1 once, then
// worker.heartbeat.v1 frames, and cleanup.{ack,release,renew}.v1 only when cleanup_delivery.v1 was accepted,
// which Osprey never does (Prefect's server grants it only with a cleanup queue). The server sends
// worker.ready.v1 (with the first snapshot of the pool), work_pool.snapshot.v1 and cleanup.operation_result.v1.
// Anything else a worker sends, or a frame that does not validate, is a protocol error.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/time.hpp"
#include "domain/uuid.hpp"
#include "domain/work_pool.hpp"

namespace osprey::http::worker_channel {

inline constexpr const char* channel_version = "work_pool_worker_channel.v1";

/// Why the server closes a channel (WorkerChannelCloseReason): the string is the close frame's reason, and the
/// worker reads it to decide whether to retry or fall back to REST for good.
enum class close_reason {
  authentication_failed,         ///< 1008, terminal
  authorization_failed,          ///< 1008, terminal: unknown pool or queue, pool deleted, reserved pool name
  unsupported_version,           ///< 1008, terminal: no channel version in common
  protocol_error,                ///< 1002, terminal: bad JSON, a malformed or unexpected frame
  heartbeat_persistence_failed,  ///< 1011, the worker retries
  transient_server_error,        ///< 1011, the worker retries
};
const char* to_string(close_reason r) noexcept;
/// The websocket close code Prefect pairs with `r` (WORKER_CHANNEL_CLOSE_POLICIES).
std::uint16_t close_code(close_reason r) noexcept;

/// worker.hello.v1's payload, as far as Osprey uses it (worker_metadata and the cleanup fields are validated,
/// then dropped).
struct hello {
  uuid consumer_id;
  std::string worker_name;
  std::string worker_type;
  std::int64_t heartbeat_interval_seconds = 0;
  std::vector<std::string> supported_channel_versions;
  std::vector<std::string> requested_capabilities;
  std::vector<std::string> work_queue_names;  ///< empty: every queue of the pool
  bool create_pool_if_not_found = false;
  nlohmann::json default_base_job_template = nlohmann::json::object();
};

/// worker.heartbeat.v1's payload.
struct heartbeat {
  uuid consumer_id;
  std::string worker_name;
  std::int64_t heartbeat_interval_seconds = 0;
};

/// cleanup.ack.v1, cleanup.release.v1 or cleanup.renew.v1: answered, never carried out (no cleanup delivery).
struct cleanup_operation {
  uuid frame_id;
  uuid message_id;
  std::string operation;  ///< "ack", "release" or "renew"
};

using frame = std::variant<hello, heartbeat, cleanup_operation>;

/// One text message from a worker, parsed at most `max_depth` deep. nullopt for invalid JSON, a frame that does
/// not validate, or a valid frame of a type only the server sends: all of them protocol errors.
std::optional<frame> read_frame(std::string_view text, std::size_t max_depth);

/// Whether the hello offers the one channel version there is (else: unsupported_version).
bool supports_channel_version(const hello& h);

/// The capabilities the server grants: worker_heartbeat.v1 and work_pool_snapshot.v1, whatever was asked.
std::vector<std::string> accepted_capabilities();

/// work_pool.snapshot.v1's payload: the pool as WorkPoolResponse shapes it (`pool_json`, which must carry a
/// default_queue_id), numbered from 1 per connection (1 is the ready frame's initial one).
nlohmann::json snapshot_payload(std::int64_t sequence, const std::string& reason, nlohmann::json pool_json);

/// worker.ready.v1 for `h`: the accepted capabilities, the others requested as rejected, the resolved queues
/// (id and name) and the initial snapshot (snapshot_payload(1, "initial", ...)).
nlohmann::json ready_frame(const hello& h, const std::vector<work_queue>& queues, nlohmann::json pool_json,
                           timestamp now);

/// work_pool.snapshot.v1.
nlohmann::json snapshot_frame(std::int64_t sequence, const std::string& reason, nlohmann::json pool_json,
                              timestamp now);

/// cleanup.operation_result.v1 refusing `op`: status "unauthorized", reason "cleanup_delivery_not_accepted".
nlohmann::json cleanup_refusal_frame(const cleanup_operation& op, timestamp now);

}  // namespace osprey::http::worker_channel

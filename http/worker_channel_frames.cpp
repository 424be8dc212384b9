#include "http/worker_channel_frames.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <set>

#include "domain/json_text.hpp"

namespace osprey::http::worker_channel {
namespace {

using nlohmann::json;

const char* const heartbeat_capability = "worker_heartbeat.v1";
const char* const snapshot_capability = "work_pool_snapshot.v1";
const char* const cleanup_capability = "cleanup_delivery.v1";

/// True when every key of `j` is one of `allowed` (Prefect's protocol models forbid extras).
bool only_keys(const json& j, std::initializer_list<std::string_view> allowed) {
  for (auto it = j.begin(); it != j.end(); ++it)
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) return false;
  return true;
}

const json* field(const json& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::optional<uuid> read_uuid(const json* v) {
  if (!v || !v->is_string()) return std::nullopt;
  return uuid::parse(v->get_ref<const std::string&>());
}

bool read_string(const json* v, std::string& out, bool non_empty) {
  if (!v || !v->is_string()) return false;
  out = v->get<std::string>();
  return !non_empty || !out.empty();
}

/// An integer as pydantic reads one from JSON: an integer, or a float without a fractional part.
bool read_integer(const json* v, std::int64_t& out) {
  if (!v) return false;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) return false;
    out = v->get<std::int64_t>();
    return true;
  }
  if (!v->is_number_float()) return false;
  const double d = v->get<double>();
  if (!std::isfinite(d) || std::trunc(d) != d || std::fabs(d) >= 9.2e18) return false;
  out = static_cast<std::int64_t>(d);
  return true;
}

/// A list of non-empty strings; absent is the empty list when `required` is false.
bool read_names(const json* v, std::vector<std::string>& out, bool required) {
  if (!v) return !required;
  if (!v->is_array()) return false;
  for (const auto& item : *v) {
    if (!item.is_string() || item.get_ref<const std::string&>().empty()) return false;
    out.push_back(item.get<std::string>());
  }
  return !required || !out.empty();
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::optional<hello> read_hello(const json& p) {
  if (!only_keys(
          p, {"consumer_id", "worker_name", "worker_type", "heartbeat_interval_seconds", "supported_channel_versions",
              "requested_capabilities", "work_queue_names", "handled_cleanup_kinds", "max_cleanup_concurrency",
              "create_pool_if_not_found", "default_base_job_template", "worker_metadata"}))
    return std::nullopt;
  hello h;
  const auto consumer = read_uuid(field(p, "consumer_id"));
  if (!consumer || !read_string(field(p, "worker_name"), h.worker_name, true) ||
      !read_string(field(p, "worker_type"), h.worker_type, true) ||
      !read_integer(field(p, "heartbeat_interval_seconds"), h.heartbeat_interval_seconds) ||
      h.heartbeat_interval_seconds <= 0 ||
      !read_names(field(p, "supported_channel_versions"), h.supported_channel_versions, true) ||
      !read_names(field(p, "requested_capabilities"), h.requested_capabilities, true) ||
      !read_names(field(p, "work_queue_names"), h.work_queue_names, false))
    return std::nullopt;
  h.consumer_id = *consumer;
  // Both required capabilities must be asked for; the cleanup fields only make sense with cleanup delivery.
  if (!contains(h.requested_capabilities, heartbeat_capability) ||
      !contains(h.requested_capabilities, snapshot_capability))
    return std::nullopt;
  const bool cleanup = contains(h.requested_capabilities, cleanup_capability);
  std::vector<std::string> kinds;
  if (!read_names(field(p, "handled_cleanup_kinds"), kinds, false)) return std::nullopt;
  for (const auto& kind : kinds)
    if (kind != "cancelling_timeout_teardown.v1" && kind != "pending_claim_teardown.v1") return std::nullopt;
  std::int64_t concurrency = 0;
  if (const auto* c = field(p, "max_cleanup_concurrency"); c && (!read_integer(c, concurrency) || concurrency < 0))
    return std::nullopt;
  if (!cleanup && (!kinds.empty() || concurrency != 0)) return std::nullopt;
  if (const auto* create = field(p, "create_pool_if_not_found")) {
    if (!create->is_boolean()) return std::nullopt;
    h.create_pool_if_not_found = create->get<bool>();
  }
  if (const auto* tpl = field(p, "default_base_job_template")) {
    if (!tpl->is_object()) return std::nullopt;
    h.default_base_job_template = *tpl;
  }
  if (const auto* meta = field(p, "worker_metadata"); meta && !meta->is_object() && !meta->is_null())
    return std::nullopt;
  return h;
}

std::optional<heartbeat> read_heartbeat(const json& p) {
  if (!only_keys(p, {"consumer_id", "worker_name", "heartbeat_interval_seconds"})) return std::nullopt;
  heartbeat h;
  const auto consumer = read_uuid(field(p, "consumer_id"));
  if (!consumer || !read_string(field(p, "worker_name"), h.worker_name, true) ||
      !read_integer(field(p, "heartbeat_interval_seconds"), h.heartbeat_interval_seconds) ||
      h.heartbeat_interval_seconds <= 0)
    return std::nullopt;
  h.consumer_id = *consumer;
  return h;
}

std::optional<cleanup_operation> read_cleanup_operation(const json& p, const uuid& frame_id, std::string operation) {
  const bool release = operation == "release";
  if (release ? !only_keys(p, {"message_id", "reservation_token", "reason"})
              : !only_keys(p, {"message_id", "reservation_token"}))
    return std::nullopt;
  std::string token, reason;
  const auto message = read_uuid(field(p, "message_id"));
  if (!message || !read_string(field(p, "reservation_token"), token, true) ||
      (release && !read_string(field(p, "reason"), reason, true)))
    return std::nullopt;
  return cleanup_operation{frame_id, *message, std::move(operation)};
}

/// A datetime as pydantic reads one from JSON: ISO 8601 text or Unix seconds.
bool is_datetime(const json* v) {
  if (!v) return false;
  if (v->is_number()) return true;
  return v->is_string() && parse_iso8601(v->get_ref<const std::string&>()).has_value();
}

json envelope(const char* type, timestamp now, json payload) {
  return {{"type", type},
          {"id", new_uuid7(now).to_string()},
          {"sent_at", format_iso8601(now)},
          {"payload", std::move(payload)}};
}

}  // namespace

const char* to_string(close_reason r) noexcept {
  switch (r) {
    case close_reason::authentication_failed: return "authentication_failed";
    case close_reason::authorization_failed: return "authorization_failed";
    case close_reason::unsupported_version: return "unsupported_version";
    case close_reason::protocol_error: return "protocol_error";
    case close_reason::heartbeat_persistence_failed: return "heartbeat_persistence_failed";
    case close_reason::transient_server_error: return "transient_server_error";
  }
  return "protocol_error";
}

std::uint16_t close_code(close_reason r) noexcept {
  switch (r) {
    case close_reason::authentication_failed:
    case close_reason::authorization_failed:
    case close_reason::unsupported_version: return 1008;
    case close_reason::protocol_error: return 1002;
    case close_reason::heartbeat_persistence_failed:
    case close_reason::transient_server_error: return 1011;
  }
  return 1002;
}

std::optional<frame> read_frame(std::string_view text, std::size_t max_depth) {
  const auto parsed = parse_json(text, max_depth);
  const auto& j = parsed.value;
  if (!parsed.ok() || !j.is_object() || !only_keys(j, {"type", "id", "sent_at", "payload"})) return std::nullopt;
  std::string type;
  const auto id = read_uuid(field(j, "id"));
  const auto* payload = field(j, "payload");
  if (!read_string(field(j, "type"), type, true) || !id || !is_datetime(field(j, "sent_at")) || !payload ||
      !payload->is_object())
    return std::nullopt;
  if (type == "worker.hello.v1") {
    if (auto h = read_hello(*payload)) return frame(std::move(*h));
  } else if (type == "worker.heartbeat.v1") {
    if (auto h = read_heartbeat(*payload)) return frame(std::move(*h));
  } else if (type == "cleanup.ack.v1" || type == "cleanup.release.v1" || type == "cleanup.renew.v1") {
    auto operation = type.substr(8, type.size() - 8 - 3);  // "cleanup." … ".v1"
    if (auto op = read_cleanup_operation(*payload, *id, std::move(operation))) return frame(std::move(*op));
  }
  // The frames only a server sends (ready, snapshot, cleanup message and result) and unknown types alike.
  return std::nullopt;
}

bool supports_channel_version(const hello& h) { return contains(h.supported_channel_versions, channel_version); }

std::vector<std::string> accepted_capabilities() { return {heartbeat_capability, snapshot_capability}; }

json snapshot_payload(std::int64_t sequence, const std::string& reason, json pool_json) {
  return {{"snapshot_sequence", sequence}, {"reason", reason}, {"work_pool", std::move(pool_json)}};
}

json ready_frame(const hello& h, const std::vector<work_queue>& queues, json pool_json, timestamp now) {
  const auto accepted = accepted_capabilities();
  json rejected = json::array();
  std::set<std::string> seen;
  for (const auto& c : h.requested_capabilities)
    if (!contains(accepted, c) && seen.insert(c).second) rejected.push_back(c);
  json resolved = json::array();
  for (const auto& q : queues) resolved.push_back({{"id", q.id.to_string()}, {"name", q.name}});
  return envelope("worker.ready.v1", now,
                  {{"consumer_id", h.consumer_id.to_string()},
                   {"worker_id", nullptr},
                   {"selected_channel_version", channel_version},
                   {"effective_heartbeat_interval_seconds", h.heartbeat_interval_seconds},
                   {"accepted_capabilities", accepted},
                   {"rejected_capabilities", std::move(rejected)},
                   {"effective_max_cleanup_concurrency", 0},
                   {"resolved_work_queues", std::move(resolved)},
                   {"initial_snapshot", snapshot_payload(1, "initial", std::move(pool_json))}});
}

json snapshot_frame(std::int64_t sequence, const std::string& reason, json pool_json, timestamp now) {
  return envelope("work_pool.snapshot.v1", now, snapshot_payload(sequence, reason, std::move(pool_json)));
}

json cleanup_refusal_frame(const cleanup_operation& op, timestamp now) {
  return envelope("cleanup.operation_result.v1", now,
                  {{"request_frame_id", op.frame_id.to_string()},
                   {"message_id", op.message_id.to_string()},
                   {"operation", op.operation},
                   {"status", "unauthorized"},
                   {"lease_expires_at", nullptr},
                   {"reason", "cleanup_delivery_not_accepted"},
                   {"detail", nullptr}});
}

}  // namespace osprey::http::worker_channel

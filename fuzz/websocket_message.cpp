// websocket_message: one text message on the events websockets, as http/routes_events.cpp handles it. The
// sessions there are classes bound to a live connection and the event bus, so this target runs the functions
// they call, in their order, with the same checks in between:
//   - the `prefect` handshake (auth_gate::pass): {"type": "auth", "token": ...};
//   - WS /api/events/in: parse_event_text, then the ReceivedEvent the bus would store and stream;
//   - WS /api/events/out: {"type": "filter", "filter": ..., "backfill": ...}, parse_event_filter,
//     clamp_since, and the filter matched against events (the live stream's check);
//   - the handshake's header checks (http/websocket.hpp), with the message as Origin and subprotocol list;
//   - WS /api/work_pools/{name}/workers/connect: worker_channel::read_frame, and the frames a read hello or
//     cleanup operation is answered with.
//
// Invariants: a stored event reads back to itself (parse_received_event(to_json(e))); an event filter survives
// to_json and back (page tokens rely on it); an origin that parses is allowed once it is listed.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "domain/event.hpp"
#include "domain/json_text.hpp"
#include "domain/time.hpp"
#include "fuzz/check.hpp"
#include "http/websocket.hpp"
#include "http/worker_channel_frames.hpp"

namespace {

using nlohmann::json;
using namespace osprey;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

timestamp now() {
  static const timestamp t = *parse_iso8601("2026-03-14T12:00:00Z");
  return t;
}

/// A flow-run state event as the server emits them, for the filter to match against.
const event& emitted_event() {
  static const event e = [] {
    auto parsed = parse_event_text(R"({
      "id": "0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "occurred": "2026-03-14T11:59:00Z",
      "event": "prefect.flow-run.Failed",
      "resource": {"prefect.resource.id": "prefect.flow-run.3f1c2a7e-9b4d-4e2a-8c61-5d0e7f9a1b23",
                   "prefect.resource.name": "odd-bee", "prefect.state-type": "FAILED"},
      "related": [{"prefect.resource.id": "prefect.flow.8a2b9c4d-1e3f-4a5b-9c6d-7e8f9a0b1c2d",
                   "prefect.resource.role": "flow", "prefect.resource.name": "etl"},
                  {"prefect.resource.id": "prefect.tag.prod", "prefect.resource.role": "tag"}],
      "payload": {"intended": {"from": "RUNNING", "to": "FAILED"}}})");
    FUZZ_CHECK(parsed.has_value());
    parsed->received = now();
    return *parsed;
  }();
  return e;
}

/// auth_gate::pass for a `prefect` client with authentication on: the first message must be the auth one.
void handshake(const parsed_json& parsed) {
  const auto& j = parsed.value;
  if (!j.is_object() || j.value("type", json()) != "auth") return;
  const auto token = j.value("token", json());
  if (token.is_string()) (void)token.get_ref<const std::string&>().empty();
}

/// events_in's on_message after the handshake.
void events_in(const std::string& message) {
  auto e = parse_event_text(message, default_json_max_depth);
  if (!e) {
    FUZZ_CHECK(!e.error().message().empty());
    return;
  }
  FUZZ_CHECK(!e->resource_id().empty());
  e->received = now();
  const json stored = to_json(*e);
  const auto streamed = dump(json{{"type", "event"}, {"event", stored}});
  FUZZ_CHECK(parse_json(streamed, default_json_max_depth + 2).ok());
  const auto again = parse_received_event(stored);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(dump(to_json(*again)) == dump(stored));
  (void)matches(default_event_filter(now()), *e);
}

/// event_stream::on_message before it subscribes.
void events_out(const parsed_json& parsed) {
  const auto& j = parsed.value;
  if (!j.is_object() || j.value("type", json()) != "filter") return;
  auto backfill = j.value("backfill", json(true));
  if (backfill.is_null()) backfill = false;
  if (!backfill.is_boolean()) return;
  auto filter = parse_event_filter(j.value("filter", json(nullptr)), now());
  if (!filter) {
    FUZZ_CHECK(!filter.error().message().empty());
    return;
  }
  clamp_since(*filter, now() - std::chrono::minutes(15));
  filter->order = event_order::ascending;

  const json token = to_json(*filter);
  const auto reread = parse_event_filter(token, now());
  FUZZ_CHECK(reread.has_value());
  FUZZ_CHECK(dump(to_json(*reread)) == dump(token));
  FUZZ_CHECK(matches(*filter, emitted_event()) == matches(*reread, emitted_event()));
}

void handshake_headers(const std::string& value) {
  http::origin_policy policy{"127.0.0.1", 4200, {}};
  const bool allowed = http::origin_allowed(value, policy);
  if (http::is_valid_origin(value)) {
    policy.allowed = {value};
    FUZZ_CHECK(http::origin_allowed(value, policy));
  } else {
    FUZZ_CHECK(!allowed || value.empty());
  }
  const auto chosen = http::select_subprotocol(value, {"prefect"});
  FUZZ_CHECK(chosen.empty() || chosen == "prefect");
}

/// The worker channel's on_message: a frame read is answered with frames that are JSON again.
void worker_channel(const std::string& message) {
  namespace wc = http::worker_channel;
  const auto f = wc::read_frame(message, default_json_max_depth);
  if (!f) return;
  json answer;
  if (const auto* h = std::get_if<wc::hello>(&*f)) {
    FUZZ_CHECK(h->heartbeat_interval_seconds > 0 && !h->worker_name.empty());
    answer = wc::ready_frame(*h, {}, json::object(), now());
  } else if (const auto* op = std::get_if<wc::cleanup_operation>(&*f)) {
    answer = wc::cleanup_refusal_frame(*op, now());
  } else {
    FUZZ_CHECK(std::get<wc::heartbeat>(*f).heartbeat_interval_seconds > 0);
    return;
  }
  FUZZ_CHECK(parse_json(dump(answer), default_json_max_depth + 4).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string message(osprey::fuzz::as_text(data, size));
  const auto parsed = parse_json(message, default_json_max_depth);
  handshake(parsed);
  events_in(message);
  events_out(parsed);
  handshake_headers(message);
  worker_channel(message);
  return 0;
}

// Events: WS /api/events/in (clients stream events), WS /api/events/out (filtered stream with backfill),
// POST /api/events, POST /api/events/filter and GET /api/events/filter/next.
//
// Received events go to the event bus (actors/event_bus.hpp), which stores them and then delivers the new ones
// to /api/events/out subscribers, and to the task-run recorder. Both websockets start with Prefect's auth
// handshake (http/ws_auth_gate.hpp): write scope for /in, read for /out.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <deque>
#include <mutex>
#include <unordered_set>

#include "actors/event_bus.hpp"
#include "actors/task_run_recorder.hpp"
#include "actors/task_run_record_message.hpp"
#include "domain/task_run_event.hpp"
#include "http/access_guard.hpp"
#include "http/api_support.hpp"
#include "http/routes.hpp"
#include "http/websocket.hpp"
#include "http/ws_auth_gate.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/event_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;

constexpr std::int64_t interactive_page_size = 50;       ///< POST /api/events/filter: at most this many per page
constexpr std::int64_t backfill_page_size = 250;         ///< /api/events/out backfill: events per read
constexpr auto max_backfill = std::chrono::minutes(15);  ///< how far back /api/events/out looks at most
constexpr std::size_t max_pending_live = 10'000;         ///< live events held while a backfill runs; beyond: 1008

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string event_message(const event& e) { return dump(json{{"type", "event"}, {"event", to_json(e)}}); }

/// Sends a received client task-run event to the task-run recorder, already extracted: turning the event back
/// into JSON for the recorder to read was a visible part of an event's CPU. One that cannot be extracted goes
/// as JSON, so that the recorder counts and logs its refusal as for any other.
void record(const api_context& ctx, const event& e) {
  if (!ctx.task_run_recorder || !is_recordable_task_run_event(e)) return;
  if (auto extracted = task_run_event_from_event(e))
    caf::anon_send(ctx.task_run_recorder, actors::record_atom_v, std::move(*extracted));
  else
    caf::anon_send(ctx.task_run_recorder, actors::record_atom_v, to_json(e));
}

// ---- page tokens ----------------------------------------------------------------------------------------

constexpr std::string_view base64url_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url_encode(std::string_view in) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const unsigned char c : in) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(base64url_alphabet[(buffer >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(base64url_alphabet[(buffer << (6 - bits)) & 0x3F]);
  return out;
}

std::optional<std::string> base64url_decode(std::string_view in) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : in) {
    if (c == '=') break;
    // Also the standard alphabet, and '+' that query decoding turned into a space.
    const char d = c == '+' || c == ' ' ? '-' : c == '/' ? '_' : c;
    const auto pos = base64url_alphabet.find(d);
    if (pos == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

/// Where a query continues: the filter (with absolute times), the total counted on the first page, the page
/// size and the offset of the next page.
struct page_cursor {
  event_filter filter;
  std::int64_t total = 0;
  std::int64_t page_size = interactive_page_size;
  std::int64_t offset = 0;
};

std::string encode_cursor(const page_cursor& c) {
  return base64url_encode(
      dump(json{{"filter", to_json(c.filter)}, {"count", c.total}, {"page_size", c.page_size}, {"offset", c.offset}}));
}

std::optional<page_cursor> decode_cursor(const std::string& token, timestamp now, std::size_t max_depth) {
  const auto text = base64url_decode(token);
  if (!text || text->empty()) return std::nullopt;
  const auto parsed = parse_json(*text, max_depth);  // the client hands the token back: it is client input
  const auto& j = parsed.value;
  if (!j.is_object()) return std::nullopt;
  const auto number = [&j](const char* key) -> std::optional<std::int64_t> {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<std::int64_t>();
  };
  const auto total = number("count");
  const auto page_size = number("page_size");
  const auto offset = number("offset");
  if (!total || !page_size || !offset || *page_size < 1 || *page_size > interactive_page_size || *offset < 0)
    return std::nullopt;
  auto filter = parse_event_filter(j.contains("filter") ? j["filter"] : json(nullptr), now);
  if (!filter) return std::nullopt;
  return page_cursor{std::move(*filter), *total, *page_size, *offset};
}

/// The absolute URL of the next page (Prefect's shape: the request's base URL + api/events/filter/next), or
/// null on the last page.
json next_page_link(const std::string& host, const page_cursor& c) {
  if (c.page_size <= 0 || c.offset >= c.total) return nullptr;
  return "http://" + (host.empty() ? std::string("localhost") : host) +
         "/api/events/filter/next?page-token=" + encode_cursor(c);
}

/// Reads one page (and, for a first page, the total) and answers with Prefect's EventPage.
void answer_page(const api_context& ctx, const request& req, page_cursor cursor, bool first, responder respond) {
  struct page {
    std::vector<event> events;
    std::int64_t total = 0;
  };
  persistence::read_value(
      ctx.db,
      [cursor, first](persistence::sql_connection& c) {
        page p;
        p.total = first ? persistence::count_events(c, cursor.filter) : cursor.total;
        p.events = persistence::query_events(c, cursor.filter, cursor.page_size, cursor.offset);
        return p;
      },
      [cursor, host = req.header("host"), respond](const result<page>& out) mutable {
        if (!out) return respond(error_response(out.error()));
        json events = json::array();
        for (const auto& e : out->events) events.push_back(to_json(e));
        cursor.total = out->total;
        cursor.offset += cursor.page_size;
        respond(response::json(200, dump(json{{"events", std::move(events)},
                                              {"total", out->total},
                                              {"next_page", next_page_link(host, cursor)}})));
      });
}

// ---- POST /api/events ------------------------------------------------------------------------------------

void create_events(const api_context& ctx, request& req, responder respond) {
  if (!ctx.event_bus) return respond(error_response(status(errc::unavailable, "the event bus is not running")));
  response error;
  const auto parsed = parse_json_body(req, error);
  if (!parsed) return respond(std::move(error));
  const auto& body = *parsed;
  if (!body.is_array()) return respond(validation_error("", "Input should be a valid list of events", "list_type"));
  actors::event_batch events;
  const timestamp now = ctx.time->now();
  for (std::size_t i = 0; i < body.size(); ++i) {
    auto e = parse_event(body[i]);
    if (!e) return respond(validation_error(std::to_string(i), e.error().message()));
    e->received = now;
    events.push_back(std::move(*e));
  }
  for (const auto& e : events) record(ctx, e);
  actors::publish_events(ctx.event_bus, std::move(events),
                         [respond](const status& s) { respond(s ? response::no_content() : error_response(s)); });
}

// ---- POST /api/events/filter, GET /api/events/filter/next ------------------------------------------------

void read_events(const api_context& ctx, request& req, responder respond) {
  json body = json::object();
  if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    response error;
    auto parsed = parse_object_body(req, error);
    if (!parsed) return respond(std::move(error));
    body = std::move(*parsed);
  }
  std::int64_t limit = interactive_page_size;
  if (const auto it = body.find("limit"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer())
      return respond(validation_error("limit", "Input should be a valid integer", "int_type"));
    limit = it->get<std::int64_t>();
    if (limit < 0)
      return respond(validation_error("limit", "Input should be greater than or equal to 0", "greater_than_equal"));
    if (limit > interactive_page_size)
      return respond(validation_error("limit", "Input should be less than or equal to 50", "less_than_equal"));
  }
  auto filter = parse_event_filter(body.contains("filter") ? body["filter"] : json(nullptr), ctx.time->now());
  if (!filter) return respond(validation_error("filter", filter.error().message()));
  answer_page(ctx, req, page_cursor{std::move(*filter), 0, limit, 0}, true, std::move(respond));
}

void read_next_page(const api_context& ctx, request& req, responder respond) {
  const auto it = req.query.find("page-token");
  if (it == req.query.end())
    return respond(query_validation_error("page-token", "Field required", "missing", "Field required: page-token"));
  auto cursor = decode_cursor(it->second, ctx.time->now(), req.json_max_depth);
  if (!cursor) return respond(response::detail(403, "Forbidden"));
  answer_page(ctx, req, std::move(*cursor), false, std::move(respond));
}

// ---- websockets ------------------------------------------------------------------------------------------

websocket_callbacks events_in(const api_context& ctx, const request& req,
                              const std::shared_ptr<websocket_connection>& conn) {
  struct state {
    state(const websocket_connection& c, std::size_t depth, const api_context& ctx, std::string peer)
        : gate(std::make_shared<auth_gate>(c, depth, ctx.access, api_scope::write, std::move(peer))),
          max_depth(depth) {}
    std::shared_ptr<auth_gate> gate;
    std::size_t max_depth;
  };
  auto st = std::make_shared<state>(*conn, req.json_max_depth, ctx, req.remote_address);
  st->gate->refuse_if_legacy(*conn);
  std::weak_ptr<websocket_connection> weak = conn;
  websocket_callbacks cb;
  cb.on_message = [ctx, st, weak](std::string message) {
    auto c = weak.lock();
    if (!c || !st->gate->pass(message, c)) return;
    if (!ctx.event_bus) return c->close(close_code::internal_error, "The event bus is not running");
    auto e = parse_event_text(message, st->max_depth);
    if (!e) {
      std::string reason = "Invalid event: " + e.error().message();
      return c->close(close_code::invalid_payload, std::move(reason));
    }
    e->received = ctx.time->now();
    record(ctx, *e);
    actors::event_batch batch;  // not {std::move(*e)}: an initializer list would copy the event
    batch.push_back(std::move(*e));
    actors::publish_events(ctx.event_bus, std::move(batch));
  };
  return cb;
}

/// One /api/events/out subscription: live events from the bus (held back while the backfill runs), backfill
/// pages from the store, both filtered; ids already sent by the backfill are not sent again live.
class event_stream : public std::enable_shared_from_this<event_stream> {
 public:
  event_stream(api_context ctx, std::weak_ptr<websocket_connection> conn, const websocket_connection& c,
               std::size_t max_depth, std::string peer)
      : ctx_(std::move(ctx)),
        conn_(std::move(conn)),
        gate_(std::make_shared<auth_gate>(c, max_depth, ctx_.access, api_scope::read, std::move(peer))),
        max_depth_(max_depth) {}

  /// Call once, after construction (see auth_gate).
  void refuse_if_legacy(websocket_connection& c) const { gate_->refuse_if_legacy(c); }

  void on_message(const std::string& message) {
    auto c = conn_.lock();
    if (!c || !gate_->pass(message, c)) return;
    if (subscribed_) return;  // after the filter, clients send nothing; ignore anything they do
    const auto parsed = parse_json(message, max_depth_);
    if (parsed.error == parsed_json::problem::too_deep)
      return c->close(close_code::invalid_payload, "Invalid filter: " + too_deep_message(max_depth_));
    const auto& j = parsed.value;
    if (!j.is_object() || j.value("type", json()) != "filter")
      return c->close(close_code::protocol_error, "Expected 'filter' message");
    auto backfill = j.value("backfill", json(true));  // absent: true; null: false (Python's truthiness)
    if (backfill.is_null()) backfill = false;
    if (!backfill.is_boolean())
      return c->close(close_code::protocol_error, "Invalid filter: backfill must be a boolean");
    const timestamp now = ctx_.time->now();
    auto filter = parse_event_filter(j.value("filter", json(nullptr)), now);
    if (!filter) return c->close(close_code::protocol_error, "Invalid filter: " + filter.error().message());
    clamp_since(*filter, now - max_backfill);
    filter->order = event_order::ascending;
    if (!ctx_.event_bus) return c->close(close_code::internal_error, "The event bus is not running");

    {
      std::lock_guard lock(mutex_);
      filter_ = std::move(*filter);
      backfilling_ = backfill.get<bool>();
      next_since_ = filter_.since;
    }
    subscribed_ = true;
    // Subscribe first, then read the store: an event is either stored before the backfill reads or delivered
    // after the subscription (actors/event_bus.hpp), so none falls in between.
    std::weak_ptr<event_stream> weak = weak_from_this();
    token_ = actors::subscribe_events(ctx_.event_bus, [weak](const actors::shared_event& e) {
      if (auto self = weak.lock()) self->on_live(e);
    });
    if (backfill.get<bool>()) read_backfill_page();
  }

  void on_close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    pending_.clear();
    if (subscribed_) actors::unsubscribe_events(ctx_.event_bus, token_);
  }

 private:
  /// Bus thread.
  void on_live(const actors::shared_event& e) {
    std::lock_guard lock(mutex_);
    if (closed_ || !matches(filter_, *e)) return;
    if (backfilling_) {
      if (pending_.size() >= max_pending_live)
        return fail(close_code::policy_violation, "Slow consumer: too many events during backfill");
      pending_.push_back(e);
      return;
    }
    send_live(*e);
  }

  /// With mutex_ held.
  void send_live(const event& e) {
    if (const auto it = backfilled_.find(e.id); it != backfilled_.end()) {
      backfilled_.erase(it);
      return;
    }
    if (auto c = conn_.lock()) c->send_text(event_message(e));
  }

  /// With mutex_ held.
  void fail(std::uint16_t code, std::string reason) {
    closed_ = true;
    pending_.clear();
    if (auto c = conn_.lock()) c->close(code, std::move(reason));
  }

  /// Reads the next page: events from `next_since_` on, skipping the `skip_at_since_` already sent that
  /// occurred exactly then (keyset paging on occurred: offsets would shift under concurrent inserts).
  void read_backfill_page() {
    event_filter page_filter;
    std::int64_t skip = 0;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      page_filter = filter_;
      page_filter.since = next_since_;
      skip = skip_at_since_;
    }
    persistence::read_value(
        ctx_.db,
        [page_filter, skip](persistence::sql_connection& c) {
          return persistence::query_events(c, page_filter, backfill_page_size, skip);
        },
        [self = shared_from_this()](const result<std::vector<event>>& page) { self->on_backfill_page(page); });
  }

  /// Database thread.
  void on_backfill_page(const result<std::vector<event>>& page) {
    std::shared_ptr<websocket_connection> c;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      c = conn_.lock();
      if (!c) return;
      if (!page) return fail(close_code::internal_error, "Reading the event backfill failed");
      for (const auto& e : *page) {
        backfilled_.insert(e.id);
        if (e.occurred == next_since_) {
          ++skip_at_since_;
        } else {
          next_since_ = e.occurred;
          skip_at_since_ = 1;
        }
        c->send_text(event_message(e));
      }
      if (static_cast<std::int64_t>(page->size()) < backfill_page_size) {
        // Done: release what arrived live meanwhile, then stream live.
        backfilling_ = false;
        while (!pending_.empty()) {
          send_live(*pending_.front());
          pending_.pop_front();
        }
        return;
      }
    }
    // Another page once the client has taken this one, so a long backfill never piles up in memory.
    c->when_drained([self = shared_from_this()] { self->read_backfill_page(); });
  }

  const api_context ctx_;
  const std::weak_ptr<websocket_connection> conn_;
  std::shared_ptr<auth_gate> gate_;
  const std::size_t max_depth_;  ///< of incoming messages (request::json_max_depth)
  bool subscribed_ = false;      ///< on_message only (and on_close, which never overlaps it)
  std::uint64_t token_ = 0;

  std::mutex mutex_;  ///< guards what the bus, database and io threads share below
  event_filter filter_;
  bool backfilling_ = false;
  bool closed_ = false;
  std::deque<actors::shared_event> pending_;  ///< live events that arrived during the backfill
  std::unordered_set<uuid> backfilled_;       ///< ids the backfill sent (a live copy is skipped once)
  timestamp next_since_;
  std::int64_t skip_at_since_ = 0;
};

websocket_callbacks events_out(const api_context& ctx, const request& req,
                               const std::shared_ptr<websocket_connection>& conn) {
  auto stream = std::make_shared<event_stream>(ctx, conn, *conn, req.json_max_depth, req.remote_address);
  stream->refuse_if_legacy(*conn);
  websocket_callbacks cb;
  cb.on_message = [stream](std::string message) { stream->on_message(message); };
  cb.on_close = [stream](std::uint16_t, const std::string&) { stream->on_close(); };
  return cb;
}

}  // namespace

void register_event_routes(router& routes, const api_context& ctx) {
  routes.add_websocket("/api/events/in", "Stream events in (WebSocket)",
                       [ctx](const request& req, const std::shared_ptr<websocket_connection>& conn) {
                         return events_in(ctx, req, conn);
                       });
  routes.add_websocket("/api/events/out", "Stream filtered events out, with backfill (WebSocket)",
                       [ctx](const request& req, const std::shared_ptr<websocket_connection>& conn) {
                         return events_out(ctx, req, conn);
                       });
  routes.add("POST", "/api/events", "Record a batch of events (204)",
             [ctx](request& req, responder respond) { create_events(ctx, req, std::move(respond)); });
  routes.add("POST", "/api/events/filter", "Read events matching a filter: {filter?, limit <= 50}",
             [ctx](request& req, responder respond) { read_events(ctx, req, std::move(respond)); });
  routes.add("GET", "/api/events/filter/next", "The next page of an event query (?page-token=)",
             [ctx](request& req, responder respond) { read_next_page(ctx, req, std::move(respond)); });
}

}  // namespace osprey::http

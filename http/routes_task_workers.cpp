// Task workers (background tasks, Prefect 3.9.1's api/task_runs.py scheduled_task_subscription and
// api/task_workers.py): WS /api/task_runs/subscriptions/scheduled hands a subscribed worker the deferred task
// runs of its task keys (actors/background_task_queue.hpp), one at a time, each acknowledged before the next;
// POST /api/task_workers/filter lists the subscribed workers.
#include <nlohmann/json.hpp>

#include "actors/background_task_queue.hpp"
#include "http/api_support.hpp"
#include "http/routes.hpp"
#include "http/shapes.hpp"
#include "http/websocket.hpp"
#include "http/ws_auth_gate.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/task_run_store.hpp"

namespace osprey::http {
namespace {

/// Prefect closes a worker that breaks the protocol with this code.
constexpr std::uint16_t protocol_violation = 4001;

/// A message's "type", "" when it has none (or is not an object).
std::string message_type(const nlohmann::json& j) {
  if (!j.is_object()) return "";
  const auto type = j.find("type");
  return type != j.end() && type->is_string() ? type->get<std::string>() : "";
}

/// WS /api/task_runs/subscriptions/scheduled: Prefect's auth handshake, then {"type": "subscribe", "keys":
/// [...], "client_id": "..."}; then each delivered TaskRun is answered {"type": "ack"} (or "quit").
websocket_callbacks scheduled_subscription(const api_context& ctx, const request& req,
                                           const std::shared_ptr<websocket_connection>& conn) {
  struct subscription {
    std::shared_ptr<auth_gate> gate;
    std::size_t max_depth = 0;
    std::optional<std::uint64_t> token;  ///< io thread only (on_message and on_close never overlap)
  };
  auto sub = std::make_shared<subscription>(subscription{
      std::make_shared<auth_gate>(*conn, req.json_max_depth, ctx.access, api_scope::write, req.remote_address),
      req.json_max_depth, std::nullopt});
  sub->gate->refuse_if_legacy(*conn);
  std::weak_ptr<websocket_connection> weak = conn;
  auto queue = ctx.background_tasks;
  websocket_callbacks cb;
  cb.on_message = [sub, weak, queue, db = ctx.db, time = ctx.time](std::string message) {
    auto c = weak.lock();
    if (!c || !sub->gate->pass(message, c)) return;
    const auto parsed = parse_json(message, sub->max_depth);
    const auto& j = parsed.value;
    const std::string type = message_type(j);
    if (sub->token) {
      if (type == "ack") return queue->ack(*sub->token);
      if (type == "quit") return c->close(close_code::normal, "");
      return c->close(protocol_violation, "Protocol violation: expected 'ack' message");
    }
    if (type != "subscribe") return c->close(protocol_violation, "Protocol violation: expected 'subscribe' message");
    std::vector<std::string> keys;
    if (const auto given = j.find("keys"); given != j.end() && given->is_array())
      for (const auto& k : *given)
        if (k.is_string()) keys.push_back(k.get<std::string>());
    if (keys.empty()) return c->close(protocol_violation, "Protocol violation: expected 'keys' in subscribe message");
    const auto client = j.find("client_id");
    if (client == j.end() || !client->is_string() || client->get_ref<const std::string&>().empty())
      return c->close(protocol_violation, "Protocol violation: expected 'client_id' in subscribe message");
    // Each run is read when it is handed over, so the worker gets it as stored now; one deleted meanwhile is
    // skipped (acknowledged for the worker).
    sub->token = queue->subscribe(
        std::move(keys), client->get<std::string>(),
        [weak, queue, db, time](std::uint64_t token, const uuid& run, const std::string&) {
          persistence::read_value(
              db, [run](persistence::sql_connection& sc) { return persistence::find_task_run(sc, run); },
              [weak, queue, token, time](const result<std::optional<task_run>>& found) {
                auto live = weak.lock();
                if (found && !*found) return queue->ack(token);
                // A worker that is gone, or a failed read: the run goes back to be handed out again.
                if (!live || !found || !live->send_text(to_json(**found, time->now()).dump()))
                  queue->unsubscribe(token);
              });
        });
  };
  cb.on_close = [sub, queue](std::uint16_t, const std::string&) {
    if (sub->token) queue->unsubscribe(*sub->token);
  };
  return cb;
}

void register_task_worker_filter(router& routes, const api_context& ctx) {
  routes.add(
      "POST", "/api/task_workers/filter", "The task workers subscribed here (task_worker_filter.task_keys)",
      [ctx](request& req, responder respond) {
        std::vector<std::string> keys;
        if (!req.body.empty()) {
          response error;
          auto body = parse_object_body(req, error);
          if (!body) return respond(std::move(error));
          const auto f = body->find("task_worker_filter");
          if (f != body->end() && !f->is_null()) {
            if (!f->is_object())
              return respond(validation_error("task_worker_filter", "Input should be a valid dictionary or object",
                                              "model_attributes_type"));
            const auto k = f->find("task_keys");
            if (k == f->end())
              return respond(validation_error("task_worker_filter.task_keys", "Field required", "missing"));
            if (!k->is_array())
              return respond(
                  validation_error("task_worker_filter.task_keys", "Input should be a valid list", "list_type"));
            for (const auto& key : *k) {
              if (!key.is_string())
                return respond(
                    validation_error("task_worker_filter.task_keys", "Input should be a valid string", "string_type"));
              keys.push_back(key.get<std::string>());
            }
          }
        }
        nlohmann::json out = nlohmann::json::array();
        for (const auto& w : ctx.background_tasks->workers(keys))
          out.push_back(
              {{"identifier", w.client_id}, {"task_keys", w.task_keys}, {"timestamp", format_iso8601(w.since)}});
        respond(response::json(200, out.dump()));
      });
}

}  // namespace

void register_task_worker_routes(router& routes, const api_context& ctx) {
  register_task_worker_filter(routes, ctx);
  routes.add_websocket("/api/task_runs/subscriptions/scheduled",
                       "Background task runs for a task worker's keys, one at a time (WebSocket)",
                       [ctx](const request& req, const std::shared_ptr<websocket_connection>& conn) {
                         return scheduled_subscription(ctx, req, conn);
                       });
}

}  // namespace osprey::http

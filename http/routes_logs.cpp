// POST /api/logs/: batches of run logs from the client's APILogHandler (201, body null), published to the live
// stream once committed. WS /api/logs/out: that stream (http/live_logs.hpp), for `prefect flow-run watch` and
// `prefect deployment run --watch`.
// GET /api/flow_runs/{id}/logs/download: the run's logs as a CSV file, oldest first (the UI's download button).
#include <nlohmann/json.hpp>

#include "domain/log_csv.hpp"
#include "domain/log_record.hpp"
#include "http/api_support.hpp"
#include "http/live_logs.hpp"
#include "http/routes.hpp"
#include "http/websocket.hpp"
#include "http/ws_auth_gate.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/filter_sql.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/log_store.hpp"

namespace osprey::http {
namespace {

bool parse_log(const nlohmann::json& item, std::size_t index, timestamp now, log_record& out, response& error) {
  const std::string at = std::to_string(index);
  if (!item.is_object()) {
    error = validation_error(at, "Input should be a valid dictionary or object", "model_type");
    return false;
  }
  body_reader in(item, at);
  std::optional<std::string> name, message, when;
  nlohmann::json level;
  bool has_level = false;
  if (!in.optional_string("name", name) || !in.optional_string("message", message) ||
      !in.optional_string("timestamp", when) || !in.any("level", level, &has_level) ||
      !in.optional_uuid("flow_run_id", out.flow_run_id) || !in.optional_uuid("task_run_id", out.task_run_id)) {
    error = in.error();
    return false;
  }
  nlohmann::json ignored;
  in.any("worker_id", ignored);  // sent to Prefect Cloud only; accepted and ignored
  if (!in.finish()) {
    error = in.error();
    return false;
  }
  for (auto [field, present] : {std::pair{"name", name.has_value()}, std::pair{"message", message.has_value()},
                                std::pair{"timestamp", when.has_value()}, std::pair{"level", has_level}})
    if (!present) {
      error = validation_error(at + "." + field, "Field required", "missing");
      return false;
    }
  if (!level.is_number_integer()) {
    error = validation_error(at + ".level", "Input should be a valid integer", "int_type");
    return false;
  }
  auto t = parse_iso8601(*when);
  if (!t) {
    error = validation_error(at + ".timestamp", "Input should be a valid datetime", "datetime_parsing");
    return false;
  }
  out.id = new_uuid7(now);  // time-ordered: a new log's key lands at the end of the primary-key index
  out.created = now;
  out.name = std::move(*name);
  out.level = level.get<std::int64_t>();
  out.message = std::move(*message);
  out.at = *t;
  return true;
}

// Logs are read a page at a time (as Prefect does) so that one statement never holds a huge result; the file
// is built in memory, which bounds it by the run's log volume.
constexpr std::int64_t download_page = 1000;

struct log_file {
  std::string name;
  std::string csv;
};

void register_download(router& routes, const api_context& ctx) {
  routes.add("GET", "/api/flow_runs/{id}/logs/download", "A flow run's logs as CSV, oldest first",
             [ctx](request& req, responder respond) {
               auto id = path_uuid(req, "id", respond);
               if (!id) return;
               persistence::read_value(
                   ctx.db,
                   [run = flow_run_id{*id}](persistence::sql_connection& c) -> result<log_file> {
                     auto found = persistence::find_flow_run(c, run);
                     if (!found) return status(errc::not_found, "Flow run not found");
                     log_file out{log_csv_file_name(found->name), log_csv_header()};
                     const auto order = persistence::order_by(filters::log_sort::timestamp_asc);
                     for (std::int64_t offset = 0;; offset += download_page) {
                       auto page = persistence::select_logs(c, "l.flow_run_id = $1", {persistence::id(run)}, order,
                                                            download_page, offset);
                       for (const auto& l : page) append_log_csv_row(out.csv, l);
                       if (static_cast<std::int64_t>(page.size()) < download_page) break;
                     }
                     return out;
                   },
                   [respond](result<log_file> file) {
                     if (!file) return respond(error_response(file.error()));
                     response r;
                     r.status = 200;
                     r.content_type = "text/csv; charset=utf-8";
                     r.body = std::move(file->csv);
                     r.headers.emplace_back(
                         "Content-Disposition",
                         "attachment; filename=\"flow-run-logs.csv\"; filename*=UTF-8''" + file->name);
                     respond(std::move(r));
                   });
             });
}

/// WS /api/logs/out: Prefect's auth handshake, then one {"type":"filter","filter":LogFilter} message; from then
/// on the server only sends (what the client sends is ignored).
websocket_callbacks logs_out(const api_context& ctx, const request& req,
                             const std::shared_ptr<websocket_connection>& conn) {
  struct subscription {
    std::shared_ptr<auth_gate> gate;
    std::size_t max_depth = 0;
    std::optional<std::uint64_t> token;  ///< io thread only (on_message and on_close never overlap)
  };
  auto sub = std::make_shared<subscription>(subscription{
      std::make_shared<auth_gate>(*conn, req.json_max_depth, ctx.access, api_scope::read, req.remote_address),
      req.json_max_depth, std::nullopt});
  sub->gate->refuse_if_legacy(*conn);
  std::weak_ptr<websocket_connection> weak = conn;
  websocket_callbacks cb;
  cb.on_message = [sub, weak, stream = ctx.log_stream](std::string message) {
    auto c = weak.lock();
    if (!c || !sub->gate->pass(message, c) || sub->token) return;
    const auto parsed = parse_json(message, sub->max_depth);
    if (parsed.error == parsed_json::problem::too_deep)
      return c->close(close_code::invalid_payload, "Invalid filter: " + too_deep_message(sub->max_depth));
    const auto& j = parsed.value;
    if (!j.is_object() || j.value("type", nlohmann::json()) != "filter")
      return c->close(close_code::protocol_error, "Expected 'filter' message");
    filters::filter_error error;
    auto filter = filters::parse_log_filter(j.value("filter", nlohmann::json(nullptr)), {"filter"}, error);
    if (!filter) return c->close(close_code::protocol_error, "Invalid filter: " + error.describe());
    sub->token = stream->subscribe(std::move(*filter), weak);
  };
  cb.on_close = [sub, stream = ctx.log_stream](std::uint16_t, const std::string&) {
    if (sub->token) stream->unsubscribe(*sub->token);
  };
  return cb;
}

}  // namespace

void register_log_routes(router& routes, const api_context& ctx) {
  register_download(routes, ctx);
  routes.add("POST", "/api/logs/", "Store a batch of run logs (201)", [ctx](request& req, responder respond) {
    response error;
    auto parsed = parse_json_body(req, error);
    if (!parsed) return respond(std::move(error));
    const auto& body = *parsed;
    if (!body.is_array()) return respond(validation_error("", "Input should be a valid list", "list_type"));
    std::vector<log_record> logs;
    logs.reserve(body.size());
    const auto now = ctx.time->now();
    for (std::size_t i = 0; i < body.size(); ++i) {
      log_record l;
      if (!parse_log(body[i], i, now, l, error)) return respond(std::move(error));
      logs.push_back(std::move(l));
    }
    if (logs.empty()) return respond(response::json(201, "null"));
    auto batch = std::make_shared<const std::vector<log_record>>(std::move(logs));
    persistence::write_value(
        ctx.db, [batch](persistence::sql_connection& c) { persistence::insert_logs(c, *batch); },
        [respond, batch, stream = ctx.log_stream](const status& s) {
          if (s && stream) stream->publish(*batch);  // committed: now it may be seen
          respond(s ? response::json(201, "null") : error_response(s));
        });
  });
  routes.add_websocket("/api/logs/out", "Stream live logs matching a LogFilter (WebSocket)",
                       [ctx](const request& req, const std::shared_ptr<websocket_connection>& conn) {
                         return logs_out(ctx, req, conn);
                       });
}

}  // namespace osprey::http

// POST /api/logs/: batches of run logs from the client's APILogHandler (201, body null).
#include <nlohmann/json.hpp>

#include "domain/log_record.hpp"
#include "http/api_support.hpp"
#include "http/routes.hpp"
#include "persistence/database_calls.hpp"
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
  out.id = new_uuid4();
  out.created = now;
  out.name = std::move(*name);
  out.level = level.get<std::int64_t>();
  out.message = std::move(*message);
  out.at = *t;
  return true;
}

}  // namespace

void register_log_routes(router& routes, const api_context& ctx) {
  routes.add("POST", "/api/logs/", "Store a batch of run logs (201)", [ctx](request& req, responder respond) {
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return respond(validation_error("", "Request body is not valid JSON", "json_invalid"));
    if (!body.is_array()) return respond(validation_error("", "Input should be a valid list", "list_type"));
    std::vector<log_record> logs;
    logs.reserve(body.size());
    const auto now = ctx.time->now();
    for (std::size_t i = 0; i < body.size(); ++i) {
      log_record l;
      response error;
      if (!parse_log(body[i], i, now, l, error)) return respond(std::move(error));
      logs.push_back(std::move(l));
    }
    if (logs.empty()) return respond(response::json(201, "null"));
    persistence::write_value(
        ctx.db, [logs = std::move(logs)](persistence::sql_connection& c) { persistence::insert_logs(c, logs); },
        [respond](const status& s) { respond(s ? response::json(201, "null") : error_response(s)); });
  });
}

}  // namespace osprey::http

#include "http/work_pool_fields.hpp"

#include <limits>

#include "http/api_support.hpp"
#include "http/concurrency_fields.hpp"

namespace osprey::http::work_pool_fields {
namespace {

using concurrency_fields::reader;
using nlohmann::json;

json optional_json(const std::optional<std::string>& s) { return s ? json(*s) : json(); }
json optional_json(const std::optional<std::int64_t>& v) { return v ? json(*v) : json(); }
json optional_json(const std::optional<timestamp>& t) { return t ? json(format_iso8601(t.value())) : json(); }

bool fail(response& error, const std::string& field, const std::string& message, const std::string& type) {
  error = validation_error(field, message, type);
  return false;
}

/// Prefect's Name: no / % & > < (and, as a NonEmptyishName, not only blanks and quotes).
bool check_name(const std::string& name, bool non_emptyish, response& error) {
  if (non_emptyish && name.find_first_not_of("' \"") == std::string::npos)
    return fail(error, "name", "Value error, name cannot be an empty string", "value_error");
  if (name.empty() || name.find_first_of("/%&><") != std::string::npos)
    return fail(error, "name", "String should match pattern '^[^/%&><]+$'", "string_pattern_mismatch");
  return true;
}

/// True when `key` is present with null (a PATCH setting the column to NULL).
bool is_null(const json& body, const char* key) { return body.contains(key) && body.at(key).is_null(); }

/// A dict field (JSON object); absent or null leaves `out` empty.
bool object(const json& body, const char* key, std::optional<json>& out, response& error) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_object()) return fail(error, key, "Input should be a valid dictionary", "dict_type");
  out = *it;
  return true;
}

/// WorkPoolStorageConfiguration (extra="forbid").
bool storage_configuration(const json& body, std::optional<json>& out, response& error) {
  if (!object(body, "storage_configuration", out, error)) return false;
  if (!out) return true;
  json normalized = {{"bundle_upload_step", nullptr},
                     {"bundle_execution_step", nullptr},
                     {"default_result_storage_block_id", nullptr}};
  for (const auto& [key, value] : out->items()) {
    const std::string where = "storage_configuration." + key;
    if (!normalized.contains(key)) return fail(error, where, "Extra inputs are not permitted", "extra_forbidden");
    if (value.is_null()) continue;
    if (key == "default_result_storage_block_id") {
      if (!value.is_string() || !uuid::parse(value.get<std::string>()))
        return fail(error, where, "Input should be a valid UUID", "uuid_parsing");
    } else if (!value.is_object()) {
      return fail(error, where, "Input should be a valid dictionary", "dict_type");
    }
    normalized[key] = value;
  }
  out = normalized;
  return true;
}

bool base_job_template(const json& body, std::optional<json>& out, response& error) {
  if (!object(body, "base_job_template", out, error)) return false;
  if (!out) return true;
  if (auto problem = check_base_job_template(*out)) return fail(error, problem->field, problem->message, problem->type);
  return true;
}

/// An optional non-negative integer that null clears.
bool nullable_count(const json& body, reader& in, const char* key, std::int64_t min, patch<std::int64_t>& out) {
  if (is_null(body, key)) {
    in.ignored(key);
    out = std::optional<std::int64_t>{};
    return true;
  }
  std::int64_t v = -1;
  if (!in.integer(key, v, min)) return false;
  if (in.given(key)) out = std::optional<std::int64_t>{v};
  return true;
}

bool nullable_text(const json& body, reader& in, const char* key, patch<std::string>& out) {
  if (is_null(body, key)) {
    in.ignored(key);
    out = std::optional<std::string>{};
    return true;
  }
  std::string v;
  if (!in.string(key, v)) return false;
  if (in.given(key)) out = std::optional<std::string>{v};
  return true;
}

}  // namespace

bool read_pool_create(const json& body, work_pool& pool, response& error) {
  reader in(body);
  patch<std::string> description;
  patch<std::int64_t> limit;
  std::optional<json> tpl, storage;
  if (!in.string("name", pool.name, true) || !nullable_text(body, in, "description", description) ||
      !in.string("type", pool.type) || !in.boolean("is_paused", pool.is_paused) ||
      !nullable_count(body, in, "concurrency_limit", 0, limit) || !in.ignored("base_job_template") ||
      !in.ignored("storage_configuration") || !in.finish()) {
    error = in.error();
    return false;
  }
  if (!check_name(pool.name, true, error) || !base_job_template(body, tpl, error) ||
      !storage_configuration(body, storage, error))
    return false;
  if (description) pool.description = *description;
  if (limit) pool.concurrency_limit = *limit;
  if (tpl) pool.base_job_template = *tpl;
  pool.storage_configuration = storage.value_or(json{{"bundle_upload_step", nullptr},
                                                     {"bundle_execution_step", nullptr},
                                                     {"default_result_storage_block_id", nullptr}});
  return true;
}

bool read_pool_update(const json& body, pool_update& out, response& error) {
  reader in(body);
  bool paused = false;
  if (!nullable_text(body, in, "description", out.description) || !in.boolean("is_paused", paused) ||
      !nullable_count(body, in, "concurrency_limit", 0, out.concurrency_limit) || !in.ignored("base_job_template") ||
      !in.ignored("storage_configuration") || !in.finish()) {
    error = in.error();
    return false;
  }
  if (in.given("is_paused")) out.is_paused = paused;
  if (!base_job_template(body, out.base_job_template, error) ||
      !storage_configuration(body, out.storage_configuration, error))
    return false;
  for (const auto& [key, value] : body.items())
    if (key != "is_paused" && key != "concurrency_limit") out.touches_more_than_pause_or_limit = true;
  return true;
}

bool read_queue_create(const json& body, work_queue& queue, std::optional<std::int64_t>& priority, response& error) {
  reader in(body);
  patch<std::string> description;
  patch<std::int64_t> limit;
  std::int64_t p = 0;
  std::optional<json> filter;
  if (!in.string("name", queue.name, true) || !nullable_text(body, in, "description", description) ||
      !in.boolean("is_paused", queue.is_paused) || !nullable_count(body, in, "concurrency_limit", 0, limit) ||
      !in.integer("priority", p, 0, true) || !in.ignored("filter") || !in.finish()) {
    error = in.error();
    return false;
  }
  if (!check_name(queue.name, false, error) || !object(body, "filter", filter, error)) return false;
  if (in.given("priority")) priority = p;
  if (description && *description) queue.description = **description;
  if (limit) queue.concurrency_limit = *limit;
  if (filter) queue.filter = *filter;
  return true;
}

bool read_queue_update(const json& body, queue_update& out, response& error) {
  reader in(body);
  std::string name;
  bool paused = false;
  std::int64_t priority = 0;
  std::string polled;
  if (!in.string("name", name) || !nullable_text(body, in, "description", out.description) ||
      !in.boolean("is_paused", paused) || !nullable_count(body, in, "concurrency_limit", 0, out.concurrency_limit) ||
      !in.integer("priority", priority, 0, true) || !in.ignored("last_polled") || !in.ignored("filter") ||
      !in.finish()) {
    error = in.error();
    return false;
  }
  if (in.given("name")) out.name = name;
  if (in.given("is_paused")) out.is_paused = paused;
  if (in.given("priority")) out.priority = priority;
  if (is_null(body, "last_polled")) {
    out.last_polled = std::optional<timestamp>{};
  } else if (body.contains("last_polled")) {
    const auto& v = body.at("last_polled");
    auto t = v.is_string() ? parse_iso8601(v.get<std::string>()) : std::nullopt;
    if (!t) return fail(error, "last_polled", "Input should be a valid datetime", "datetime_type");
    out.last_polled = t;
  }
  return object(body, "filter", out.filter, error);
}

void apply(const pool_update& u, work_pool& pool) {
  if (u.description) pool.description = *u.description;
  if (u.is_paused) pool.is_paused = *u.is_paused;
  if (u.base_job_template) pool.base_job_template = *u.base_job_template;
  if (u.concurrency_limit) pool.concurrency_limit = *u.concurrency_limit;
  if (u.storage_configuration) pool.storage_configuration = *u.storage_configuration;
}

void apply(const queue_update& u, work_queue& queue) {
  if (u.name) queue.name = *u.name;
  if (u.description) queue.description = u.description->value_or("");
  if (u.is_paused) queue.is_paused = *u.is_paused;
  if (u.concurrency_limit) queue.concurrency_limit = *u.concurrency_limit;
  if (u.last_polled) queue.last_polled = *u.last_polled;
  if (u.filter) queue.filter = *u.filter;
}

json pool_json(const work_pool& pool, std::optional<std::int64_t> active_slots) {
  return {{"id", pool.id.to_string()},
          {"created", format_iso8601(pool.created)},
          {"updated", format_iso8601(pool.updated)},
          {"name", pool.name},
          {"description", optional_json(pool.description)},
          {"type", pool.type},
          {"base_job_template", pool.base_job_template},
          {"is_paused", pool.is_paused},
          {"concurrency_limit", optional_json(pool.concurrency_limit)},
          // A prefect-agent pool has no status (Prefect shows null).
          {"status", pool.type == agent_pool_type ? json() : json(to_string(pool.status))},
          {"default_queue_id", pool.default_queue ? json(pool.default_queue->to_string()) : json()},
          {"storage_configuration", pool.storage_configuration},
          {"active_slots", pool.concurrency_limit ? optional_json(active_slots) : json()}};
}

json queue_json(const work_queue& q, std::optional<std::int64_t> active_slots) {
  return {{"id", q.id.to_string()},
          {"created", format_iso8601(q.created)},
          {"updated", format_iso8601(q.updated)},
          {"name", q.name},
          {"description", q.description},
          {"is_paused", q.is_paused},
          {"concurrency_limit", optional_json(q.concurrency_limit)},
          {"priority", q.priority},
          {"work_pool_id", q.pool.to_string()},
          {"filter", q.filter},
          {"last_polled", optional_json(q.last_polled)},
          {"work_pool_name", q.pool_name},
          {"status", to_string(q.status)},
          {"active_slots", q.concurrency_limit ? optional_json(active_slots) : json()}};
}

json worker_json(const worker& w) {
  return {{"id", w.id.to_string()},
          {"created", format_iso8601(w.created)},
          {"updated", format_iso8601(w.updated)},
          {"name", w.name},
          {"work_pool_id", w.pool.to_string()},
          {"last_heartbeat_time", format_iso8601(w.last_heartbeat_time)},
          {"heartbeat_interval_seconds", optional_json(w.heartbeat_interval_seconds)},
          {"status", to_string(w.status)}};
}

std::optional<listing> read_listing(const request& req, const char* filter_key, response& error) {
  auto body = concurrency_fields::optional_object_body(req, error);
  if (!body) return std::nullopt;
  listing out;
  out.body = *body;
  if (auto it = body->find(filter_key); it != body->end()) out.filter = *it;
  json known;
  for (const char* key : {"limit", "offset"})
    if (auto it = body->find(key); it != body->end()) known[key] = *it;
  if (known.is_null()) known = json::object();
  reader in(known);
  if (!in.integer("limit", out.limit, std::numeric_limits<std::int64_t>::min()) ||
      !in.integer("offset", out.offset, 0)) {
    error = in.error();
    return std::nullopt;
  }
  if (out.limit < 0) {
    error = response::detail(422, "Invalid limit: must be greater than or equal to 0.");
    return std::nullopt;
  }
  if (out.limit > filters::default_limit) {
    error = response::detail(422, "Invalid limit: must be less than or equal to 200.");
    return std::nullopt;
  }
  return out;
}

response filter_refusal(const std::string& location, const std::string& message, const std::string& type) {
  return validation_error(location, message, type);
}

response pool_not_found(const std::string& pool) {
  return response::detail(404, "Work pool \"" + pool + "\" not found.");
}

response queue_not_found(const std::string& pool, const std::string& queue) {
  return response::detail(404, "Work pool queue '" + pool + "/" + queue + "' not found.");
}

}  // namespace osprey::http::work_pool_fields

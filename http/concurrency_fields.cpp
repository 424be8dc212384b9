#include "http/concurrency_fields.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "http/api_support.hpp"

namespace osprey::http::concurrency_fields {
namespace {

using nlohmann::json;

std::string bound_text(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<std::int64_t>(v));
  return json(v).dump();
}

}  // namespace

const json* reader::find(const char* key) {
  seen_.emplace_back(key);
  auto it = body_.find(key);
  return it == body_.end() || it->is_null() ? nullptr : &*it;
}

bool reader::given(const char* key) const {
  auto it = body_.find(key);
  return it != body_.end() && !it->is_null();
}

bool reader::fail(const std::string& location, const std::string& message, const std::string& type) {
  error_ = validation_error(location, message, type);
  return false;
}

bool reader::integer(const char* key, std::int64_t& out, std::int64_t min, bool strict_min, bool required) {
  const auto* v = find(key);
  if (!v) return required ? fail(key, "Field required", "missing") : true;
  std::int64_t n = 0;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
      return fail(key, "Input should be a valid integer", "int_type");
    n = v->get<std::int64_t>();
  } else if (v->is_number_float()) {
    const double d = v->get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.2e18)
      return fail(key, "Input should be a valid integer, got a number with a fractional part", "int_from_float");
    n = static_cast<std::int64_t>(d);
  } else {
    return fail(key, "Input should be a valid integer", "int_type");
  }
  if (strict_min && n <= min) return fail(key, "Input should be greater than " + std::to_string(min), "greater_than");
  if (!strict_min && n < min)
    return fail(key, "Input should be greater than or equal to " + std::to_string(min), "greater_than_equal");
  out = n;
  return true;
}

bool reader::number(const char* key, double& out, double min, double max) {
  const auto* v = find(key);
  if (!v) return true;
  if (!v->is_number()) return fail(key, "Input should be a valid number", "float_type");
  const double d = v->get<double>();
  if (!std::isfinite(d)) return fail(key, "Input should be a finite number", "finite_number");
  if (d < min) return fail(key, "Input should be greater than or equal to " + bound_text(min), "greater_than_equal");
  if (d > max) return fail(key, "Input should be less than or equal to " + bound_text(max), "less_than_equal");
  out = d;
  return true;
}

bool reader::boolean(const char* key, bool& out) {
  const auto* v = find(key);
  if (!v) return true;
  if (v->is_boolean())
    out = v->get<bool>();
  else if (v->is_number_integer() && (v->get<std::int64_t>() == 0 || v->get<std::int64_t>() == 1))
    out = v->get<std::int64_t>() == 1;
  else
    return fail(key, "Input should be a valid boolean", "bool_type");
  return true;
}

bool reader::string(const char* key, std::string& out, bool required) {
  const auto* v = find(key);
  if (!v) return required ? fail(key, "Field required", "missing") : true;
  if (!v->is_string()) return fail(key, "Input should be a valid string", "string_type");
  out = v->get<std::string>();
  return true;
}

bool reader::strings(const char* key, std::vector<std::string>& out, std::size_t min_items, bool required) {
  const auto* v = find(key);
  if (!v) return required ? fail(key, "Field required", "missing") : true;
  if (!v->is_array()) return fail(key, "Input should be a valid list", "list_type");
  std::vector<std::string> items;
  for (const auto& item : *v) {
    if (!item.is_string()) return fail(key, "Input should be a valid string", "string_type");
    items.push_back(item.get<std::string>());
  }
  if (items.size() < min_items)
    return fail(key,
                "List should have at least " + std::to_string(min_items) + " item after validation, not " +
                    std::to_string(items.size()),
                "too_short");
  out = std::move(items);
  return true;
}

bool reader::uuid_value(const char* key, std::optional<uuid>& out, bool required) {
  const auto* v = find(key);
  if (!v) return required ? fail(key, "Field required", "missing") : true;
  auto u = v->is_string() ? uuid::parse(v->get<std::string>()) : std::nullopt;
  if (!u) return fail(key, "Input should be a valid UUID", "uuid_parsing");
  out = *u;
  return true;
}

bool reader::mode(const char* key, acquire_mode& out) {
  const auto* v = find(key);
  if (!v) return true;
  auto m = v->is_string() ? parse_acquire_mode(v->get<std::string>()) : std::nullopt;
  if (!m) return fail(key, "Input should be 'concurrency' or 'rate_limit'", "literal_error");
  out = *m;
  return true;
}

bool reader::holder(const char* key, std::optional<lease_holder>& out) {
  const auto* v = find(key);
  if (!v) return true;
  const std::string at = std::string(key) + ".";
  if (!v->is_object()) return fail(key, "Input should be a valid dictionary", "model_type");
  for (const auto& [k, value] : v->items())
    if (k != "type" && k != "id") return fail(at + k, "Extra inputs are not permitted", "extra_forbidden");
  auto type = v->find("type");
  if (type == v->end()) return fail(at + "type", "Field required", "missing");
  if (!type->is_string() || (*type != "flow_run" && *type != "task_run" && *type != "deployment"))
    return fail(at + "type", "Input should be 'flow_run', 'task_run' or 'deployment'", "literal_error");
  auto id = v->find("id");
  if (id == v->end()) return fail(at + "id", "Field required", "missing");
  auto u = id->is_string() ? uuid::parse(id->get<std::string>()) : std::nullopt;
  if (!u) return fail(at + "id", "Input should be a valid UUID", "uuid_parsing");
  out = lease_holder{type->get<std::string>(), *u};
  return true;
}

bool reader::ignored(const char* key) {
  seen_.emplace_back(key);
  return true;
}

bool reader::finish() {
  for (const auto& [key, value] : body_.items())
    if (std::find(seen_.begin(), seen_.end(), key) == seen_.end())
      return fail(key, "Extra inputs are not permitted", "extra_forbidden");
  return true;
}

std::optional<json> optional_object_body(const request& req, response& error) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  // One parse, through the depth-limited parser every other body goes through.
  auto parsed = parse_json_body(req, error);
  if (!parsed) return std::nullopt;
  if (parsed->is_null()) return json::object();
  return object_body(std::move(*parsed), error);
}

json limit_json(const concurrency_limit& l) {
  return {{"id", l.id.to_string()},
          {"created", format_iso8601(l.created)},
          {"updated", format_iso8601(l.updated)},
          {"active", l.active},
          {"name", l.name},
          {"limit", l.limit},
          {"active_slots", l.active_slots},
          {"denied_slots", l.denied_slots},
          {"slot_decay_per_second", l.slot_decay_per_second},
          {"avg_slot_occupancy_seconds", l.avg_slot_occupancy_seconds}};
}

json global_limit_json(const concurrency_limit& l, timestamp now) {
  return {{"id", l.id.to_string()},
          {"created", format_iso8601(l.created)},
          {"updated", format_iso8601(l.updated)},
          {"active", l.active},
          {"name", l.name},
          {"limit", l.limit},
          {"active_slots", active_slots_after_decay(l, now)},
          {"slot_decay_per_second", l.slot_decay_per_second}};
}

json minimal_json(const concurrency_limit& l, const std::string& name) {
  return {{"id", l.id.to_string()}, {"name", name}, {"limit", l.limit}};
}

json v1_limit_json(const concurrency_limit& l, const std::vector<concurrency_lease>& holding) {
  json slots = json::array();
  for (const auto& lease : holding)
    if (lease.holder && lease.holder->type == "task_run") slots.push_back(lease.holder->id.to_string());
  const std::string tag = l.name.starts_with("tag:") ? l.name.substr(4) : l.name;
  return {{"id", l.id.to_string()},
          {"created", format_iso8601(l.created)},
          {"updated", format_iso8601(l.updated)},
          {"tag", tag},
          {"concurrency_limit", l.limit},
          {"active_slots", slots}};
}

response locked(double average_wait_seconds) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  const double wait =
      clamped_poisson_interval(average_wait_seconds, std::uniform_real_distribution<double>(0.0, 1.0)(random));
  auto r = response::detail(423, "Locked");
  r.headers.emplace_back("Retry-After", format_retry_after(wait));
  return r;
}

response integrity_conflict() {
  return response::detail(409,
                          "Data integrity conflict. This usually means a unique or foreign key constraint was "
                          "violated. See server logs for details.");
}

}  // namespace osprey::http::concurrency_fields

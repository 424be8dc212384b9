// Deployment request bodies and response shapes (see the header).
#include "http/deployment_fields.hpp"

#include <set>

#include "http/api_support.hpp"

namespace osprey::http::deployment_fields {
namespace {

using nlohmann::json;

/// Reads the keys of one object; each reader changes its output only when the key is present.
class reader {
 public:
  reader(const json& body, std::string location) : body_(body), location_(std::move(location)) {}

  const json* find(const std::string& key) {
    seen_.insert(key);
    auto it = body_.find(key);
    return it == body_.end() ? nullptr : &*it;
  }
  bool fail(const std::string& key, const std::string& message, const std::string& type) {
    error_ = validation_error(location_.empty() ? key : key.empty() ? location_ : location_ + "." + key, message, type);
    return false;
  }
  bool required(const std::string& key) {
    if (body_.contains(key)) return true;
    return fail(key, "Field required", "missing");
  }
  bool text(const std::string& key, std::optional<std::string>& out, bool nullable = true) {
    const auto* v = find(key);
    if (!v) return true;
    if (v->is_null() && nullable) {
      out.reset();
      return true;
    }
    if (!v->is_string()) return fail(key, "Input should be a valid string", "string_type");
    out = v->get<std::string>();
    return true;
  }
  bool id(const std::string& key, std::optional<uuid>& out) {
    const auto* v = find(key);
    if (!v) return true;
    if (v->is_null()) {
      out.reset();
      return true;
    }
    auto u = v->is_string() ? uuid::parse(v->get<std::string>()) : std::nullopt;
    if (!u) return fail(key, "Input should be a valid UUID", "uuid_parsing");
    out = *u;
    return true;
  }
  bool boolean(const std::string& key, bool& out) {
    const auto* v = find(key);
    if (!v || v->is_null()) return true;
    if (!v->is_boolean()) return fail(key, "Input should be a valid boolean", "bool_type");
    out = v->get<bool>();
    return true;
  }
  bool optional_boolean(const std::string& key, std::optional<bool>& out) {
    const auto* v = find(key);
    if (!v || v->is_null()) return true;
    if (!v->is_boolean()) return fail(key, "Input should be a valid boolean", "bool_type");
    out = v->get<bool>();
    return true;
  }
  /// An object; `nullable`: null stores null, else null leaves `out` unchanged (FastAPI reads it as absent).
  bool object(const std::string& key, json& out, bool nullable = false) {
    const auto* v = find(key);
    if (!v || (v->is_null() && !nullable)) return true;
    if (!v->is_null() && !v->is_object()) return fail(key, "Input should be a valid dictionary", "dict_type");
    out = *v;
    return true;
  }
  bool strings(const std::string& key, std::vector<std::string>& out) {
    const auto* v = find(key);
    if (!v || v->is_null()) return true;
    if (!v->is_array()) return fail(key, "Input should be a valid list", "list_type");
    std::vector<std::string> items;
    for (const auto& item : *v) {
      if (!item.is_string()) return fail(key, "Input should be a valid string", "string_type");
      items.push_back(item.get<std::string>());
    }
    out = std::move(items);
    return true;
  }
  bool positive(const std::string& key, std::optional<std::int64_t>& out) {
    const auto* v = find(key);
    if (!v) return true;
    if (v->is_null()) {
      out.reset();
      return true;
    }
    if (!v->is_number_integer()) return fail(key, "Input should be a valid integer", "int_type");
    if (v->get<std::int64_t>() <= 0) return fail(key, "Input should be greater than 0", "greater_than");
    out = v->get<std::int64_t>();
    return true;
  }
  void ignore(const std::string& key) { seen_.insert(key); }
  bool finish() {
    for (const auto& [key, value] : body_.items())
      if (!seen_.count(key)) return fail(key, "Extra inputs are not permitted", "extra_forbidden");
    return true;
  }
  [[nodiscard]] response error() const { return error_; }

 private:
  const json& body_;
  std::string location_;
  std::set<std::string> seen_;
  response error_;
};

bool read_concurrency_options(reader& in, json& out) {
  json options = out;
  if (!in.object("concurrency_options", options, true)) return false;
  if (options.is_object()) {
    const auto strategy = options.value("collision_strategy", json("ENQUEUE"));
    if (strategy != "ENQUEUE" && strategy != "CANCEL_NEW")
      return in.fail("concurrency_options", "Input should be 'ENQUEUE' or 'CANCEL_NEW'", "enum");
    const auto grace = options.value("grace_period_seconds", json());
    if (!grace.is_null() && !grace.is_number_integer())
      return in.fail("concurrency_options", "Input should be a valid integer", "int_type");
    if (grace.is_number_integer() && (grace.get<std::int64_t>() < 60 || grace.get<std::int64_t>() > 86400))
      return in.fail("concurrency_options", "Input should be between 60 and 86400", "greater_than_equal");
    options = {{"collision_strategy", strategy}, {"grace_period_seconds", grace}};
  }
  out = options;
  return true;
}

}  // namespace

bool read_schedule(const json& body, const std::string& location, bool create, timestamp now, schedule_change& out,
                   response& error) {
  if (!body.is_object()) {
    error = validation_error(location, "Input should be a valid dictionary or object", "model_type");
    return false;
  }
  reader in(body, location);
  std::optional<bool> given_active;
  if (!(create ? in.required("schedule") : true) || !in.optional_boolean("active", given_active) ||
      !in.positive("max_scheduled_runs", out.max_scheduled_runs) || !in.text("slug", out.slug) ||
      !in.text("replaces", out.replaces)) {
    error = in.error();
    return false;
  }
  out.active = given_active;
  json parameters = json::object();
  if (!in.object("parameters", parameters)) {
    error = in.error();
    return false;
  }
  if (body.contains("parameters") && !body["parameters"].is_null()) out.parameters = parameters;
  if (const auto* s = in.find("schedule"); s && !s->is_null()) {
    auto parsed = parse_schedule(*s, now);
    if (auto* p = std::get_if<field_problem>(&parsed)) {
      error = validation_error(location + ".schedule" + (p->field.empty() ? "" : "." + p->field), p->message, p->type);
      return false;
    }
    out.when = std::get<schedule>(std::move(parsed));
  }
  if (create && !out.when) {
    error = validation_error(location + ".schedule", "Input should be a valid schedule", "model_type");
    return false;
  }
  if (!in.finish()) {
    error = in.error();
    return false;
  }
  return true;
}

bool apply_body(const json& body, bool create, timestamp now, deployment& d, body_extras& extras, response& error) {
  reader in(body, "");
  std::optional<std::string> name = d.name;
  std::optional<uuid> flow = d.flow.value;
  auto fail = [&] {
    error = in.error();
    return false;
  };
  if (create && (!in.required("name") || !in.required("flow_id"))) return fail();
  if (create && (!in.text("name", name, false) || !in.id("flow_id", flow))) return fail();
  if (create && !flow) return in.fail("flow_id", "Input should be a valid UUID", "uuid_type") || fail();
  if (!in.text("version", d.version) || !in.text("description", d.description) || !in.boolean("paused", d.paused) ||
      !in.positive("concurrency_limit", d.concurrency_limit) || !read_concurrency_options(in, d.concurrency_options) ||
      !in.boolean("enforce_parameter_schema", d.enforce_parameter_schema) ||
      !in.object("parameter_openapi_schema", d.parameter_openapi_schema, true) ||
      !in.object("parameters", d.parameters) || !in.strings("tags", d.tags) || !in.object("labels", d.labels) ||
      !in.text("work_queue_name", d.work_queue_name) || !in.text("work_pool_name", extras.work_pool_name) ||
      !in.id("storage_document_id", d.storage_document_id) ||
      !in.id("infrastructure_document_id", d.infrastructure_document_id) || !in.text("path", d.path) ||
      !in.text("entrypoint", d.entrypoint) || !in.object("job_variables", d.job_variables) ||
      !in.id("global_concurrency_limit_id", d.concurrency_limit_id))
    return fail();
  if (const auto* steps = in.find("pull_steps")) {
    if (!steps->is_null() && !steps->is_array())
      return in.fail("pull_steps", "Input should be a valid list", "list_type") || fail();
    for (const auto& step : steps->is_array() ? *steps : json::array())
      if (!step.is_object()) return in.fail("pull_steps", "Input should be a valid dictionary", "dict_type") || fail();
    d.pull_steps = *steps;
  }
  extras.work_pool_given = body.contains("work_pool_name");
  extras.concurrency_limit_given = body.contains("concurrency_limit");
  for (const char* ignored : {"version_info", "branch", "base", "root"}) in.ignore(ignored);
  if (const auto* list = in.find("schedules"); list && !list->is_null()) {
    if (!list->is_array()) return in.fail("schedules", "Input should be a valid list", "list_type") || fail();
    std::vector<schedule_change> changes;
    for (std::size_t i = 0; i < list->size(); ++i) {
      schedule_change c;
      if (!read_schedule((*list)[i], "schedules." + std::to_string(i), create, now, c, error)) return false;
      changes.push_back(std::move(c));
    }
    extras.schedules = std::move(changes);
  }
  if (!in.finish()) return fail();
  if (d.parameter_openapi_schema.is_null() && create)
    d.parameter_openapi_schema = {{"type", "object"}, {"properties", json::object()}};
  if (create) {
    d.name = *name;
    d.flow = flow_id{*flow};
  }
  return true;
}

deployment_schedule new_schedule(const deployment_id& d, const schedule_change& c, timestamp now) {
  deployment_schedule s;
  s.id = deployment_schedule_id{new_uuid4()};
  s.created = s.updated = now;
  s.deployment = d;
  apply_schedule_change(s, c, now);
  return s;
}

void apply_schedule_change(deployment_schedule& s, const schedule_change& c, timestamp now) {
  if (c.when) s.when = *c.when;
  if (c.active) s.active = *c.active;
  if (c.max_scheduled_runs) s.max_scheduled_runs = c.max_scheduled_runs;
  if (c.parameters) s.parameters = *c.parameters;
  if (c.slug) s.slug = c.slug;
  s.updated = now;
}

json schedule_json(const deployment_schedule& s) {
  return {{"id", s.id.to_string()},
          {"created", format_iso8601(s.created)},
          {"updated", format_iso8601(s.updated)},
          {"deployment_id", s.deployment.to_string()},
          {"schedule", to_json(s.when)},
          {"active", s.active},
          {"max_scheduled_runs", s.max_scheduled_runs ? json(*s.max_scheduled_runs) : json(nullptr)},
          {"parameters", s.parameters},
          {"slug", s.slug ? json(*s.slug) : json(nullptr)}};
}

namespace {

/// GlobalConcurrencyLimitResponse.
json limit_json(const std::optional<concurrency_limit>& l) {
  if (!l) return nullptr;
  return {{"id", l->id.to_string()},
          {"created", format_iso8601(l->created)},
          {"updated", format_iso8601(l->updated)},
          {"active", l->active},
          {"name", l->name},
          {"limit", l->limit},
          {"active_slots", l->active_slots},
          {"slot_decay_per_second", l->slot_decay_per_second}};
}

}  // namespace

json deployment_json(const deployment& d) {
  auto opt = [](const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); };
  auto opt_id = [](const std::optional<uuid>& u) { return u ? json(u->to_string()) : json(nullptr); };
  json schedules = json::array();
  for (const auto& s : d.schedules) schedules.push_back(schedule_json(s));
  return {{"id", d.id.to_string()},
          {"created", format_iso8601(d.created)},
          {"updated", format_iso8601(d.updated)},
          {"name", d.name},
          {"version", opt(d.version)},
          {"version_id", nullptr},
          {"version_info", nullptr},
          {"description", opt(d.description)},
          {"flow_id", d.flow.to_string()},
          {"paused", d.paused},
          {"schedules", schedules},
          {"concurrency_limit", nullptr},  // Prefect: always None (deprecated)
          {"global_concurrency_limit", limit_json(d.global_concurrency_limit)},
          {"concurrency_options", d.concurrency_options},
          {"job_variables", d.job_variables},
          {"parameters", d.parameters},
          {"tags", d.tags},
          {"labels", d.labels},
          {"work_queue_name", opt(d.work_queue_name)},
          {"work_queue_id", opt_id(d.work_queue_id)},
          {"last_polled", d.last_polled ? json(format_iso8601(*d.last_polled)) : json(nullptr)},
          {"parameter_openapi_schema", d.parameter_openapi_schema},
          {"path", opt(d.path)},
          {"pull_steps", d.pull_steps},
          {"entrypoint", opt(d.entrypoint)},
          {"storage_document_id", opt_id(d.storage_document_id)},
          {"infrastructure_document_id", opt_id(d.infrastructure_document_id)},
          {"created_by", d.created_by},
          {"updated_by", d.updated_by},
          {"work_pool_name", opt(d.work_pool_name)},
          {"status", d.status},
          {"enforce_parameter_schema", d.enforce_parameter_schema}};
}

}  // namespace osprey::http::deployment_fields

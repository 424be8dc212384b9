#include "domain/task_run.hpp"
#include "domain/task_run_event.hpp"

#include <algorithm>

namespace osprey {
namespace {

constexpr std::string_view task_run_prefix = "prefect.task-run.";
constexpr std::string_view flow_run_prefix = "prefect.flow-run.";

std::optional<uuid> object_id(const nlohmann::json& resource, std::string_view prefix) {
  if (!resource.is_object()) return std::nullopt;
  auto it = resource.find("prefect.resource.id");
  if (it == resource.end() || !it->is_string()) return std::nullopt;
  const auto& id = it->get_ref<const std::string&>();
  if (id.rfind(prefix, 0) != 0) return std::nullopt;
  return uuid::parse(std::string_view(id).substr(prefix.size()));
}

}  // namespace

const std::vector<task_run_column>& task_run_settable_columns() {
  using k = task_run_column_kind;
  static const std::vector<task_run_column> columns = {
      {"name", k::text},
      {"task_key", k::text},
      {"dynamic_key", k::text},
      {"cache_key", k::text},
      {"cache_expiration", k::datetime},
      {"task_version", k::text},
      {"empirical_policy", k::json},
      {"tags", k::json},
      {"labels", k::json},
      {"task_inputs", k::json},
      {"run_count", k::integer},
      {"flow_run_run_count", k::integer},
      {"expected_start_time", k::datetime},
      {"next_scheduled_start_time", k::datetime},
      {"start_time", k::datetime},
      {"end_time", k::datetime},
      {"total_run_time", k::real},
  };
  return columns;
}

std::optional<field_problem> normalize_task_run_columns(const nlohmann::json& fields, bool strict,
                                                        nlohmann::json& columns) {
  if (!fields.is_object()) return field_problem{"", "Input should be a valid dictionary", "dict_type"};
  const auto& known = task_run_settable_columns();
  // Named references, not a structured binding: Clang before 16 cannot capture bindings in lambdas.
  for (const auto& item : fields.items()) {
    const std::string& key = item.key();
    const nlohmann::json& value = item.value();
    const auto refuse = [&key](const char* message, const char* type) { return field_problem{key, message, type}; };
    auto col = std::find_if(known.begin(), known.end(), [&](const task_run_column& c) { return key == c.name; });
    if (col == known.end()) {
      if (strict) return refuse("Extra inputs are not permitted", "extra_forbidden");
      continue;
    }
    if (value.is_null()) {
      columns[key] = nullptr;
      continue;
    }
    switch (col->kind) {
      case task_run_column_kind::text:
        if (!value.is_string()) return refuse("Input should be a valid string", "string_type");
        columns[key] = value;
        break;
      case task_run_column_kind::integer:
        if (!value.is_number_integer()) return refuse("Input should be a valid integer", "int_type");
        columns[key] = value;
        break;
      case task_run_column_kind::real:
        if (!value.is_number()) return refuse("Input should be a valid number", "float_type");
        columns[key] = value.get<double>();
        break;
      case task_run_column_kind::datetime: {
        auto t = value.is_string() ? parse_iso8601(value.get<std::string>()) : std::nullopt;
        if (!t) return refuse("Input should be a valid datetime", "datetime_parsing");
        columns[key] = format_iso8601(*t);
        break;
      }
      case task_run_column_kind::json:
        if (key == "tags" && !value.is_array()) return refuse("Input should be a valid list", "list_type");
        if (key != "tags" && !value.is_object()) return refuse("Input should be a valid dictionary", "dict_type");
        columns[key] = value;
        break;
    }
  }
  return std::nullopt;
}

bool is_recordable_task_run_event(const nlohmann::json& event) {
  if (!event.is_object()) return false;
  auto name = event.find("event");
  if (name == event.end() || !name->is_string() || name->get_ref<const std::string&>().rfind(task_run_prefix, 0) != 0)
    return false;
  auto resource = event.find("resource");
  if (resource == event.end() || !resource->is_object()) return false;
  auto orchestration = resource->find("prefect.orchestration");
  return orchestration != resource->end() && *orchestration == "client";
}

bool is_recordable_task_run_event(const event& e) {
  if (e.name.rfind(task_run_prefix, 0) != 0) return false;
  const auto orchestration = e.resource.find("prefect.orchestration");
  return orchestration != e.resource.end() && orchestration->second == "client";
}

namespace {

/// `object`'s member `key`, or null when there is none (or `object` is not an object); never copies.
const nlohmann::json& member(const nlohmann::json& object, const char* key) {
  static const nlohmann::json none;
  if (!object.is_object()) return none;
  const auto it = object.find(key);
  return it == object.end() ? none : *it;
}

/// What both forms of an event share once their ids are read, checked in the order the messages are given.
result<task_run_event> task_run_event_from_parts(const std::optional<uuid>& task_id,
                                                 const std::optional<uuid>& flow_run, const std::optional<uuid>& id,
                                                 const std::optional<timestamp>& occurred,
                                                 const nlohmann::json& payload) {
  auto bad = [](const std::string& why) { return status(errc::invalid_argument, "task-run event: " + why); };
  task_run_event out;
  if (!task_id) return bad("resource is not prefect.task-run.<uuid>");
  out.task_run_id = *task_id;
  out.flow_run_id = flow_run;
  if (!id) return bad("id is not a UUID");
  if (!occurred) return bad("occurred is not a datetime");
  const auto& validated = member(payload, "validated_state");
  if (!validated.is_object()) return bad("payload.validated_state is missing");
  const auto& type_text = member(validated, "type");
  auto type = type_text.is_string() ? parse_state_type(type_text.get_ref<const std::string&>()) : std::nullopt;
  if (!type) return bad("payload.validated_state.type is not a state type");
  out.state.id = state_id{*id};
  out.state.at = *occurred;
  out.state.type = *type;
  const auto& name = member(validated, "name");
  out.state.name = name.is_string() ? name.get<std::string>() : default_state_name(*type);
  if (const auto& message = member(validated, "message"); message.is_string())
    out.state.message = message.get<std::string>();
  const auto& details = member(validated, "state_details");
  out.state.details = details.is_object() ? details : nlohmann::json::object();
  out.state.details["task_run_id"] = out.task_run_id.to_string();
  out.state.details["flow_run_id"] = out.flow_run_id ? nlohmann::json(out.flow_run_id->to_string()) : nlohmann::json();
  out.state.data = member(validated, "data");
  static const nlohmann::json no_fields = nlohmann::json::object();
  const auto& fields = payload.is_object() && payload.contains("task_run") ? payload["task_run"] : no_fields;
  if (auto problem = normalize_task_run_columns(fields, false, out.columns))
    return bad("payload.task_run" + (problem->field.empty() ? "" : "." + problem->field) + ": " + problem->message);
  for (const char* required : {"name", "task_key", "dynamic_key"})
    if (!out.columns.contains(required) || !out.columns[required].is_string())
      return bad(std::string("payload.task_run.") + required + " is missing");
  return out;
}

/// The uuid after `prefix` in a resource's prefect.resource.id label.
std::optional<uuid> label_id(const resource_labels& labels, std::string_view prefix) {
  const auto it = labels.find(std::string(resource_id_label));
  if (it == labels.end() || it->second.rfind(prefix, 0) != 0) return std::nullopt;
  return uuid::parse(std::string_view(it->second).substr(prefix.size()));
}

}  // namespace

result<task_run_event> task_run_event_from_json(const nlohmann::json& event) {
  const auto task_id = object_id(member(event, "resource"), task_run_prefix);
  std::optional<uuid> flow_run;
  if (const auto& related = member(event, "related"); related.is_array())
    for (const auto& r : related)
      if (r.is_object() && r.value("prefect.resource.role", "") == "flow-run") flow_run = object_id(r, flow_run_prefix);
  const auto& id_text = member(event, "id");
  const auto id = id_text.is_string() ? uuid::parse(id_text.get_ref<const std::string&>()) : std::nullopt;
  const auto& occurred_text = member(event, "occurred");
  const auto occurred =
      occurred_text.is_string() ? parse_iso8601(occurred_text.get_ref<const std::string&>()) : std::nullopt;
  return task_run_event_from_parts(task_id, flow_run, id, occurred, member(event, "payload"));
}

result<task_run_event> task_run_event_from_event(const event& e) {
  std::optional<uuid> flow_run;
  for (const auto& r : e.related) {
    const auto role = r.find(std::string(resource_role_label));
    if (role != r.end() && role->second == "flow-run") flow_run = label_id(r, flow_run_prefix);
  }
  return task_run_event_from_parts(label_id(e.resource, task_run_prefix), flow_run, e.id, e.occurred, e.payload);
}

}  // namespace osprey

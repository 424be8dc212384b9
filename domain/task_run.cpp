#include "domain/task_run.hpp"

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

result<task_run_event> task_run_event_from_json(const nlohmann::json& event) {
  auto bad = [](const std::string& why) { return status(errc::invalid_argument, "task-run event: " + why); };
  task_run_event out;
  auto task_id = object_id(event.value("resource", nlohmann::json()), task_run_prefix);
  if (!task_id) return bad("resource is not prefect.task-run.<uuid>");
  out.task_run_id = *task_id;
  if (auto related = event.find("related"); related != event.end() && related->is_array())
    for (const auto& r : *related)
      if (r.is_object() && r.value("prefect.resource.role", "") == "flow-run")
        out.flow_run_id = object_id(r, flow_run_prefix);
  auto id =
      event.contains("id") && event["id"].is_string() ? uuid::parse(event["id"].get<std::string>()) : std::nullopt;
  if (!id) return bad("id is not a UUID");
  auto occurred = event.contains("occurred") && event["occurred"].is_string()
                      ? parse_iso8601(event["occurred"].get<std::string>())
                      : std::nullopt;
  if (!occurred) return bad("occurred is not a datetime");
  const auto& payload = event.value("payload", nlohmann::json::object());
  const auto validated = payload.value("validated_state", nlohmann::json());
  if (!validated.is_object()) return bad("payload.validated_state is missing");
  auto type = validated.contains("type") && validated["type"].is_string()
                  ? parse_state_type(validated["type"].get<std::string>())
                  : std::nullopt;
  if (!type) return bad("payload.validated_state.type is not a state type");
  out.state.id = state_id{*id};
  out.state.at = *occurred;
  out.state.type = *type;
  out.state.name = validated.value("name", nlohmann::json()).is_string() ? validated["name"].get<std::string>()
                                                                         : default_state_name(*type);
  if (validated.contains("message") && validated["message"].is_string())
    out.state.message = validated["message"].get<std::string>();
  out.state.details = validated.value("state_details", nlohmann::json::object());
  if (!out.state.details.is_object()) out.state.details = nlohmann::json::object();
  out.state.details["task_run_id"] = out.task_run_id.to_string();
  out.state.details["flow_run_id"] = out.flow_run_id ? nlohmann::json(out.flow_run_id->to_string()) : nlohmann::json();
  out.state.data = validated.value("data", nlohmann::json());
  if (auto problem =
          normalize_task_run_columns(payload.value("task_run", nlohmann::json::object()), false, out.columns))
    return bad("payload.task_run" + (problem->field.empty() ? "" : "." + problem->field) + ": " + problem->message);
  for (const char* required : {"name", "task_key", "dynamic_key"})
    if (!out.columns.contains(required) || !out.columns[required].is_string())
      return bad(std::string("payload.task_run.") + required + " is missing");
  return out;
}

}  // namespace osprey

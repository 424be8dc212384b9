#include "domain/lifecycle_events.hpp"

#include "domain/automation_lifecycle.hpp"

#include <algorithm>
#include <string>

namespace osprey {
namespace {

event lifecycle_event(std::string_view kind, lifecycle_action a, const std::string& id, const std::string& name,
                      nlohmann::json payload, timestamp occurred) {
  event e;
  e.id = new_uuid7(occurred);
  e.occurred = occurred;
  e.name = "prefect." + std::string(kind) + "." + std::string(lifecycle_action_name(a));
  e.resource = {{std::string(resource_id_label), "prefect." + std::string(kind) + "." + id},
                {"prefect.resource.name", name}};
  e.payload = std::move(payload);
  return e;
}

}  // namespace

std::string_view lifecycle_action_name(lifecycle_action a) noexcept {
  switch (a) {
    case lifecycle_action::created: return "created";
    case lifecycle_action::updated: return "updated";
    case lifecycle_action::deleted: return "deleted";
  }
  return "updated";
}

event variable_lifecycle_event(lifecycle_action a, const variable& v, timestamp occurred) {
  return lifecycle_event("variable", a, v.id.to_string(), v.name,
                         {{"name", v.name}, {"value", v.value}, {"tags", v.tags}}, occurred);
}

event global_limit_lifecycle_event(lifecycle_action a, const concurrency_limit& l, timestamp occurred) {
  return lifecycle_event(
      "concurrency-limit", a, l.id.to_string(), l.name,
      {{"name", l.name}, {"limit", l.limit}, {"active", l.active}, {"slot_decay_per_second", l.slot_decay_per_second}},
      occurred);
}

event flow_lifecycle_event(lifecycle_action a, const flow& f, timestamp occurred) {
  return lifecycle_event("flow", a, f.id.to_string(), f.name,
                         {{"name", f.name}, {"tags", f.tags}, {"labels", f.labels}}, occurred);
}

namespace {

nlohmann::json optional_text(const std::optional<std::string>& s) { return s ? nlohmann::json(*s) : nlohmann::json(); }

}  // namespace

event block_type_lifecycle_event(lifecycle_action a, const block_type& t, timestamp occurred) {
  return lifecycle_event("block-type", a, t.id.to_string(), t.name,
                         {{"name", t.name},
                          {"slug", t.slug},
                          {"logo_url", optional_text(t.logo_url)},
                          {"documentation_url", optional_text(t.documentation_url)},
                          {"description", optional_text(t.description)},
                          {"code_example", optional_text(t.code_example)},
                          {"is_protected", t.is_protected}},
                         occurred);
}

event block_document_lifecycle_event(lifecycle_action a, const block_document& d, const nlohmann::json& schema_fields,
                                     const std::vector<std::string>& capabilities, timestamp occurred) {
  std::vector<std::string> secret;
  if (schema_fields.is_object() && schema_fields.contains("secret_fields") && schema_fields["secret_fields"].is_array())
    for (const auto& k : schema_fields["secret_fields"])
      if (k.is_string()) secret.push_back(k.get<std::string>());
  nlohmann::json data = nlohmann::json::object();
  if (d.data.is_object())
    for (const auto& [key, value] : d.data.items())
      if (value.is_string() && std::find(secret.begin(), secret.end(), key) == secret.end()) data[key] = value;
  const std::string type_name = d.block_type_name.value_or("");
  auto e = lifecycle_event(
      "block-document", a, d.id.to_string(), d.name,
      {{"name", d.name},
       {"data", data},
       {"block_schema",
        {{"capabilities", capabilities}, {"block_type", {{"id", d.type.to_string()}, {"name", type_name}}}}}},
      occurred);
  resource_labels type{{std::string(resource_id_label), "prefect.block-type." + d.type.to_string()},
                       {"prefect.resource.role", "block-type"}};
  if (!type_name.empty()) type["prefect.resource.name"] = type_name;
  e.related = {type,
               {{std::string(resource_id_label), "prefect.block-schema." + d.schema.to_string()},
                {"prefect.resource.role", "block-schema"}}};
  return e;
}

event artifact_collection_lifecycle_event(lifecycle_action a, const artifact_collection& c, timestamp occurred) {
  auto e = lifecycle_event("artifact-collection", a, c.id.to_string(), c.key,
                           {{"key", c.key},
                            {"type", optional_text(c.fields.type)},
                            {"data", c.fields.data},
                            {"description", optional_text(c.fields.description)}},
                           occurred);
  e.related.push_back({{std::string(resource_id_label), "prefect.artifact." + c.latest_id.to_string()},
                       {"prefect.resource.role", "latest"}});
  if (c.fields.flow_run_id)
    e.related.push_back({{std::string(resource_id_label), "prefect.flow-run." + c.fields.flow_run_id->to_string()},
                         {"prefect.resource.role", "flow-run"}});
  if (c.fields.task_run_id)
    e.related.push_back({{std::string(resource_id_label), "prefect.task-run." + c.fields.task_run_id->to_string()},
                         {"prefect.resource.role", "task-run"}});
  return e;
}

event automation_lifecycle_event(lifecycle_action a, const automation& x, timestamp occurred) {
  return lifecycle_event("automation", a, x.id.to_string(), x.name, automation_json(x), occurred);
}

}  // namespace osprey

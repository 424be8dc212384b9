#include "domain/lifecycle_events.hpp"

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
  return lifecycle_event("concurrency-limit", a, l.id.to_string(), l.name,
                         {{"name", l.name},
                          {"limit", l.limit},
                          {"active", l.active},
                          {"slot_decay_per_second", l.slot_decay_per_second}},
                         occurred);
}

event flow_lifecycle_event(lifecycle_action a, const flow& f, timestamp occurred) {
  return lifecycle_event("flow", a, f.id.to_string(), f.name,
                         {{"name", f.name}, {"tags", f.tags}, {"labels", f.labels}}, occurred);
}

}  // namespace osprey

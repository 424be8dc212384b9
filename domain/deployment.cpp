// Deployment rules (see the header).
#include "domain/deployment.hpp"

#include <algorithm>
#include <map>

#include "domain/parameter_schema.hpp"

namespace osprey {

schedule_plan plan_schedule_update(const std::vector<deployment_schedule>& existing,
                                   const std::vector<schedule_change>& given) {
  schedule_plan plan;
  const bool given_slugged = std::all_of(given.begin(), given.end(), [](const auto& g) { return g.slug.has_value(); });
  const bool existing_slugged = !existing.empty() && std::all_of(existing.begin(), existing.end(),
                                                                 [](const auto& e) { return e.slug.has_value(); });
  if (existing_slugged && !given_slugged) {
    plan.refusal = "Please provide a slug for each schedule in your request to ensure schedules are updated correctly.";
    return plan;
  }
  if (!existing_slugged) {
    plan.replace_all = true;
    for (const auto& g : given) {
      if (!g.when) {
        plan.refusal = "Unable to create new deployment schedules without a schedule configuration.";
        return plan;
      }
      plan.create.push_back(g);
    }
    return plan;
  }
  std::map<std::string, deployment_schedule_id> by_slug;
  for (const auto& e : existing) by_slug.emplace(*e.slug, e.id);
  std::map<std::string, std::string> replaced;  // old slug -> new slug
  for (const auto& g : given) {
    if (!g.replaces) continue;
    if (!replaced.emplace(*g.replaces, *g.slug).second) {
      plan.refusal = "Multiple schedules have 'replaces' targeting the same slug: " + *g.replaces;
      return plan;
    }
  }
  for (const auto& g : given) {
    if (g.replaces && by_slug.count(*g.slug) && !replaced.count(*g.slug)) {
      plan.refusal = "Cannot rename schedule from '" + *g.replaces + "' to '" + *g.slug + "': a schedule with slug '" +
                     *g.slug + "' already exists.";
      return plan;
    }
    const auto& target = g.replaces ? *g.replaces : *g.slug;
    if (auto found = by_slug.find(target); found != by_slug.end()) {
      plan.patch.emplace_back(found->second, g);
    } else if (g.when) {
      plan.create.push_back(g);
    } else {
      plan.refusal = "Unable to create new deployment schedules without a schedule configuration.";
      return plan;
    }
  }
  return plan;
}

std::string scheduled_run_key(const deployment_id& d, const deployment_schedule_id& s, timestamp at) {
  return "scheduled " + d.to_string() + " " + s.to_string() + " " + format_iso8601(at);
}

flow_run scheduled_run(const deployment& d, const deployment_schedule& s, timestamp at, timestamp now) {
  flow_run r;
  r.created = r.updated = now;
  r.flow = d.flow;
  r.deployment_id = d.id.value;
  r.deployment_version = d.version;
  r.work_queue_name = d.work_queue_name;
  r.work_queue_id = d.work_queue_id;
  r.parameters = d.parameters.is_object() ? d.parameters : nlohmann::json::object();
  if (s.parameters.is_object())
    for (const auto& [k, v] : s.parameters.items()) r.parameters[k] = v;
  r.infrastructure_document_id = d.infrastructure_document_id;
  r.idempotency_key = scheduled_run_key(d.id, s.id, at);
  r.tags.push_back("auto-scheduled");
  for (const auto& t : d.tags)
    if (t != "auto-scheduled") r.tags.push_back(t);
  r.labels = d.labels.is_object() ? d.labels : nlohmann::json::object();
  r.labels["prefect.deployment.id"] = d.id.to_string();
  r.labels["prefect.flow.id"] = d.flow.to_string();
  r.auto_scheduled = true;
  r.job_variables = nlohmann::json::object();
  r.created_by = {{"id", s.id.to_string()},
                  {"display_value", s.slug ? *s.slug : std::string(schedule_kind(s.when))},
                  {"type", "SCHEDULE"}};
  return r;
}

result<flow_run> merge_deployment_run(const deployment& d, deployment_run_request r, const queue_finder& find_queue) {
  auto parameters = d.parameters.is_object() ? d.parameters : nlohmann::json::object();
  for (const auto& [k, v] : r.parameters.items()) parameters[k] = v;
  if (r.enforce.value_or(d.enforce_parameter_schema)) {
    if (!d.parameter_openapi_schema.is_object())
      return status(errc::conflict,
                    "Error updating deployment: Cannot update parameters because parameter schema enforcement is "
                    "enabled and the deployment does not have a valid parameter schema.");
    if (auto why = check_parameters(parameters, d.parameter_openapi_schema))
      return status(errc::conflict, "Error creating flow run: " + *why);
  }
  auto run = std::move(r.run);
  run.flow = d.flow;
  run.deployment_id = d.id.value;
  run.deployment_version = d.version;
  run.parameters = std::move(parameters);
  run.tags = d.tags;
  for (const auto& t : r.tags)
    if (std::find(run.tags.begin(), run.tags.end(), t) == run.tags.end()) run.tags.push_back(t);
  if (!run.infrastructure_document_id) run.infrastructure_document_id = d.infrastructure_document_id;
  run.work_queue_name = d.work_queue_name;
  run.work_queue_id = d.work_queue_id;
  if (r.work_queue_name) {
    if (!d.work_pool_name)
      return status(errc::invalid_argument,
                    "Cannot create flow run in work queue " + *r.work_queue_name + " because deployment " +
                        d.id.to_string() +
                        " is not associated with a work pool. Please remove work_pool_name and try again.");
    auto found = find_queue(*d.work_pool_name, *r.work_queue_name);
    if (!found)
      return status(errc::not_found,
                    "Work queue \"" + *r.work_queue_name + "\" not found in work pool \"" + *d.work_pool_name + "\".");
    run.work_queue_id = found->id;
    run.work_queue_name = found->name;
  }
  nlohmann::json labels = d.labels.is_object() ? d.labels : nlohmann::json::object();
  for (const auto& [k, v] : run.labels.items()) labels[k] = v;
  labels["prefect.flow.id"] = d.flow.to_string();
  labels["prefect.deployment.id"] = d.id.to_string();
  run.labels = std::move(labels);
  return run;
}

}  // namespace osprey

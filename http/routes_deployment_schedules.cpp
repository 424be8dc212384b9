// /api/deployments/{id}/schedules: list, create (201, slugs unique per deployment), update and delete one
// schedule (204). A changed or deleted schedule takes its auto-scheduled runs still Scheduled with it, as in
// Prefect; the scheduler then makes new ones.
#include <set>

#include "http/api_support.hpp"
#include "http/deployment_fields.hpp"
#include "http/routes_deployments.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/deployment_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
namespace fields = deployment_fields;
const std::string base = "/api/deployments/{id}/schedules";
constexpr const char* slug_conflict = "Schedule slugs must be unique within a deployment.";

/// The deployment's schedules, or not_found.
result<std::vector<deployment_schedule>> schedules_or_404(persistence::sql_connection& c, const deployment_id& d) {
  auto found = persistence::find_deployment(c, d);
  if (!found) return status(errc::not_found, "Deployment not found.");
  return found->schedules;
}

void register_list(router& routes, const api_context& ctx) {
  routes.add("GET", base, "A deployment's schedules", [ctx](request& req, responder respond) {
    auto id = path_uuid(req, "id", respond);
    if (!id) return;
    persistence::read_value(
        ctx.db, [d = deployment_id{*id}](persistence::sql_connection& c) { return schedules_or_404(c, d); },
        [respond](const result<std::vector<deployment_schedule>>& found) {
          if (!found) return respond(error_response(found.error()));
          json out = json::array();
          for (const auto& s : *found) out.push_back(fields::schedule_json(s));
          respond(response::json(200, out.dump()));
        });
  });
}

void register_create(router& routes, const api_context& ctx) {
  routes.add("POST", base, "Add schedules to a deployment (201)", [ctx](request& req, responder respond) {
    auto id = path_uuid(req, "id", respond);
    if (!id) return;
    response error;
    auto body = parse_json_body(req, error);
    if (!body) return respond(std::move(error));
    if (!body->is_array()) return respond(validation_error("", "Input should be a valid list", "list_type"));
    const auto now = ctx.time->now();
    std::vector<schedule_change> changes;
    for (std::size_t i = 0; i < body->size(); ++i) {
      schedule_change c;
      if (!fields::read_schedule((*body)[i], std::to_string(i), true, now, c, error)) return respond(std::move(error));
      changes.push_back(std::move(c));
    }
    persistence::write_value(
        ctx.db,
        [d = deployment_id{*id}, changes,
         now](persistence::sql_connection& c) -> result<std::vector<deployment_schedule>> {
          auto existing = schedules_or_404(c, d);
          if (!existing) return existing.error();
          std::set<std::string> slugs;
          for (const auto& s : *existing)
            if (s.slug) slugs.insert(*s.slug);
          for (const auto& change : changes)
            if (change.slug && !slugs.insert(*change.slug).second) return status(errc::conflict, slug_conflict);
          std::vector<deployment_schedule> created;
          for (const auto& change : changes) {
            created.push_back(fields::new_schedule(d, change, now));
            persistence::insert_schedule(c, created.back());
          }
          return created;
        },
        [ctx, respond](const result<std::vector<deployment_schedule>>& created) {
          if (!created) return respond(error_response(created.error()));
          wake_scheduler(ctx);
          json out = json::array();
          for (const auto& s : *created) out.push_back(fields::schedule_json(s));
          respond(response::json(201, out.dump()));
        });
  });
}

/// Runs `edit` on the schedule (404 for an unknown deployment or schedule), then drops the deployment's
/// auto-scheduled runs still Scheduled (only future ones when `future_only`).
template <class Edit>
void edit_schedule(const api_context& ctx, request& req, responder respond, bool future_only, Edit edit) {
  auto id = path_uuid(req, "id", respond);
  if (!id) return;
  auto sid = path_uuid(req, "schedule_id", respond);
  if (!sid) return;
  persistence::write_value(
      ctx.db,
      [d = deployment_id{*id}, s = deployment_schedule_id{*sid}, future_only, edit,
       now = ctx.time->now()](persistence::sql_connection& c) -> status {
        auto existing = schedules_or_404(c, d);
        if (!existing) return existing.error();
        auto found = std::find_if(existing->begin(), existing->end(), [&](const auto& x) { return x.id == s; });
        if (found == existing->end()) return status(errc::not_found, "Schedule not found.");
        if (auto refused = edit(c, *found, *existing, now); !refused) return refused;
        persistence::delete_scheduled_runs(c, d, true, future_only, now);
        return status::ok();
      },
      [ctx, respond](const status& s) {
        if (!s) return respond(error_response(s));
        wake_scheduler(ctx);
        respond(response::no_content());
      });
}

void register_update_delete(router& routes, const api_context& ctx) {
  routes.add("PATCH", base + "/{schedule_id}", "Update a deployment schedule (204)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               schedule_change change;
               if (!fields::read_schedule(*body, "", false, ctx.time->now(), change, error))
                 return respond(std::move(error));
               edit_schedule(ctx, req, std::move(respond), true,
                             [change](persistence::sql_connection& c, deployment_schedule s,
                                      const std::vector<deployment_schedule>& all, timestamp now) -> status {
                               if (change.slug && *change.slug != s.slug.value_or(""))
                                 for (const auto& other : all)
                                   if (other.slug == change.slug) return status(errc::conflict, slug_conflict);
                               fields::apply_schedule_change(s, change, now);
                               persistence::update_schedule(c, s);
                               return status::ok();
                             });
             });
  routes.add("DELETE", base + "/{schedule_id}", "Delete a deployment schedule (204)",
             [ctx](request& req, responder respond) {
               edit_schedule(ctx, req, std::move(respond), false,
                             [](persistence::sql_connection& c, const deployment_schedule& s,
                                const std::vector<deployment_schedule>&, timestamp) -> status {
                               persistence::delete_schedule(c, s.deployment, s.id);
                               return status::ok();
                             });
             });
}

}  // namespace

void register_deployment_schedule_routes(router& routes, const api_context& ctx) {
  register_list(routes, ctx);
  register_create(routes, ctx);
  register_update_delete(routes, ctx);
}

}  // namespace osprey::http

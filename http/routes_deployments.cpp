// /api/deployments: create (an upsert on flow + name, as Prefect), read by id and by names, update, delete,
// filter, count, paginate. Schedules written here follow domain/deployment.hpp's replacement rules; every write
// that changes what should be scheduled wakes the scheduler (actors/scheduler.hpp).
#include <set>

#include "domain/filters.hpp"
#include "domain/parameter_schema.hpp"
#include "http/api_support.hpp"
#include "http/deployment_fields.hpp"
#include "http/object_fields.hpp"
#include "http/routes.hpp"
#include "http/routes_deployments.hpp"
#include "persistence/concurrency_store.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/deployment_slots.hpp"
#include "persistence/deployment_store.hpp"
#include "persistence/filter_sql.hpp"
#include "persistence/flow_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
namespace fields = deployment_fields;
using persistence::refusal;

const std::string base = "/api/deployments";

/// A filter/count/paginate body parsed with `parse` (absent or null: every default); on a refusal answers 422
/// as the other filter routes do and returns nullopt.
template <class Parse>
auto parse_query_body(const request& req, const responder& respond, Parse parse)
    -> decltype(parse(json(), std::declval<filters::filter_error&>())) {
  response error;
  json body = json::object();
  if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    auto parsed = parse_json_body(req, error);
    auto object =
        parsed && !parsed->is_null() ? object_body(std::move(*parsed), error) : std::optional<json>(json::object());
    if (!parsed || !object) {
      respond(std::move(error));
      return std::nullopt;
    }
    body = std::move(*object);
  }
  filters::filter_error refused;
  auto q = parse(body, refused);
  if (q) return q;
  if (refused.plain_detail) {
    respond(response::detail(422, refused.message));
    return std::nullopt;
  }
  std::string loc = "";
  for (const auto& part : refused.location) loc += (loc.empty() ? "" : ".") + part;
  respond(validation_error(loc, refused.message, refused.type));
  return std::nullopt;
}

/// Duplicate slugs among `given` (and `taken`): Prefect's unique index answers them with this 409.
bool duplicate_slugs(const std::vector<schedule_change>& given, std::set<std::string> taken = {}) {
  for (const auto& g : given)
    if (g.slug && !taken.insert(*g.slug).second) return true;
  return false;
}

/// Resolves the work pool (and queue) a body names onto `d`; throws a refusal when unknown.
void resolve_work_pool(persistence::sql_connection& c, const fields::body_extras& extras, deployment& d) {
  if (!extras.work_pool_given) return;
  if (!extras.work_pool_name) {
    d.work_queue_id.reset();  // explicitly no pool: runs are no longer routed to one (switching to serve)
    return;
  }
  auto found = persistence::find_work_queue(c, *extras.work_pool_name, d.work_queue_name);
  if (!found.pool_found) throw refusal(errc::not_found, "Work pool \"" + *extras.work_pool_name + "\" not found.");
  if (!found.queue)
    throw refusal(errc::not_found, "Work queue \"" + d.work_queue_name.value_or("default") +
                                       "\" not found in work pool \"" + *extras.work_pool_name + "\".");
  d.work_queue_id = found.queue->id;
  d.work_queue_name = found.queue->name;
}

void check_global_limit(persistence::sql_connection& c, const deployment& d) {
  if (d.concurrency_limit_id && !persistence::find_limit(c, concurrency_limit_id{*d.concurrency_limit_id}))
    throw refusal(errc::not_found, "Concurrency limit not found");
}

void write_schedules(persistence::sql_connection& c, const deployment_id& id, const std::vector<schedule_change>& all,
                     timestamp now) {
  for (const auto& change : all) persistence::insert_schedule(c, fields::new_schedule(id, change, now));
}

struct upserted {
  deployment stored;
  bool created = false;
};

void register_create(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/", "Create or update (same flow and name) a deployment",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               const auto now = ctx.time->now();
               deployment probe;
               fields::body_extras given;
               if (!fields::apply_body(*body, true, now, probe, given, error)) return respond(std::move(error));
               if (given.schedules && duplicate_slugs(*given.schedules))
                 return respond(response::detail(409, "Schedule slugs must be unique within a deployment."));
               if (probe.enforce_parameter_schema && probe.parameter_openapi_schema.is_object())
                 if (auto why = check_parameters(probe.parameters, probe.parameter_openapi_schema, true))
                   return respond(validation_error("parameters", "Value error, " + *why));
               persistence::write_value(
                   ctx.db,
                   [body = *body, now](persistence::sql_connection& c) -> result<upserted> {
                     deployment d;
                     fields::body_extras extras;
                     response ignored;
                     fields::apply_body(body, true, now, d, extras, ignored);  // checked above: cannot fail
                     if (!persistence::find_flow(c, d.flow))
                       return status(errc::not_found, "Flow with id " + d.flow.to_string() + " not found");
                     upserted out;
                     auto existing = persistence::find_deployment_by_name(c, d.flow, d.name);
                     if (existing) {
                       d = *existing;
                       fields::apply_body(body, true, now, d, extras, ignored);
                     } else {
                       d.id = deployment_id{new_uuid4()};
                       d.created = now;
                     }
                     d.updated = now;
                     resolve_work_pool(c, extras, d);
                     check_global_limit(c, d);
                     if (extras.concurrency_limit_given)
                       persistence::sync_deployment_limit(c, d, d.concurrency_limit, now);
                     if (existing)
                       persistence::update_deployment(c, d);
                     else
                       persistence::insert_deployment(c, d);
                     persistence::delete_scheduled_runs(c, d.id, true, true, now);
                     persistence::delete_schedules(c, d.id);
                     write_schedules(c, d.id, extras.schedules.value_or(std::vector<schedule_change>{}), now);
                     out.created = !existing;
                     out.stored = *persistence::find_deployment(c, d.id);
                     return out;
                   },
                   [ctx, respond](result<upserted> out) {
                     if (!out) return respond(error_response(out.error()));
                     wake_scheduler(ctx);
                     respond(response::json(out->created ? 201 : 200, fields::deployment_json(out->stored).dump()));
                   });
             });
}

void register_reads(router& routes, const api_context& ctx) {
  routes.add("GET", base + "/{id}", "Read a deployment", [ctx](request& req, responder respond) {
    auto id = path_uuid(req, "id", respond);
    if (!id) return;
    persistence::read_value(
        ctx.db,
        [d = deployment_id{*id}](persistence::sql_connection& c) {
          return persistence::or_not_found(persistence::find_deployment(c, d), "Deployment not found");
        },
        [respond](const result<deployment>& d) {
          respond(d ? response::json(200, fields::deployment_json(*d).dump()) : error_response(d.error()));
        });
  });
  routes.add("GET", base + "/name/{flow_name}/{deployment_name}", "Read a deployment by flow and deployment name",
             [ctx](request& req, responder respond) {
               persistence::read_value(
                   ctx.db,
                   [flow = req.path_params["flow_name"],
                    name = req.path_params["deployment_name"]](persistence::sql_connection& c) {
                     return persistence::or_not_found(persistence::find_deployment_by_names(c, flow, name),
                                                      "Deployment not found");
                   },
                   [respond](const result<deployment>& d) {
                     respond(d ? response::json(200, fields::deployment_json(*d).dump()) : error_response(d.error()));
                   });
             });
}

void apply_schedule_plan(persistence::sql_connection& c, const deployment& d, const schedule_plan& plan,
                         timestamp now) {
  if (plan.replace_all) persistence::delete_schedules(c, d.id);
  for (const auto& [sid, change] : plan.patch)
    for (auto s : d.schedules)
      if (s.id == sid) {
        fields::apply_schedule_change(s, change, now);
        persistence::update_schedule(c, s);
      }
  write_schedules(c, d.id, plan.create, now);
}

void register_update(router& routes, const api_context& ctx) {
  routes.add("PATCH", base + "/{id}", "Update a deployment (204)", [ctx](request& req, responder respond) {
    auto id = path_uuid(req, "id", respond);
    if (!id) return;
    response error;
    auto body = parse_object_body(req, error);
    if (!body) return respond(std::move(error));
    const auto now = ctx.time->now();
    deployment probe;
    fields::body_extras given;
    if (!fields::apply_body(*body, false, now, probe, given, error)) return respond(std::move(error));
    if (given.schedules && duplicate_slugs(*given.schedules))
      return respond(response::detail(409, "Schedule slugs must be unique within a deployment."));
    persistence::write_value(
        ctx.db,
        [body = *body, now, d_id = deployment_id{*id}](persistence::sql_connection& c) -> status {
          auto found = persistence::find_deployment(c, d_id);
          if (!found) return status(errc::not_found, "Deployment not found.");
          auto d = *found;
          fields::body_extras extras;
          response ignored;
          fields::apply_body(body, false, now, d, extras, ignored);
          schedule_plan plan;
          if (extras.schedules) {
            plan = plan_schedule_update(found->schedules, *extras.schedules);
            if (plan.refusal) return status(errc::invalid_argument, *plan.refusal);
          }
          if (d.enforce_parameter_schema) {
            if (!d.parameter_openapi_schema.is_object())
              return status(errc::conflict,
                            "Error updating deployment: Cannot update parameters because parameter schema enforcement "
                            "is enabled and the deployment does not have a valid parameter schema.");
            if (auto why = check_parameters(d.parameters, d.parameter_openapi_schema, true))
              return status(errc::conflict, "Error updating deployment: " + *why);
          }
          resolve_work_pool(c, extras, d);
          check_global_limit(c, d);
          if (extras.concurrency_limit_given) persistence::sync_deployment_limit(c, d, d.concurrency_limit, now);
          d.updated = now;
          persistence::update_deployment(c, d);
          persistence::delete_scheduled_runs(c, d.id, true, true, now);
          if (extras.schedules) apply_schedule_plan(c, *found, plan, now);
          return status::ok();
        },
        [ctx, respond](const status& s) {
          if (!s) return respond(error_response(s));
          wake_scheduler(ctx);
          respond(response::no_content());
        });
  });
}

/// Deletes the deployment with its Scheduled runs that never ran and its concurrency limit; false when absent.
bool delete_with_runs(persistence::sql_connection& c, const deployment_id& d, timestamp now) {
  persistence::delete_scheduled_runs(c, d, false, false, now);
  persistence::drop_deployment_limit(c, d);
  return persistence::delete_deployment(c, d);
}

void register_delete(router& routes, const api_context& ctx) {
  routes.add("DELETE", base + "/{id}", "Delete a deployment and its scheduled runs (204)",
             [ctx](request& req, responder respond) {
               auto id = path_uuid(req, "id", respond);
               if (!id) return;
               persistence::write_value(
                   ctx.db,
                   [d = deployment_id{*id}, now = ctx.time->now()](persistence::sql_connection& c) -> status {
                     if (!delete_with_runs(c, d, now)) throw refusal(errc::not_found, "Deployment not found");
                     return status::ok();
                   },
                   [respond](const status& s) { respond(s ? response::no_content() : error_response(s)); });
             });

  routes.add(
      "POST", base + "/bulk_delete", "Delete up to 50 deployments matching a filter ({deleted: [ids]})",
      [ctx](request& req, responder respond) {
        response error;
        auto body = object_fields::optional_body(req, error);
        if (!body) return respond(std::move(error));
        filters::filter_set set;
        std::int64_t limit = 0;
        if (!object_fields::read_bulk_selection(*body, "deployments", filters::parse_deployment_filter, set.deployments,
                                                limit, error))
          return respond(std::move(error));
        persistence::write_value(
            ctx.db,
            [set, limit, now = ctx.time->now()](persistence::sql_connection& c) {
              auto where = persistence::deployment_where(c.dialect(), set);
              json deleted = json::array();
              for (const auto& d : persistence::select_deployments(
                       c, where.sql, where.params, persistence::order_by(filters::deployment_sort::name_asc), limit, 0))
                if (delete_with_runs(c, d.id, now)) deleted.push_back(d.id.to_string());
              return deleted;
            },
            [ctx, respond](const result<json>& deleted) {
              if (!deleted) return respond(error_response(deleted.error()));
              wake_scheduler(ctx);
              respond(response::json(200, json{{"deleted", *deleted}}.dump()));
            });
      });
}

void register_queries(router& routes, const api_context& ctx) {
  for (auto kind : {filters::body_kind::filter, filters::body_kind::count, filters::body_kind::paginate}) {
    const char* suffix = kind == filters::body_kind::filter  ? "/filter"
                         : kind == filters::body_kind::count ? "/count"
                                                             : "/paginate";
    routes.add("POST", base + suffix, "Query deployments", [ctx, kind](request& req, responder respond) {
      auto q = parse_query_body(req, respond, [kind](const json& body, filters::filter_error& e) {
        return filters::parse_deployment_query(body, kind, e);
      });
      if (!q) return;
      persistence::read_value(
          ctx.db,
          [q = *q, kind](persistence::sql_connection& c) {
            auto where = persistence::deployment_where(c.dialect(), q.filters);
            json out;
            const auto count =
                kind == filters::body_kind::filter ? 0 : persistence::count_deployments(c, where.sql, where.params);
            if (kind == filters::body_kind::count) return json(count);
            json rows = json::array();
            for (const auto& d : persistence::select_deployments(
                     c, where.sql, where.params, persistence::order_by(q.sort), q.window.limit, q.window.offset))
              rows.push_back(fields::deployment_json(d));
            if (kind == filters::body_kind::filter) return rows;
            return json{{"results", rows},
                        {"count", count},
                        {"limit", q.window.limit},
                        {"pages", q.window.pages(count)},
                        {"page", q.window.page}};
          },
          [respond](const result<json>& out) {
            respond(out ? response::json(200, out->dump()) : error_response(out.error()));
          });
    });
  }
}

}  // namespace

void wake_scheduler(const api_context& ctx) {
  if (ctx.scheduler) caf::anon_send(ctx.scheduler, actors::sweep_atom_v);
}

void register_deployment_routes(router& routes, const api_context& ctx) {
  register_create(routes, ctx);
  register_reads(routes, ctx);
  register_update(routes, ctx);
  register_delete(routes, ctx);
  register_queries(routes, ctx);
  register_deployment_run_routes(routes, ctx);
  register_deployment_schedule_routes(routes, ctx);
}

}  // namespace osprey::http

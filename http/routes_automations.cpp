// /api/automations: create, read, replace, enable/disable and delete, filter and count, and the lookups by a
// related or owning resource (Prefect 3.9.1's server/api/automations.py). Bodies are checked before anything
// is looked up (FastAPI answers 422 before 404); domain/automation.hpp decides what a body means, and each
// route runs its own read or write job. Nothing evaluates the triggers yet.
#include <nlohmann/json.hpp>

#include "actors/event_bus.hpp"
#include "domain/automation.hpp"
#include "domain/automation_lifecycle.hpp"
#include "domain/object_filters.hpp"
#include "http/api_support.hpp"
#include "http/object_fields.hpp"
#include "http/routes.hpp"
#include "persistence/automation_store.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/object_filter_sql.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
namespace fields = object_fields;

const std::string base = "/api/automations";
constexpr const char* not_found_detail = "Automation not found";

// After the commit, as Prefect: a crash in between loses the event, never the change.
void announce(const actors::event_bus_actor& bus, lifecycle_action a, const automation& x, timestamp occurred) {
  actors::publish_events(bus, {automation_lifecycle_event(a, x, occurred)});
}

/// Prefect answers a missing automation from its ObjectNotFoundError handler: {"exception_message": ...}; the
/// "detail" beside it is Osprey's usual error key.
response failure(const status& s) {
  if (s.code() != errc::not_found) return error_response(s);
  return response::json(404, json{{"detail", not_found_detail}, {"exception_message", not_found_detail}}.dump());
}

json list_json(const std::vector<automation>& found) {
  json out = json::array();
  for (const auto& a : found) out.push_back(automation_json(a));
  return out;
}

/// Reads a create or update body; answers the refusal and returns nullopt.
std::optional<automation_body> read_body(request& req, automation_body_kind kind, const responder& respond) {
  response error;
  auto body = parse_object_body(req, error);
  if (!body) return respond(std::move(error)), std::nullopt;
  automation_problem problem;
  auto read = read_automation_body(
      *body, kind, [] { return new_uuid4(); }, problem);
  if (!read) return respond(fields::filter_refusal(problem)), std::nullopt;
  if (kind == automation_body_kind::create && declared_in_config_file(read->fields)) {
    problem = {{"tags"},
               std::string("the tag ") + config_file_tag + " is kept for automations of the config file",
               "value_error",
               false};
    return respond(fields::filter_refusal(problem)), std::nullopt;
  }
  return read;
}

/// The automation to change or delete: not_found, or failed_precondition for one of the config file.
result<automation> editable(persistence::sql_connection& c, const automation_id& id) {
  auto a = persistence::or_not_found(persistence::find_automation(c, id), not_found_detail);
  if (a && declared_in_config_file(*a))
    return status(errc::failed_precondition, "Automation '" + a->name +
                                                 "' is declared in Osprey's config file (notifications.automations): "
                                                 "change it there and reload (SIGHUP) or restart");
  return a;
}

void register_create(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/", "Create an automation (201)", [ctx](request& req, responder respond) {
    auto body = read_body(req, automation_body_kind::create, respond);
    if (!body) return;
    automation a = body->fields;
    a.id = automation_id{new_uuid4()};
    a.created = a.updated = ctx.time->now();
    persistence::write_value(
        ctx.db,
        [a, owner = body->owner_resource](persistence::sql_connection& c) {
          persistence::insert_automation(c, a);
          persistence::sync_automation_deployments(c, a.id, automation_related_deployments(a), a.created);
          if (owner && !owner->empty()) persistence::relate_automation(c, a.id, *owner, true, a.created);
        },
        [a, respond, bus = ctx.event_bus](const status& s) {
          if (!s) return respond(error_response(s));
          announce(bus, lifecycle_action::created, a, a.created);
          respond(response::json(201, automation_json(a).dump()));
        });
  });
}

void register_read(router& routes, const api_context& ctx) {
  routes.add("GET", base + "/{id}", "Read an automation", [ctx](request& req, responder respond) {
    auto id = fields::path_id(req, "id", respond);
    if (!id) return;
    persistence::read_value(
        ctx.db,
        [id = automation_id{*id}](persistence::sql_connection& c) {
          return persistence::or_not_found(persistence::find_automation(c, id), not_found_detail);
        },
        [respond](const result<automation>& a) {
          respond(a ? response::json(200, automation_json(*a).dump()) : failure(a.error()));
        });
  });
}

void register_replace(router& routes, const api_context& ctx) {
  routes.add("PUT", base + "/{id}", "Replace an automation (204)", [ctx](request& req, responder respond) {
    auto id = fields::path_id(req, "id", respond);
    if (!id) return;
    auto body = read_body(req, automation_body_kind::update, respond);
    if (!body) return;
    persistence::write_value(
        ctx.db,
        [id = automation_id{*id}, body = *body,
         clock = ctx.time](persistence::sql_connection& c) -> result<automation> {
          auto a = editable(c, id);
          if (!a) return a.error();
          if (body.has_tags && declared_in_config_file(body.fields))
            return status(errc::invalid_argument,
                          std::string("the tag ") + config_file_tag + " is kept for automations of the config file");
          // Only what the body set changes (Prefect writes the update with exclude_unset).
          const auto& f = body.fields;
          a->name = f.name;
          a->trigger = f.trigger;
          a->actions = f.actions;
          if (body.has_description) a->description = f.description;
          if (body.has_enabled) a->enabled = f.enabled;
          if (body.has_tags) a->tags = f.tags;
          if (body.has_actions_on_trigger) a->actions_on_trigger = f.actions_on_trigger;
          if (body.has_actions_on_resolve) a->actions_on_resolve = f.actions_on_resolve;
          a->updated = clock->now();
          persistence::update_automation(c, *a);
          persistence::sync_automation_deployments(c, a->id, automation_related_deployments(*a), a->updated);
          return a;
        },
        [respond, bus = ctx.event_bus](const result<automation>& a) {
          if (!a) return respond(failure(a.error()));
          announce(bus, lifecycle_action::updated, *a, a->updated);
          respond(response::no_content());
        });
  });
}

void register_patch(router& routes, const api_context& ctx) {
  routes.add("PATCH", base + "/{id}", "Enable or disable an automation (204)", [ctx](request& req, responder respond) {
    auto id = fields::path_id(req, "id", respond);
    if (!id) return;
    response error;
    auto body = parse_object_body(req, error);
    if (!body) return respond(std::move(error));
    automation_problem problem;
    auto enabled = read_automation_enabled_body(*body, problem);
    if (!enabled) return respond(fields::filter_refusal(problem));
    persistence::write_value(
        ctx.db,
        [id = automation_id{*id}, on = *enabled,
         clock = ctx.time](persistence::sql_connection& c) -> result<automation> {
          auto a = editable(c, id);
          if (!a) return a.error();
          a->enabled = on;
          // Prefect validates the automation as it would become: enabling one may make it a run-deployment loop.
          if (auto loop = check_run_deployment_loops(*a)) return status(errc::invalid_argument, loop->message);
          a->updated = clock->now();
          persistence::update_automation(c, *a);
          return a;
        },
        [respond, bus = ctx.event_bus](const result<automation>& a) {
          if (!a && a.error().code() == errc::invalid_argument) {
            automation_problem loop{{}, a.error().message(), "value_error", false};
            return respond(fields::filter_refusal(loop));
          }
          if (!a) return respond(failure(a.error()));
          announce(bus, lifecycle_action::updated, *a, a->updated);
          respond(response::no_content());
        });
  });
}

void register_delete(router& routes, const api_context& ctx) {
  routes.add("DELETE", base + "/{id}", "Delete an automation (204)", [ctx](request& req, responder respond) {
    auto id = fields::path_id(req, "id", respond);
    if (!id) return;
    persistence::write_value(
        ctx.db,
        [id = automation_id{*id}](persistence::sql_connection& c) -> result<automation> {
          auto a = editable(c, id);
          if (!a) return a.error();
          persistence::delete_automation(c, id);
          return a;
        },
        [respond, bus = ctx.event_bus, clock = ctx.time](const result<automation>& a) {
          if (!a) return respond(failure(a.error()));
          announce(bus, lifecycle_action::deleted, *a, clock->now());
          respond(response::no_content());
        });
  });
}

void register_filter(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/filter", "List automations (filter, sort, limit, offset)",
             [ctx](request& req, responder respond) {
               auto q = fields::parsed_query(req, respond, [](const json& body, filters::filter_error& e) {
                 return filters::parse_automation_query(body, filters::body_kind::filter, e);
               });
               if (!q) return;
               persistence::read_value(
                   ctx.db,
                   [q = *q](persistence::sql_connection& c) {
                     return persistence::select_automations(
                         c, persistence::automation_where(c.dialect(), q.automations), persistence::order_by(q.sort),
                         q.window.limit, q.window.offset);
                   },
                   [respond](const result<std::vector<automation>>& found) {
                     respond(found ? response::json(200, list_json(*found).dump()) : error_response(found.error()));
                   });
             });
  routes.add("POST", base + "/count", "Count automations", [ctx](request& req, responder respond) {
    auto q = fields::parsed_query(req, respond, [](const json& body, filters::filter_error& e) {
      return filters::parse_automation_query(body, filters::body_kind::count, e);
    });
    if (!q) return;
    persistence::read_value(
        ctx.db,
        [q = *q](persistence::sql_connection& c) {
          return persistence::count_automations(c, persistence::automation_where(c.dialect(), q.automations));
        },
        [respond](const result<std::int64_t>& n) {
          respond(n ? response::json(200, std::to_string(*n)) : error_response(n.error()));
        });
  });
}

void register_resource_routes(router& routes, const api_context& ctx) {
  routes.add("GET", base + "/related-to/{resource_id}", "Automations related to a resource",
             [ctx](request& req, responder respond) {
               persistence::read_value(
                   ctx.db,
                   [resource = req.path_params["resource_id"]](persistence::sql_connection& c) {
                     return persistence::automations_related_to(c, resource, false);
                   },
                   [respond](const result<std::vector<automation>>& found) {
                     respond(found ? response::json(200, list_json(*found).dump()) : error_response(found.error()));
                   });
             });
  routes.add("DELETE", base + "/owned-by/{resource_id}", "Delete the automations a resource owns (202)",
             [ctx](request& req, responder respond) {
               // Prefect deletes those created up to now only, and announces no deleted events for them.
               persistence::write_value(
                   ctx.db,
                   [resource = req.path_params["resource_id"], now = ctx.time->now()](persistence::sql_connection& c) {
                     for (const auto& a : persistence::automations_related_to(c, resource, true, now))
                       persistence::delete_automation(c, a.id);
                   },
                   [respond](const status& s) { respond(s ? response::json(202, "null") : error_response(s)); });
             });
}

}  // namespace

void register_automation_routes(router& routes, const api_context& ctx) {
  register_create(routes, ctx);
  register_read(routes, ctx);
  register_replace(routes, ctx);
  register_patch(routes, ctx);
  register_delete(routes, ctx);
  register_filter(routes, ctx);
  register_resource_routes(routes, ctx);
}

}  // namespace osprey::http

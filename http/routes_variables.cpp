// /api/variables: create, read, update and delete by id or by name, filter and count (Prefect 3.9.1's
// server/api/variables.py). Bodies are checked before anything is looked up (FastAPI answers 422 before 404);
// nothing decides beyond the checks of domain/variable.hpp, so each route runs its own read or write job.
#include <nlohmann/json.hpp>

#include "actors/event_bus.hpp"
#include "domain/lifecycle_events.hpp"
#include "domain/object_filters.hpp"
#include "http/api_support.hpp"
#include "http/concurrency_fields.hpp"
#include "http/object_fields.hpp"
#include "http/routes.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/object_filter_sql.hpp"
#include "persistence/variable_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
namespace fields = object_fields;

const std::string base = "/api/variables";
constexpr const char* not_found_detail = "Variable not found.";

/// A VariableUpdate body: only what it names changes. Prefect writes an explicit null name or tags into NOT NULL
/// columns and answers the integrity error; `clears_required` keeps that outcome without touching the row.
struct variable_change {
  std::optional<std::string> name;
  std::optional<json> value;
  std::optional<std::vector<std::string>> tags;
  bool clears_required = false;
};

/// Reads a VariableCreate body onto `v`; the first refusal fills `error`.
bool read_create(const json& body, variable& v, response& error) {
  using fields::refuse;
  body_reader in(body);
  std::optional<std::string> name;
  bool has_value = false;
  if (!in.optional_string("name", name)) return refuse(error, in.error());
  if (!name && body.contains("name"))
    return refuse(error, validation_error("name", "Input should be a valid string", "string_type"));
  if (!name) return refuse(error, validation_error("name", "Field required", "missing"));
  if (auto problem = check_variable_name(*name)) return refuse(error, fields::field_refusal(*problem));
  if (!in.any("value", v.value, &has_value)) return refuse(error, in.error());
  if (!has_value) return refuse(error, validation_error("value", "Field required", "missing"));
  if (auto problem = check_variable_value(v.value)) return refuse(error, fields::field_refusal(*problem));
  if (!in.string_list("tags", v.tags) || !in.finish()) return refuse(error, in.error());
  v.name = std::move(*name);
  return true;
}

/// Reads a VariableUpdate body; the first refusal fills `error`.
bool read_change(const json& body, variable_change& change, response& error) {
  using fields::refuse;
  body_reader in(body);
  change.clears_required =
      (body.contains("name") && body["name"].is_null()) || (body.contains("tags") && body["tags"].is_null());
  json value;
  bool has_value = false;
  std::vector<std::string> tags;
  if (!in.optional_string("name", change.name)) return refuse(error, in.error());
  if (change.name)
    if (auto problem = check_variable_name(*change.name)) return refuse(error, fields::field_refusal(*problem));
  if (!in.any("value", value, &has_value)) return refuse(error, in.error());
  if (has_value) {
    if (auto problem = check_variable_value(value)) return refuse(error, fields::field_refusal(*problem));
    change.value = std::move(value);
  }
  if (!in.string_list("tags", tags) || !in.finish()) return refuse(error, in.error());
  if (body.contains("tags") && !body["tags"].is_null()) change.tags = std::move(tags);
  return true;
}

// After the commit, as Prefect: a crash in between loses the event, never the change.
void announce(const actors::event_bus_actor& bus, lifecycle_action a, const variable& v, timestamp occurred) {
  actors::publish_events(bus, {variable_lifecycle_event(a, v, occurred)});
}

/// The variable named by the route: by id, or by name under /name/{name}.

result<variable> find(persistence::sql_connection& c, const std::optional<variable_id>& id, const std::string& name) {
  auto found = id ? persistence::find_variable(c, *id) : persistence::find_variable_by_name(c, name);
  return persistence::or_not_found(std::move(found), not_found_detail);
}

void read(const api_context& ctx, std::optional<variable_id> id, std::string name, responder respond) {
  persistence::read_value(
      ctx.db, [id, name](persistence::sql_connection& c) { return find(c, id, name); },
      [respond](const result<variable>& v) {
        respond(v ? response::json(200, fields::variable_json(*v).dump()) : error_response(v.error()));
      });
}

void update(const api_context& ctx, std::optional<variable_id> id, std::string name, request& req, responder respond) {
  response error;
  auto body = parse_object_body(req, error);
  if (!body) return respond(std::move(error));
  variable_change change;
  if (!read_change(*body, change, error)) return respond(std::move(error));
  persistence::write_value(
      ctx.db,
      [id, name, change, clock = ctx.time](persistence::sql_connection& c) -> result<variable> {
        auto v = find(c, id, name);
        if (!v) return v.error();
        if (change.clears_required) return status(errc::conflict, "null name or tags");
        if (change.name) v->name = *change.name;
        if (change.value) v->value = *change.value;
        if (change.tags) v->tags = *change.tags;
        v->updated = clock->now();
        persistence::update_variable(c, *v);
        return v;
      },
      [respond, bus = ctx.event_bus](const result<variable>& v) {
        if (!v && v.error().code() == errc::conflict) return respond(concurrency_fields::integrity_conflict());
        if (!v) return respond(error_response(v.error()));
        announce(bus, lifecycle_action::updated, *v, v->updated);
        respond(response::no_content());
      });
}

void remove(const api_context& ctx, std::optional<variable_id> id, std::string name, responder respond) {
  persistence::write_value(
      ctx.db,
      [id, name](persistence::sql_connection& c) -> result<variable> {
        auto v = find(c, id, name);
        if (!v) return v.error();
        persistence::delete_variable(c, v->id);
        return v;
      },
      [respond, bus = ctx.event_bus, clock = ctx.time](const result<variable>& v) {
        if (!v) return respond(error_response(v.error()));
        announce(bus, lifecycle_action::deleted, *v, clock->now());
        respond(response::no_content());
      });
}

void register_create(router& routes, const api_context& ctx) {
  routes.add(
      "POST", base + "/", "Create a variable (201; 409 when the name is taken)",
      [ctx](request& req, responder respond) {
        response error;
        auto body = parse_object_body(req, error);
        if (!body) return respond(std::move(error));
        variable v;
        v.id = variable_id{new_uuid4()};
        v.created = v.updated = ctx.time->now();
        if (!read_create(*body, v, error)) return respond(std::move(error));
        persistence::write_value(
            ctx.db, [v](persistence::sql_connection& c) { persistence::insert_variable(c, v); },
            [v, respond, bus = ctx.event_bus](const status& s) {
              if (s.code() == errc::conflict)
                return respond(response::detail(409, "A variable with the name '" + v.name + "' already exists."));
              if (!s) return respond(error_response(s));
              announce(bus, lifecycle_action::created, v, v.updated);
              respond(response::json(201, fields::variable_json(v).dump()));
            });
      });
}

void register_by_id(router& routes, const api_context& ctx) {
  routes.add("GET", base + "/{id}", "Read a variable", [ctx](request& req, responder respond) {
    if (auto id = fields::path_id(req, "id", respond)) read(ctx, variable_id{*id}, "", std::move(respond));
  });
  routes.add("PATCH", base + "/{id}", "Update a variable (204)", [ctx](request& req, responder respond) {
    if (auto id = fields::path_id(req, "id", respond)) update(ctx, variable_id{*id}, "", req, std::move(respond));
  });
  routes.add("DELETE", base + "/{id}", "Delete a variable (204)", [ctx](request& req, responder respond) {
    if (auto id = fields::path_id(req, "id", respond)) remove(ctx, variable_id{*id}, "", std::move(respond));
  });
}

void register_by_name(router& routes, const api_context& ctx) {
  const auto path = base + "/name/{name}";
  routes.add("GET", path, "Read a variable by name", [ctx](request& req, responder respond) {
    read(ctx, std::nullopt, req.path_params["name"], std::move(respond));
  });
  routes.add("PATCH", path, "Update a variable by name (204)", [ctx](request& req, responder respond) {
    update(ctx, std::nullopt, req.path_params["name"], req, std::move(respond));
  });
  routes.add("DELETE", path, "Delete a variable by name (204)", [ctx](request& req, responder respond) {
    remove(ctx, std::nullopt, req.path_params["name"], std::move(respond));
  });
}

void register_filter(router& routes, const api_context& ctx) {
  routes.add(
      "POST", base + "/filter", "List variables (filter, sort, limit, offset)", [ctx](request& req, responder respond) {
        auto q = fields::parsed_query(req, respond, [](const json& body, filters::filter_error& e) {
          return filters::parse_variable_query(body, filters::body_kind::filter, e);
        });
        if (!q) return;
        persistence::read_value(
            ctx.db,
            [q = *q](persistence::sql_connection& c) {
              return persistence::select_variables(c, persistence::variable_where(c.dialect(), q.variables),
                                                   persistence::order_by(q.sort), q.window.limit, q.window.offset);
            },
            [respond](const result<std::vector<variable>>& found) {
              if (!found) return respond(error_response(found.error()));
              json out = json::array();
              for (const auto& v : *found) out.push_back(fields::variable_json(v));
              respond(response::json(200, out.dump()));
            });
      });
  routes.add("POST", base + "/count", "Count variables", [ctx](request& req, responder respond) {
    auto q = fields::parsed_query(req, respond, [](const json& body, filters::filter_error& e) {
      return filters::parse_variable_query(body, filters::body_kind::count, e);
    });
    if (!q) return;
    persistence::read_value(
        ctx.db,
        [q = *q](persistence::sql_connection& c) {
          return persistence::count_variables(c, persistence::variable_where(c.dialect(), q.variables));
        },
        [respond](const result<std::int64_t>& n) {
          respond(n ? response::json(200, std::to_string(*n)) : error_response(n.error()));
        });
  });
}

}  // namespace

void register_variable_routes(router& routes, const api_context& ctx) {
  register_create(routes, ctx);
  register_by_id(routes, ctx);
  register_by_name(routes, ctx);
  register_filter(routes, ctx);
}

}  // namespace osprey::http

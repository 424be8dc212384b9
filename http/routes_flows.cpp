// /api/flows: create (idempotent by name), read by id, read by name, update tags, delete (one, or up to 50 by
// filter). Creations, updates and deletions are announced as Prefect's lifecycle events
// (prefect.flow.created|updated|deleted) once committed.
#include <nlohmann/json.hpp>

#include "actors/event_bus.hpp"
#include "actors/flow_runs.hpp"
#include "domain/lifecycle_events.hpp"
#include "domain/uuid.hpp"
#include "http/api_support.hpp"
#include "http/object_fields.hpp"
#include "http/routes.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/deployment_slots.hpp"
#include "persistence/deployment_store.hpp"
#include "persistence/filter_sql.hpp"
#include "persistence/flow_store.hpp"

namespace osprey::http {
namespace {

// Validates a FlowCreate body: {name: str, tags?: [str], labels?: {str: scalar}}; unknown keys are refused
// as Prefect's request models do (extra="forbid").
std::optional<flow> parse_flow_create(const nlohmann::json& body, response& error) {
  flow f;
  for (const auto& [key, value] : body.items()) {
    if (key == "name") {
      if (!value.is_string()) {
        error = validation_error("name", "Input should be a valid string", "string_type");
        return std::nullopt;
      }
      f.name = value.get<std::string>();
    } else if (key == "tags") {
      if (value.is_null()) continue;
      if (!value.is_array()) {
        error = validation_error("tags", "Input should be a valid list", "list_type");
        return std::nullopt;
      }
      for (const auto& t : value) {
        if (!t.is_string()) {
          error = validation_error("tags", "Tags must be strings", "string_type");
          return std::nullopt;
        }
        f.tags.push_back(t.get<std::string>());
      }
    } else if (key == "labels") {
      if (value.is_null()) continue;
      if (!value.is_object()) {
        error = validation_error("labels", "Input should be a valid dictionary", "dict_type");
        return std::nullopt;
      }
      for (const auto& [lk, lv] : value.items()) {
        if (!lv.is_primitive() || lv.is_null()) {
          error = validation_error("labels", "Label '" + lk + "' must be a string, number or boolean");
          return std::nullopt;
        }
      }
      f.labels = value;
    } else {
      error = validation_error(key, "Extra inputs are not permitted", "extra_forbidden");
      return std::nullopt;
    }
  }
  if (!body.contains("name")) {
    error = validation_error("name", "Field required", "missing");
    return std::nullopt;
  }
  if (auto s = validate_object_name(f.name); !s) {
    error = validation_error("name", s.message());
    return std::nullopt;
  }
  return f;
}

/// 200 with the flow, or the error (404 "Flow not found").
void answer_flow(const responder& respond, const result<flow>& found) {
  respond(found ? response::json(200, to_json(*found).dump()) : error_response(found.error()));
}

void register_create(router& routes, const api_context& ctx) {
  routes.add("POST", "/api/flows/", "Create a flow, or return the existing flow of that name (201 new, 200 existing)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               auto candidate = parse_flow_create(*body, error);
               if (!candidate) return respond(std::move(error));
               candidate->id = flow_id{new_uuid4()};
               candidate->created = candidate->updated = ctx.time->now();
               persistence::write_value(
                   ctx.db,
                   [candidate = std::move(*candidate)](persistence::sql_connection& c) {
                     return persistence::upsert_flow(c, candidate);
                   },
                   [respond, bus = ctx.event_bus](result<persistence::flow_upsert> out) {
                     if (!out) return respond(error_response(out.error()));
                     if (out->created)
                       actors::publish_events(
                           bus, {flow_lifecycle_event(lifecycle_action::created, out->stored, out->stored.created)});
                     respond(response::json(out->created ? 201 : 200, to_json(out->stored).dump()));
                   });
             });
}

void register_read(router& routes, const api_context& ctx) {
  routes.add("GET", "/api/flows/{id}", "Read a flow by id", [ctx](request& req, responder respond) {
    auto id = path_uuid(req, "id", respond);
    if (!id) return;
    persistence::read_value(
        ctx.db,
        [fid = flow_id{*id}](persistence::sql_connection& c) {
          return persistence::or_not_found(persistence::find_flow(c, fid), "Flow not found");
        },
        [respond](const result<flow>& found) { answer_flow(respond, found); });
  });
}

void register_read_by_name(router& routes, const api_context& ctx) {
  routes.add("GET", "/api/flows/name/{name}", "Read a flow by name", [ctx](request& req, responder respond) {
    persistence::read_value(
        ctx.db,
        [name = req.path_params["name"]](persistence::sql_connection& c) {
          return persistence::or_not_found(persistence::find_flow_by_name(c, name), "Flow not found");
        },
        [respond](const result<flow>& found) { answer_flow(respond, found); });
  });
}

void register_update(router& routes, const api_context& ctx) {
  routes.add("PATCH", "/api/flows/{id}", "Update a flow's tags (204)", [ctx](request& req, responder respond) {
    auto id = path_uuid(req, "id", respond);
    if (!id) return;
    response error;
    auto body = parse_object_body(req, error);
    if (!body) return respond(std::move(error));
    // FlowUpdate: {tags?: [str]}, extra keys refused; absent tags change nothing, null tags are not a list.
    if (body->contains("tags") && (*body)["tags"].is_null())
      return respond(validation_error("tags", "Input should be a valid list", "list_type"));
    body_reader in(*body);
    std::vector<std::string> given;
    if (!in.string_list("tags", given) || !in.finish()) return respond(in.error());
    std::optional<std::vector<std::string>> tags;
    if (body->contains("tags")) tags = std::move(given);
    persistence::write_value(
        ctx.db,
        [fid = flow_id{*id}, tags = std::move(tags),
         now = ctx.time->now()](persistence::sql_connection& c) -> result<flow> {
          auto f = persistence::find_flow(c, fid);
          if (!f) return status(errc::not_found, "Flow not found");
          if (tags) f->tags = *tags;
          f->updated = now;
          persistence::update_flow_tags(c, *f);
          return std::move(*f);
        },
        [respond, bus = ctx.event_bus](const result<flow>& f) {
          if (!f) return respond(error_response(f.error()));
          actors::publish_events(bus, {flow_lifecycle_event(lifecycle_action::updated, *f, f->updated)});
          respond(response::no_content());
        });
  });
}

using deleted_flows_callback = std::function<void(const result<std::vector<flow>>&)>;

// Deletes the flows that exist among `ids` with everything of theirs, as Prefect does: their runs (with task
// runs, states and logs) go first, each through its actor so that no warm actor keeps a run that is gone; then
// their deployments (with the deployments' concurrency limits) and the flows, in one transaction. A run created
// for one of them between the two steps goes with the flow (foreign keys cascade); it had no actor yet.
void delete_flows(const api_context& ctx, std::vector<flow_id> ids, deleted_flows_callback done) {
  struct doomed {
    std::vector<flow> flows;
    std::vector<flow_run_id> runs;
  };
  persistence::read_value(
      ctx.db,
      [ids = std::move(ids)](persistence::sql_connection& c) {
        doomed d;
        for (const auto& id : ids) {
          auto f = persistence::find_flow(c, id);
          if (!f) continue;
          auto runs = persistence::flow_run_ids_of_flow(c, id);
          d.runs.insert(d.runs.end(), runs.begin(), runs.end());
          d.flows.push_back(std::move(*f));
        }
        return d;
      },
      [ctx, done = std::move(done)](result<doomed> d) {
        if (!d) return done(d.error());
        if (d->flows.empty()) return done(std::vector<flow>{});
        actors::remove_flow_runs(ctx.flow_runs, std::move(d->runs),
                                 [ctx, flows = std::move(d->flows), done](const actors::removal_outcome& removed) {
                                   if (!removed.error) return done(removed.error);
                                   persistence::write_value(
                                       ctx.db,
                                       [flows](persistence::sql_connection& c) {
                                         std::vector<flow> deleted;
                                         for (const auto& f : flows) {
                                           for (const auto& dep : persistence::deployment_ids_of_flow(c, f.id)) {
                                             persistence::drop_deployment_limit(c, dep);
                                             persistence::delete_deployment(c, dep);
                                           }
                                           if (persistence::delete_flow(c, f.id)) deleted.push_back(f);
                                         }
                                         return deleted;
                                       },
                                       [ctx, done](result<std::vector<flow>> deleted) {
                                         if (deleted) {
                                           std::vector<event> events;
                                           const auto now = ctx.time->now();
                                           for (const auto& f : *deleted)
                                             events.push_back(flow_lifecycle_event(lifecycle_action::deleted, f, now));
                                           actors::publish_events(ctx.event_bus, std::move(events));
                                         }
                                         done(deleted);
                                       });
                                 });
      });
}

void register_delete(router& routes, const api_context& ctx) {
  routes.add("DELETE", "/api/flows/{id}", "Delete a flow with its deployments and runs (204)",
             [ctx](request& req, responder respond) {
               auto id = path_uuid(req, "id", respond);
               if (!id) return;
               delete_flows(ctx, {flow_id{*id}}, [respond](const result<std::vector<flow>>& deleted) {
                 if (!deleted) return respond(error_response(deleted.error()));
                 respond(deleted->empty() ? error_response(status(errc::not_found, "Flow not found"))
                                          : response::no_content());
               });
             });
}

void register_bulk_delete(router& routes, const api_context& ctx) {
  routes.add(
      "POST", "/api/flows/bulk_delete", "Delete up to 50 flows matching a filter ({deleted: [ids]})",
      [ctx](request& req, responder respond) {
        response error;
        auto body = object_fields::optional_body(req, error);
        if (!body) return respond(std::move(error));
        filters::filter_set set;
        std::int64_t limit = 0;
        if (!object_fields::read_bulk_selection(*body, "flows", filters::parse_flow_filter, set.flows, limit, error))
          return respond(std::move(error));
        persistence::read_value(
            ctx.db,
            [set, limit](persistence::sql_connection& c) {
              auto where = persistence::flow_where(c.dialect(), set);
              std::vector<flow_id> ids;
              for (const auto& f : persistence::select_flows(
                       c, where.sql, where.params, persistence::order_by(filters::flow_sort::name_asc), limit, 0))
                ids.push_back(f.id);
              return ids;
            },
            [ctx, respond](result<std::vector<flow_id>> ids) {
              if (!ids) return respond(error_response(ids.error()));
              delete_flows(ctx, std::move(*ids), [respond](const result<std::vector<flow>>& deleted) {
                if (!deleted) return respond(error_response(deleted.error()));
                nlohmann::json out = nlohmann::json::array();
                for (const auto& f : *deleted) out.push_back(f.id.to_string());
                respond(response::json(200, nlohmann::json{{"deleted", out}}.dump()));
              });
            });
      });
}

}  // namespace

void register_flow_routes(router& routes, const api_context& ctx) {
  register_create(routes, ctx);
  register_read(routes, ctx);
  register_read_by_name(routes, ctx);
  register_update(routes, ctx);
  register_delete(routes, ctx);
  register_bulk_delete(routes, ctx);
}

}  // namespace osprey::http

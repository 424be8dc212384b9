// /api/artifacts: create, read, update and delete one artifact; the latest artifact of a key; filter and count
// over artifacts and over the latest of each key (Prefect 3.9.1's server/api/artifacts.py). The store keeps
// each key's collection row in step inside the same write job (persistence/artifact_store.hpp).
#include <nlohmann/json.hpp>

#include "actors/event_bus.hpp"
#include "domain/lifecycle_events.hpp"
#include "domain/object_filters.hpp"
#include "http/api_support.hpp"
#include "http/object_fields.hpp"
#include "http/routes.hpp"
#include "persistence/artifact_store.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/object_filter_sql.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
namespace fields = object_fields;

const std::string base = "/api/artifacts";
constexpr const char* not_found_detail = "Artifact not found.";

/// Reads an ArtifactCreate body onto `a`; the first refusal fills `error`.
bool read_create(const json& body, artifact& a, response& error) {
  using fields::refuse;
  body_reader in(body);
  auto& f = a.fields;
  if (!in.optional_string("key", a.key)) return refuse(error, in.error());
  if (a.key)
    if (auto problem = check_artifact_key(*a.key)) return refuse(error, fields::field_refusal(*problem));
  if (!in.optional_string("type", f.type) || !in.optional_string("description", f.description) ||
      !in.any("data", f.data) || !in.any("metadata_", f.metadata))
    return refuse(error, in.error());
  if (auto problem = normalise_artifact_metadata(f.metadata))
    return refuse(error, fields::field_refusal(*problem, 1));  // loc ["body", "metadata_", <key>]
  if (!in.optional_uuid("flow_run_id", f.flow_run_id) || !in.optional_uuid("task_run_id", f.task_run_id) ||
      !in.finish())
    return refuse(error, in.error());
  return true;
}

/// Reads an ArtifactUpdate body: the fields it names, explicit nulls included.
bool read_update(const json& body, persistence::artifact_update& change, response& error) {
  using fields::refuse;
  body_reader in(body);
  json data, metadata;
  bool has_data = false, has_metadata = false;
  std::optional<std::string> description;
  if (!in.any("data", data, &has_data) || !in.optional_string("description", description) ||
      !in.any("metadata_", metadata, &has_metadata) || !in.finish())
    return refuse(error, in.error());
  if (auto problem = normalise_artifact_metadata(metadata)) return refuse(error, fields::field_refusal(*problem, 1));
  if (has_data) change.data = std::move(data);
  if (body.contains("description")) change.description = std::move(description);
  if (has_metadata) change.metadata = std::move(metadata);
  return true;
}

void register_create(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/", "Create an artifact (201); a keyed one becomes its key's latest",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               artifact a;
               a.id = artifact_id{new_uuid4()};
               a.created = a.updated = ctx.time->now();
               if (!read_create(*body, a, error)) return respond(std::move(error));
               persistence::write_value(
                   ctx.db,
                   [a, collection = new_uuid4()](persistence::sql_connection& c) -> std::optional<event> {
                     const bool existed = a.key && persistence::find_latest_artifact(c, *a.key);
                     persistence::insert_artifact(c, a, collection);
                     if (!a.key) return std::nullopt;
                     auto latest = persistence::find_latest_artifact(c, *a.key);
                     if (!latest) return std::nullopt;
                     return artifact_collection_lifecycle_event(
                         existed ? lifecycle_action::updated : lifecycle_action::created, *latest, a.created);
                   },
                   [a, respond, bus = ctx.event_bus](const result<std::optional<event>>& announced) {
                     if (!announced) return respond(error_response(announced.error()));
                     if (*announced) actors::publish_events(bus, {**announced});
                     respond(response::json(201, fields::artifact_json(a).dump()));
                   });
             });
}

void register_read(router& routes, const api_context& ctx) {
  routes.add("GET", base + "/{id}", "Read an artifact", [ctx](request& req, responder respond) {
    auto id = fields::path_id(req, "id", respond);
    if (!id) return;
    persistence::read_value(
        ctx.db,
        [id = artifact_id{*id}](persistence::sql_connection& c) {
          return persistence::or_not_found(persistence::find_artifact(c, id), not_found_detail);
        },
        [respond](const result<artifact>& a) {
          respond(a ? response::json(200, fields::artifact_json(*a).dump()) : error_response(a.error()));
        });
  });
  routes.add("GET", base + "/{key}/latest", "Read the latest artifact of a key",
             [ctx](request& req, responder respond) {
               persistence::read_value(
                   ctx.db,
                   [key = req.path_params["key"]](persistence::sql_connection& c) {
                     return persistence::or_not_found(persistence::find_latest_artifact(c, key), not_found_detail);
                   },
                   [respond](const result<artifact_collection>& latest) {
                     respond(latest ? response::json(200, fields::latest_json(*latest).dump())
                                    : error_response(latest.error()));
                   });
             });
}

void register_update(router& routes, const api_context& ctx) {
  routes.add("PATCH", base + "/{id}", "Update an artifact's data, description or metadata (204)",
             [ctx](request& req, responder respond) {
               auto id = fields::path_id(req, "id", respond);
               if (!id) return;
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               persistence::artifact_update change;
               if (!read_update(*body, change, error)) return respond(std::move(error));
               persistence::write_value(
                   ctx.db,
                   [id = artifact_id{*id}, change, clock = ctx.time](persistence::sql_connection& c) -> status {
                     if (!persistence::update_artifact(c, id, change, clock->now()))
                       return status(errc::not_found, not_found_detail);
                     return status::ok();
                   },
                   [respond](const status& s) { respond(s ? response::no_content() : error_response(s)); });
             });
}

void register_delete(router& routes, const api_context& ctx) {
  routes.add(
      "DELETE", base + "/{id}", "Delete an artifact (204); its key's latest moves to the next newest",
      [ctx](request& req, responder respond) {
        auto id = fields::path_id(req, "id", respond);
        if (!id) return;
        persistence::write_value(
            ctx.db,
            [id = artifact_id{*id}, clock = ctx.time](persistence::sql_connection& c) -> result<std::optional<event>> {
              // The key's collection changes only when its latest artifact goes: the next newest
              // becomes the latest (updated), or there is none left (deleted).
              auto found = persistence::find_artifact(c, id);
              auto before = found && found->key ? persistence::find_latest_artifact(c, *found->key) : std::nullopt;
              if (!persistence::delete_artifact(c, id)) return status(errc::not_found, not_found_detail);
              if (!before || before->latest_id != id) return std::optional<event>{};
              auto after = persistence::find_latest_artifact(c, *found->key);
              return std::optional<event>{
                  after ? artifact_collection_lifecycle_event(lifecycle_action::updated, *after, clock->now())
                        : artifact_collection_lifecycle_event(lifecycle_action::deleted, *before, clock->now())};
            },
            [respond, bus = ctx.event_bus](const result<std::optional<event>>& announced) {
              if (!announced) return respond(error_response(announced.error()));
              if (*announced) actors::publish_events(bus, {**announced});
              respond(response::no_content());
            });
      });
}

/// POST …/filter and …/count over artifacts (`latest` false) or over each key's latest (true).
void register_queries(router& routes, const api_context& ctx, bool latest) {
  const auto prefix = base + (latest ? "/latest" : "");
  auto parse = [latest](filters::body_kind kind) {
    return [latest, kind](const json& body, filters::filter_error& e) {
      return filters::parse_artifact_query(body, kind, latest, e);
    };
  };
  routes.add(
      "POST", prefix + "/filter", latest ? "List the latest artifact of each key" : "List artifacts",
      [ctx, latest, parse](request& req, responder respond) {
        auto q = fields::parsed_query(req, respond, parse(filters::body_kind::filter));
        if (!q) return;
        persistence::read_value(
            ctx.db,
            [q = *q, latest](persistence::sql_connection& c) {
              const auto where = persistence::artifact_where(c.dialect(), q, latest);
              const auto order = persistence::order_by(q.sort);
              json out = json::array();
              if (latest) {
                for (const auto& a :
                     persistence::select_artifact_collections(c, where, order, q.window.limit, q.window.offset))
                  out.push_back(fields::collection_json(a));
              } else {
                for (const auto& a : persistence::select_artifacts(c, where, order, q.window.limit, q.window.offset))
                  out.push_back(fields::artifact_json(a));
              }
              return out.dump();
            },
            [respond](const result<std::string>& out) {
              respond(out ? response::json(200, *out) : error_response(out.error()));
            });
      });
  routes.add("POST", prefix + "/count", latest ? "Count keys with artifacts" : "Count artifacts",
             [ctx, latest, parse](request& req, responder respond) {
               auto q = fields::parsed_query(req, respond, parse(filters::body_kind::count));
               if (!q) return;
               persistence::read_value(
                   ctx.db,
                   [q = *q, latest](persistence::sql_connection& c) {
                     const auto where = persistence::artifact_where(c.dialect(), q, latest);
                     return latest ? persistence::count_artifact_collections(c, where)
                                   : persistence::count_artifacts(c, where);
                   },
                   [respond](const result<std::int64_t>& n) {
                     respond(n ? response::json(200, std::to_string(*n)) : error_response(n.error()));
                   });
             });
}

}  // namespace

void register_artifact_routes(router& routes, const api_context& ctx) {
  register_create(routes, ctx);
  register_read(routes, ctx);
  register_update(routes, ctx);
  register_delete(routes, ctx);
  register_queries(routes, ctx, false);
  register_queries(routes, ctx, true);
}

}  // namespace osprey::http

// /api/block_types: create, read (by id, by slug), filter, update, delete (protected types refused), the
// documents of a type (all, or one by name), and installing the system block types.
#include <nlohmann/json.hpp>

#include "actors/event_bus.hpp"
#include "domain/lifecycle_events.hpp"
#include "http/api_support.hpp"
#include "http/block_fields.hpp"
#include "http/routes.hpp"
#include "persistence/block_store.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/system_blocks.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
namespace fields = block_fields;

const std::string base = "/api/block_types";

/// Reads the optional text fields of BlockTypeCreate/BlockTypeUpdate present in `body` onto `t`; an explicit
/// null clears the field.
bool read_metadata(const json& body, block_type& t, response& error) {
  for (auto [key, target] : {std::pair{"logo_url", &t.logo_url}, std::pair{"documentation_url", &t.documentation_url},
                             std::pair{"description", &t.description}, std::pair{"code_example", &t.code_example}}) {
    auto it = body.find(key);
    if (it == body.end()) continue;
    if (it->is_null()) {
      target->reset();
    } else if (it->is_string()) {
      *target = it->get<std::string>();
    } else {
      error = validation_error(key, "Input should be a valid string", "string_type");
      return false;
    }
  }
  return true;
}

bool refuse_extra(const json& body, std::initializer_list<const char*> known, response& error) {
  for (const auto& item : body.items()) {  // not a structured binding: Clang before 16 cannot capture one
    const std::string& key = item.key();
    if (std::find_if(known.begin(), known.end(), [&](const char* k) { return key == k; }) != known.end()) continue;
    error = validation_error(key, "Extra inputs are not permitted", "extra_forbidden");
    return false;
  }
  return true;
}

/// Parses a BlockTypeCreate body.
std::optional<block_type> parse_create(const json& body, response& error) {
  block_type t;
  if (!refuse_extra(body, {"name", "slug", "logo_url", "documentation_url", "description", "code_example"}, error))
    return std::nullopt;
  for (auto [key, target] : {std::pair{"name", &t.name}, std::pair{"slug", &t.slug}}) {
    auto it = body.find(key);
    if (it == body.end()) {
      error = validation_error(key, "Field required", "missing");
      return std::nullopt;
    }
    if (!it->is_string()) {
      error = validation_error(key, "Input should be a valid string", "string_type");
      return std::nullopt;
    }
    *target = it->get<std::string>();
  }
  if (!read_metadata(body, t, error)) return std::nullopt;
  auto problem = check_name("name", t.name);
  if (!problem) problem = check_block_type_slug(t.slug);
  if (problem) {
    error = validation_error(problem->field, problem->message, problem->type);
    return std::nullopt;
  }
  // Prefect escapes these on insert (not on update).
  if (t.description) t.description = html_escape(*t.description);
  if (t.code_example) t.code_example = html_escape(*t.code_example);
  return t;
}

void answer_type(const result<block_type>& t, const responder& respond) {
  respond(t ? response::json(200, fields::type_json(*t).dump()) : error_response(t.error()));
}

void register_create(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/", "Create a block type (201; names beginning with Prefect are reserved)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               auto t = parse_create(*body, error);
               if (!t) return respond(std::move(error));
               if (is_reserved_block_type_name(t->name))
                 return respond(response::detail(403, "Block type names beginning with 'Prefect' are reserved."));
               t->id = block_type_id{new_uuid4()};
               t->created = t->updated = ctx.time->now();
               persistence::write_value(
                   ctx.db, [t = *t](persistence::sql_connection& c) { persistence::insert_block_type(c, t); },
                   [t = *t, respond, bus = ctx.event_bus](const status& s) {
                     if (s.code() == errc::conflict)
                       return respond(response::detail(409, "Block type with name \"" + t.name + "\" already exists"));
                     if (s)
                       actors::publish_events(bus,
                                              {block_type_lifecycle_event(lifecycle_action::created, t, t.created)});
                     respond(s ? response::json(201, fields::type_json(t).dump()) : error_response(s));
                   });
             });
}

void register_read(router& routes, const api_context& ctx) {
  routes.add("GET", base + "/{id}", "Read a block type by id", [ctx](request& req, responder respond) {
    auto id = path_uuid(req, "id", respond);
    if (!id) return;
    persistence::read_value(
        ctx.db,
        [id = block_type_id{*id}](persistence::sql_connection& c) {
          return persistence::or_not_found(persistence::find_block_type(c, id), "Block type not found");
        },
        [respond](const result<block_type>& t) { answer_type(t, respond); });
  });
  routes.add("GET", base + "/slug/{slug}", "Read a block type by slug", [ctx](request& req, responder respond) {
    persistence::read_value(
        ctx.db,
        [slug = req.path_params["slug"]](persistence::sql_connection& c) {
          return persistence::or_not_found(persistence::find_block_type_by_slug(c, slug), "Block type not found");
        },
        [respond](const result<block_type>& t) { answer_type(t, respond); });
  });
}

void register_filter(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/filter", "Block types by name (block_types, block_schemas filters; limit, offset)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_json_body(req, error);
               if (!body) return respond(std::move(error));
               if (body->is_null()) *body = json::object();
               if (!(body = object_body(std::move(*body), error))) return respond(std::move(error));
               std::optional<persistence::block_type_filter> types;
               std::optional<persistence::block_schema_filter> schemas;
               std::int64_t limit = 200, offset = 0;
               // Other top-level keys are ignored, as FastAPI does for a body read as several parameters.
               if (!fields::type_filter(*body, "block_types", types, error) ||
                   !fields::schema_filter(*body, "block_schemas", schemas, error) ||
                   !fields::limit_offset(*body, limit, offset, error))
                 return respond(std::move(error));
               persistence::read_value(
                   ctx.db,
                   [types = types.value_or(persistence::block_type_filter{}), schemas, limit,
                    offset](persistence::sql_connection& c) {
                     return persistence::list_block_types(c, types, schemas, limit, offset);
                   },
                   [respond](const result<std::vector<block_type>>& found) {
                     if (!found) return respond(error_response(found.error()));
                     json out = json::array();
                     for (const auto& t : *found) out.push_back(fields::type_json(t));
                     respond(response::json(200, out.dump()));
                   });
             });
}

void register_update(router& routes, const api_context& ctx) {
  routes.add("PATCH", base + "/{id}", "Update a block type's logo, documentation, description or example (204)",
             [ctx](request& req, responder respond) {
               auto id = path_uuid(req, "id", respond);
               if (!id) return;
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               block_type probe;
               if (!refuse_extra(*body, {"logo_url", "documentation_url", "description", "code_example"}, error) ||
                   !read_metadata(*body, probe, error))
                 return respond(std::move(error));
               persistence::write_value(
                   ctx.db,
                   [id = block_type_id{*id}, body = *body,
                    clock = ctx.time](persistence::sql_connection& c) -> result<std::optional<block_type>> {
                     auto t = persistence::find_block_type(c, id);
                     if (!t) return status(errc::not_found, "Block type not found");
                     block_type changed = *t;
                     response ignored;
                     read_metadata(body, changed, ignored);
                     // Only a real change is written (Prefect's _should_update_block_type).
                     if (changed.logo_url == t->logo_url && changed.documentation_url == t->documentation_url &&
                         changed.description == t->description && changed.code_example == t->code_example)
                       return std::optional<block_type>{};
                     changed.updated = clock->now();
                     persistence::update_block_type(c, changed);
                     return std::optional<block_type>{changed};
                   },
                   [respond, bus = ctx.event_bus](const result<std::optional<block_type>>& changed) {
                     if (!changed) return respond(error_response(changed.error()));
                     if (*changed)
                       actors::publish_events(bus, {block_type_lifecycle_event(lifecycle_action::updated, **changed,
                                                                               (*changed)->updated)});
                     respond(response::no_content());
                   });
             });
}

void register_delete(router& routes, const api_context& ctx) {
  routes.add("DELETE", base + "/{id}", "Delete a block type with its schemas and documents (204; 403 when protected)",
             [ctx](request& req, responder respond) {
               auto id = path_uuid(req, "id", respond);
               if (!id) return;
               persistence::write_value(
                   ctx.db,
                   [id = block_type_id{*id}](persistence::sql_connection& c) -> result<block_type> {
                     auto t = persistence::find_block_type(c, id);
                     if (!t) return status(errc::not_found, "Block type not found");
                     if (t->is_protected)
                       return status(errc::failed_precondition, "protected block types cannot be deleted.");
                     persistence::delete_block_type(c, id);
                     return std::move(*t);
                   },
                   [respond, bus = ctx.event_bus, clock = ctx.time](const result<block_type>& t) {
                     if (!t && t.error().code() == errc::failed_precondition)
                       return respond(response::detail(403, t.error().message()));
                     if (!t) return respond(error_response(t.error()));
                     actors::publish_events(bus,
                                            {block_type_lifecycle_event(lifecycle_action::deleted, *t, clock->now())});
                     respond(response::no_content());
                   });
             });
}

void answer_documents(const result<std::vector<persistence::full_block_document>>& found, const responder& respond) {
  if (!found) return respond(fields::refused(found.error()));
  json out = json::array();
  for (const auto& d : *found) out.push_back(fields::document_json(d));
  respond(response::json(200, out.dump()));
}

void register_documents_of_type(router& routes, const api_context& ctx) {
  routes.add("GET", base + "/slug/{slug}/block_documents", "The named documents of a block type (?include_secrets)",
             [ctx](request& req, responder respond) {
               if (!ctx.block_secrets) return respond(response::detail(503, "Block documents are not available"));
               response error;
               auto secrets = fields::include_secrets_query(req, error);
               if (!secrets) return respond(std::move(error));
               persistence::read_value(
                   ctx.db,
                   [slug = req.path_params["slug"], secrets = *secrets, box = ctx.block_secrets](
                       persistence::sql_connection& c) -> result<std::vector<persistence::full_block_document>> {
                     auto t = persistence::find_block_type_by_slug(c, slug);
                     if (!t) return status(errc::not_found, "Block type not found");
                     persistence::block_document_query q;
                     q.documents.block_type_id_any = std::vector<uuid>{t->id.value};
                     q.include_secrets = secrets;
                     return persistence::read_block_documents(c, *box, q);
                   },
                   [respond](const auto& found) { answer_documents(found, respond); });
             });
  routes.add("GET", base + "/slug/{slug}/block_documents/name/{block_document_name}",
             "One document of a block type by name (?include_secrets); how Block.load finds it",
             [ctx](request& req, responder respond) {
               if (!ctx.block_secrets) return respond(response::detail(503, "Block documents are not available"));
               response error;
               auto secrets = fields::include_secrets_query(req, error);
               if (!secrets) return respond(std::move(error));
               persistence::block_document_query q;
               q.documents.is_anonymous.reset();
               q.documents.name_any = std::vector<std::string>{req.path_params["block_document_name"]};
               q.types = persistence::block_type_filter{};
               q.types->slug_any = std::vector<std::string>{req.path_params["slug"]};
               q.include_secrets = *secrets;
               q.limit = 1;
               persistence::read_value(
                   ctx.db,
                   [q, box = ctx.block_secrets](persistence::sql_connection& c) {
                     return persistence::read_block_documents(c, *box, q);
                   },
                   [respond](const result<std::vector<persistence::full_block_document>>& found) {
                     if (!found) return respond(fields::refused(found.error()));
                     if (found->empty()) return respond(fields::document_not_found());
                     respond(response::json(200, fields::document_json(found->front()).dump()));
                   });
             });
}

void register_install(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/install_system_block_types", "Register the system block types (idempotent)",
             [ctx](request&, responder respond) {
               persistence::write_value(
                   ctx.db,
                   [clock = ctx.time](persistence::sql_connection& c) {
                     persistence::register_system_blocks(c, persistence::system_block_catalog(), clock->now());
                   },
                   [respond](const status& s) { respond(s ? response::json(200, "null") : error_response(s)); });
             });
}

}  // namespace

void register_block_type_routes(router& routes, const api_context& ctx) {
  register_create(routes, ctx);
  register_read(routes, ctx);
  register_filter(routes, ctx);
  register_update(routes, ctx);
  register_delete(routes, ctx);
  register_documents_of_type(routes, ctx);
  register_install(routes, ctx);
}

}  // namespace osprey::http

// /api/block_documents: create (409 on a taken name within the type; anonymous documents get a name), read by
// id (?include_secrets), filter, count, update (Prefect's merge rules), delete. Secret values are answered as
// "********" unless include_secrets is true; they are stored sealed (persistence/block_store.hpp).
#include <nlohmann/json.hpp>

#include "actors/event_bus.hpp"
#include "domain/lifecycle_events.hpp"
#include "http/api_support.hpp"
#include "http/block_fields.hpp"
#include "http/concurrency_fields.hpp"
#include "http/routes.hpp"
#include "persistence/block_store.hpp"
#include "persistence/database_calls.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
namespace fields = block_fields;

const std::string base = "/api/block_documents";

response unavailable() { return response::detail(503, "Block documents are not available"); }

/// Parses a BlockDocumentCreate body; `refs` gets the references split off the data.
std::optional<block_document> parse_create(const json& body, std::vector<block_reference>& refs, response& error) {
  // Prefect's model validator runs before the fields are checked.
  const auto name_it = body.find("name");
  const bool has_name = name_it != body.end() && !(name_it->is_null() || (name_it->is_string() && name_it->empty()));
  const auto anon_it = body.find("is_anonymous");
  const bool anonymous = anon_it != body.end() && anon_it->is_boolean() && anon_it->get<bool>();
  if (!anonymous && !has_name) {
    error = validation_error("", "Value error, Names must be provided for block documents.", "value_error");
    return std::nullopt;
  }
  block_document d;
  std::optional<uuid> schema, type;
  concurrency_fields::reader in(body);
  std::string name;
  if (!in.string("name", name) || !in.uuid_value("block_schema_id", schema, true) ||
      !in.uuid_value("block_type_id", type, true) || !in.boolean("is_anonymous", d.is_anonymous) ||
      !in.ignored("data") || !in.finish()) {
    error = in.error();
    return std::nullopt;
  }
  if (has_name) {
    if (auto problem = check_block_document_name(name)) {
      error = validation_error(problem->field, problem->message, problem->type);
      return std::nullopt;
    }
  }
  json data = json::object();
  if (body.contains("data") && !body["data"].is_null()) {
    if (!body["data"].is_object()) {
      error = validation_error("data", "Input should be a valid dictionary", "dict_type");
      return std::nullopt;
    }
    data = body["data"];
  }
  auto split = split_references(data);
  if (!split) {
    error = response::detail(400, split.error().message());
    return std::nullopt;
  }
  d.data = std::move(split->first);
  refs = std::move(split->second);
  d.name = has_name ? name : "anonymous-" + new_uuid4().to_string();
  d.schema = block_schema_id{*schema};
  d.type = block_type_id{*type};
  return d;
}

/// Publishes the document's lifecycle event (secret fields are never in it; see domain/lifecycle_events.hpp).
void announce(const actors::event_bus_actor& bus, lifecycle_action a, const persistence::full_block_document& d,
              timestamp occurred) {
  actors::publish_events(
      bus, {block_document_lifecycle_event(a, d.doc, d.schema.schema.fields, d.schema.schema.capabilities, occurred)});
}

void register_create(router& routes, const api_context& ctx) {
  routes.add(
      "POST", base + "/", "Create a block document (201; 409 when the type has a document of that name)",
      [ctx](request& req, responder respond) {
        if (!ctx.block_secrets) return respond(unavailable());
        response error;
        auto body = parse_object_body(req, error);
        if (!body) return respond(std::move(error));
        std::vector<block_reference> refs;
        auto d = parse_create(*body, refs, error);
        if (!d) return respond(std::move(error));
        d->id = block_document_id{new_uuid4()};
        d->created = d->updated = ctx.time->now();
        persistence::write_value(
            ctx.db,
            [d = *d, refs, box = ctx.block_secrets](
                persistence::sql_connection& c) mutable -> result<persistence::full_block_document> {
              auto type = persistence::find_block_type(c, d.type);
              if (!type) return status(errc::not_found, "Block type " + d.type.to_string() + " not found.");
              auto schema = persistence::find_block_schema(c, d.schema);
              if (!schema) return status(errc::not_found, "Block schema " + d.schema.to_string() + " not found.");
              if (schema->schema.type != d.type)
                return status(errc::invalid_argument, "Block schema " + d.schema.to_string() +
                                                          " is not a schema of block type " + d.type.to_string() + ".");
              if (persistence::block_document_name_taken(c, d.type, d.name))
                return status(errc::conflict, "Block already exists");
              d.block_type_name = type->name;
              persistence::insert_block_document(c, *box, d, refs, d.created);
              return persistence::or_not_found(persistence::find_block_document(c, *box, d.id, false),
                                               "Block document not found");
            },
            [respond, bus = ctx.event_bus](const result<persistence::full_block_document>& out) {
              if (!out && out.error().code() == errc::conflict)
                return respond(response::detail(409, "Block already exists"));
              if (out) announce(bus, lifecycle_action::created, *out, out->doc.created);
              respond(out ? response::json(201, fields::document_json(*out).dump()) : fields::refused(out.error()));
            });
      });
}

void register_read(router& routes, const api_context& ctx) {
  routes.add("GET", base + "/{id}", "Read a block document (?include_secrets)", [ctx](request& req, responder respond) {
    if (!ctx.block_secrets) return respond(unavailable());
    auto id = path_uuid(req, "id", respond);
    if (!id) return;
    response error;
    auto secrets = fields::include_secrets_query(req, error);
    if (!secrets) return respond(std::move(error));
    persistence::read_value(
        ctx.db,
        [id = block_document_id{*id}, secrets = *secrets, box = ctx.block_secrets](persistence::sql_connection& c) {
          return persistence::or_not_found(persistence::find_block_document(c, *box, id, secrets),
                                           "Block document not found");
        },
        [respond](const result<persistence::full_block_document>& d) {
          respond(d ? response::json(200, fields::document_json(*d).dump()) : fields::refused(d.error()));
        });
  });
}

/// Reads the filters shared by /filter and /count onto `q`.
bool read_filters(const json& body, persistence::block_document_query& q, response& error) {
  return fields::document_filter(body, "block_documents", q.documents, error) &&
         fields::type_filter(body, "block_types", q.types, error) &&
         fields::schema_filter(body, "block_schemas", q.schemas, error);
}

// FastAPI reads an absent body as every parameter at its default (the UI posts /count without one).
std::optional<json> optional_body(request& req, response& error) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  auto body = parse_json_body(req, error);
  if (!body) return std::nullopt;
  if (body->is_null()) *body = json::object();
  return object_body(std::move(*body), error);
}

void register_filter(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/filter", "Block documents matching filters (include_secrets, sort, limit, offset)",
             [ctx](request& req, responder respond) {
               if (!ctx.block_secrets) return respond(unavailable());
               response error;
               auto body = optional_body(req, error);
               if (!body) return respond(std::move(error));
               persistence::block_document_query q;
               std::int64_t limit = 200;
               if (!read_filters(*body, q, error) || !fields::limit_offset(*body, limit, q.offset, error))
                 return respond(std::move(error));
               q.limit = limit;
               for (const auto& [key, value] : body->items()) {
                 if (key == "include_secrets") {
                   if (!value.is_boolean())
                     return respond(validation_error(key, "Input should be a valid boolean", "bool_type"));
                   q.include_secrets = value.get<bool>();
                 } else if (key == "sort") {
                   if (value.is_null()) continue;
                   if (value == "NAME_ASC")
                     q.sort = persistence::block_document_sort::name_asc;
                   else if (value == "NAME_DESC")
                     q.sort = persistence::block_document_sort::name_desc;
                   else if (value == "BLOCK_TYPE_AND_NAME_ASC")
                     q.sort = persistence::block_document_sort::block_type_and_name_asc;
                   else
                     return respond(validation_error(
                         key, "Input should be 'NAME_DESC', 'NAME_ASC' or 'BLOCK_TYPE_AND_NAME_ASC'", "enum"));
                 }  // FastAPI ignores other keys of a body read as several parameters (the client sends some)
               }
               persistence::read_value(
                   ctx.db,
                   [q, box = ctx.block_secrets](persistence::sql_connection& c) {
                     return persistence::read_block_documents(c, *box, q);
                   },
                   [respond](const result<std::vector<persistence::full_block_document>>& found) {
                     if (!found) return respond(fields::refused(found.error()));
                     json out = json::array();
                     for (const auto& d : *found) out.push_back(fields::document_json(d));
                     respond(response::json(200, out.dump()));
                   });
             });
}

void register_count(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/count", "How many block documents match filters", [ctx](request& req, responder respond) {
    response error;
    auto body = optional_body(req, error);
    if (!body) return respond(std::move(error));
    persistence::block_document_query q;
    if (!read_filters(*body, q, error)) return respond(std::move(error));
    persistence::read_value(
        ctx.db, [q](persistence::sql_connection& c) { return persistence::count_block_documents(c, q); },
        [respond](const result<std::int64_t>& n) {
          respond(n ? response::json(200, std::to_string(*n)) : error_response(n.error()));
        });
  });
}

void register_update(router& routes, const api_context& ctx) {
  routes.add("PATCH", base + "/{id}", "Update a block document's data or schema (204; merges by default)",
             [ctx](request& req, responder respond) {
               if (!ctx.block_secrets) return respond(unavailable());
               auto id = path_uuid(req, "id", respond);
               if (!id) return;
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               persistence::block_document_update change;
               std::optional<uuid> schema;
               concurrency_fields::reader in(*body);
               if (!in.uuid_value("block_schema_id", schema, false) ||
                   !in.boolean("merge_existing_data", change.merge_existing_data) || !in.ignored("data") ||
                   !in.finish())
                 return respond(in.error());
               if (schema) change.schema = block_schema_id{*schema};
               if (auto it = body->find("data"); it != body->end()) {
                 if (!it->is_object())
                   return respond(validation_error("data", "Input should be a valid dictionary", "dict_type"));
                 change.data = *it;
               } else if (!change.merge_existing_data) {
                 change.data = json::object();  // a full replacement without data empties the document
               }
               persistence::write_value(
                   ctx.db,
                   [id = block_document_id{*id}, change, box = ctx.block_secrets,
                    clock = ctx.time](persistence::sql_connection& c) -> result<persistence::full_block_document> {
                     if (!persistence::update_block_document(c, *box, id, change, clock->now()))
                       return status(errc::not_found, "Block document not found");
                     return persistence::or_not_found(persistence::find_block_document(c, *box, id, false),
                                                      "Block document not found");
                   },
                   [respond, bus = ctx.event_bus](const result<persistence::full_block_document>& out) {
                     if (!out) return respond(fields::refused(out.error()));
                     announce(bus, lifecycle_action::updated, *out, out->doc.updated);
                     respond(response::no_content());
                   });
             });
}

void register_delete(router& routes, const api_context& ctx) {
  routes.add("DELETE", base + "/{id}", "Delete a block document (204)", [ctx](request& req, responder respond) {
    auto id = path_uuid(req, "id", respond);
    if (!id) return;
    if (!ctx.block_secrets) return respond(unavailable());
    persistence::write_value(
        ctx.db,
        [id = block_document_id{*id},
         box = ctx.block_secrets](persistence::sql_connection& c) -> result<persistence::full_block_document> {
          auto found = persistence::find_block_document(c, *box, id, false);  // what the deletion event describes
          if (!found || !persistence::delete_block_document(c, id))
            return status(errc::not_found, "Block document not found");
          return std::move(*found);
        },
        [respond, bus = ctx.event_bus, clock = ctx.time](const result<persistence::full_block_document>& out) {
          if (!out) return respond(error_response(out.error()));
          announce(bus, lifecycle_action::deleted, *out, clock->now());
          respond(response::no_content());
        });
  });
}

}  // namespace

void register_block_document_routes(router& routes, const api_context& ctx) {
  register_create(routes, ctx);
  register_read(routes, ctx);
  register_filter(routes, ctx);
  register_count(routes, ctx);
  register_update(routes, ctx);
  register_delete(routes, ctx);
}

}  // namespace osprey::http

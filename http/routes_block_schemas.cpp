// /api/block_schemas: create (idempotent by checksum and version: 200 with the stored one), read by id or by
// checksum (?version=), filter, delete (refused for protected types); /api/block_capabilities.
#include <nlohmann/json.hpp>

#include "http/api_support.hpp"
#include "http/block_fields.hpp"
#include "http/routes.hpp"
#include "persistence/block_store.hpp"
#include "persistence/database_calls.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
namespace fields = block_fields;

const std::string base = "/api/block_schemas";

/// Parses a BlockSchemaCreate body.
std::optional<persistence::block_schema_input> parse_create(const json& body, response& error) {
  persistence::block_schema_input in;
  bool has_type = false;
  for (const auto& [key, value] : body.items()) {
    if (key == "fields") {
      if (!value.is_object()) {
        error = validation_error(key, "Input should be a valid dictionary", "dict_type");
        return std::nullopt;
      }
      in.fields = value;
    } else if (key == "block_type_id") {
      auto u = value.is_string() ? uuid::parse(value.get<std::string>()) : std::nullopt;
      if (!u) {
        error = validation_error(key, "Input should be a valid UUID", "uuid_parsing");
        return std::nullopt;
      }
      in.type = block_type_id{*u};
      has_type = true;
    } else if (key == "capabilities") {
      if (!value.is_array()) {
        error = validation_error(key, "Input should be a valid list", "list_type");
        return std::nullopt;
      }
      for (const auto& c : value) {
        if (!c.is_string()) {
          error = validation_error(key, "Input should be a valid string", "string_type");
          return std::nullopt;
        }
        in.capabilities.push_back(c.get<std::string>());
      }
    } else if (key == "version") {
      if (!value.is_string()) {
        error = validation_error(key, "Input should be a valid string", "string_type");
        return std::nullopt;
      }
      in.version = value.get<std::string>();
    } else {
      error = validation_error(key, "Extra inputs are not permitted", "extra_forbidden");
      return std::nullopt;
    }
  }
  if (!has_type) {
    error = validation_error("block_type_id", "Field required", "missing");
    return std::nullopt;
  }
  return in;
}

void answer_schema(const result<persistence::stored_block_schema>& s, const responder& respond) {
  respond(s ? response::json(200, fields::schema_json(*s).dump()) : error_response(s.error()));
}

void register_create(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/", "Create a block schema (201; 200 with the stored one of the same checksum)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               auto input = parse_create(*body, error);
               if (!input) return respond(std::move(error));
               persistence::write_value(
                   ctx.db,
                   [input = *input,
                    clock = ctx.time](persistence::sql_connection& c) -> result<persistence::created_block_schema> {
                     if (!persistence::find_block_type(c, input.type))
                       return status(errc::not_found, "Block type " + input.type.to_string() + " not found.");
                     return persistence::create_block_schema(c, input, clock->now());
                   },
                   [respond](const result<persistence::created_block_schema>& out) {
                     if (!out) return respond(fields::refused(out.error()));
                     respond(response::json(out->created ? 201 : 200, fields::schema_json(out->stored).dump()));
                   });
             });
}

void register_read(router& routes, const api_context& ctx) {
  routes.add("GET", base + "/{id}", "Read a block schema by id", [ctx](request& req, responder respond) {
    auto id = path_uuid(req, "id", respond);
    if (!id) return;
    persistence::read_value(
        ctx.db,
        [id = block_schema_id{*id}](persistence::sql_connection& c) {
          return persistence::or_not_found(persistence::find_block_schema(c, id), "Block schema not found");
        },
        [respond](const result<persistence::stored_block_schema>& s) { answer_schema(s, respond); });
  });
  routes.add("GET", base + "/checksum/{checksum}", "The newest block schema with a checksum (?version=)",
             [ctx](request& req, responder respond) {
               std::optional<std::string> version;
               if (auto it = req.query.find("version"); it != req.query.end()) version = it->second;
               persistence::read_value(
                   ctx.db,
                   [checksum = req.path_params["checksum"], version](persistence::sql_connection& c) {
                     return persistence::or_not_found(persistence::find_block_schema_by_checksum(c, checksum, version),
                                                      "Block schema not found");
                   },
                   [respond](const result<persistence::stored_block_schema>& s) { answer_schema(s, respond); });
             });
}

void register_filter(router& routes, const api_context& ctx) {
  routes.add(
      "POST", base + "/filter", "Block schemas, newest first (block_schemas filter; limit, offset)",
      [ctx](request& req, responder respond) {
        response error;
        auto body = parse_json_body(req, error);
        if (!body) return respond(std::move(error));
        if (body->is_null()) *body = json::object();
        if (!(body = object_body(std::move(*body), error))) return respond(std::move(error));
        std::optional<persistence::block_schema_filter> filter;
        std::int64_t limit = 200, offset = 0;
        if (!fields::schema_filter(*body, "block_schemas", filter, error) ||
            !fields::limit_offset(*body, limit, offset, error))
          return respond(std::move(error));
        persistence::read_value(
            ctx.db,
            [filter = filter.value_or(persistence::block_schema_filter{}), limit, offset](
                persistence::sql_connection& c) { return persistence::list_block_schemas(c, filter, limit, offset); },
            [respond](const result<std::vector<persistence::stored_block_schema>>& found) {
              if (!found) return respond(error_response(found.error()));
              json out = json::array();
              for (const auto& s : *found) out.push_back(fields::schema_json(s));
              respond(response::json(200, out.dump()));
            });
      });
}

void register_delete(router& routes, const api_context& ctx) {
  routes.add("DELETE", base + "/{id}", "Delete a block schema (204; 403 for protected types)",
             [ctx](request& req, responder respond) {
               auto id = path_uuid(req, "id", respond);
               if (!id) return;
               persistence::write_value(
                   ctx.db,
                   [id = block_schema_id{*id}](persistence::sql_connection& c) -> status {
                     auto s = persistence::find_block_schema(c, id);
                     if (!s) return {errc::not_found, "Block schema not found"};
                     if (s->type.is_protected)
                       return {errc::failed_precondition, "Block schemas for protected block types cannot be deleted."};
                     persistence::delete_block_schema(c, id);
                     return status::ok();
                   },
                   [respond](const status& s) {
                     if (s.code() == errc::failed_precondition) return respond(response::detail(403, s.message()));
                     respond(s ? response::no_content() : error_response(s));
                   });
             });
}

void register_capabilities(router& routes, const api_context& ctx) {
  routes.add("GET", "/api/block_capabilities/", "Every capability some block schema declares",
             [ctx](request&, responder respond) {
               persistence::read_value(
                   ctx.db, [](persistence::sql_connection& c) { return persistence::block_capabilities(c); },
                   [respond](const result<std::vector<std::string>>& found) {
                     respond(found ? response::json(200, json(*found).dump()) : error_response(found.error()));
                   });
             });
}

}  // namespace

void register_block_schema_routes(router& routes, const api_context& ctx) {
  register_create(routes, ctx);
  register_read(routes, ctx);
  register_filter(routes, ctx);
  register_delete(routes, ctx);
  register_capabilities(routes, ctx);
}

}  // namespace osprey::http

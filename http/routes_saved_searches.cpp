// /api/saved_searches: the UI's named filter sets (Prefect 3.9.1's server/api/saved_searches.py). PUT creates
// (201) or, for a known name, replaces the filters (200); read and delete by id; filter pages by name.
#include <nlohmann/json.hpp>

#include "domain/object_filters.hpp"
#include "http/api_support.hpp"
#include "http/object_fields.hpp"
#include "http/routes.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/saved_search_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
namespace fields = object_fields;

const std::string base = "/api/saved_searches";
constexpr const char* not_found_detail = "Saved search not found";

json search_json(const saved_search& s) {
  return {{"id", s.id.to_string()},
          {"created", format_iso8601(s.created)},
          {"updated", format_iso8601(s.updated)},
          {"name", s.name},
          {"filters", s.filters}};
}

/// Reads a SavedSearchCreate body onto `s`.
bool read_search(const json& body, saved_search& s, response& error) {
  body_reader in(body);
  std::optional<std::string> name;
  bool has_filters = false;
  if (!in.optional_string("name", name) || !in.any("filters", s.filters, &has_filters) || !in.finish()) {
    error = in.error();
    return false;
  }
  if (!name) {
    error = body.contains("name") ? validation_error("name", "Input should be a valid string", "string_type")
                                  : validation_error("name", "Field required", "missing");
    return false;
  }
  s.name = std::move(*name);
  if (!has_filters) s.filters = json::array();
  if (auto problem = normalise_saved_search_filters(s.filters)) {
    error = fields::field_refusal(*problem, 2);
    return false;
  }
  return true;
}

void register_put(router& routes, const api_context& ctx) {
  routes.add("PUT", base + "/", "Create a saved search (201), or replace the filters of one by name (200)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               saved_search s;
               s.id = saved_search_id{new_uuid4()};
               s.created = s.updated = ctx.time->now();
               if (!read_search(*body, s, error)) return respond(std::move(error));
               persistence::write_value(
                   ctx.db, [s](persistence::sql_connection& c) { return persistence::put_saved_search(c, s); },
                   [respond](const result<persistence::saved_search_put>& put) {
                     if (!put) return respond(error_response(put.error()));
                     respond(response::json(put->created ? 201 : 200, search_json(put->stored).dump()));
                   });
             });
}

void register_by_id(router& routes, const api_context& ctx) {
  routes.add("GET", base + "/{id}", "Read a saved search", [ctx](request& req, responder respond) {
    auto id = fields::path_id(req, "id", respond);
    if (!id) return;
    persistence::read_value(
        ctx.db,
        [id = saved_search_id{*id}](persistence::sql_connection& c) {
          return persistence::or_not_found(persistence::find_saved_search(c, id), not_found_detail);
        },
        [respond](const result<saved_search>& s) {
          respond(s ? response::json(200, search_json(*s).dump()) : error_response(s.error()));
        });
  });
  routes.add("DELETE", base + "/{id}", "Delete a saved search (204)", [ctx](request& req, responder respond) {
    auto id = fields::path_id(req, "id", respond);
    if (!id) return;
    persistence::write_value(
        ctx.db,
        [id = saved_search_id{*id}](persistence::sql_connection& c) -> status {
          if (!persistence::delete_saved_search(c, id)) return status(errc::not_found, not_found_detail);
          return status::ok();
        },
        [respond](const status& s) { respond(s ? response::no_content() : error_response(s)); });
  });
}

void register_filter(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/filter", "List saved searches by name (limit, offset)",
             [ctx](request& req, responder respond) {
               auto window = fields::parsed_query(req, respond, filters::parse_page_body);
               if (!window) return;
               persistence::read_value(
                   ctx.db,
                   [w = *window](persistence::sql_connection& c) {
                     return persistence::list_saved_searches(c, w.limit, w.offset);
                   },
                   [respond](const result<std::vector<saved_search>>& found) {
                     if (!found) return respond(error_response(found.error()));
                     json out = json::array();
                     for (const auto& s : *found) out.push_back(search_json(s));
                     respond(response::json(200, out.dump()));
                   });
             });
}

}  // namespace

void register_saved_search_routes(router& routes, const api_context& ctx) {
  register_put(routes, ctx);
  register_by_id(routes, ctx);
  register_filter(routes, ctx);
}

}  // namespace osprey::http

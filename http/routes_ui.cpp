// Small routes the Prefect UI calls: GET /api/admin/settings (a Prefect-shaped settings object without any
// secret), GET /api/collections/views/{view} (the integration registry Prefect fetches from GitHub; Osprey
// reaches no network beyond its clients and answers the known views empty), POST /api/templates/validate (a
// Jinja syntax check, domain/template_syntax.hpp; also at Prefect's deprecated /api/automations/templates/validate,
// which the Vue UI still calls), GET /api/observed-states (the state names seen in run histories, for the UI's
// state filter), POST /api/ui/schemas/validate (the parameter forms' check, domain/form_validation.hpp).
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "domain/form_validation.hpp"
#include "domain/template_syntax.hpp"
#include "domain/version.hpp"
#include "http/api_support.hpp"
#include "http/routes.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/ui_store.hpp"
#include "persistence/variable_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;

/// Prefect's Settings shape, for what a reader of the UI's settings page looks for. Values Osprey does not
/// have are Prefect's defaults; secrets (API key, auth string, database URL and password) are never included.
json settings_json(const request& req, const api_context& ctx) {
  const auto host = req.header("host");
  const json api_url = host.empty() ? json(nullptr) : json("http://" + host + "/api");
  const char* dialect = ctx.db.target_dialect() == persistence::dialect::postgresql ? "postgresql" : "sqlite";
  return {
      {"home", nullptr},
      {"debug_mode", false},
      {"api",
       {{"url", api_url},
        {"auth_string", nullptr},
        {"key", nullptr},
        {"tls_insecure_skip_verify", false},
        {"enable_http2", false},
        {"request_timeout", 60.0}}},
      {"server",
       {{"analytics_enabled", false},
        {"api", {{"auth_string", nullptr}, {"csrf_protection_enabled", ctx.csrf_protection}, {"default_limit", 200}}},
        {"database", {{"connection_url", nullptr}, {"driver", nullptr}, {"dialect", dialect}, {"password", nullptr}}},
        {"ui", {{"enabled", false}, {"api_url", api_url}}}}},
      {"ui_url", nullptr},
      {"x_osprey", {{"version", osprey_version}, {"prefect_compatible_version", prefect_compatible_version}}}};
}

void register_settings(router& routes, const api_context& ctx) {
  routes.add("GET", "/api/admin/settings", "Server settings (Prefect's shape; secrets never included)",
             [ctx](request& req, responder respond) { respond(response::json(200, settings_json(req, ctx).dump())); });
}

void register_collection_views(router& routes) {
  routes.add("GET", "/api/collections/views/{view}", "Integration registry views (answered empty: no network)",
             [](request& req, responder respond) {
               const auto& view = req.path_params["view"];
               for (const char* known :
                    {"aggregate-block-metadata", "aggregate-flow-metadata", "aggregate-worker-metadata", "demo-flows"})
                 if (view == known) return respond(response::json(200, "{}"));
               respond(response::detail(404, "View " + view + " not found in registry"));
             });
}

void register_template_validation(router& routes) {
  const auto validate = [](request& req, responder respond) {
    std::string source;
    if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
      response error;
      auto body = parse_json_body(req, error);
      if (!body) return respond(std::move(error));
      if (!body->is_string() && !body->is_null())
        return respond(validation_error("", "Input should be a valid string", "string_type"));
      if (body->is_string()) source = body->get<std::string>();
    }
    auto problem = check_template_syntax(source);
    if (!problem) return respond(response::no_content());
    respond(response::json(
        422, dump_lenient({{"error", {{"line", problem->line}, {"message", problem->message}, {"source", source}}}})));
  };
  routes.add("POST", "/api/templates/validate", "Check a Jinja template's syntax (204, or 422 with the error)",
             validate);
  routes.add("POST", "/api/automations/templates/validate", "Deprecated alias of /api/templates/validate", validate);
}

void register_schema_validation(router& routes, const api_context& ctx) {
  routes.add("POST", "/api/ui/schemas/validate", "Check form values against a parameter schema: {errors, valid}",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               for (const char* field : {"schema", "values"}) {
                 const auto it = body->find(field);
                 if (it == body->end()) return respond(validation_error(field, "Field required", "missing"));
                 if (!it->is_object())
                   return respond(validation_error(field, "Input should be a valid dictionary", "dict_type"));
               }
               auto values = std::move((*body)["values"]);
               auto schema = std::move((*body)["schema"]);
               if (!mentions_workspace_variables(values)) {
                 const variable_lookup none = [](const std::string&) { return std::optional<json>(); };
                 return respond(response::json(200, dump_lenient(validate_form_values(values, schema, none))));
               }
               persistence::read_value(
                   ctx.db,
                   [values = std::move(values), schema = std::move(schema)](persistence::sql_connection& c) {
                     const variable_lookup lookup = [&c](const std::string& name) -> std::optional<json> {
                       if (auto v = persistence::find_variable_by_name(c, name)) return v->value;
                       return std::nullopt;
                     };
                     return result<json>(validate_form_values(values, schema, lookup));
                   },
                   [respond](const result<json>& report) {
                     respond(report ? response::json(200, dump_lenient(*report)) : error_response(report.error()));
                   });
             });
}

void register_observed_states(router& routes, const api_context& ctx) {
  routes.add(
      "GET", "/api/observed-states", "State types and names seen in run histories (?query=&order_by=&limit=)",
      [ctx](request& req, responder respond) {
        std::string prefix;
        if (auto q = req.query.find("query"); q != req.query.end()) {
          if (q->second.size() > 100)
            return respond(
                query_validation_error("query", "String should have at most 100 characters", "string_too_long"));
          prefix = q->second;
          prefix.erase(0, prefix.find_first_not_of(" \t\r\n"));
          prefix.erase(prefix.find_last_not_of(" \t\r\n") + 1);
        }
        bool by_name = false;
        if (auto o = req.query.find("order_by"); o != req.query.end()) {
          if (o->second == "NAME_ASC")
            by_name = true;
          else if (o->second != "LAST_SEEN_DESC")
            return respond(
                query_validation_error("order_by", "Input should be 'NAME_ASC' or 'LAST_SEEN_DESC'", "enum"));
        }
        std::int64_t limit = 200;
        if (auto l = req.query.find("limit"); l != req.query.end()) {
          char* end = nullptr;
          const auto v = std::strtoll(l->second.c_str(), &end, 10);
          if (l->second.empty() || *end != '\0')
            return respond(query_validation_error(
                "limit", "Input should be a valid integer, unable to parse string as an integer", "int_parsing"));
          if (v < 1 || v > 200)
            return respond(query_validation_error(
                "limit",
                v < 1 ? "Input should be greater than or equal to 1" : "Input should be less than or equal to 200",
                v < 1 ? "greater_than_equal" : "less_than_equal"));
          limit = v;
        }
        persistence::read_value(
            ctx.db,
            [prefix, by_name, limit](persistence::sql_connection& c) {
              return persistence::select_observed_states(c, prefix, by_name, limit);
            },
            [respond](const result<std::vector<persistence::observed_state>>& found) {
              if (!found) return respond(error_response(found.error()));
              json out = json::array();
              for (const auto& s : *found)
                out.push_back({{"state_type", s.type},
                               {"state_name", s.name},
                               {"first_seen", format_iso8601(s.first_seen)},
                               {"last_seen", format_iso8601(s.last_seen)}});
              respond(response::json(200, out.dump()));
            });
      });
}

}  // namespace

void register_ui_routes(router& routes, const api_context& ctx) {
  register_observed_states(routes, ctx);
  register_settings(routes, ctx);
  register_collection_views(routes);
  register_template_validation(routes);
  register_schema_validation(routes, ctx);
}

}  // namespace osprey::http

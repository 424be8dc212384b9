// /api/flows: create (idempotent by name), read by id, read by name.
#include <nlohmann/json.hpp>

#include "domain/uuid.hpp"
#include "http/api_support.hpp"
#include "http/routes.hpp"
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

void answer_flow(const responder& respond, const status& s, const std::optional<flow>& found) {
  if (!s) return respond(error_response(s));
  if (!found) return respond(response::detail(404, "Flow not found"));
  respond(response::json(200, to_json(*found).dump()));
}

}  // namespace

void register_flow_routes(router& routes, const api_context& ctx) {
  routes.add("POST", "/api/flows/", "Create a flow, or return the existing flow of that name (201 new, 200 existing)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               auto candidate = parse_flow_create(*body, error);
               if (!candidate) return respond(std::move(error));
               candidate->id = flow_id{new_uuid4()};
               candidate->created = candidate->updated = ctx.time->now();
               auto out = std::make_shared<persistence::flow_upsert>();
               ctx.db.write({[candidate = std::move(*candidate), out](persistence::sql_connection& c) {
                              *out = persistence::upsert_flow(c, candidate);
                            }},
                            [out, respond](const status& s) {
                              if (!s) return respond(error_response(s));
                              respond(response::json(out->created ? 201 : 200, to_json(out->stored).dump()));
                            });
             });

  routes.add("GET", "/api/flows/{id}", "Read a flow by id", [ctx](request& req, responder respond) {
    auto id = uuid::parse(req.path_params["id"]);
    if (!id) {
      auto r = validation_error("id", "Input should be a valid UUID", "uuid_parsing");
      // The id is a path parameter, not part of the body.
      r.body = nlohmann::json{{"detail", "Input should be a valid UUID"},
                              {"exception_message", "Invalid request received."},
                              {"exception_detail",
                               {{{"loc", {"path", "id"}}, {"msg", "Input should be a valid UUID"}, {"type", "uuid_parsing"}}}}}
                   .dump();
      return respond(std::move(r));
    }
    auto found = std::make_shared<std::optional<flow>>();
    ctx.db.read({[fid = flow_id{*id}, found](persistence::sql_connection& c) { *found = persistence::find_flow(c, fid); }},
                [found, respond](const status& s) { answer_flow(respond, s, *found); });
  });

  routes.add("GET", "/api/flows/name/{name}", "Read a flow by name", [ctx](request& req, responder respond) {
    auto found = std::make_shared<std::optional<flow>>();
    ctx.db.read({[name = req.path_params["name"], found](persistence::sql_connection& c) {
                  *found = persistence::find_flow_by_name(c, name);
                }},
                [found, respond](const status& s) { answer_flow(respond, s, *found); });
  });
}

}  // namespace osprey::http

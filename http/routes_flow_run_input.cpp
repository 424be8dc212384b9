// /api/flow_runs/{id}/input: create, filter by key prefix, read by key (text/plain), delete (Prefect 3.9.1's
// server/api/flow_runs.py). Inputs are rows beside the run, not part of its state: no actor decides anything,
// so each route runs one read or write job. Resume's use of them (the run-input check) is in
// routes_flow_runs.cpp. Bodies are checked before anything is looked up (FastAPI answers 422 before 404).
#include <cmath>
#include <nlohmann/json.hpp>

#include "domain/flow_run_input.hpp"
#include "domain/uuid.hpp"
#include "http/api_support.hpp"
#include "http/object_fields.hpp"
#include "http/routes.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/flow_run_input_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
using object_fields::refuse;

const std::string base = "/api/flow_runs/{id}/input";
constexpr const char* input_not_found = "Flow run input not found";

json input_json(const flow_run_input& in) {
  return {{"id", in.id.to_string()},
          {"created", format_iso8601(in.created)},
          {"updated", format_iso8601(in.updated)},
          {"flow_run_id", in.flow_run.to_string()},
          {"key", in.key},
          {"value", in.value},
          {"sender", in.sender ? json(*in.sender) : json()}};
}

/// A required body string; `type_message`/`type` say how pydantic refuses a non-string for the field's type.
bool required_text(const json& body, const char* key, std::string& out, response& error,
                   const char* type_message = "Input should be a valid string", const char* type = "string_type") {
  auto v = body.find(key);
  if (v == body.end()) return refuse(error, validation_error(key, "Field required", "missing"));
  if (!v->is_string()) return refuse(error, validation_error(key, type_message, type));
  out = v->get<std::string>();
  return true;
}

/// The create body {key, value, sender}. Keys FastAPI has no parameter for are ignored, as FastAPI does.
bool read_create(const json& body, flow_run_input& in, response& error) {
  if (!required_text(body, "key", in.key, error)) return false;
  // `value: bytes`: pydantic takes a JSON string (its UTF-8 bytes) and nothing else.
  if (!required_text(body, "value", in.value, error, "Input should be a valid bytes", "bytes_type")) return false;
  if (auto s = body.find("sender"); s != body.end() && !s->is_null()) {
    if (!s->is_string())
      return refuse(error, validation_error("sender", "Input should be a valid string", "string_type"));
    in.sender = s->get<std::string>();
  }
  if (auto problem = check_flow_run_input_key(in.key)) return refuse(error, object_fields::field_refusal(*problem));
  return true;
}

struct filter_query {
  std::string prefix;
  std::int64_t limit = 1;  // Prefect's default: the oldest match only
  std::vector<std::string> exclude_keys;
};

bool read_filter(const json& body, filter_query& q, response& error) {
  if (!required_text(body, "prefix", q.prefix, error)) return false;
  if (auto l = body.find("limit"); l != body.end()) {
    // pydantic's int: an integer, or a float with no fractional part (2.0).
    const bool whole = l->is_number_float() && std::isfinite(l->get<double>()) &&
                       std::floor(l->get<double>()) == l->get<double>() && std::fabs(l->get<double>()) < 9.0e18;
    if (!l->is_number_integer() && !whole)
      return refuse(error, validation_error("limit", "Input should be a valid integer", "int_type"));
    q.limit = whole ? static_cast<std::int64_t>(l->get<double>()) : l->get<std::int64_t>();
  }
  if (auto x = body.find("exclude_keys"); x != body.end()) {
    if (!x->is_array())
      return refuse(error, validation_error("exclude_keys", "Input should be a valid list", "list_type"));
    for (const auto& k : *x) {
      if (!k.is_string())
        return refuse(error, validation_error("exclude_keys", "Input should be a valid string", "string_type"));
      q.exclude_keys.push_back(k.get<std::string>());
    }
  }
  return true;
}

void register_create(router& routes, const api_context& ctx) {
  routes.add("POST", base, "Create a key/value input for a flow run", [ctx](request& req, responder respond) {
    auto run = object_fields::path_id(req, "id", respond);
    if (!run) return;
    response error;
    auto body = parse_object_body(req, error);
    if (!body) return respond(std::move(error));
    flow_run_input in;
    if (!read_create(*body, in, error)) return respond(std::move(error));
    in.id = flow_run_input_id{new_uuid4()};
    in.flow_run = flow_run_id{*run};
    in.created = in.updated = ctx.time->now();
    persistence::write_value(
        ctx.db,
        [in](persistence::sql_connection& c) -> status {
          if (!persistence::input_owner_exists(c, in.flow_run)) return status(errc::not_found, "Flow run not found");
          if (persistence::find_flow_run_input(c, in.flow_run, in.key))
            return status(errc::conflict, "A flow run input with this key already exists.");
          persistence::insert_flow_run_input(c, in);
          return status::ok();
        },
        [respond](const status& s) { respond(s ? response::json(201, "null") : error_response(s)); });
  });
}

void register_filter(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/filter", "Filter a flow run's inputs by key prefix",
             [ctx](request& req, responder respond) {
               auto run = object_fields::path_id(req, "id", respond);
               if (!run) return;
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               filter_query q;
               if (!read_filter(*body, q, error)) return respond(std::move(error));
               persistence::read_value(
                   ctx.db,
                   [run = flow_run_id{*run}, q](persistence::sql_connection& c) {
                     return persistence::filter_flow_run_inputs(c, run, q.prefix, q.limit, q.exclude_keys);
                   },
                   [respond](const result<std::vector<flow_run_input>>& found) {
                     if (!found) return respond(error_response(found.error()));
                     json out = json::array();
                     for (const auto& in : *found) out.push_back(input_json(in));
                     respond(response::json(200, out.dump()));
                   });
             });
}

void register_read_delete(router& routes, const api_context& ctx) {
  routes.add("GET", base + "/{key}", "A flow run input's value (text/plain)", [ctx](request& req, responder respond) {
    auto run = object_fields::path_id(req, "id", respond);
    if (!run) return;
    persistence::read_value(
        ctx.db,
        [run = flow_run_id{*run}, key = req.path_params["key"]](persistence::sql_connection& c) {
          return persistence::or_not_found(persistence::find_flow_run_input(c, run, key), input_not_found);
        },
        [respond](const result<flow_run_input>& found) {
          if (!found) return respond(error_response(found.error()));
          response out;
          out.content_type = "text/plain; charset=utf-8";
          out.body = found->value;
          respond(std::move(out));
        });
  });

  routes.add("DELETE", base + "/{key}", "Delete a flow run input", [ctx](request& req, responder respond) {
    auto run = object_fields::path_id(req, "id", respond);
    if (!run) return;
    persistence::write_value(
        ctx.db,
        [run = flow_run_id{*run}, key = req.path_params["key"]](persistence::sql_connection& c) -> status {
          if (!persistence::delete_flow_run_input(c, run, key)) return status(errc::not_found, input_not_found);
          return status::ok();
        },
        [respond](const status& s) { respond(s ? response::no_content() : error_response(s)); });
  });
}

}  // namespace

void register_flow_run_input_routes(router& routes, const api_context& ctx) {
  register_create(routes, ctx);
  register_filter(routes, ctx);
  register_read_delete(routes, ctx);
}

}  // namespace osprey::http

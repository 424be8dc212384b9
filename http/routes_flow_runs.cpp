// /api/flow_runs and /api/flow_run_states: create (idempotent by key), read, update, labels, delete, set_state,
// resume, state history. Every write to an existing run goes through its actor (actors/flow_runs.hpp).
#include <nlohmann/json.hpp>

#include "actors/flow_runs.hpp"
#include "domain/event.hpp"
#include "domain/flow_policy.hpp"
#include "domain/flow_run_input.hpp"
#include "domain/run_bookkeeping.hpp"
#include "http/api_support.hpp"
#include "http/concurrency_fields.hpp"
#include "http/routes.hpp"
#include "http/shapes.hpp"
#include "persistence/flow_run_input_store.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/variable_store.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/work_pool_store.hpp"

namespace osprey::http {
namespace {

client_info client_of(const request& req) {
  client_info c;
  c.client_version = parse_prefect_user_agent(req.header("user-agent"));
  c.api_version = parse_api_version(req.header("x-prefect-api-version"));
  return c;
}

response run_not_found(const uuid& id) {
  return response::json(404, nlohmann::json{{"detail", "Flow run not found"},
                                            {"exception_message", "Flow run with id " + id.to_string() + " not found"}}
                                 .dump());
}

// FlowRunCreate → a flow_run and its initial state (Pending when none is given).
bool parse_flow_run_create(const nlohmann::json& body, flow_run& run, run_state& initial,
                           std::optional<std::string>& work_pool_name, response& error) {
  body_reader in(body);
  uuid flow;
  std::optional<std::string> name;
  nlohmann::json state_body;
  bool has_state = false;
  if (!in.required_uuid("flow_id", flow) || !in.optional_string("name", name) ||
      !in.optional_string("flow_version", run.flow_version) || !in.object("parameters", run.parameters) ||
      !in.object("context", run.context) || !in.optional_uuid("parent_task_run_id", run.parent_task_run_id) ||
      !in.optional_uuid("infrastructure_document_id", run.infrastructure_document_id) ||
      !in.object("empirical_policy", run.empirical_policy) || !in.string_list("tags", run.tags) ||
      !in.object("labels", run.labels) || !in.optional_string("idempotency_key", run.idempotency_key) ||
      !in.optional_string("work_queue_name", run.work_queue_name) || !in.object("job_variables", run.job_variables) ||
      !in.optional_uuid("deployment_id", run.deployment_id) || !in.any("state", state_body, &has_state)) {
    error = in.error();
    return false;
  }
  if (!in.optional_string("work_pool_name", work_pool_name) || !in.finish()) {
    error = in.error();
    return false;
  }
  run.flow = flow_id{flow};
  run.name = name && !name->empty() ? *name : generate_run_name();
  run.empirical_policy = normalize_flow_run_policy(run.empirical_policy);
  if (has_state && !state_body.is_null()) {
    auto parsed = parse_state_create(state_body, "state", error);
    if (!parsed) return false;
    initial = *parsed;
  } else {
    initial.type = state_type::pending;
    initial.name = default_state_name(state_type::pending);
  }
  return true;
}

void register_create(router& routes, const api_context& ctx) {
  routes.add("POST", "/api/flow_runs/", "Create a flow run (201 new, 200 when the idempotency key exists)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               flow_run run;
               run_state initial;
               std::optional<std::string> pool_name;
               if (!parse_flow_run_create(*body, run, initial, pool_name, error)) return respond(std::move(error));
               const auto now = ctx.time->now();
               run.id = flow_run_id{new_uuid7(now)};  // time-ordered: keys land at the end of the run-keyed indexes
               run.created = run.updated = now;
               actors::create_flow_run(
                   ctx.flow_runs, {std::move(run), initial, client_of(req), std::move(pool_name)},
                   [ctx, respond](const actors::creation_outcome& out) {
                     if (!out.error) return respond(error_response(out.error));
                     respond(response::json(out.created ? 201 : 200, to_json(out.stored, ctx.time->now()).dump()));
                   });
             });
}

// Writes to a run's own columns go through the run's actor, which applies them in order with the run's
// transitions and keeps its copy of the run current (a direct write would be overwritten or misreported by it).
void edit_run(const api_context& ctx, const uuid& id, actors::flow_run_edit edit, responder respond) {
  actors::edit_flow_run(ctx.flow_runs, flow_run_id{id}, std::move(edit),
                        [respond = std::move(respond), id](const actors::edit_outcome& outcome) {
                          if (!outcome.error) return respond(error_response(outcome.error));
                          respond(outcome.found ? response::no_content() : run_not_found(id));
                        });
}

void register_read_update_delete(router& routes, const api_context& ctx) {
  routes.add("GET", "/api/flow_runs/{id}", "Read a flow run", [ctx](request& req, responder respond) {
    auto id = path_uuid(req, "id", respond);
    if (!id) return;
    auto found = std::make_shared<std::optional<flow_run>>();
    ctx.db.read([rid = flow_run_id{*id},
                 found](persistence::sql_connection& c) { *found = persistence::find_flow_run(c, rid); },
                [ctx, found, respond, rid = *id](const status& s) {
                  if (!s) return respond(error_response(s));
                  if (!*found) return respond(run_not_found(rid));
                  respond(response::json(200, to_json(**found, ctx.time->now()).dump()));
                });
  });

  routes.add(
      "PATCH", "/api/flow_runs/{id}", "Update a flow run (only the fields given)",
      [ctx](request& req, responder respond) {
        auto id = path_uuid(req, "id", respond);
        if (!id) return;
        response error;
        auto body = parse_object_body(req, error);
        if (!body) return respond(std::move(error));
        body_reader in(*body);
        std::optional<std::string> name, flow_version, pid;
        nlohmann::json parameters, policy, job_variables;
        std::vector<std::string> tags;
        if (!in.optional_string("name", name) || !in.optional_string("flow_version", flow_version) ||
            !in.object("parameters", parameters) || !in.object("empirical_policy", policy) ||
            !in.string_list("tags", tags) || !in.optional_string("infrastructure_pid", pid) ||
            !in.object("job_variables", job_variables) || !in.finish())
          return respond(in.error());
        nlohmann::json changes = nlohmann::json::object();
        for (const char* key : {"name", "flow_version", "parameters", "tags", "infrastructure_pid", "job_variables"})
          if (body->contains(key) && !(*body)[key].is_null()) changes[key] = (*body)[key];
        if (body->contains("empirical_policy") && !(*body)["empirical_policy"].is_null())
          changes["empirical_policy"] = normalize_flow_run_policy(policy);
        edit_run(ctx, *id, {actors::flow_run_edit::kind::update, std::move(changes)}, std::move(respond));
      });

  routes.add("PATCH", "/api/flow_runs/{id}/labels", "Merge labels into a flow run",
             [ctx](request& req, responder respond) {
               auto id = path_uuid(req, "id", respond);
               if (!id) return;
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               edit_run(ctx, *id, {actors::flow_run_edit::kind::merge_labels, std::move(*body)}, std::move(respond));
             });

  routes.add("DELETE", "/api/flow_runs/{id}", "Delete a flow run", [ctx](request& req, responder respond) {
    auto id = path_uuid(req, "id", respond);
    if (!id) return;
    edit_run(ctx, *id, {actors::flow_run_edit::kind::remove, nlohmann::json::object()}, std::move(respond));
  });
}

void register_set_state(router& routes, const api_context& ctx) {
  routes.add(
      "POST", "/api/flow_runs/{id}/set_state", "Propose a new state (orchestrated; 201 when a state was written)",
      [ctx](request& req, responder respond) {
        auto id = path_uuid(req, "id", respond);
        if (!id) return;
        response error;
        auto request = parse_set_state_body(req, error);
        if (!request) return respond(std::move(error));
        actors::propose_transition(ctx.flow_runs, flow_run_id{*id}, actors::transition_call{*request, client_of(req)},
                                   [respond, rid = *id](const actors::transition_outcome& outcome) {
                                     respond(transition_response(outcome, run_not_found(rid)));
                                   });
      });
}

void register_resume(router& routes, const api_context& ctx) {
  routes.add("POST", "/api/flow_runs/{id}/resume", "Resume a paused flow run", [ctx](request& req, responder respond) {
    auto id = path_uuid(req, "id", respond);
    if (!id) return;
    nlohmann::json run_input;
    if (!req.body.empty()) {
      response error;
      auto body = parse_object_body(req, error);
      if (!body) return respond(std::move(error));
      // `run_input: Optional[dict]` is the route's only body parameter; FastAPI ignores other keys.
      if (auto given = body->find("run_input"); given != body->end()) run_input = *given;
      if (!run_input.is_null() && !run_input.is_object())
        return respond(validation_error("run_input", "Input should be a valid dictionary", "dict_type"));
    }
    actors::transition_call call;
    call.client = client_of(req);
    call.resume = true;
    const auto rid = flow_run_id{*id};
    persistence::read_value(
        ctx.db,
        [rid, run_input](persistence::sql_connection& c) { return actors::check_resume_input(c, rid, run_input); },
        [ctx, call, respond, rid](result<std::optional<actors::transition_call::checked_input>> checked) mutable {
          if (!checked) return respond(error_response(checked.error()));
          call.input = std::move(*checked);
          actors::propose_transition(ctx.flow_runs, rid, std::move(call),
                                     [respond, rid](const actors::transition_outcome& outcome) {
                                       // Storing the run input hit a taken key: Prefect's IntegrityError answer.
                                       if (outcome.error.code() == errc::conflict)
                                         return respond(concurrency_fields::integrity_conflict());
                                       respond(transition_response(outcome, run_not_found(rid.value)));
                                     });
        });
  });
}

void register_states(router& routes, const api_context& ctx) {
  routes.add("GET", "/api/flow_run_states/", "A flow run's states, oldest first (?flow_run_id=)",
             [ctx](request& req, responder respond) {
               auto id = uuid::parse(req.query["flow_run_id"]);
               if (!id) return respond(validation_error("flow_run_id", "Input should be a valid UUID", "uuid_parsing"));
               auto states = std::make_shared<std::vector<run_state>>();
               ctx.db.read(
                   [rid = flow_run_id{*id}, states](persistence::sql_connection& c) {
                     *states = persistence::flow_run_state_history(c, rid);
                   },
                   [states, respond](const status& s) {
                     if (!s) return respond(error_response(s));
                     nlohmann::json out = nlohmann::json::array();
                     for (const auto& st : *states) out.push_back(to_json(st));
                     respond(response::json(200, out.dump()));
                   });
             });
  routes.add(
      "GET", "/api/flow_run_states/{id}", "One flow run state by its id", [ctx](request& req, responder respond) {
        auto id = path_uuid(req, "id", respond);
        if (!id) return;
        persistence::read_value(
            ctx.db,
            [sid = *id](persistence::sql_connection& c) {
              return persistence::or_not_found(persistence::find_flow_run_state(c, sid), "Flow run state not found");
            },
            [respond](const result<run_state>& st) {
              respond(st ? response::json(200, to_json(*st).dump()) : error_response(st.error()));
            });
      });
}

}  // namespace

void register_flow_run_routes(router& routes, const api_context& ctx) {
  register_create(routes, ctx);
  register_read_update_delete(routes, ctx);
  register_set_state(routes, ctx);
  register_resume(routes, ctx);
  register_states(routes, ctx);
}

}  // namespace osprey::http

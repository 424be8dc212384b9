// /api/task_runs: REST creation (subflow tracking runs), reads, rename, delete and state history. Engine task
// runs arrive as events and are recorded by the task-run recorder.
#include <nlohmann/json.hpp>

#include "actors/task_run_transitions.hpp"
#include "http/api_support.hpp"
#include "http/routes.hpp"
#include "http/shapes.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/task_run_store.hpp"

namespace osprey::http {
namespace {

constexpr const char* task_run_not_found = "Task not found";

void register_create(router& routes, const api_context& ctx) {
  routes.add("POST", "/api/task_runs/", "Create a task run (201 new, 200 when its natural key exists)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               body_reader in(*body);
               std::optional<uuid> given_id, flow_run;
               nlohmann::json state_body;
               bool has_state = false;
               if (!in.optional_uuid("id", given_id) || !in.optional_uuid("flow_run_id", flow_run) ||
                   !in.any("state", state_body, &has_state))
                 return respond(in.error());
               nlohmann::json fields = *body;
               for (const char* handled : {"id", "flow_run_id", "state"}) fields.erase(handled);
               nlohmann::json columns = nlohmann::json::object();
               if (auto problem = normalize_task_run_columns(fields, true, columns))
                 return respond(validation_error(problem->field, problem->message, problem->type));
               for (const char* required : {"task_key", "dynamic_key"})
                 if (!columns.contains(required) || !columns[required].is_string())
                   return respond(validation_error(required, "Field required", "missing"));
               if (!columns.contains("name") || !columns["name"].is_string()) columns["name"] = generate_run_name();
               run_state initial;
               if (has_state && !state_body.is_null()) {
                 auto parsed = parse_state_create(state_body, "state", error);
                 if (!parsed) return respond(std::move(error));
                 initial = *parsed;
               } else {
                 initial.type = state_type::pending;
                 initial.name = default_state_name(state_type::pending);
               }
               const auto now = ctx.time->now();
               const uuid id = given_id.value_or(new_uuid7(now));
               initial.id = state_id{new_uuid7(now)};
               initial.at = now;
               initial.details["task_run_id"] = id.to_string();
               initial.details["flow_run_id"] = flow_run ? nlohmann::json(flow_run->to_string()) : nlohmann::json();
               if (!columns.contains("expected_start_time")) columns["expected_start_time"] = format_iso8601(now);
               persistence::write_value(
                   ctx.db,
                   [id, flow_run, columns, initial, now](persistence::sql_connection& c) {
                     return persistence::create_task_run(c, id, flow_run, columns, initial, now);
                   },
                   [ctx, respond, initial](result<persistence::task_run_created> out) {
                     if (!out && out.error().code() == errc::conflict)
                       return respond(response::detail(404, "Flow run not found or task run id already used"));
                     if (!out) return respond(error_response(out.error()));
                     // task.delay(): created Scheduled and deferred, for the task workers (EnqueueScheduledTasks).
                     if (out->created && actors::schedules_background_task(initial))
                       ctx.background_tasks->enqueue(out->stored.id.value, out->stored.columns.value("task_key", ""));
                     respond(response::json(out->created ? 201 : 200, to_json(out->stored, ctx.time->now()).dump()));
                   });
             });
}

void register_read(router& routes, const api_context& ctx) {
  routes.add("GET", "/api/task_runs/{id}", "Read a task run", [ctx](request& req, responder respond) {
    auto id = uuid::parse(req.path_params["id"]);
    if (!id) return respond(validation_error("id", "Input should be a valid UUID", "uuid_parsing"));
    persistence::read_value(
        ctx.db,
        [rid = *id](persistence::sql_connection& c) {
          return persistence::or_not_found(persistence::find_task_run(c, rid), task_run_not_found);
        },
        [ctx, respond](const result<task_run>& found) {
          respond(found ? response::json(200, to_json(*found, ctx.time->now()).dump()) : error_response(found.error()));
        });
  });
}

void register_set_state(router& routes, const api_context& ctx) {
  routes.add("POST", "/api/task_runs/{id}/set_state", "Propose a task-run state (Prefect's task policy)",
             [ctx](request& req, responder respond) {
               auto id = uuid::parse(req.path_params["id"]);
               if (!id) return respond(validation_error("id", "Input should be a valid UUID", "uuid_parsing"));
               response error;
               auto request = parse_set_state_body(req, error);
               if (!request) return respond(std::move(error));
               actors::propose_task_transition(
                   ctx.db, *id, *request, *ctx.time,
                   [respond](const actors::transition_outcome& outcome) {
                     respond(transition_response(outcome, response::detail(404, task_run_not_found)));
                   },
                   ctx.background_tasks);
             });
}

void register_states(router& routes, const api_context& ctx) {
  routes.add("GET", "/api/task_run_states/", "A task run's states, oldest first (?task_run_id=)",
             [ctx](request& req, responder respond) {
               auto id = uuid::parse(req.query["task_run_id"]);
               if (!id) return respond(validation_error("task_run_id", "Input should be a valid UUID", "uuid_parsing"));
               persistence::read_value(
                   ctx.db,
                   [rid = *id](persistence::sql_connection& c) { return persistence::task_run_state_history(c, rid); },
                   [respond](const result<std::vector<run_state>>& states) {
                     if (!states) return respond(error_response(states.error()));
                     nlohmann::json out = nlohmann::json::array();
                     for (const auto& st : *states) out.push_back(to_json(st));
                     respond(response::json(200, out.dump()));
                   });
             });
  routes.add(
      "GET", "/api/task_run_states/{id}", "One task run state by its id", [ctx](request& req, responder respond) {
        auto id = path_uuid(req, "id", respond);
        if (!id) return;
        persistence::read_value(
            ctx.db,
            [sid = *id](persistence::sql_connection& c) {
              return persistence::or_not_found(persistence::find_task_run_state(c, sid), "Task run state not found");
            },
            [respond](const result<run_state>& st) {
              respond(st ? response::json(200, to_json(*st).dump()) : error_response(st.error()));
            });
      });
}

// TaskRunUpdate has one field, name; absent or null, Prefect generates one.
void register_update_delete(router& routes, const api_context& ctx) {
  routes.add("PATCH", "/api/task_runs/{id}", "Rename a task run (204)", [ctx](request& req, responder respond) {
    auto id = path_uuid(req, "id", respond);
    if (!id) return;
    response error;
    auto body = parse_object_body(req, error);
    if (!body) return respond(std::move(error));
    body_reader in(*body);
    std::optional<std::string> name;
    if (!in.optional_string("name", name) || !in.finish()) return respond(in.error());
    persistence::write_value(
        ctx.db,
        [rid = *id, name = name ? *name : generate_run_name(),
         now = ctx.time->now()](persistence::sql_connection& c) -> status {
          if (!persistence::rename_task_run(c, rid, name, now)) return status(errc::not_found, "Task run not found");
          return status::ok();
        },
        [respond](const status& s) { respond(s ? response::no_content() : error_response(s)); });
  });
  routes.add("DELETE", "/api/task_runs/{id}", "Delete a task run with its states and logs (204)",
             [ctx](request& req, responder respond) {
               auto id = path_uuid(req, "id", respond);
               if (!id) return;
               persistence::write_value(
                   ctx.db,
                   [rid = *id](persistence::sql_connection& c) -> status {
                     if (!persistence::delete_task_run(c, rid)) return status(errc::not_found, task_run_not_found);
                     return status::ok();
                   },
                   [respond](const status& s) { respond(s ? response::no_content() : error_response(s)); });
             });
}

}  // namespace

void register_task_run_routes(router& routes, const api_context& ctx) {
  register_create(routes, ctx);
  register_read(routes, ctx);
  register_update_delete(routes, ctx);
  register_set_state(routes, ctx);
  register_states(routes, ctx);
}

}  // namespace osprey::http

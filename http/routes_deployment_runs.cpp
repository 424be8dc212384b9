// Runs of deployments: create_flow_run (through the flow-run registry, like POST /api/flow_runs/),
// create_flow_run/bulk (up to 100, each CREATED or FAILED), pause_deployment / resume_deployment, and
// get_scheduled_flow_runs (what a serving Runner polls).
#include <memory>
#include <mutex>

#include "actors/flow_runs.hpp"
#include "actors/scheduler.hpp"
#include "domain/filters.hpp"
#include "domain/orchestration.hpp"
#include "domain/run_bookkeeping.hpp"
#include "http/api_support.hpp"
#include "http/routes_deployments.hpp"
#include "http/shapes.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/deployment_store.hpp"
#include "persistence/filter_sql.hpp"
#include "persistence/flow_run_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
const std::string base = "/api/deployments";

client_info client_of(const request& req) {
  client_info c;
  c.client_version = parse_prefect_user_agent(req.header("user-agent"));
  c.api_version = parse_api_version(req.header("x-prefect-api-version"));
  return c;
}

/// DeploymentFlowRunCreate, read into the parts the deployment's defaults are merged with.
struct run_request {
  flow_run run;
  run_state initial;
  json parameters = json::object();
  std::vector<std::string> tags;
  std::optional<bool> enforce;
  std::optional<std::string> work_queue_name;
};

bool read_run_request(const json& body, timestamp now, run_request& r, response& error) {
  body_reader in(body);
  std::optional<std::string> name;
  json state_body, labels = json::object();
  bool has_state = false;
  if (!in.any("state", state_body, &has_state) || !in.optional_string("name", name) ||
      !in.object("parameters", r.parameters) || !in.optional_bool("enforce_parameter_schema", r.enforce) ||
      !in.object("context", r.run.context) ||
      !in.optional_uuid("infrastructure_document_id", r.run.infrastructure_document_id) ||
      !in.object("empirical_policy", r.run.empirical_policy) || !in.string_list("tags", r.tags) ||
      !in.optional_string("idempotency_key", r.run.idempotency_key) || !in.object("labels", labels) ||
      !in.optional_uuid("parent_task_run_id", r.run.parent_task_run_id) ||
      !in.optional_string("work_queue_name", r.work_queue_name) || !in.object("job_variables", r.run.job_variables) ||
      !in.finish()) {
    error = in.error();
    return false;
  }
  r.run.name = name && !name->empty() ? *name : generate_run_name();
  r.run.labels = labels;
  r.run.empirical_policy = normalize_flow_run_policy(r.run.empirical_policy);
  if (has_state && !state_body.is_null()) {
    auto parsed = parse_state_create(state_body, "state", error);
    if (!parsed) return false;
    r.initial = *parsed;
  } else {
    // Prefect's default: Scheduled to start now.
    r.initial = make_server_state(state_type::scheduled, now);
    r.initial.details["scheduled_time"] = format_iso8601(now);
  }
  return true;
}

/// The run the deployment and the request make together, or why there is none (Prefect's words and codes).
result<flow_run> merge(const deployment& d, run_request r, persistence::sql_connection& c) {
  deployment_run_request request{std::move(r.run), std::move(r.parameters), std::move(r.tags), r.enforce,
                                 std::move(r.work_queue_name)};
  return merge_deployment_run(d, std::move(request), [&c](const std::string& pool, const std::string& queue) {
    auto found = persistence::find_work_queue(c, pool, queue);
    return found.queue ? std::optional(named_queue{found.queue->id, found.queue->name}) : std::nullopt;
  });
}

void register_create_flow_run(router& routes, const api_context& ctx) {
  routes.add(
      "POST", base + "/{id}/create_flow_run", "Create a flow run from a deployment (Scheduled unless a state is given)",
      [ctx](request& req, responder respond) {
        auto id = path_uuid(req, "id", respond);
        if (!id) return;
        response error;
        auto body = parse_object_body(req, error);
        if (!body) return respond(std::move(error));
        run_request r;
        const auto now = ctx.time->now();
        if (!read_run_request(*body, now, r, error)) return respond(std::move(error));
        r.run.id = flow_run_id{new_uuid7(now)};
        r.run.created = r.run.updated = now;
        const auto initial = r.initial;
        persistence::read_value(
            ctx.db,
            [d_id = deployment_id{*id}, r](persistence::sql_connection& c) -> result<flow_run> {
              auto d = persistence::find_deployment(c, d_id);
              if (!d) return status(errc::not_found, "Deployment not found");
              return merge(*d, r, c);
            },
            [ctx, initial, client = client_of(req), respond](result<flow_run> run) {
              if (!run) {
                if (run.error().code() == errc::invalid_argument)
                  return respond(response::detail(400, run.error().message()));
                return respond(error_response(run.error()));
              }
              actors::create_flow_run(
                  ctx.flow_runs, {std::move(*run), initial, client, std::nullopt},
                  [ctx, respond](const actors::creation_outcome& out) {
                    if (!out.error) return respond(error_response(out.error));
                    respond(response::json(out.created ? 201 : 200, to_json(out.stored, ctx.time->now()).dump()));
                  });
            });
      });
}

// Prefect's FlowRunBulkCreateResponse: one {flow_run_id, status: CREATED|FAILED, error} per requested run, in
// request order. A run refused by the deployment (parameters, queue) is FAILED; the others are still created.
constexpr std::size_t bulk_create_limit = 100;

json created_result(const result<flow_run>& r) {
  if (!r) return {{"flow_run_id", nullptr}, {"status", "FAILED"}, {"error", r.error().message()}};
  return {{"flow_run_id", r->id.to_string()}, {"status", "CREATED"}, {"error", nullptr}};
}

void register_create_flow_run_bulk(router& routes, const api_context& ctx) {
  routes.add(
      "POST", base + "/{id}/create_flow_run/bulk", "Create up to 100 flow runs from a deployment ({results: [...]})",
      [ctx](request& req, responder respond) {
        auto id = path_uuid(req, "id", respond);
        if (!id) return;
        response error;
        auto body = parse_json_body(req, error);
        if (!body) return respond(std::move(error));
        if (!body->is_array()) return respond(validation_error("", "Input should be a valid list", "list_type"));
        if (body->size() > bulk_create_limit)
          return respond(response::detail(
              400, "Cannot create more than " + std::to_string(bulk_create_limit) + " flow runs at once."));
        std::vector<run_request> requests(body->size());
        const auto now = ctx.time->now();
        for (std::size_t i = 0; i < body->size(); ++i) {
          const auto& item = (*body)[i];
          if (!item.is_object())
            return respond(validation_error(std::to_string(i), "Input should be a valid dictionary", "model_type"));
          if (!read_run_request(item, now, requests[i], error)) return respond(std::move(error));
          requests[i].run.id = flow_run_id{new_uuid7(now)};
          requests[i].run.created = requests[i].run.updated = now;
        }
        persistence::read_value(
            ctx.db,
            [d_id = deployment_id{*id},
             requests](persistence::sql_connection& c) -> result<std::vector<result<flow_run>>> {
              auto d = persistence::find_deployment(c, d_id);
              if (!d) return status(errc::not_found, "Deployment not found");
              std::vector<result<flow_run>> runs;
              for (const auto& r : requests) runs.push_back(merge(*d, r, c));
              return runs;
            },
            [ctx, requests, client = client_of(req), respond](result<std::vector<result<flow_run>>> runs) {
              if (!runs) return respond(error_response(runs.error()));
              struct gathering {
                std::mutex lock;
                std::vector<result<flow_run>> runs;
                std::size_t waiting = 0;
              };
              auto g = std::make_shared<gathering>();
              g->runs = std::move(*runs);
              auto answer = [g, respond] {
                json results = json::array();
                for (const auto& r : g->runs) results.push_back(created_result(r));
                respond(response::json(200, json{{"results", results}}.dump()));
              };
              for (const auto& r : g->runs) g->waiting += r ? 1 : 0;
              if (g->waiting == 0) return answer();
              for (std::size_t i = 0; i < g->runs.size(); ++i) {
                if (!g->runs[i]) continue;
                actors::create_flow_run(ctx.flow_runs, {*g->runs[i], requests[i].initial, client, std::nullopt},
                                        [g, i, answer](const actors::creation_outcome& out) {
                                          std::unique_lock guard(g->lock);
                                          if (!out.error)
                                            g->runs[i] = out.error;
                                          else
                                            g->runs[i] = out.stored;
                                          if (--g->waiting > 0) return;
                                          guard.unlock();
                                          answer();
                                        });
              }
            });
      });
}

// Prefect's schedule_deployment: every body parameter optional (start_time now, end_time start + the
// scheduler's max time, min_time in seconds, min_runs/max_runs the scheduler's); answers null.
void register_schedule(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/{id}/schedule", "Schedule a deployment's runs in a window (a backfill when it is past)",
             [ctx](request& req, responder respond) {
               auto id = path_uuid(req, "id", respond);
               if (!id) return;
               response error;
               json body = json::object();
               if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
                 auto parsed = parse_object_body(req, error);
                 if (!parsed) return respond(std::move(error));
                 body = std::move(*parsed);
               }
               const auto now = ctx.time->now();
               auto window = ctx.scheduling;
               timestamp start = now;
               std::optional<timestamp> end;
               for (const char* key : {"start_time", "end_time"}) {
                 auto it = body.find(key);
                 if (it == body.end() || it->is_null()) continue;
                 auto t = it->is_string() ? parse_iso8601(it->get<std::string>()) : std::nullopt;
                 if (!t) return respond(validation_error(key, "Input should be a valid datetime", "datetime_parsing"));
                 (std::string_view(key) == "start_time" ? start : end.emplace()) = *t;
               }
               if (auto it = body.find("min_time"); it != body.end() && !it->is_null()) {
                 if (!it->is_number())
                   return respond(validation_error("min_time", "Input should be a valid number", "float_type"));
                 window.min_time = std::chrono::seconds(static_cast<std::int64_t>(it->get<double>()));
               }
               for (const char* key : {"min_runs", "max_runs"}) {
                 auto it = body.find(key);
                 if (it == body.end() || it->is_null()) continue;
                 if (!it->is_number_integer() || it->get<std::int64_t>() < 0)
                   return respond(validation_error(key, "Input should be a valid integer", "int_type"));
                 (std::string_view(key) == "min_runs" ? window.min_runs : window.max_runs) =
                     static_cast<std::size_t>(it->get<std::int64_t>());
               }
               if (end) {
                 if (*end < start) return respond(response::json(200, "null"));  // an empty window schedules nothing
                 window.max_time = std::chrono::duration_cast<std::chrono::seconds>(*end - start);
               }
               actors::schedule_deployment_runs(
                   ctx.flow_runs, ctx.db, deployment_id{*id}, start, window, *ctx.time,
                   [respond](const result<std::size_t>& created) {
                     respond(created ? response::json(200, "null") : error_response(created.error()));
                   });
             });
}

void register_pause_resume(router& routes, const api_context& ctx) {
  for (bool pause : {true, false}) {
    routes.add("POST", base + (pause ? "/{id}/pause_deployment" : "/{id}/resume_deployment"),
               pause ? "Pause a deployment: no new runs; its auto-scheduled runs still Scheduled are deleted"
                     : "Resume a deployment: the scheduler creates its runs again",
               [ctx, pause](request& req, responder respond) {
                 auto id = path_uuid(req, "id", respond);
                 if (!id) return;
                 persistence::write_value(
                     ctx.db,
                     [d = deployment_id{*id}, pause, now = ctx.time->now()](persistence::sql_connection& c) {
                       return persistence::pause_deployment(c, d, pause, now);
                     },
                     [ctx, respond](const status& s) {
                       if (!s) return respond(error_response(s));
                       wake_scheduler(ctx);
                       respond(response::json(200, "null"));
                     });
               });
  }
}

void register_get_scheduled(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/get_scheduled_flow_runs", "Scheduled runs of these deployments, due first (Runner polls)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               std::vector<std::string> ids;
               json scheduled_before, limit;
               body_reader in(*body);
               if (!in.string_list("deployment_ids", ids) || !in.any("scheduled_before", scheduled_before) ||
                   !in.any("limit", limit) || !in.finish())
                 return respond(in.error());
               if (!body->contains("deployment_ids"))
                 return respond(validation_error("deployment_ids", "Field required", "missing"));
               std::vector<uuid> deployments;
               for (const auto& text : ids) {
                 auto u = uuid::parse(text);
                 if (!u)
                   return respond(validation_error("deployment_ids", "Input should be a valid UUID", "uuid_parsing"));
                 deployments.push_back(*u);
               }
               // The same query as POST /api/flow_runs/filter with these filters (and its checks of limit and
               // scheduled_before).
               json query = {{"deployments", {{"id", {{"any_", ids}}}}},
                             {"flow_runs", {{"state", {{"type", {{"any_", {"SCHEDULED"}}}}}}}},
                             {"sort", "NEXT_SCHEDULED_START_TIME_ASC"}};
               if (!scheduled_before.is_null())
                 query["flow_runs"]["next_scheduled_start_time"] = {{"before_", scheduled_before}};
               if (!limit.is_null()) query["limit"] = limit;
               filters::filter_error refused;
               auto q = filters::parse_flow_run_query(query, filters::body_kind::filter, refused);
               if (!q)
                 return respond(refused.plain_detail
                                    ? response::detail(422, refused.message)
                                    : validation_error(refused.describe(), refused.message, refused.type));
               persistence::read_value(
                   ctx.db,
                   [q = *q](persistence::sql_connection& c) {
                     auto where = persistence::flow_run_where(c.dialect(), q.filters);
                     return persistence::select_flow_runs(c, where.sql, where.params, persistence::order_by(q.sort),
                                                          q.window.limit, q.window.offset);
                   },
                   [ctx, deployments, respond](const result<std::vector<flow_run>>& runs) {
                     if (!runs) return respond(error_response(runs.error()));
                     json out = json::array();
                     const auto now = ctx.time->now();
                     for (const auto& r : *runs) out.push_back(to_json(r, now));
                     respond(response::json(200, out.dump()));
                     // Prefect marks the polled deployments READY; a failure here only delays that.
                     persistence::write_value(
                         ctx.db,
                         [deployments, now](persistence::sql_connection& c) {
                           persistence::mark_deployments_polled(c, deployments, now);
                         },
                         [](const status&) {});
                   });
             });
}

}  // namespace

void register_deployment_run_routes(router& routes, const api_context& ctx) {
  register_create_flow_run(routes, ctx);
  register_create_flow_run_bulk(routes, ctx);
  register_schedule(routes, ctx);
  register_pause_resume(routes, ctx);
  register_get_scheduled(routes, ctx);
}

}  // namespace osprey::http

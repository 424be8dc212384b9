// The aggregates the UI's dashboard, runs and flows pages read, in Prefect's shapes (src/prefect/server/api/
// run_history.py, api/ui/flow_runs.py, api/ui/flows.py, api/ui/task_runs.py):
//   POST /api/flow_runs/history, /api/task_runs/history      runs per interval and state
//   POST /api/ui/flow_runs/history                           the runs scatter plot
//   POST /api/ui/flow_runs/count-task-runs                   task runs per flow run
//   POST /api/ui/flows/count-deployments, /ui/flows/next-runs
//   POST /api/ui/task_runs/dashboard/counts, /ui/task_runs/count
//   POST /api/flow_runs/lateness                             mean lateness of matching runs
//   GET  /api/ui/task_runs/{id}                              a task run with its flow run's name
// Bodies follow FastAPI: top-level keys without a parameter are ignored; filters are parsed by domain/filters.
#include <nlohmann/json.hpp>

#include "domain/filters.hpp"
#include "domain/run_history.hpp"
#include "http/api_support.hpp"
#include "http/routes.hpp"
#include "http/shapes.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/filter_sql.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/task_run_store.hpp"
#include "persistence/ui_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
using ordered = nlohmann::ordered_json;  ///< answers keep Prefect's field order

/// A request-validation 422 shaped as pydantic's, for `loc` under "body".
response invalid(json loc, const std::string& message, const std::string& type) {
  loc.insert(loc.begin(), "body");
  return response::json(
      422, dump_lenient({{"detail", message},
                         {"exception_message", "Invalid request received."},
                         {"exception_detail", json::array({{{"loc", loc}, {"msg", message}, {"type", type}}})}}));
}

response refusal(const filters::filter_error& e) {
  if (e.plain_detail) return response::detail(422, e.message);
  json loc = json::array();
  for (const auto& part : e.location) loc.push_back(part);
  return invalid(loc, e.message, e.type);
}

/// The body as an object ({} when absent or null); nullopt after answering 422.
std::optional<json> body_object(const request& req, const responder& respond) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  response error;
  auto body = parse_json_body(req, error);
  if (!body) {
    respond(std::move(error));
    return std::nullopt;
  }
  if (body->is_null()) return json::object();
  auto object = object_body(std::move(*body), error);
  if (!object) respond(std::move(error));
  return object;
}

/// The filter parameters among `keys` (flows, flow_runs, task_runs, deployments, work_pools, work_queues).
std::optional<filters::filter_set> read_filters(const json& body, std::initializer_list<const char*> keys,
                                                const responder& respond) {
  filters::filter_set set;
  filters::filter_error e;
  for (const std::string key : keys) {
    const auto it = body.find(key);
    if (it == body.end() || it->is_null()) continue;
    bool ok = true;
    if (key == "flows")
      ok = (set.flows = filters::parse_flow_filter(*it, {key}, e)).has_value();
    else if (key == "flow_runs")
      ok = (set.flow_runs = filters::parse_flow_run_filter(*it, {key}, e)).has_value();
    else if (key == "task_runs")
      ok = (set.task_runs = filters::parse_task_run_filter(*it, {key}, e)).has_value();
    else if (key == "deployments")
      ok = (set.deployments = filters::parse_deployment_filter(*it, {key}, e)).has_value();
    else if (key == "work_pools")
      ok = (set.work_pools = filters::parse_work_pool_filter(*it, {key}, e)).has_value();
    else if (key == "work_queues")
      ok = (set.work_queues = filters::parse_work_queue_filter(*it, {key}, e)).has_value();
    if (!ok) {
      respond(refusal(e));
      return std::nullopt;
    }
  }
  return set;
}

std::optional<timestamp> required_time(const json& body, const char* key, const responder& respond) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    respond(invalid({key}, "Field required", "missing"));
    return std::nullopt;
  }
  auto t = it->is_string() ? parse_iso8601(it->get<std::string>()) : std::nullopt;
  if (!t) respond(invalid({key}, "Input should be a valid datetime", "datetime_parsing"));
  return t;
}

/// A list of at most 200 UUIDs under `key` (required, embedded), as Prefect's Body(max_length=200).
std::optional<std::vector<uuid>> required_ids(const json& body, const char* key, const responder& respond) {
  const auto it = body.find(key);
  if (it == body.end()) {
    respond(invalid({key}, "Field required", "missing"));
    return std::nullopt;
  }
  if (!it->is_array()) {
    respond(invalid({key}, "Input should be a valid list", "list_type"));
    return std::nullopt;
  }
  if (it->size() > 200) {
    respond(invalid({key}, "List should have at most 200 items after validation, not " + std::to_string(it->size()),
                    "too_long"));
    return std::nullopt;
  }
  std::vector<uuid> ids;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& v = (*it)[i];
    auto u = v.is_string() ? uuid::parse(v.get<std::string>()) : std::nullopt;
    if (!u) {
      respond(invalid({key, i}, "Input should be a valid UUID", "uuid_parsing"));
      return std::nullopt;
    }
    ids.push_back(*u);
  }
  return ids;
}

ordered history_json(const std::vector<history_interval>& intervals) {
  ordered out = ordered::array();
  for (const auto& i : intervals) {
    ordered states = ordered::array();
    for (const auto& s : i.states)
      states.push_back({{"state_type", to_string(s.type)},
                        {"state_name", s.name},
                        {"count_runs", s.count},
                        {"sum_estimated_run_time", s.sum_estimated_run_time},
                        {"sum_estimated_lateness", s.sum_estimated_lateness}});
    out.push_back(
        {{"interval_start", format_iso8601(i.start)}, {"interval_end", format_iso8601(i.end)}, {"states", states}});
  }
  return out;
}

/// POST /api/flow_runs/history and /api/task_runs/history.
void register_history(router& routes, const api_context& ctx, bool flow_runs) {
  routes.add(
      "POST", flow_runs ? "/api/flow_runs/history" : "/api/task_runs/history",
      flow_runs ? "Flow runs per interval and state" : "Task runs per interval and state",
      [ctx, flow_runs](request& req, responder respond) {
        auto body = body_object(req, respond);
        if (!body) return;
        const auto start = required_time(*body, "history_start", respond);
        if (!start) return;
        const auto end = required_time(*body, "history_end", respond);
        if (!end) return;
        const auto seconds = body->find("history_interval_seconds");
        if (seconds == body->end()) return respond(invalid({"history_interval_seconds"}, "Field required", "missing"));
        if (!seconds->is_number())
          return respond(invalid({"history_interval_seconds"}, "Input should be a valid number", "float_parsing"));
        const auto interval = std::chrono::microseconds(static_cast<std::int64_t>(seconds->get<double>() * 1e6));
        if (interval < std::chrono::seconds(1)) return respond(response::detail(422, history_interval_too_small));
        auto set =
            flow_runs
                ? read_filters(*body, {"flows", "flow_runs", "task_runs", "deployments", "work_pools", "work_queues"},
                               respond)
                : read_filters(*body, {"flows", "flow_runs", "task_runs", "deployments"}, respond);
        if (!set) return;
        const auto count = history_interval_count(*start, *end, interval);
        persistence::read_value(
            ctx.db,
            [set = *set, flow_runs, from = *start, interval, count,
             now = ctx.time->now()](persistence::sql_connection& c) {
              if (flow_runs)
                return persistence::sum_flow_run_history(c, persistence::flow_run_where(c.dialect(), set), from,
                                                         interval, count, now);
              return persistence::sum_task_run_history(c, persistence::task_run_where(c.dialect(), set), from, interval,
                                                       count, now);
            },
            [start = *start, end = *end, interval, respond](const result<std::vector<history_group>>& groups) {
              if (!groups) return respond(error_response(groups.error()));
              respond(response::json(200, history_json(history_intervals(start, end, interval, *groups)).dump()));
            });
      });
}

/// POST /api/ui/flow_runs/history: one point per run for the scatter plot.
void register_scatter(router& routes, const api_context& ctx) {
  routes.add(
      "POST", "/api/ui/flow_runs/history", "Flow runs as points: state, start, duration, lateness",
      [ctx](request& req, responder respond) {
        auto body = body_object(req, respond);
        if (!body) return;
        std::int64_t limit = 1000, offset = 0;
        if (auto it = body->find("limit"); it != body->end() && !it->is_null()) {
          if (!it->is_number_integer())
            return respond(invalid({"limit"}, "Input should be a valid integer", "int_type"));
          limit = it->get<std::int64_t>();
          if (limit > 1000)
            return respond(invalid({"limit"}, "Input should be less than or equal to 1000", "less_than_equal"));
        }
        if (auto it = body->find("offset"); it != body->end() && !it->is_null()) {
          if (!it->is_number_integer())
            return respond(invalid({"offset"}, "Input should be a valid integer", "int_type"));
          offset = it->get<std::int64_t>();
          if (offset < 0)
            return respond(invalid({"offset"}, "Input should be greater than or equal to 0", "greater_than_equal"));
        }
        // The filters and sort through the flow-run query parser; limit and offset are this route's own.
        json query = json::object();
        for (const char* key : {"flows", "flow_runs", "task_runs", "deployments", "work_pools"})
          if (body->contains(key)) query[key] = (*body)[key];
        query["sort"] =
            body->contains("sort") && !(*body)["sort"].is_null() ? (*body)["sort"] : json("EXPECTED_START_TIME_DESC");
        filters::filter_error e;
        auto parsed = filters::parse_flow_run_query(query, filters::body_kind::filter, e);
        if (!parsed) return respond(refusal(e));
        persistence::read_value(
            ctx.db,
            [q = std::move(*parsed), limit = std::max<std::int64_t>(limit, 0), offset](persistence::sql_connection& c) {
              const auto where = persistence::flow_run_where(c.dialect(), q.filters);
              return persistence::select_flow_runs(c, where.sql, where.params, persistence::order_by(q.sort), limit,
                                                   offset);
            },
            [ctx, respond](const result<std::vector<flow_run>>& runs) {
              if (!runs) return respond(error_response(runs.error()));
              const auto now = ctx.time->now();
              ordered out = ordered::array();
              for (const auto& r : *runs) {
                const auto j = to_json(r, now);
                out.push_back({{"id", j["id"]},
                               {"state_type", j["state_type"]},
                               {"timestamp", j["start_time"].is_null() ? j["expected_start_time"] : j["start_time"]},
                               {"duration", j["estimated_run_time"]},
                               {"lateness", j["estimated_start_time_delta"]}});
              }
              respond(response::json(200, out.dump()));
            });
      });
}

/// {id: n} for every requested id, 0 when none.
ordered counts_json(const std::vector<uuid>& ids, const std::map<uuid, std::int64_t>& counts) {
  ordered out = ordered::object();
  for (const auto& id : ids) {
    const auto it = counts.find(id);
    out[id.to_string()] = it == counts.end() ? 0 : it->second;
  }
  return out;
}

/// A POST route whose body is {key: [ids]} and whose answer is {id: value}.
template <class Value>
void register_by_ids(router& routes, const api_context& ctx, const char* path, const char* summary, const char* key,
                     std::map<uuid, Value> (*query)(persistence::sql_connection&, const std::vector<uuid>&),
                     ordered (*render)(const std::vector<uuid>&, const std::map<uuid, Value>&)) {
  routes.add("POST", path, summary, [ctx, key, query, render](request& req, responder respond) {
    auto body = body_object(req, respond);
    if (!body) return;
    auto ids = required_ids(*body, key, respond);
    if (!ids) return;
    persistence::read_value(
        ctx.db, [ids = *ids, query](persistence::sql_connection& c) { return query(c, ids); },
        [ids = *ids, render, respond](const result<std::map<uuid, Value>>& found) {
          if (!found) return respond(error_response(found.error()));
          respond(response::json(200, render(ids, *found).dump()));
        });
  });
}

ordered next_runs_json(const std::vector<uuid>& ids, const std::map<uuid, persistence::next_flow_run>& runs) {
  ordered out = ordered::object();
  for (const auto& id : ids) {
    const auto it = runs.find(id);
    out[id.to_string()] =
        it == runs.end()
            ? ordered(nullptr)
            : ordered(ordered{{"id", it->second.id.to_string()},
                              {"flow_id", it->second.flow_id.to_string()},
                              {"name", it->second.name},
                              {"state_name", it->second.state_name},
                              {"state_type", it->second.state_type},
                              {"next_scheduled_start_time", format_iso8601(it->second.next_scheduled_start_time)}});
  }
  return out;
}

void register_task_run_counts(router& routes, const api_context& ctx) {
  routes.add("POST", "/api/ui/task_runs/dashboard/counts", "Finished task runs in 20 time buckets: completed, failed",
             [ctx](request& req, responder respond) {
               auto body = body_object(req, respond);
               if (!body) return;
               if (!body->contains("task_runs")) return respond(invalid({"task_runs"}, "Field required", "missing"));
               auto set = read_filters(
                   *body, {"flows", "flow_runs", "task_runs", "deployments", "work_pools", "work_queues"}, respond);
               if (!set) return;
               if (!set->task_runs || !set->task_runs->start_time || !set->task_runs->start_time->after)
                 return respond(response::detail(422, "task_runs.start_time.after_ is required"));
               const auto after = *set->task_runs->start_time->after;
               const auto before = set->task_runs->start_time->before;
               set->task_runs->state.reset();  // Prefect counts terminal runs, whatever state was asked for
               persistence::read_value(
                   ctx.db,
                   [set = *set,
                    span = dashboard_task_run_span(after, before, ctx.time->now())](persistence::sql_connection& c) {
                     return persistence::count_finished_task_runs(c, persistence::task_run_where(c.dialect(), set),
                                                                  span);
                   },
                   [respond](const result<std::vector<task_run_bucket>>& buckets) {
                     if (!buckets) return respond(error_response(buckets.error()));
                     ordered out = ordered::array();
                     for (const auto& b : *buckets) out.push_back({{"completed", b.completed}, {"failed", b.failed}});
                     respond(response::json(200, out.dump()));
                   });
             });
  routes.add("POST", "/api/ui/task_runs/count", "Task runs matching the filters, per state type",
             [ctx](request& req, responder respond) {
               auto body = body_object(req, respond);
               if (!body) return;
               auto set = read_filters(*body, {"flows", "flow_runs", "task_runs", "deployments"}, respond);
               if (!set) return;
               persistence::read_value(
                   ctx.db,
                   [set = *set](persistence::sql_connection& c) {
                     return persistence::count_task_runs_by_state(c,
                                                                  persistence::task_run_count_where(c.dialect(), set));
                   },
                   [respond](const result<std::map<std::string, std::int64_t>>& counts) {
                     if (!counts) return respond(error_response(counts.error()));
                     ordered out = ordered::object();  // CountByState, in its field order
                     for (const char* type : {"COMPLETED", "PENDING", "RUNNING", "FAILED", "CANCELLED", "CRASHED",
                                              "PAUSED", "CANCELLING", "SCHEDULED"}) {
                       const auto it = counts->find(type);
                       out[type] = it == counts->end() ? 0 : it->second;
                     }
                     respond(response::json(200, out.dump()));
                   });
             });
}

/// POST /api/flow_runs/lateness: the mean estimated lateness of the matching runs in seconds (null: none).
void register_lateness(router& routes, const api_context& ctx) {
  routes.add(
      "POST", "/api/flow_runs/lateness", "Average lateness of the matching flow runs, in seconds",
      [ctx](request& req, responder respond) {
        auto body = body_object(req, respond);
        if (!body) return;
        json query = json::object();
        for (const char* key : {"flows", "flow_runs", "task_runs", "deployments", "work_pools", "work_pool_queues"})
          if (body->contains(key)) query[key] = (*body)[key];
        filters::filter_error e;
        auto parsed = filters::parse_flow_run_query(query, filters::body_kind::count, e);
        if (!parsed) return respond(refusal(e));
        persistence::read_value(
            ctx.db,
            [set = std::move(parsed->filters), now = ctx.time->now()](persistence::sql_connection& c) {
              return persistence::sum_flow_run_lateness(c, persistence::flow_run_where(c.dialect(), set), now);
            },
            [respond](const result<persistence::lateness_sum>& total) {
              if (!total) return respond(error_response(total.error()));
              if (total->runs == 0) return respond(response::json(200, "null"));
              respond(response::json(200, json(total->seconds / static_cast<double>(total->runs)).dump()));
            });
      });
}

/// GET /api/ui/task_runs/{id}: the task run with its flow run's name (Prefect's UITaskRun).
void register_ui_task_run(router& routes, const api_context& ctx) {
  struct found {
    task_run run;
    std::optional<std::string> flow_run_name;
  };
  routes.add("GET", "/api/ui/task_runs/{id}", "A task run with its flow run's name",
             [ctx](request& req, responder respond) {
               const auto id = path_uuid(req, "id", respond);
               if (!id) return;
               persistence::read_value(
                   ctx.db,
                   [id = *id](persistence::sql_connection& c) -> result<found> {
                     auto run = persistence::find_task_run(c, id);
                     if (!run) return status(errc::not_found, "Task not found");
                     std::optional<std::string> name;
                     if (run->flow_run_id)
                       if (auto parent = persistence::find_flow_run(c, flow_run_id{*run->flow_run_id}))
                         name = parent->name;
                     return found{std::move(*run), std::move(name)};
                   },
                   [ctx, respond](const result<found>& f) {
                     if (!f) return respond(error_response(f.error()));
                     auto j = to_json(f->run, ctx.time->now());
                     j["flow_run_name"] = f->flow_run_name ? json(*f->flow_run_name) : json(nullptr);
                     respond(response::json(200, j.dump()));
                   });
             });
}

}  // namespace

void register_ui_run_routes(router& routes, const api_context& ctx) {
  register_history(routes, ctx, true);
  register_history(routes, ctx, false);
  register_scatter(routes, ctx);
  register_by_ids<std::int64_t>(routes, ctx, "/api/ui/flow_runs/count-task-runs",
                                "Task runs per flow run (subflow parents left out)", "flow_run_ids",
                                persistence::count_task_runs_by_flow_run, counts_json);
  register_by_ids<std::int64_t>(routes, ctx, "/api/ui/flows/count-deployments", "Deployments per flow", "flow_ids",
                                persistence::count_deployments_by_flow, counts_json);
  register_by_ids<persistence::next_flow_run>(routes, ctx, "/api/ui/flows/next-runs",
                                              "Each flow's next scheduled run (or null)", "flow_ids",
                                              persistence::next_runs_by_flow, next_runs_json);
  register_task_run_counts(routes, ctx);
  register_lateness(routes, ctx);
  register_ui_task_run(routes, ctx);
}

}  // namespace osprey::http

// The filter, count and paginate routes of flows and flow runs, and POST /api/logs/filter. Each parses its body
// with domain/filters.hpp (422 on anything Prefect would refuse), compiles it with persistence/filter_sql.hpp
// inside a read job on the connection's own dialect, and renders the rows.
#include <memory>
#include <utility>
#include <nlohmann/json.hpp>

#include "domain/filters.hpp"
#include "domain/log_record.hpp"
#include "http/api_support.hpp"
#include "http/routes.hpp"
#include "http/shapes.hpp"
#include "persistence/filter_sql.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/log_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;

// FastAPI reads an absent or `null` body as "every parameter at its default"; so do we.
std::optional<json> filter_body(const request& req, response& error) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  if (json::parse(req.body, nullptr, false).is_null()) return json::object();
  return parse_object_body(req, error);
}

// A refused body as Prefect answers it: the LimitBody HTTPException as {"detail"}; everything else as a
// request-validation 422 with pydantic's loc/msg/type.
response refusal(const filters::filter_error& e) {
  if (e.plain_detail) return response::detail(422, e.message);
  json loc = json::array({"body"});
  for (const auto& part : e.location) loc.push_back(part);
  return response::json(422, json{{"detail", e.describe()},
                                  {"exception_message", "Invalid request received."},
                                  {"exception_detail", json::array({{{"loc", loc}, {"msg", e.message}, {"type", e.type}}})}}
                                 .dump());
}

/// Parses the body with `parse(body, error)`; on failure answers and returns nullopt.
template <class Parse>
auto parsed_query(const request& req, const responder& respond, Parse parse)
    -> decltype(parse(json(), std::declval<filters::filter_error&>())) {
  response error;
  auto body = filter_body(req, error);
  if (!body) {
    respond(std::move(error));
    return std::nullopt;
  }
  filters::filter_error refused;
  auto q = parse(*body, refused);
  if (!q) respond(refusal(refused));
  return q;
}

json page_json(json results, std::int64_t count, const filters::page_window& w) {
  return json{{"results", std::move(results)}, {"count", count}, {"limit", w.limit}, {"pages", w.pages(count)},
              {"page", w.page}};
}

// Prefect's Log shape. `updated` equals `created`: log rows are never changed.
json log_json(const log_record& l) {
  auto optional_id = [](const std::optional<uuid>& u) { return u ? json(u->to_string()) : json(nullptr); };
  return json{{"id", l.id.to_string()},
              {"created", format_iso8601(l.created)},
              {"updated", format_iso8601(l.created)},
              {"name", l.name},
              {"level", l.level},
              {"message", l.message},
              {"timestamp", format_iso8601(l.at)},
              {"flow_run_id", optional_id(l.flow_run_id)},
              {"task_run_id", optional_id(l.task_run_id)}};
}

/// What a flow or flow-run read job fills in; `count` only for count and paginate.
template <class Row>
struct found_rows {
  std::vector<Row> rows;
  std::int64_t count = 0;
};

void register_flow_filters(router& routes, const api_context& ctx) {
  using kind = filters::body_kind;
  for (auto k : {kind::filter, kind::count, kind::paginate}) {
    const char* path = k == kind::filter ? "/api/flows/filter" : k == kind::count ? "/api/flows/count" : "/api/flows/paginate";
    const char* summary = k == kind::filter  ? "Flows matching a filter (sort, limit, offset)"
                          : k == kind::count ? "How many flows match a filter"
                                             : "A page of flows matching a filter ({results, count, limit, pages, page})";
    routes.add("POST", path, summary, [ctx, k](request& req, responder respond) {
      auto q = parsed_query(req, respond, [k](const json& b, filters::filter_error& e) {
        return filters::parse_flow_query(b, k, e);
      });
      if (!q) return;
      auto out = std::make_shared<found_rows<flow>>();
      ctx.db.read(
          [q = std::move(*q), k, out](persistence::sql_connection& c) {
            const auto where = persistence::flow_where(c.dialect(), q.filters);
            if (k != kind::count)
              out->rows = persistence::select_flows(c, where.sql, where.params, persistence::order_by(q.sort),
                                                    q.window.limit, q.window.offset);
            if (k != kind::filter) out->count = persistence::count_flows(c, where.sql, where.params);
          },
          [out, k, window = q->window, respond](const status& s) {
            if (!s) return respond(error_response(s));
            if (k == kind::count) return respond(response::json(200, json(out->count).dump()));
            json results = json::array();
            for (const auto& f : out->rows) results.push_back(to_json(f));
            if (k == kind::filter) return respond(response::json(200, results.dump()));
            respond(response::json(200, page_json(std::move(results), out->count, window).dump()));
          });
    });
  }
}

void register_flow_run_filters(router& routes, const api_context& ctx) {
  using kind = filters::body_kind;
  for (auto k : {kind::filter, kind::count, kind::paginate}) {
    const char* path = k == kind::filter  ? "/api/flow_runs/filter"
                       : k == kind::count ? "/api/flow_runs/count"
                                          : "/api/flow_runs/paginate";
    const char* summary = k == kind::filter  ? "Flow runs matching a filter (sort, limit, offset)"
                          : k == kind::count ? "How many flow runs match a filter"
                                             : "A page of flow runs matching a filter ({results, count, limit, pages, page})";
    routes.add("POST", path, summary, [ctx, k](request& req, responder respond) {
      auto q = parsed_query(req, respond, [k](const json& b, filters::filter_error& e) {
        return filters::parse_flow_run_query(b, k, e);
      });
      if (!q) return;
      auto out = std::make_shared<found_rows<flow_run>>();
      ctx.db.read(
          [q = std::move(*q), k, out](persistence::sql_connection& c) {
            const auto where = persistence::flow_run_where(c.dialect(), q.filters);
            if (k != kind::count)
              out->rows = persistence::select_flow_runs(c, where.sql, where.params, persistence::order_by(q.sort),
                                                        q.window.limit, q.window.offset);
            if (k != kind::filter) out->count = persistence::count_flow_runs(c, where.sql, where.params);
          },
          [ctx, out, k, window = q->window, respond](const status& s) {
            if (!s) return respond(error_response(s));
            if (k == kind::count) return respond(response::json(200, json(out->count).dump()));
            const auto now = ctx.time->now();
            json results = json::array();
            for (const auto& r : out->rows) results.push_back(to_json(r, now));
            if (k == kind::filter) return respond(response::json(200, results.dump()));
            respond(response::json(200, page_json(std::move(results), out->count, window).dump()));
          });
    });
  }
}

void register_log_filter(router& routes, const api_context& ctx) {
  routes.add("POST", "/api/logs/filter", "Logs matching a filter (sort TIMESTAMP_ASC by default, limit, offset)",
             [ctx](request& req, responder respond) {
               auto q = parsed_query(req, respond, [](const json& b, filters::filter_error& e) {
                 return filters::parse_log_query(b, e);
               });
               if (!q) return;
               auto out = std::make_shared<std::vector<log_record>>();
               ctx.db.read(
                   [q = std::move(*q), out](persistence::sql_connection& c) {
                     const auto where = persistence::log_where(c.dialect(), q.logs);
                     *out = persistence::select_logs(c, where.sql, where.params, persistence::order_by(q.sort),
                                                     q.window.limit, q.window.offset);
                   },
                   [out, respond](const status& s) {
                     if (!s) return respond(error_response(s));
                     json results = json::array();
                     for (const auto& l : *out) results.push_back(log_json(l));
                     respond(response::json(200, results.dump()));
                   });
             });
}

}  // namespace

void register_filter_routes(router& routes, const api_context& ctx) {
  register_flow_filters(routes, ctx);
  register_flow_run_filters(routes, ctx);
  register_log_filter(routes, ctx);
}

}  // namespace osprey::http

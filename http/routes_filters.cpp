// The filter, count and paginate routes of flows, flow runs and task runs, and POST /api/logs/filter. Each parses its
// body with domain/filters.hpp (422 on anything Prefect would refuse), compiles it with persistence/filter_sql.hpp
// inside a read job on the connection's own dialect, and renders the rows.
#include <utility>
#include <nlohmann/json.hpp>

#include "domain/filters.hpp"
#include "domain/log_record.hpp"
#include "http/api_support.hpp"
#include "http/routes.hpp"
#include "http/shapes.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/filter_sql.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/log_store.hpp"
#include "persistence/task_run_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;

// FastAPI reads an absent or `null` body as "every parameter at its default"; so do we.
std::optional<json> filter_body(const request& req, response& error) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  auto body = parse_json_body(req, error);
  if (!body) return std::nullopt;
  if (body->is_null()) return json::object();
  return object_body(std::move(*body), error);
}

// A refused body as Prefect answers it: the LimitBody HTTPException as {"detail"}; everything else as a
// request-validation 422 with pydantic's loc/msg/type.
response refusal(const filters::filter_error& e) {
  if (e.plain_detail) return response::detail(422, e.message);
  json loc = json::array({"body"});
  for (const auto& part : e.location) {
    // List positions are numbers in pydantic's locations.
    const bool index = !part.empty() && part.size() <= 9 && part.find_first_not_of("0123456789") == std::string::npos;
    loc.push_back(index ? json(std::stoll(part)) : json(part));
  }
  return response::json(
      422, dump_lenient({{"detail", e.describe()},
                         {"exception_message", "Invalid request received."},
                         {"exception_detail", json::array({{{"loc", loc}, {"msg", e.message}, {"type", e.type}}})}}));
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
  return json{{"results", std::move(results)},
              {"count", count},
              {"limit", w.limit},
              {"pages", w.pages(count)},
              {"page", w.page}};
}

/// What a filter, count or paginate read job returns; `count` only for count and paginate.
template <class Row>
struct found_rows {
  std::vector<Row> rows;
  std::int64_t count = 0;
};

/// How one kind of object is queried: parse the body, compile the filters, select and count rows, render one.
template <class Row, class Query>
struct queryable {
  const char* base;  ///< "/api/flow_runs"
  const char* noun;  ///< "flow runs"
  std::optional<Query> (*parse)(const json&, filters::body_kind, filters::filter_error&);
  persistence::sql_where (*where)(persistence::dialect, const filters::filter_set&);
  /// For the sorted page read by filter and paginate, when it should differ from `where` (nullptr: the same).
  persistence::sql_where (*page_where)(persistence::dialect, const filters::filter_set&);
  std::vector<Row> (*select)(persistence::sql_connection&, const std::string&, const persistence::sql_params&,
                             const std::string&, std::int64_t, std::int64_t);
  /// For the count read by count and paginate, when it should differ from `where` (nullptr: the same).
  persistence::sql_where (*count_where)(persistence::dialect, const filters::filter_set&);
  std::int64_t (*count)(persistence::sql_connection&, const persistence::sql_where&);
  json (*render)(const Row&, timestamp now);
};

/// POST <base>/filter, <base>/count and <base>/paginate for one kind of object.
template <class Row, class Query>
void register_query_routes(router& routes, const api_context& ctx, const queryable<Row, Query>& q) {
  using kind = filters::body_kind;
  for (auto k : {kind::filter, kind::count, kind::paginate}) {
    const std::string path = std::string(q.base) + (k == kind::filter  ? "/filter"
                                                    : k == kind::count ? "/count"
                                                                       : "/paginate");
    const std::string summary =
        k == kind::filter  ? std::string("Read ") + q.noun + " matching a filter (sort, limit, offset)"
        : k == kind::count ? std::string("Count ") + q.noun + " matching a filter"
                           : std::string("A page of ") + q.noun + " ({results, count, limit, pages, page})";
    routes.add("POST", path, summary, [ctx, k, q](request& req, responder respond) {
      auto query =
          parsed_query(req, respond, [k, q](const json& b, filters::filter_error& e) { return q.parse(b, k, e); });
      if (!query) return;
      const auto window = query->window;
      persistence::read_value(
          ctx.db,
          [query = std::move(*query), k, q](persistence::sql_connection& c) {
            found_rows<Row> out;
            if (k != kind::count) {
              const auto where = (q.page_where ? q.page_where : q.where)(c.dialect(), query.filters);
              out.rows = q.select(c, where.sql, where.params, persistence::order_by(query.sort), query.window.limit,
                                  query.window.offset);
            }
            if (k != kind::filter) {
              const auto where = (q.count_where ? q.count_where : q.where)(c.dialect(), query.filters);
              out.count = q.count(c, where);
            }
            return out;
          },
          [ctx, k, q, window, respond](const result<found_rows<Row>>& out) {
            if (!out) return respond(error_response(out.error()));
            if (k == kind::count) return respond(response::json(200, json(out->count).dump()));
            const auto now = ctx.time->now();
            json results = json::array();
            for (const auto& row : out->rows) results.push_back(q.render(row, now));
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
               persistence::read_value(
                   ctx.db,
                   [q = std::move(*q)](persistence::sql_connection& c) {
                     const auto where = persistence::log_where(c.dialect(), q.logs);
                     return persistence::select_logs(c, where.sql, where.params, persistence::order_by(q.sort),
                                                     q.window.limit, q.window.offset);
                   },
                   [respond](const result<std::vector<log_record>>& logs) {
                     if (!logs) return respond(error_response(logs.error()));
                     json results = json::array();
                     for (const auto& l : *logs) results.push_back(to_json(l));
                     respond(response::json(200, results.dump()));
                   });
             });
}

}  // namespace

void register_filter_routes(router& routes, const api_context& ctx) {
  using persistence::sql_connection;
  using persistence::sql_where;
  register_query_routes(
      routes, ctx,
      queryable<flow, filters::flow_query>{
          "/api/flows", "flows", filters::parse_flow_query, persistence::flow_where, nullptr, persistence::select_flows,
          nullptr, [](sql_connection& c, const sql_where& w) { return persistence::count_flows(c, w.sql, w.params); },
          [](const flow& f, timestamp) { return to_json(f); }});
  register_query_routes(
      routes, ctx,
      queryable<flow_run, filters::flow_run_query>{
          "/api/flow_runs", "flow runs", filters::parse_flow_run_query, persistence::flow_run_where, nullptr,
          persistence::select_flow_runs, nullptr,
          [](sql_connection& c, const sql_where& w) { return persistence::count_flow_runs(c, w.sql, w.params); },
          [](const flow_run& r, timestamp now) { return to_json(r, now); }});
  register_query_routes(
      routes, ctx,
      queryable<task_run, filters::task_run_query>{"/api/task_runs", "task runs", filters::parse_task_run_query,
                                                   persistence::task_run_where, persistence::task_run_page_where,
                                                   persistence::select_task_runs, persistence::task_run_count_where,
                                                   [](sql_connection& c, const sql_where& w) {
                                                     return persistence::count_task_runs(c, w.sql, w.params, w.joins);
                                                   },
                                                   [](const task_run& t, timestamp now) { return to_json(t, now); }});
  register_log_filter(routes, ctx);
}

}  // namespace osprey::http

// GET /api/flow_runs/{id}/graph-v2: the flow run's task and subflow runs as Prefect's Graph (the flow-run page's
// timeline). Rows come from persistence/ui_store, nodes and edges from domain/run_graph. Artifacts are not
// placed on the graph yet (empty lists).
#include <nlohmann/json.hpp>

#include <limits>

#include "domain/run_graph.hpp"
#include "http/api_support.hpp"
#include "http/routes.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/ui_store.hpp"

namespace osprey::http {
namespace {

using ordered = nlohmann::ordered_json;

struct graph_data {
  persistence::run_span span;
  std::vector<graph_row> rows;
  std::vector<run_state> states;
};

ordered edges(const std::vector<uuid>& ids) {
  ordered out = ordered::array();
  for (const auto& id : ids) out.push_back({{"id", id.to_string()}});
  return out;
}

ordered optional_time(const std::optional<timestamp>& t) { return t ? ordered(format_iso8601(*t)) : ordered(nullptr); }

ordered graph_json(const graph_data& data, timestamp since) {
  ordered nodes = ordered::array();
  ordered roots = ordered::array();
  for (const auto& n : flow_run_graph_nodes(data.rows, since)) {
    if (n.parents.empty()) roots.push_back(n.id.to_string());
    nodes.push_back(ordered::array({n.id.to_string(),
                                    {{"kind", n.kind},
                                     {"id", n.id.to_string()},
                                     {"label", n.label},
                                     {"state_type", to_string(n.type)},
                                     {"start_time", format_iso8601(n.start_time)},
                                     {"end_time", optional_time(n.end_time)},
                                     {"parents", edges(n.parents)},
                                     {"children", edges(n.children)},
                                     {"encapsulating", edges(n.encapsulating)},
                                     {"artifacts", ordered::array()}}}));
  }
  ordered states = ordered::array();
  for (const auto& s : data.states)
    states.push_back({{"id", s.id.value.to_string()},
                      {"timestamp", format_iso8601(s.at)},
                      {"type", to_string(s.type)},
                      {"name", s.name}});
  return {{"start_time", optional_time(data.span.start)},
          {"end_time", optional_time(data.span.end)},
          {"root_node_ids", roots},
          {"nodes", nodes},
          {"artifacts", ordered::array()},
          {"states", states}};
}

}  // namespace

void register_flow_run_graph_routes(router& routes, const api_context& ctx) {
  routes.add("GET", "/api/flow_runs/{id}/graph-v2", "The flow run's task and subflow runs as a graph",
             [ctx](request& req, responder respond) {
               const auto run = path_uuid(req, "id", respond);
               if (!run) return;
               timestamp since{};
               if (const auto it = req.query.find("since"); it != req.query.end()) {
                 const auto parsed = parse_iso8601(it->second);
                 if (!parsed) return respond(response::detail(422, "since: Input should be a valid datetime"));
                 since = *parsed;
               } else {
                 since = timestamp(std::chrono::microseconds(std::numeric_limits<std::int64_t>::min() / 2));
               }
               persistence::read_value(
                   ctx.db,
                   [run = *run](persistence::sql_connection& c) -> result<graph_data> {
                     auto span = persistence::find_run_span(c, run);
                     if (!span) return status(errc::not_found, "Flow run not found");
                     return graph_data{*span, persistence::select_graph_rows(c, run),
                                       persistence::flow_run_state_history(c, flow_run_id{run})};
                   },
                   [since, respond](const result<graph_data>& data) {
                     if (!data) return respond(error_response(data.error()));
                     respond(response::json(200, graph_json(*data, since).dump()));
                   });
             });
}

}  // namespace osprey::http

// POST /api/flow_runs/bulk_delete and /api/flow_runs/bulk_set_state: up to 50 runs chosen by a FlowRunFilter
// (Prefect's default order, newest id first). Each run is deleted or transitioned through its own actor, as a
// single-run call would be, so orchestration rules, notifications and deployment slots behave the same.
#include <nlohmann/json.hpp>

#include "actors/flow_runs.hpp"
#include "http/api_support.hpp"
#include "http/object_fields.hpp"
#include "http/routes.hpp"
#include "http/shapes.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/filter_sql.hpp"
#include "persistence/flow_run_store.hpp"

namespace osprey::http {
namespace {

/// The runs a bulk body names: {flow_runs?: FlowRunFilter, limit?: 1..50}; other keys are ignored, as
/// FastAPI ignores them. Answers the refusal and returns nullopt when the body is bad.
struct bulk_selection {
  filters::filter_set filters;
  std::int64_t limit = bulk_operation_limit;
};

std::optional<bulk_selection> parse_selection(const nlohmann::json& body, response& error) {
  bulk_selection out;
  if (!object_fields::read_bulk_selection(body, "flow_runs", filters::parse_flow_run_filter, out.filters.flow_runs,
                                          out.limit, error))
    return std::nullopt;
  return out;
}

/// Reads the ids of the selected runs, then hands them to `then` (on a database thread).
void select_runs(const api_context& ctx, bulk_selection selection, const responder& respond,
                 std::function<void(std::vector<flow_run_id>)> then) {
  persistence::read_value(
      ctx.db,
      [selection = std::move(selection)](persistence::sql_connection& c) {
        auto where = persistence::flow_run_where(c.dialect(), selection.filters);
        std::vector<flow_run_id> ids;
        for (const auto& r :
             persistence::select_flow_runs(c, where.sql, where.params,
                                           persistence::order_by(filters::flow_run_sort::id_desc), selection.limit, 0))
          ids.push_back(r.id);
        return ids;
      },
      [respond, then = std::move(then)](result<std::vector<flow_run_id>> ids) {
        if (!ids) return respond(error_response(ids.error()));
        then(std::move(*ids));
      });
}

void register_bulk_delete(router& routes, const api_context& ctx) {
  routes.add("POST", "/api/flow_runs/bulk_delete", "Delete up to 50 flow runs matching a filter ({deleted: [ids]})",
             [ctx](request& req, responder respond) {
               response error;
               auto body = object_fields::optional_body(req, error);
               if (!body) return respond(std::move(error));
               auto selection = parse_selection(*body, error);
               if (!selection) return respond(std::move(error));
               select_runs(ctx, std::move(*selection), respond, [ctx, respond](std::vector<flow_run_id> ids) {
                 actors::remove_flow_runs(ctx.flow_runs, std::move(ids), [respond](const actors::removal_outcome& out) {
                   if (!out.error) return respond(error_response(out.error));
                   nlohmann::json deleted = nlohmann::json::array();
                   for (const auto& id : out.deleted) deleted.push_back(id.to_string());
                   respond(response::json(200, nlohmann::json{{"deleted", deleted}}.dump()));
                 });
               });
             });
}

// Prefect's FlowRunOrchestrationResult: a run whose transition failed is reported ABORT with the reason,
// and the others still go ahead.
nlohmann::json run_result(const flow_run_id& id, const actors::transition_outcome& outcome) {
  if (!outcome.error) {
    return {{"flow_run_id", id.to_string()},
            {"status", "ABORT"},
            {"state", nullptr},
            {"details", {{"type", "abort_details"}, {"reason", outcome.error.message()}}}};
  }
  auto out = orchestration_result(outcome.decision, outcome.state);
  out["flow_run_id"] = id.to_string();
  return out;
}

void register_bulk_set_state(router& routes, const api_context& ctx) {
  routes.add("POST", "/api/flow_runs/bulk_set_state",
             "Propose one state to up to 50 flow runs matching a filter ({results: [per-run orchestration result]})",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               auto selection = parse_selection(*body, error);
               if (!selection) return respond(std::move(error));
               auto state = body->find("state");
               if (state == body->end()) return respond(validation_error("state", "Field required", "missing"));
               auto proposed = parse_state_create(*state, "state", error);
               if (!proposed) return respond(std::move(error));
               bool force = false;
               if (auto f = body->find("force"); f != body->end() && !f->is_null()) {
                 if (!f->is_boolean())
                   return respond(validation_error("force", "Input should be a valid boolean", "bool_type"));
                 force = f->get<bool>();
               }
               actors::transition_call call{transition_request{*proposed, force}, {}};
               call.client.client_version = parse_prefect_user_agent(req.header("user-agent"));
               call.client.api_version = parse_api_version(req.header("x-prefect-api-version"));
               select_runs(ctx, std::move(*selection), respond, [ctx, respond, call](std::vector<flow_run_id> ids) {
                 auto order = ids;
                 actors::propose_transitions(
                     ctx.flow_runs, std::move(ids), call,
                     [respond, order](const std::vector<actors::transition_outcome>& outcomes) {
                       nlohmann::json results = nlohmann::json::array();
                       for (std::size_t i = 0; i < order.size(); ++i)
                         results.push_back(run_result(order[i], outcomes[i]));
                       respond(response::json(200, nlohmann::json{{"results", results}}.dump()));
                     });
               });
             });
}

}  // namespace

void register_flow_run_bulk_routes(router& routes, const api_context& ctx) {
  register_bulk_delete(routes, ctx);
  register_bulk_set_state(routes, ctx);
}

}  // namespace osprey::http

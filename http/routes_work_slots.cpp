// POST /api/work_pools/{name}/concurrency_status and /api/work_queues/{id}/concurrency_status: who holds the
// slots of a pool (per queue, queues paged) or of a queue (runs paged), as `prefect work-pool slots` and
// `prefect work-queue slots` show them. Which runs count is persistence/work_slot_store.hpp's.
#include <nlohmann/json.hpp>

#include "http/api_support.hpp"
#include "http/routes.hpp"
#include "http/work_pool_fields.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/work_pool_store.hpp"
#include "persistence/work_slot_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
namespace fields = work_pool_fields;

/// An integer body parameter in [min, max] (absent or null: `fallback`); a 422 in `error` otherwise.
std::optional<std::int64_t> bounded(const json& body, const char* key, std::int64_t fallback, std::int64_t min,
                                    std::int64_t max, response& error) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) {
    error = validation_error(key, "Input should be a valid integer", "int_type");
    return std::nullopt;
  }
  const auto v = it->get<std::int64_t>();
  if (v < min) {
    error =
        validation_error(key, "Input should be greater than or equal to " + std::to_string(min), "greater_than_equal");
    return std::nullopt;
  }
  if (v > max) {
    error = validation_error(key, "Input should be less than or equal to " + std::to_string(max), "less_than_equal");
    return std::nullopt;
  }
  return v;
}

json time_or_null(const std::optional<timestamp>& t) { return t ? json(format_iso8601(*t)) : json(); }

// Prefect's FlowRunSlotSummary; time_in_current_state in seconds, as Prefect's models serialise a timedelta.
json summary_json(const persistence::slot_holder& h, timestamp now) {
  json in_state;
  if (h.state_timestamp) in_state = std::chrono::duration<double>(now - *h.state_timestamp).count();
  return {{"id", h.id.to_string()},
          {"name", h.name},
          {"state_type", h.state_type ? json(*h.state_type) : json()},
          {"state_name", h.state_name ? json(*h.state_name) : json()},
          {"start_time", time_or_null(h.start_time)},
          {"state_timestamp", time_or_null(h.state_timestamp)},
          {"time_in_current_state", in_state}};
}

json limit_or_null(const std::optional<std::int64_t>& limit) { return limit ? json(*limit) : json(); }

struct paging {
  std::int64_t page = 1;
  std::int64_t limit = 200;
  std::int64_t flow_run_limit = 10;
};

std::optional<paging> read_paging(const request& req, response& error) {
  auto listing = fields::read_listing(req, "", error);
  if (!listing) return std::nullopt;
  paging p;
  p.limit = listing->limit;
  auto page = bounded(listing->body, "page", 1, 1, std::numeric_limits<std::int64_t>::max() / 1000, error);
  if (!page) return std::nullopt;
  auto runs = bounded(listing->body, "flow_run_limit", 10, 0, 200, error);
  if (!runs) return std::nullopt;
  p.page = *page;
  p.flow_run_limit = *runs;
  return p;
}

std::int64_t pages_of(std::int64_t count, std::int64_t limit) { return limit > 0 ? (count + limit - 1) / limit : 0; }

void register_pool_status(router& routes, const api_context& ctx) {
  routes.add("POST", "/api/work_pools/{name}/concurrency_status",
             "Who holds a work pool's slots, per queue (queues paged)", [ctx](request& req, responder respond) {
               response error;
               auto p = read_paging(req, error);
               if (!p) return respond(std::move(error));
               persistence::read_value(
                   ctx.db,
                   [name = req.path_params["name"], p = *p,
                    now = ctx.time->now()](persistence::sql_connection& c) -> result<json> {
                     auto pool = persistence::find_pool_by_name(c, name);
                     if (!pool) return status(errc::not_found, "Work pool '" + name + "' not found.");
                     auto all_queues = persistence::select_pool_queues(c, pool->id, persistence::sql_where{});
                     const auto count = static_cast<std::int64_t>(all_queues.size());
                     const auto offset = (p.page - 1) * p.limit;
                     std::vector<work_queue> page;
                     for (std::int64_t i = offset; i < count && i < offset + p.limit; ++i)
                       page.push_back(all_queues[i]);
                     std::vector<work_queue_id> ids;
                     for (const auto& q : page) ids.push_back(q.id);
                     auto counts = persistence::pool_slot_counts_by_queue(c, pool->id);
                     auto holders = persistence::pool_slot_holders(c, pool->id, ids, p.flow_run_limit);
                     std::int64_t active = 0;
                     for (const auto& [q, n] : counts) active += n;
                     json queues = json::array();
                     for (const auto& q : page) {
                       json runs = json::array();
                       for (const auto& h : holders)
                         if (h.queue == q.id.value) runs.push_back(summary_json(h, now));
                       const auto held = counts.count(q.id.value) ? counts[q.id.value] : 0;
                       queues.push_back({{"queue_id", q.id.to_string()},
                                         {"queue_name", q.name},
                                         {"active_slots", held},
                                         {"concurrency_limit", limit_or_null(q.concurrency_limit)},
                                         {"flow_runs", runs},
                                         {"flow_run_count", held}});
                     }
                     return json{
                         {"active_slots", active}, {"concurrency_limit", limit_or_null(pool->concurrency_limit)},
                         {"queues", queues},       {"count", count},
                         {"limit", p.limit},       {"pages", pages_of(count, p.limit)},
                         {"page", p.page}};
                   },
                   [respond](const result<json>& out) {
                     respond(out ? response::json(200, out->dump()) : error_response(out.error()));
                   });
             });
}

void register_queue_status(router& routes, const api_context& ctx) {
  routes.add(
      "POST", "/api/work_queues/{id}/concurrency_status", "Who holds a work queue's slots (runs paged)",
      [ctx](request& req, responder respond) {
        auto id = path_uuid(req, "id", respond);
        if (!id) return;
        response error;
        auto p = read_paging(req, error);
        if (!p) return respond(std::move(error));
        persistence::read_value(
            ctx.db,
            [qid = work_queue_id{*id}, p = *p, now = ctx.time->now()](persistence::sql_connection& c) -> result<json> {
              auto queue = persistence::find_queue(c, qid);
              if (!queue) return status(errc::not_found, "Work queue not found.");
              const auto count = persistence::count_queue_slot_holders(c, *queue);
              json runs = json::array();
              for (const auto& h : persistence::queue_slot_holders(c, *queue, p.limit, (p.page - 1) * p.limit))
                runs.push_back(summary_json(h, now));
              return json{{"active_slots", count}, {"concurrency_limit", limit_or_null(queue->concurrency_limit)},
                          {"flow_runs", runs},     {"count", count},
                          {"limit", p.limit},      {"pages", pages_of(count, p.limit)},
                          {"page", p.page}};
            },
            [respond](const result<json>& out) {
              respond(out ? response::json(200, out->dump()) : error_response(out.error()));
            });
      });
}

}  // namespace

void register_work_slot_routes(router& routes, const api_context& ctx) {
  register_pool_status(routes, ctx);
  register_queue_status(routes, ctx);
}

}  // namespace osprey::http

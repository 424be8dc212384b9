// POST /api/events/count-by/{countable}: events counted per day, time span, event name or resource, in Prefect's
// EventCount shape (src/prefect/server/api/events.py, events/counting.py). The grouping by name or resource runs
// in SQL (persistence/event_store); time spans are cut by domain/event_counts.
#include <nlohmann/json.hpp>

#include "domain/event_counts.hpp"
#include "http/api_support.hpp"
#include "http/routes.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/event_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;

nlohmann::ordered_json counts_json(const std::vector<event_count>& counts) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& c : counts)
    out.push_back({{"value", c.value},
                   {"label", c.label},
                   {"count", c.count},
                   {"start_time", format_iso8601(c.start_time)},
                   {"end_time", format_iso8601(c.end_time)}});
  return out;
}

void count_by(const api_context& ctx, request& req, const responder& respond) {
  const std::string countable = req.path_params["countable"];
  if (countable != "day" && countable != "time" && countable != "event" && countable != "resource")
    return respond(validation_error("countable", "Input should be 'day', 'time', 'event' or 'resource'", "enum"));
  response error;
  auto body = parse_object_body(req, error);
  if (!body) return respond(std::move(error));
  if (!body->contains("filter")) return respond(validation_error("filter", "Field required", "missing"));
  auto unit = time_unit::day;
  if (const auto it = body->find("time_unit"); it != body->end() && !it->is_null()) {
    const auto parsed = it->is_string() ? parse_time_unit(it->get<std::string>()) : std::nullopt;
    if (!parsed)
      return respond(
          validation_error("time_unit", "Input should be 'week', 'day', 'hour', 'minute' or 'second'", "enum"));
    unit = *parsed;
  }
  double interval = 1.0;
  if (const auto it = body->find("time_interval"); it != body->end() && !it->is_null()) {
    if (!it->is_number())
      return respond(validation_error("time_interval", "Input should be a valid number", "float_parsing"));
    interval = it->get<double>();
    if (interval < 0.01)
      return respond(
          validation_error("time_interval", "Input should be greater than or equal to 0.01", "greater_than_equal"));
  }
  const auto now = ctx.time->now();
  auto filter = parse_event_filter((*body)["filter"], now);
  if (!filter) return respond(validation_error("filter", filter.error().message()));
  if (countable == "day") {  // the legacy countable: one-day spans
    unit = time_unit::day;
    interval = 1.0;
  }
  if (countable == "event" || countable == "resource") {
    const auto by = countable == "event" ? persistence::event_grouping::event : persistence::event_grouping::resource;
    return persistence::read_value(
        ctx.db,
        [f = std::move(*filter), by](persistence::sql_connection& c) { return persistence::group_events(c, f, by); },
        [respond](const result<std::vector<event_group>>& groups) {
          if (!groups) return respond(error_response(groups.error()));
          respond(response::json(200, counts_json(merge_event_groups(*groups)).dump()));
        });
  }
  // Check the span count before reading anything (Prefect validates first, too).
  auto empty = count_events_by_time(filter->since, filter->until, unit, interval, {}, now);
  if (!empty) return respond(response::detail(422, empty.error().message()));
  persistence::read_value(
      ctx.db, [f = *filter](persistence::sql_connection& c) { return persistence::event_times(c, f); },
      [ctx, since = filter->since, until = filter->until, unit, interval,
       respond](const result<std::vector<timestamp>>& times) {
        if (!times) return respond(error_response(times.error()));
        auto counts = count_events_by_time(since, until, unit, interval, *times, ctx.time->now());
        if (!counts) return respond(response::detail(422, counts.error().message()));
        respond(response::json(200, counts_json(*counts).dump()));
      });
}

}  // namespace

void register_event_count_routes(router& routes, const api_context& ctx) {
  routes.add("POST", "/api/events/count-by/{countable}", "Events counted per day, time span, event name or resource",
             [ctx](request& req, responder respond) { count_by(ctx, req, respond); });
}

}  // namespace osprey::http

// /api/v2/concurrency_limits: global concurrency limits (create, read, update, delete, filter), taking and
// giving back slots (increment, decrement; with a lease: increment-with-lease, decrement-with-lease, renew).
// Every tagged task of Prefect 3.9.1 takes its slots through increment-with-lease with names "tag:<tag>", so
// a request naming no stored limit is answered from one read without writing anything.
#include <limits>
#include <nlohmann/json.hpp>

#include "actors/event_bus.hpp"
#include "domain/lifecycle_events.hpp"
#include "http/api_support.hpp"
#include "http/concurrency_fields.hpp"
#include "http/routes.hpp"
#include "persistence/concurrency_store.hpp"
#include "persistence/database_calls.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
namespace fields = concurrency_fields;

const std::string base = "/api/v2/concurrency_limits";
constexpr const char* not_found_detail = "Concurrency Limit not found";
constexpr double default_lease_seconds = 300;

/// Reads a ConcurrencyLimitV2Create body (create) or ConcurrencyLimitV2Update body (update) onto `l`.
bool read_limit(const json& body, concurrency_limit& l, bool create, response& error) {
  fields::reader in(body);
  if (!in.boolean("active", l.active) || !in.string("name", l.name, create) ||
      !in.integer("limit", l.limit, 0, false, create) || !in.integer("active_slots", l.active_slots, 0) ||
      !in.integer("denied_slots", l.denied_slots, 0) ||
      !in.number("slot_decay_per_second", l.slot_decay_per_second, 0, 1e300) || !in.finish()) {
    error = in.error();
    return false;
  }
  if (auto problem = validate_limit(l)) {
    error = validation_error(problem->field, problem->message, problem->type);
    return false;
  }
  return true;
}

/// Finds a limit by id (when the text is a UUID, as FastAPI's Union[UUID, str]) or else by name.
result<concurrency_limit> find_by_id_or_name(persistence::sql_connection& c, const std::string& id_or_name) {
  const auto id = uuid::parse(id_or_name);
  auto found =
      id ? persistence::find_limit(c, concurrency_limit_id{*id}) : persistence::find_limit_by_name(c, id_or_name);
  return persistence::or_not_found(std::move(found), not_found_detail);
}

std::chrono::microseconds seconds_to_duration(double seconds) {
  return std::chrono::microseconds(static_cast<std::int64_t>(std::llround(seconds * 1e6)));
}

/// Parses the body shared by increment and increment-with-lease.
bool read_acquire(const json& body, bool with_lease, persistence::acquire_request& r, response& error) {
  fields::reader in(body);
  double lease_seconds = default_lease_seconds;
  bool ok =
      in.integer("slots", r.slots, 0, true, true) && in.strings("names", r.names, 1, true) && in.mode("mode", r.mode);
  if (ok && with_lease)
    ok = in.number("lease_duration", lease_seconds, min_lease_seconds, max_lease_seconds) &&
         in.holder("holder", r.holder);
  if (ok && !with_lease) ok = in.ignored("create_if_missing");
  if (!ok || !in.finish()) {
    error = in.error();
    return false;
  }
  if (with_lease) r.lease_duration = seconds_to_duration(lease_seconds);
  return true;
}

/// The answer to an acquisition that went through the write job.
response acquire_answer(const persistence::acquire_outcome& out, bool with_lease) {
  switch (out.decision.verdict) {
    case acquire_verdict::too_many_slots:
    case acquire_verdict::needs_decay: return response::detail(422, out.decision.detail);
    case acquire_verdict::locked: return fields::locked(out.decision.retry_after_average);
    case acquire_verdict::granted: break;
  }
  json limits = json::array();
  for (const auto& l : out.limits) limits.push_back(fields::minimal_json(l, l.name));
  if (!with_lease) return response::json(200, limits.dump());
  const auto lease = out.lease ? out.lease->to_string() : new_uuid4().to_string();
  return response::json(200, json{{"lease_id", lease}, {"limits", limits}}.dump());
}

/// Takes the slots: one read, and a write job only when some named limit is stored.
void acquire(const api_context& ctx, persistence::acquire_request r, responder respond) {
  persistence::read_value(
      ctx.db, [names = r.names](persistence::sql_connection& c) { return persistence::limits_named(c, names); },
      [ctx, r, respond](result<std::vector<concurrency_limit>> found) {
        if (!found) return respond(error_response(found.error()));
        const bool with_lease = r.lease_duration.has_value();
        if (found->empty()) {
          json none =
              with_lease ? json{{"lease_id", new_uuid4().to_string()}, {"limits", json::array()}} : json::array();
          return respond(response::json(200, none.dump()));
        }
        persistence::write_value(
            ctx.db,
            [r, clock = ctx.time, caps = ctx.concurrency_waits](persistence::sql_connection& c) {
              return persistence::acquire_slots(c, r, clock->now(), caps);
            },
            [with_lease, respond](result<persistence::acquire_outcome> out) {
              respond(out ? acquire_answer(*out, with_lease) : error_response(out.error()));
            });
      });
}

void register_create(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/", "Create a global concurrency limit (201)", [ctx](request& req, responder respond) {
    response error;
    auto body = parse_object_body(req, error);
    if (!body) return respond(std::move(error));
    concurrency_limit l;
    l.id = concurrency_limit_id{new_uuid4()};
    l.created = l.updated = ctx.time->now();
    if (!read_limit(*body, l, true, error)) return respond(std::move(error));
    persistence::write_value(
        ctx.db, [l](persistence::sql_connection& c) { persistence::insert_limit(c, l); },
        [l, respond, bus = ctx.event_bus](const status& s) {
          if (s.code() == errc::conflict) return respond(fields::integrity_conflict());
          if (!s) return respond(error_response(s));
          actors::publish_events(bus, {global_limit_lifecycle_event(lifecycle_action::created, l, l.created)});
          respond(response::json(201, fields::limit_json(l).dump()));
        });
  });
}

void register_read(router& routes, const api_context& ctx) {
  routes.add("GET", base + "/{id_or_name}", "Read a global concurrency limit by id or name",
             [ctx](request& req, responder respond) {
               persistence::read_value(
                   ctx.db,
                   [key = req.path_params["id_or_name"]](persistence::sql_connection& c) {
                     return find_by_id_or_name(c, key);
                   },
                   [ctx, respond](const result<concurrency_limit>& l) {
                     respond(l ? response::json(200, fields::global_limit_json(*l, ctx.time->now()).dump())
                               : error_response(l.error()));
                   });
             });
}

void register_update(router& routes, const api_context& ctx) {
  routes.add("PATCH", base + "/{id_or_name}", "Update a global concurrency limit (204)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               // The body is checked before the limit is looked up (FastAPI answers 422 before 404); applied to
               // the stored limit it cannot fail again.
               concurrency_limit probe;
               probe.name = "probe";
               if (!read_limit(*body, probe, false, error)) return respond(std::move(error));
               persistence::write_value(
                   ctx.db,
                   [key = req.path_params["id_or_name"], body = *body,
                    clock = ctx.time](persistence::sql_connection& c) -> result<concurrency_limit> {
                     auto l = find_by_id_or_name(c, key);
                     if (!l) return l.error();
                     response ignored;
                     read_limit(body, *l, false, ignored);
                     l->updated = clock->now();  // Prefect's onupdate: the decays restart here
                     persistence::update_limit(c, *l);
                     return l;
                   },
                   [respond, bus = ctx.event_bus](const result<concurrency_limit>& l) {
                     if (!l && l.error().code() == errc::conflict) return respond(fields::integrity_conflict());
                     if (!l) return respond(error_response(l.error()));
                     actors::publish_events(bus,
                                            {global_limit_lifecycle_event(lifecycle_action::updated, *l, l->updated)});
                     respond(response::no_content());
                   });
             });
}

void register_delete(router& routes, const api_context& ctx) {
  routes.add("DELETE", base + "/{id_or_name}", "Delete a global concurrency limit (204)",
             [ctx](request& req, responder respond) {
               persistence::write_value(
                   ctx.db,
                   [key = req.path_params["id_or_name"]](persistence::sql_connection& c) -> result<concurrency_limit> {
                     auto l = find_by_id_or_name(c, key);
                     if (!l) return l.error();
                     persistence::delete_limit(c, l->id);
                     return l;
                   },
                   [respond, bus = ctx.event_bus, clock = ctx.time](const result<concurrency_limit>& l) {
                     if (!l) return respond(error_response(l.error()));
                     actors::publish_events(
                         bus, {global_limit_lifecycle_event(lifecycle_action::deleted, *l, clock->now())});
                     respond(response::no_content());
                   });
             });
}

void register_filter(router& routes, const api_context& ctx) {
  routes.add(
      "POST", base + "/filter", "List global concurrency limits by name (limit, offset)",
      [ctx](request& req, responder respond) {
        response error;
        auto body = fields::optional_object_body(req, error);
        if (!body) return respond(std::move(error));
        std::int64_t limit = 200, offset = 0;
        fields::reader in(*body);
        if (!in.integer("limit", limit, std::numeric_limits<std::int64_t>::min()) || !in.integer("offset", offset, 0) ||
            !in.finish())
          return respond(in.error());
        // LimitBody refuses out-of-range limits from route code: a plain {"detail"}.
        if (limit < 0) return respond(response::detail(422, "Invalid limit: must be greater than or equal to 0."));
        if (limit > 200) return respond(response::detail(422, "Invalid limit: must be less than or equal to 200."));
        persistence::read_value(
            ctx.db,
            [limit, offset](persistence::sql_connection& c) { return persistence::list_limits(c, limit, offset); },
            [ctx, respond](const result<std::vector<concurrency_limit>>& found) {
              if (!found) return respond(error_response(found.error()));
              json out = json::array();
              const auto now = ctx.time->now();
              for (const auto& l : *found) out.push_back(fields::global_limit_json(l, now));
              respond(response::json(200, out.dump()));
            });
      });
}

void register_increment(router& routes, const api_context& ctx, bool with_lease) {
  routes.add("POST", base + (with_lease ? "/increment-with-lease" : "/increment"),
             with_lease ? "Take slots under a lease (423 with Retry-After when full)"
                        : "Take slots (423 with Retry-After when full)",
             [ctx, with_lease](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               persistence::acquire_request r;
               if (!read_acquire(*body, with_lease, r, error)) return respond(std::move(error));
               acquire(ctx, std::move(r), std::move(respond));
             });
}

void register_decrement(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/decrement", "Give slots back", [ctx](request& req, responder respond) {
    response error;
    auto body = parse_object_body(req, error);
    if (!body) return respond(std::move(error));
    std::int64_t slots = 0;
    std::vector<std::string> names;
    double occupancy = 0;
    fields::reader in(*body);
    if (!in.integer("slots", slots, 0, true, true) || !in.strings("names", names, 1, true) ||
        !in.number("occupancy_seconds", occupancy, 0, 1e300) || !in.ignored("create_if_missing") || !in.finish())
      return respond(in.error());
    if (in.given("occupancy_seconds") && occupancy <= 0)
      return respond(validation_error("occupancy_seconds", "Input should be greater than 0", "greater_than"));
    const auto occupancy_seconds = in.given("occupancy_seconds") ? std::optional<double>(occupancy) : std::nullopt;
    persistence::write_value(
        ctx.db,
        [names, slots, occupancy_seconds, clock = ctx.time,
         caps = ctx.concurrency_waits](persistence::sql_connection& c) {
          return persistence::release_named(c, names, slots, occupancy_seconds, clock->now(), caps);
        },
        [respond](const result<std::vector<concurrency_limit>>& found) {
          if (!found) return respond(error_response(found.error()));
          json out = json::array();
          for (const auto& l : *found) out.push_back(fields::minimal_json(l, l.name));
          respond(response::json(200, out.dump()));
        });
  });
}

void register_decrement_with_lease(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/decrement-with-lease", "Give back a lease's slots (204; a second release is a no-op)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               std::optional<uuid> lease;
               fields::reader in(*body);
               if (!in.uuid_value("lease_id", lease, true) || !in.finish()) return respond(in.error());
               persistence::write_value(
                   ctx.db,
                   [lease = concurrency_lease_id{*lease}, clock = ctx.time, caps = ctx.concurrency_waits](
                       persistence::sql_connection& c) { persistence::release_lease(c, lease, clock->now(), caps); },
                   [respond](const status& s) { respond(s ? response::no_content() : error_response(s)); });
             });
}

void register_renew(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/leases/{lease_id}/renew", "Extend a lease (204; 410 when it is gone)",
             [ctx](request& req, responder respond) {
               auto lease = path_uuid(req, "lease_id", respond);
               if (!lease) return;
               response error;
               auto body = fields::optional_object_body(req, error);
               if (!body) return respond(std::move(error));
               double seconds = default_lease_seconds;
               fields::reader in(*body);
               if (!in.number("lease_duration", seconds, min_lease_seconds, max_lease_seconds) || !in.finish())
                 return respond(in.error());
               persistence::write_value(
                   ctx.db,
                   [id = concurrency_lease_id{*lease}, duration = seconds_to_duration(seconds),
                    clock = ctx.time](persistence::sql_connection& c) {
                     const auto now = clock->now();
                     return persistence::renew_lease(c, id, now + duration, now);
                   },
                   [respond](const result<bool>& renewed) {
                     if (!renewed) return respond(error_response(renewed.error()));
                     respond(*renewed ? response::no_content()
                                      : response::detail(410, "Lease not found - it may have expired or been revoked"));
                   });
             });
}

}  // namespace

void register_concurrency_routes(router& routes, const api_context& ctx) {
  register_create(routes, ctx);
  register_read(routes, ctx);
  register_update(routes, ctx);
  register_delete(routes, ctx);
  register_filter(routes, ctx);
  register_increment(routes, ctx, false);
  register_increment(routes, ctx, true);
  register_decrement(routes, ctx);
  register_decrement_with_lease(routes, ctx);
  register_renew(routes, ctx);
}

}  // namespace osprey::http

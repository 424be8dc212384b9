// /api/v2/concurrency_limits: global concurrency limits (create, read, update, delete, filter), taking and
// giving back slots (increment, decrement; with a lease: increment-with-lease, decrement-with-lease, renew).
// Every tagged task of Prefect 3.9.1 takes its slots through increment-with-lease with names "tag:<tag>", so
// a request naming no stored limit is answered from one read without writing anything.
#include <limits>
#include <nlohmann/json.hpp>

#include "http/api_support.hpp"
#include "http/concurrency_fields.hpp"
#include "http/routes.hpp"
#include "persistence/concurrency_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
namespace fields = concurrency_fields;

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
  if (auto s = validate_limit(l); !s) {
    const auto colon = s.message().find(": ");
    error = validation_error(s.message().substr(0, colon), s.message().substr(colon + 2));
    return false;
  }
  return true;
}

/// Finds a limit by id (when the text is a UUID, as FastAPI's Union[UUID, str]) or else by name.
std::optional<concurrency_limit> find_by_id_or_name(persistence::sql_connection& c, const std::string& id_or_name) {
  if (auto u = uuid::parse(id_or_name)) return persistence::find_limit(c, concurrency_limit_id{*u});
  return persistence::find_limit_by_name(c, id_or_name);
}

/// Parses the body shared by increment and increment-with-lease.
bool read_acquire(const json& body, bool with_lease, persistence::acquire_request& r, response& error) {
  fields::reader in(body);
  double lease_seconds = default_lease_seconds;
  bool ok = in.integer("slots", r.slots, 0, true, true) && in.strings("names", r.names, 1, true) &&
            in.mode("mode", r.mode);
  if (ok && with_lease)
    ok = in.number("lease_duration", lease_seconds, min_lease_seconds, max_lease_seconds) &&
         in.holder("holder", r.holder);
  if (ok && !with_lease) ok = in.ignored("create_if_missing");
  if (!ok || !in.finish()) {
    error = in.error();
    return false;
  }
  if (with_lease)
    r.lease_duration = std::chrono::microseconds(static_cast<std::int64_t>(std::llround(lease_seconds * 1e6)));
  return true;
}

/// Takes the slots: one read, and a write job only when some named limit is stored.
void acquire(const api_context& ctx, persistence::acquire_request r, responder respond) {
  auto found = std::make_shared<std::vector<concurrency_limit>>();
  ctx.db.read([names = r.names, found](persistence::sql_connection& c) { *found = persistence::limits_named(c, names); },
              [ctx, r, found, respond](const status& s) {
                if (!s) return respond(error_response(s));
                const bool with_lease = r.lease_duration.has_value();
                if (found->empty()) {
                  json empty = with_lease ? json{{"lease_id", new_uuid4().to_string()}, {"limits", json::array()}}
                                          : json::array();
                  return respond(response::json(200, empty.dump()));
                }
                auto out = std::make_shared<persistence::acquire_outcome>();
                ctx.db.write(
                    [r, out, clock = ctx.time, caps = ctx.concurrency_waits](persistence::sql_connection& c) {
                      *out = persistence::acquire_slots(c, r, clock->now(), caps);
                    },
                    [out, with_lease, respond](const status& st) {
                      if (!st) return respond(error_response(st));
                      switch (out->decision.verdict) {
                        case acquire_verdict::too_many_slots:
                        case acquire_verdict::needs_decay:
                          return respond(response::detail(422, out->decision.detail));
                        case acquire_verdict::locked:
                          return respond(fields::locked(out->decision.retry_after_average));
                        case acquire_verdict::granted: break;
                      }
                      json limits = json::array();
                      for (const auto& l : out->limits) limits.push_back(fields::minimal_json(l, l.name));
                      if (!with_lease) return respond(response::json(200, limits.dump()));
                      const auto lease = out->lease ? out->lease->to_string() : new_uuid4().to_string();
                      respond(response::json(200, json{{"lease_id", lease}, {"limits", limits}}.dump()));
                    });
              });
}

}  // namespace

void register_concurrency_routes(router& routes, const api_context& ctx) {
  const std::string base = "/api/v2/concurrency_limits";

  routes.add("POST", base + "/", "Create a global concurrency limit (201)", [ctx](request& req, responder respond) {
    response error;
    auto body = parse_object_body(req, error);
    if (!body) return respond(std::move(error));
    concurrency_limit l;
    l.id = concurrency_limit_id{new_uuid4()};
    l.created = l.updated = ctx.time->now();
    if (!read_limit(*body, l, true, error)) return respond(std::move(error));
    ctx.db.write([l](persistence::sql_connection& c) { persistence::insert_limit(c, l); },
                 [l, respond](const status& s) {
                   if (s.code() == errc::conflict) return respond(fields::integrity_conflict());
                   if (!s) return respond(error_response(s));
                   respond(response::json(201, fields::limit_json(l).dump()));
                 });
  });

  routes.add("GET", base + "/{id_or_name}", "Read a global concurrency limit by id or name",
             [ctx](request& req, responder respond) {
               auto found = std::make_shared<std::optional<concurrency_limit>>();
               ctx.db.read([key = req.path_params["id_or_name"], found](persistence::sql_connection& c) {
                 *found = find_by_id_or_name(c, key);
               },
                           [ctx, found, respond](const status& s) {
                             if (!s) return respond(error_response(s));
                             if (!*found) return respond(response::detail(404, not_found_detail));
                             respond(response::json(200, fields::global_limit_json(**found, ctx.time->now()).dump()));
                           });
             });

  routes.add("PATCH", base + "/{id_or_name}", "Update a global concurrency limit (204)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               // Validate the body's shape before looking the limit up (FastAPI answers 422 before 404).
               concurrency_limit probe;
               probe.name = "probe";
               if (!read_limit(*body, probe, false, error)) return respond(std::move(error));
               auto outcome = std::make_shared<std::optional<response>>();
               ctx.db.write(
                   [key = req.path_params["id_or_name"], body = *body, outcome,
                    clock = ctx.time](persistence::sql_connection& c) {
                     outcome->reset();
                     auto l = find_by_id_or_name(c, key);
                     response refusal;
                     if (!l) {
                       outcome->emplace(response::detail(404, not_found_detail));
                     } else if (!read_limit(body, *l, false, refusal)) {
                       outcome->emplace(std::move(refusal));  // not expected: the body passed the probe above
                     } else {
                       l->updated = clock->now();  // Prefect's onupdate: the decays restart here
                       persistence::update_limit(c, *l);
                     }
                   },
                   [outcome, respond](const status& s) {
                     if (s.code() == errc::conflict) return respond(fields::integrity_conflict());
                     if (!s) return respond(error_response(s));
                     respond(*outcome ? **outcome : response::no_content());
                   });
             });

  routes.add("DELETE", base + "/{id_or_name}", "Delete a global concurrency limit (204)",
             [ctx](request& req, responder respond) {
               auto deleted = std::make_shared<bool>(false);
               ctx.db.write([key = req.path_params["id_or_name"], deleted](persistence::sql_connection& c) {
                 auto l = find_by_id_or_name(c, key);
                 *deleted = l && persistence::delete_limit(c, l->id);
               },
                            [deleted, respond](const status& s) {
                              if (!s) return respond(error_response(s));
                              respond(*deleted ? response::no_content() : response::detail(404, not_found_detail));
                            });
             });

  routes.add("POST", base + "/filter", "List global concurrency limits by name (limit, offset)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = fields::optional_object_body(req, error);
               if (!body) return respond(std::move(error));
               std::int64_t limit = 200, offset = 0;
               fields::reader in(*body);
               // LimitBody refuses out-of-range limits from route code: a plain {"detail"}.
               if (!in.integer("limit", limit, std::numeric_limits<std::int64_t>::min()) || !in.integer("offset", offset, 0) || !in.finish())
                 return respond(in.error());
               if (limit < 0) return respond(response::detail(422, "Invalid limit: must be greater than or equal to 0."));
               if (limit > 200) return respond(response::detail(422, "Invalid limit: must be less than or equal to 200."));
               auto found = std::make_shared<std::vector<concurrency_limit>>();
               ctx.db.read([found, limit, offset](persistence::sql_connection& c) {
                 *found = persistence::list_limits(c, limit, offset);
               },
                           [ctx, found, respond](const status& s) {
                             if (!s) return respond(error_response(s));
                             json out = json::array();
                             const auto now = ctx.time->now();
                             for (const auto& l : *found) out.push_back(fields::global_limit_json(l, now));
                             respond(response::json(200, out.dump()));
                           });
             });

  for (const bool with_lease : {false, true}) {
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
    auto found = std::make_shared<std::vector<concurrency_limit>>();
    ctx.db.write([names, slots, occupancy_seconds, found, clock = ctx.time,
                  caps = ctx.concurrency_waits](persistence::sql_connection& c) {
      *found = persistence::release_named(c, names, slots, occupancy_seconds, clock->now(), caps);
    },
                 [found, respond](const status& s) {
                   if (!s) return respond(error_response(s));
                   json out = json::array();
                   for (const auto& l : *found) out.push_back(fields::minimal_json(l, l.name));
                   respond(response::json(200, out.dump()));
                 });
  });

  routes.add("POST", base + "/decrement-with-lease", "Give back a lease's slots (204; a second release is a no-op)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               std::optional<uuid> lease;
               fields::reader in(*body);
               if (!in.uuid_value("lease_id", lease, true) || !in.finish()) return respond(in.error());
               ctx.db.write([lease = concurrency_lease_id{*lease}, clock = ctx.time,
                             caps = ctx.concurrency_waits](persistence::sql_connection& c) {
                 persistence::release_lease(c, lease, clock->now(), caps);
               },
                            [respond](const status& s) {
                              respond(s ? response::no_content() : error_response(s));
                            });
             });

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
               const auto duration = std::chrono::microseconds(static_cast<std::int64_t>(std::llround(seconds * 1e6)));
               auto renewed = std::make_shared<bool>(false);
               ctx.db.write([id = concurrency_lease_id{*lease}, duration, renewed,
                             clock = ctx.time](persistence::sql_connection& c) {
                 const auto now = clock->now();
                 *renewed = persistence::renew_lease(c, id, now + duration, now);
               },
                            [renewed, respond](const status& s) {
                              if (!s) return respond(error_response(s));
                              if (!*renewed)
                                return respond(response::detail(
                                    410, "Lease not found - it may have expired or been revoked"));
                              respond(response::no_content());
                            });
             });
}

}  // namespace osprey::http

// /api/concurrency_limits: the v1 tag-limit API as Prefect 3.9.1 serves it — on top of the global limits named
// "tag:<tag>" (no v1 rows are written), with a task run's slot held by a lease that never needs renewing.
// `prefect concurrency-limit create|inspect|ls|reset|delete` use these routes.
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

constexpr const char* not_found_detail = "Concurrency limit not found";

/// A tag limit and the leases holding it, read in one job; `found` is false when there is none.
struct tag_limit_view {
  bool found = false;
  concurrency_limit limit;
  std::vector<concurrency_lease> holding;
};

void load_view(persistence::sql_connection& c, std::optional<concurrency_limit> l, timestamp now,
               tag_limit_view& view) {
  view.found = l.has_value();
  if (!l) return;
  view.limit = *l;
  view.holding = persistence::leases_holding(c, l->id, now);
}

void answer_view(const responder& respond, const status& s, const tag_limit_view& view, int code = 200) {
  if (!s) return respond(error_response(s));
  if (!view.found) return respond(response::detail(404, not_found_detail));
  respond(response::json(code, fields::v1_limit_json(view.limit, view.holding).dump()));
}

/// Deletes a limit and its leases; `pick` finds it inside the job.
void delete_limit(const api_context& ctx, std::function<std::optional<concurrency_limit>(persistence::sql_connection&)> pick,
                  const responder& respond) {
  auto deleted = std::make_shared<bool>(false);
  ctx.db.write([pick, deleted](persistence::sql_connection& c) {
    auto l = pick(c);
    *deleted = false;
    if (!l) return;
    persistence::drop_leases_on(c, l->id);
    *deleted = persistence::delete_limit(c, l->id);
  },
               [deleted, respond](const status& s) {
                 if (!s) return respond(error_response(s));
                 respond(*deleted ? response::json(200, "null") : response::detail(404, not_found_detail));
               });
}

}  // namespace

void register_concurrency_v1_routes(router& routes, const api_context& ctx) {
  const std::string base = "/api/concurrency_limits";

  routes.add("POST", base + "/", "Create or update the limit of a tag (201 new, 200 updated)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               std::string tag;
               std::int64_t limit = 0;
               fields::reader in(*body);
               if (!in.string("tag", tag, true) || !in.integer("concurrency_limit", limit, 0, false, true) ||
                   !in.finish())
                 return respond(in.error());
               concurrency_limit candidate;
               candidate.id = concurrency_limit_id{new_uuid4()};
               candidate.created = candidate.updated = ctx.time->now();
               candidate.name = "tag:" + tag;
               candidate.limit = limit;
               if (auto s = validate_object_name(tag); !s) return respond(validation_error("tag", s.message()));
               if (limit > max_slot_count)
                 return respond(validation_error("concurrency_limit", "Input should be less than or equal to " +
                                                                          std::to_string(max_slot_count)));
               auto view = std::make_shared<tag_limit_view>();
               auto created = std::make_shared<bool>(false);
               ctx.db.write([candidate, view, created](persistence::sql_connection& c) {
                 auto existing = persistence::find_limit_by_name(c, candidate.name);
                 *created = !existing;
                 if (existing) {
                   existing->limit = candidate.limit;
                   existing->updated = candidate.updated;
                   persistence::update_limit(c, *existing);
                 } else {
                   persistence::insert_limit(c, candidate);
                 }
                 load_view(c, existing ? existing : candidate, candidate.updated, *view);
               },
                            [view, created, respond](const status& s) {
                              answer_view(respond, s, *view, *created ? 201 : 200);
                            });
             });

  routes.add("GET", base + "/{id}", "Read a tag limit by id", [ctx](request& req, responder respond) {
    auto id = path_uuid(req, "id", respond);
    if (!id) return;
    auto view = std::make_shared<tag_limit_view>();
    ctx.db.read([id = concurrency_limit_id{*id}, view, clock = ctx.time](persistence::sql_connection& c) {
      auto l = persistence::find_limit(c, id);
      if (l && !l->name.starts_with("tag:")) l.reset();
      load_view(c, l, clock->now(), *view);
    },
                [view, respond](const status& s) { answer_view(respond, s, *view); });
  });

  routes.add("GET", base + "/tag/{tag}", "Read the limit of a tag", [ctx](request& req, responder respond) {
    auto view = std::make_shared<tag_limit_view>();
    ctx.db.read([name = "tag:" + req.path_params["tag"], view, clock = ctx.time](persistence::sql_connection& c) {
      load_view(c, persistence::find_limit_by_name(c, name), clock->now(), *view);
    },
                [view, respond](const status& s) { answer_view(respond, s, *view); });
  });

  routes.add("POST", base + "/filter", "List tag limits (limit, offset)", [ctx](request& req, responder respond) {
    response error;
    auto body = fields::optional_object_body(req, error);
    if (!body) return respond(std::move(error));
    std::int64_t limit = 200, offset = 0;
    fields::reader in(*body);
    if (!in.integer("limit", limit, std::numeric_limits<std::int64_t>::min()) || !in.integer("offset", offset, 0) ||
        !in.finish())
      return respond(in.error());
    if (limit < 0) return respond(response::detail(422, "Invalid limit: must be greater than or equal to 0."));
    if (limit > 200) return respond(response::detail(422, "Invalid limit: must be less than or equal to 200."));
    auto views = std::make_shared<std::vector<tag_limit_view>>();
    ctx.db.read([views, limit, offset, clock = ctx.time](persistence::sql_connection& c) {
      views->clear();
      std::int64_t index = 0;
      for (const auto& l : persistence::list_limits(c, std::numeric_limits<std::int32_t>::max(), 0)) {
        if (!l.name.starts_with("tag:") || index++ < offset) continue;
        if (static_cast<std::int64_t>(views->size()) >= limit) break;
        load_view(c, l, clock->now(), views->emplace_back());
      }
    },
                [views, respond](const status& s) {
                  if (!s) return respond(error_response(s));
                  json out = json::array();
                  for (const auto& v : *views) out.push_back(fields::v1_limit_json(v.limit, v.holding));
                  respond(response::json(200, out.dump()));
                });
  });

  routes.add("POST", base + "/tag/{tag}/reset", "Reset a tag's slots (optionally to slot_override task runs)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = fields::optional_object_body(req, error);
               if (!body) return respond(std::move(error));
               std::vector<std::string> texts;
               fields::reader in(*body);
               if (!in.strings("slot_override", texts, 0, false) || !in.finish()) return respond(in.error());
               std::vector<uuid> holders;
               for (const auto& t : texts) {
                 auto u = uuid::parse(t);
                 if (!u) return respond(validation_error("slot_override", "Input should be a valid UUID", "uuid_parsing"));
                 holders.push_back(*u);
               }
               auto found = std::make_shared<bool>(false);
               ctx.db.write([name = "tag:" + req.path_params["tag"], holders, found,
                             clock = ctx.time](persistence::sql_connection& c) {
                 auto l = persistence::find_limit_by_name(c, name);
                 *found = l.has_value();
                 if (l) persistence::reset_tag_limit(c, *l, holders, clock->now());
               },
                            [found, respond](const status& s) {
                              if (!s) return respond(error_response(s));
                              respond(*found ? response::json(200, "null") : response::detail(404, not_found_detail));
                            });
             });

  routes.add("DELETE", base + "/{id}", "Delete a limit by id", [ctx](request& req, responder respond) {
    auto id = path_uuid(req, "id", respond);
    if (!id) return;
    delete_limit(ctx, [id = concurrency_limit_id{*id}](auto& c) { return persistence::find_limit(c, id); }, respond);
  });

  routes.add("DELETE", base + "/tag/{tag}", "Delete the limit of a tag", [ctx](request& req, responder respond) {
    delete_limit(ctx, [name = "tag:" + req.path_params["tag"]](auto& c) { return persistence::find_limit_by_name(c, name); },
                 respond);
  });

  routes.add("POST", base + "/increment", "Take one slot of each tag's limit for a task run (423 when full)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               std::vector<std::string> tags;
               std::optional<uuid> task_run;
               fields::reader in(*body);
               if (!in.strings("names", tags, 0, true) || !in.uuid_value("task_run_id", task_run, true) || !in.finish())
                 return respond(in.error());
               auto out = std::make_shared<persistence::tag_acquire_outcome>();
               ctx.db.write([tags, task_run = *task_run, out, clock = ctx.time,
                             caps = ctx.concurrency_waits](persistence::sql_connection& c) {
                 *out = persistence::acquire_tag_slots(c, tags, task_run, clock->now(), caps);
               },
                            [out, respond, wait = ctx.concurrency_waits.tag_seconds](const status& s) {
                              using verdict = persistence::tag_acquire_outcome::verdict;
                              if (!s) return respond(error_response(s));
                              if (out->result == verdict::zero_limit)
                                return respond(response::detail(
                                    423, "The concurrency limit on tag \"" + out->tag +
                                             "\" is 0 and will deadlock if the task tries to run again."));
                              if (out->result == verdict::full) {
                                auto r = response::detail(423, "Concurrency limit for the " + out->tag +
                                                                   " tag has been reached");
                                r.headers.emplace_back("Retry-After", format_retry_after(wait));
                                return respond(std::move(r));
                              }
                              json limits = json::array();
                              for (const auto& l : out->limits) limits.push_back(fields::minimal_json(l, l.name.substr(4)));
                              respond(response::json(200, limits.dump()));
                            });
             });

  routes.add("POST", base + "/decrement", "Give back the slots a task run holds on tags' limits",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               std::vector<std::string> tags;
               std::optional<uuid> task_run;
               double occupancy = 0;
               fields::reader in(*body);
               if (!in.strings("names", tags, 0, true) || !in.uuid_value("task_run_id", task_run, true) ||
                   !in.number("occupancy_seconds", occupancy, -1e300, 1e300) || !in.finish())
                 return respond(in.error());
               auto found = std::make_shared<std::vector<concurrency_limit>>();
               ctx.db.write([tags, task_run = *task_run, found, clock = ctx.time,
                             caps = ctx.concurrency_waits](persistence::sql_connection& c) {
                 *found = persistence::release_tag_slots(c, tags, task_run, clock->now(), caps);
               },
                            [found, respond](const status& s) {
                              if (!s) return respond(error_response(s));
                              json out = json::array();
                              for (const auto& l : *found) out.push_back(fields::minimal_json(l, l.name));
                              respond(response::json(200, out.dump()));
                            });
             });
}

}  // namespace osprey::http

// /api/concurrency_limits: the v1 tag-limit API as Prefect 3.9.1 serves it — on top of the global limits named
// "tag:<tag>" (no v1 rows are written), with a task run's slot held by a lease that never needs renewing.
// `prefect concurrency-limit create|inspect|ls|reset|delete` use these routes.
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

const std::string base = "/api/concurrency_limits";
constexpr const char* not_found_detail = "Concurrency limit not found";

/// A tag limit and the leases holding its slots (Prefect's v1 ConcurrencyLimit lists their task runs).
struct tag_limit_view {
  concurrency_limit limit;
  std::vector<concurrency_lease> holding;
};

tag_limit_view view_of(persistence::sql_connection& c, const concurrency_limit& l, timestamp now) {
  return {l, persistence::leases_holding(c, l.id, now)};
}

result<tag_limit_view> find_view(persistence::sql_connection& c, std::optional<concurrency_limit> l, timestamp now) {
  if (!l) return status(errc::not_found, not_found_detail);
  return view_of(c, *l, now);
}

response view_answer(const result<tag_limit_view>& view, int code = 200) {
  return view ? response::json(code, fields::v1_limit_json(view->limit, view->holding).dump())
              : error_response(view.error());
}

/// Deletes a limit and its leases; `pick` finds it inside the job.
template <class Pick>
void delete_limit(const api_context& ctx, Pick pick, const responder& respond) {
  persistence::write_value(
      ctx.db,
      [pick](persistence::sql_connection& c) -> result<concurrency_limit> {
        std::optional<concurrency_limit> l = pick(c);
        if (!l) return status(errc::not_found, not_found_detail);
        persistence::drop_leases_on(c, l->id);
        persistence::delete_limit(c, l->id);
        return std::move(*l);
      },
      [respond, bus = ctx.event_bus, clock = ctx.time](const result<concurrency_limit>& l) {
        if (!l) return respond(error_response(l.error()));
        // Tag limits are global limits named "tag:<tag>" (as in Prefect 3.9.1): their events are the v2 ones.
        actors::publish_events(bus, {global_limit_lifecycle_event(lifecycle_action::deleted, *l, clock->now())});
        respond(response::json(200, "null"));
      });
}

void register_create(router& routes, const api_context& ctx) {
  routes.add(
      "POST", base + "/", "Create or update the limit of a tag (201 new, 200 updated)",
      [ctx](request& req, responder respond) {
        response error;
        auto body = parse_object_body(req, error);
        if (!body) return respond(std::move(error));
        std::string tag;
        std::int64_t limit = 0;
        fields::reader in(*body);
        if (!in.string("tag", tag, true) || !in.integer("concurrency_limit", limit, 0, false, true) || !in.finish())
          return respond(in.error());
        concurrency_limit candidate;
        candidate.id = concurrency_limit_id{new_uuid4()};
        candidate.created = candidate.updated = ctx.time->now();
        candidate.name = "tag:" + tag;
        candidate.limit = limit;
        if (auto s = validate_object_name(tag); !s) return respond(validation_error("tag", s.message()));
        if (auto problem = validate_limit(candidate))
          return respond(validation_error("concurrency_limit", problem->message, problem->type));
        persistence::write_value(
            ctx.db,
            [candidate](persistence::sql_connection& c) {
              auto stored = persistence::find_limit_by_name(c, candidate.name);
              const bool created = !stored;
              if (stored) {
                stored->limit = candidate.limit;
                stored->updated = candidate.updated;
                persistence::update_limit(c, *stored);
              } else {
                persistence::insert_limit(c, candidate);
              }
              return std::make_pair(created, view_of(c, stored.value_or(candidate), candidate.updated));
            },
            [respond, bus = ctx.event_bus](const result<std::pair<bool, tag_limit_view>>& out) {
              if (!out) return respond(error_response(out.error()));
              const auto& l = out->second.limit;
              actors::publish_events(
                  bus, {global_limit_lifecycle_event(out->first ? lifecycle_action::created : lifecycle_action::updated,
                                                     l, l.updated)});
              respond(view_answer(out->second, out->first ? 201 : 200));
            });
      });
}

void register_read(router& routes, const api_context& ctx) {
  routes.add("GET", base + "/{id}", "Read a tag limit by id", [ctx](request& req, responder respond) {
    auto id = path_uuid(req, "id", respond);
    if (!id) return;
    persistence::read_value(
        ctx.db,
        [id = concurrency_limit_id{*id}, clock = ctx.time](persistence::sql_connection& c) {
          auto l = persistence::find_limit(c, id);
          if (l && !l->name.starts_with("tag:")) l.reset();
          return find_view(c, l, clock->now());
        },
        [respond](const result<tag_limit_view>& view) { respond(view_answer(view)); });
  });
  routes.add("GET", base + "/tag/{tag}", "Read the limit of a tag", [ctx](request& req, responder respond) {
    persistence::read_value(
        ctx.db,
        [name = "tag:" + req.path_params["tag"], clock = ctx.time](persistence::sql_connection& c) {
          return find_view(c, persistence::find_limit_by_name(c, name), clock->now());
        },
        [respond](const result<tag_limit_view>& view) { respond(view_answer(view)); });
  });
}

void register_filter(router& routes, const api_context& ctx) {
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
    persistence::read_value(
        ctx.db,
        [limit, offset, clock = ctx.time](persistence::sql_connection& c) {
          std::vector<tag_limit_view> views;
          std::int64_t index = 0;
          for (const auto& l : persistence::list_limits(c, std::numeric_limits<std::int32_t>::max(), 0)) {
            if (!l.name.starts_with("tag:") || index++ < offset) continue;
            if (static_cast<std::int64_t>(views.size()) >= limit) break;
            views.push_back(view_of(c, l, clock->now()));
          }
          return views;
        },
        [respond](const result<std::vector<tag_limit_view>>& views) {
          if (!views) return respond(error_response(views.error()));
          json out = json::array();
          for (const auto& v : *views) out.push_back(fields::v1_limit_json(v.limit, v.holding));
          respond(response::json(200, out.dump()));
        });
  });
}

void register_reset(router& routes, const api_context& ctx) {
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
                 if (!u)
                   return respond(validation_error("slot_override", "Input should be a valid UUID", "uuid_parsing"));
                 holders.push_back(*u);
               }
               persistence::write_value(
                   ctx.db,
                   [name = "tag:" + req.path_params["tag"], holders,
                    clock = ctx.time](persistence::sql_connection& c) -> status {
                     auto l = persistence::find_limit_by_name(c, name);
                     if (!l) return status(errc::not_found, not_found_detail);
                     persistence::reset_tag_limit(c, *l, holders, clock->now());
                     return status::ok();
                   },
                   [respond](const status& s) { respond(s ? response::json(200, "null") : error_response(s)); });
             });
}

void register_delete(router& routes, const api_context& ctx) {
  routes.add("DELETE", base + "/{id}", "Delete a limit by id", [ctx](request& req, responder respond) {
    auto id = path_uuid(req, "id", respond);
    if (!id) return;
    delete_limit(
        ctx, [id = concurrency_limit_id{*id}](auto& c) { return persistence::find_limit(c, id); }, respond);
  });
  routes.add("DELETE", base + "/tag/{tag}", "Delete the limit of a tag", [ctx](request& req, responder respond) {
    delete_limit(
        ctx, [name = "tag:" + req.path_params["tag"]](auto& c) { return persistence::find_limit_by_name(c, name); },
        respond);
  });
}

/// 423 for a refused v1 increment: a zero limit would deadlock (no Retry-After), a full one waits the tag wait.
response refused(const persistence::tag_acquire_outcome& out, double tag_wait_seconds) {
  if (out.result == persistence::tag_acquire_outcome::verdict::zero_limit)
    return response::detail(
        423, "The concurrency limit on tag \"" + out.tag + "\" is 0 and will deadlock if the task tries to run again.");
  auto r = response::detail(423, "Concurrency limit for the " + out.tag + " tag has been reached");
  r.headers.emplace_back("Retry-After", format_retry_after(tag_wait_seconds));
  return r;
}

void register_increment(router& routes, const api_context& ctx) {
  routes.add(
      "POST", base + "/increment", "Take one slot of each tag's limit for a task run (423 when full)",
      [ctx](request& req, responder respond) {
        response error;
        auto body = parse_object_body(req, error);
        if (!body) return respond(std::move(error));
        std::vector<std::string> tags;
        std::optional<uuid> task_run;
        fields::reader in(*body);
        if (!in.strings("names", tags, 0, true) || !in.uuid_value("task_run_id", task_run, true) || !in.finish())
          return respond(in.error());
        persistence::write_value(
            ctx.db,
            [tags, task_run = *task_run, clock = ctx.time,
             caps = ctx.concurrency_waits](persistence::sql_connection& c) {
              return persistence::acquire_tag_slots(c, tags, task_run, clock->now(), caps);
            },
            [respond, wait = ctx.concurrency_waits.tag_seconds](const result<persistence::tag_acquire_outcome>& out) {
              if (!out) return respond(error_response(out.error()));
              if (out->result != persistence::tag_acquire_outcome::verdict::granted)
                return respond(refused(*out, wait));
              json limits = json::array();
              for (const auto& l : out->limits) limits.push_back(fields::minimal_json(l, l.name.substr(4)));
              respond(response::json(200, limits.dump()));
            });
      });
}

void register_decrement(router& routes, const api_context& ctx) {
  routes.add("POST", base + "/decrement", "Give back the slots a task run holds on tags' limits",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               std::vector<std::string> tags;
               std::optional<uuid> task_run;
               double occupancy = 0;  // accepted and unused, as by Prefect
               fields::reader in(*body);
               if (!in.strings("names", tags, 0, true) || !in.uuid_value("task_run_id", task_run, true) ||
                   !in.number("occupancy_seconds", occupancy, -1e300, 1e300) || !in.finish())
                 return respond(in.error());
               persistence::write_value(
                   ctx.db,
                   [tags, task_run = *task_run, clock = ctx.time,
                    caps = ctx.concurrency_waits](persistence::sql_connection& c) {
                     return persistence::release_tag_slots(c, tags, task_run, clock->now(), caps);
                   },
                   [respond](const result<std::vector<concurrency_limit>>& found) {
                     if (!found) return respond(error_response(found.error()));
                     json out = json::array();
                     for (const auto& l : *found) out.push_back(fields::minimal_json(l, l.name));
                     respond(response::json(200, out.dump()));
                   });
             });
}

}  // namespace

void register_concurrency_v1_routes(router& routes, const api_context& ctx) {
  register_create(routes, ctx);
  register_read(routes, ctx);
  register_filter(routes, ctx);
  register_reset(routes, ctx);
  register_delete(routes, ctx);
  register_increment(routes, ctx);
  register_decrement(routes, ctx);
}

}  // namespace osprey::http

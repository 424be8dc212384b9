// /api/flow_run_notification_policies (Prefect 2's shape where it fits) and /api/notifications/outbox.
// The routes translate; the rules (file policies are read-only, channels must be configured, ...) and the
// policy book's update live in notifications/policy_service.hpp.
#include <nlohmann/json.hpp>

#include "actors/messages.hpp"
#include "notifications/policy_service.hpp"
#include "http/api_support.hpp"
#include "http/routes.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/notification_store.hpp"

namespace osprey::http {
namespace {

nlohmann::json to_json(const notification_policy& p) {
  return {{"id", p.id ? nlohmann::json(p.id->to_string()) : nlohmann::json(nullptr)},
          {"name", p.name},
          {"is_active", p.is_active},
          {"source", p.source},
          {"state_names", p.match.state_names},
          {"tags", p.match.tags_any},
          {"block_document_id", nullptr},
          {"message_template", p.message_template ? nlohmann::json(*p.message_template) : nlohmann::json(nullptr)},
          {"channels", p.channels},
          {"match",
           {{"state_names", p.match.state_names},
            {"state_types", p.match.state_types},
            {"tags_any", p.match.tags_any},
            {"tags_none", p.match.tags_none},
            {"flows", p.match.flows},
            {"deployments", p.match.deployments}}},
          {"resolve_on", p.resolve_on},
          {"dedup_scope", p.scope == dedup_scope::deployment ? "deployment" : "flow_run"},
          {"send_resolved", p.send_resolved},
          {"group_wait_seconds", static_cast<double>(p.group_wait.count()) / 1000.0}};
}

nlohmann::json to_json(const persistence::outbox_job& j) {
  auto opt_time = [](const std::optional<timestamp>& t) {
    return t ? nlohmann::json(format_iso8601(*t)) : nlohmann::json(nullptr);
  };
  return {{"id", j.id.to_string()},
          {"created", format_iso8601(j.created)},
          {"policy_name", j.policy_name},
          {"channel_name", j.channel_name},
          {"flow_run_id", j.flow_run ? nlohmann::json(j.flow_run->to_string()) : nlohmann::json(nullptr)},
          {"state_name", j.state_name},
          {"kind", to_string(j.kind)},
          {"dedup_key", j.dedup_key},
          {"status", persistence::to_string(j.status)},
          {"attempts", j.attempts},
          {"next_attempt_at", format_iso8601(j.next_attempt_at)},
          {"last_error", j.last_error ? nlohmann::json(*j.last_error) : nlohmann::json(nullptr)},
          {"delivered_at", opt_time(j.delivered_at)},
          {"title", j.payload.value("title", "")}};
}

/// Reads a policy body onto `p` (create: from defaults; PATCH: from the stored policy): the shape of every
/// field; what the values must be is the service's check (answer_problem).
bool read_policy(const nlohmann::json& body, notification_policy& p, response& error) {
  body_reader in(body);
  std::optional<std::string> name, message_template, scope;
  std::optional<bool> active, send_resolved;
  std::optional<uuid> block;
  nlohmann::json match = nlohmann::json::object(), group_wait;
  bool has_group_wait = false;
  const bool template_present = body.contains("message_template");
  if (!in.optional_string("name", name) || !in.optional_bool("is_active", active) ||
      !in.string_list("state_names", p.match.state_names) || !in.string_list("tags", p.match.tags_any) ||
      !in.optional_uuid("block_document_id", block) || !in.optional_string("message_template", message_template) ||
      !in.string_list("channels", p.channels) || !in.object("match", match) ||
      !in.string_list("resolve_on", p.resolve_on) || !in.optional_string("dedup_scope", scope) ||
      !in.optional_bool("send_resolved", send_resolved) || !in.any("group_wait_seconds", group_wait, &has_group_wait) ||
      !in.finish()) {
    error = in.error();
    return false;
  }
  if (name) p.name = *name;
  if (active) p.is_active = *active;
  if (template_present) p.message_template = message_template;
  if (send_resolved) p.send_resolved = *send_resolved;
  body_reader m(match, "match");
  if (!m.string_list("state_names", p.match.state_names) || !m.string_list("state_types", p.match.state_types) ||
      !m.string_list("tags_any", p.match.tags_any) || !m.string_list("tags_none", p.match.tags_none) ||
      !m.string_list("flows", p.match.flows) || !m.string_list("deployments", p.match.deployments) || !m.finish()) {
    error = m.error();
    return false;
  }
  for (auto& t : p.match.state_types) {
    for (auto& ch : t) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (!parse_state_type(t)) {
      error = validation_error("match.state_types",
                               "Unknown state type '" + t +
                                   "' (expected SCHEDULED, PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, "
                                   "CRASHED, PAUSED or CANCELLING)");
      return false;
    }
  }
  if (scope) {
    if (*scope != "flow_run" && *scope != "deployment") {
      error = validation_error("dedup_scope", "Expected 'flow_run' or 'deployment'");
      return false;
    }
    p.scope = *scope == "deployment" ? dedup_scope::deployment : dedup_scope::flow_run;
  }
  if (has_group_wait && !group_wait.is_null()) {
    if (!group_wait.is_number() || group_wait.get<double>() < 0 || group_wait.get<double>() > 86400) {
      error = validation_error("group_wait_seconds", "Expected a number of seconds between 0 and 86400");
      return false;
    }
    p.group_wait = std::chrono::milliseconds(static_cast<std::int64_t>(group_wait.get<double>() * 1000));
  }
  if (block && p.channels.empty()) {
    // Prefect 2 clients send a block; say what Osprey wants instead.
    error = validation_error("channels",
                             "Osprey sends through the channels of its config file "
                             "(notifications.channels), not blocks: name them in 'channels'");
    return false;
  }
  return true;
}

/// A refused policy: a field's value as a validation error (422 with its location), anything else by its code.
response answer_problem(const notifications::policy_problem& problem) {
  if (!problem.field.empty()) return validation_error(problem.field, problem.why.message());
  return error_response(problem.why);
}

notifications::policy_service policies_of(const api_context& ctx) { return {ctx.db, ctx.notifications}; }

void register_create(router& routes, const api_context& ctx) {
  routes.add("POST", "/api/flow_run_notification_policies/", "Create a notification policy (201)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               notification_policy p;
               p.source = "api";
               p.id = new_uuid4();
               if (!read_policy(*body, p, error)) return respond(std::move(error));
               const auto service = policies_of(ctx);
               if (auto problem = service.check(p)) return respond(answer_problem(*problem));
               service.create(std::move(p), ctx.time->now(), [respond](const result<notification_policy>& created) {
                 respond(created ? response::json(201, to_json(*created).dump()) : error_response(created.error()));
               });
             });
}

void register_read(router& routes, const api_context& ctx) {
  routes.add("GET", "/api/flow_run_notification_policies/{id}", "Read a notification policy",
             [ctx](request& req, responder respond) {
               auto id = path_uuid(req, "id", respond);
               if (!id) return;
               policies_of(ctx).find(*id, [respond](const result<notification_policy>& found) {
                 respond(found ? response::json(200, to_json(*found).dump()) : error_response(found.error()));
               });
             });
}

void register_update(router& routes, const api_context& ctx) {
  routes.add("PATCH", "/api/flow_run_notification_policies/{id}", "Update a notification policy (204)",
             [ctx](request& req, responder respond) {
               auto id = path_uuid(req, "id", respond);
               if (!id) return;
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               const auto service = policies_of(ctx);
               // The body applies to the stored policy, so it is read first (file policies are refused there).
               service.find_editable(
                   *id, [ctx, service, body = std::move(*body), respond](result<notification_policy> stored) {
                     if (!stored) return respond(error_response(stored.error()));
                     auto p = std::move(*stored);
                     response err;
                     if (!read_policy(body, p, err)) return respond(std::move(err));
                     if (auto problem = service.check(p)) return respond(answer_problem(*problem));
                     service.update(std::move(p), ctx.time->now(), [respond](const status& s) {
                       respond(s ? response::no_content() : error_response(s));
                     });
                   });
             });
}

void register_delete(router& routes, const api_context& ctx) {
  routes.add("DELETE", "/api/flow_run_notification_policies/{id}", "Delete a notification policy (204)",
             [ctx](request& req, responder respond) {
               auto id = path_uuid(req, "id", respond);
               if (!id) return;
               policies_of(ctx).remove(
                   *id, [respond](const status& s) { respond(s ? response::no_content() : error_response(s)); });
             });
}

void register_filter(router& routes, const api_context& ctx) {
  routes.add("POST", "/api/flow_run_notification_policies/filter", "List notification policies",
             [ctx](request& req, responder respond) {
               response error;
               nlohmann::json body = nlohmann::json::object();
               if (!req.body.empty()) {
                 auto parsed = parse_object_body(req, error);
                 if (!parsed) return respond(std::move(error));
                 body = *parsed;
               }
               nlohmann::json filter = nlohmann::json::object(), active_filter = nlohmann::json::object();
               nlohmann::json limit = 200, offset = 0;
               body_reader in(body);
               if (!in.object("flow_run_notification_policy_filter", filter) || !in.any("limit", limit) ||
                   !in.any("offset", offset) || !in.finish())
                 return respond(in.error());
               body_reader f(filter, "flow_run_notification_policy_filter");
               if (!f.object("is_active", active_filter) || !f.finish()) return respond(f.error());
               notifications::policy_filter wanted;
               body_reader a(active_filter, "flow_run_notification_policy_filter.is_active");
               if (!a.optional_bool("eq_", wanted.active) || !a.finish()) return respond(a.error());
               if (!limit.is_number_integer() || limit.get<std::int64_t>() < 0 || !offset.is_number_integer() ||
                   offset.get<std::int64_t>() < 0)
                 return respond(validation_error("limit", "limit and offset must be non-negative integers"));
               wanted.limit = limit.get<std::int64_t>();
               wanted.offset = offset.get<std::int64_t>();
               policies_of(ctx).list(wanted, [respond](const result<std::vector<notification_policy>>& found) {
                 if (!found) return respond(error_response(found.error()));
                 nlohmann::json out = nlohmann::json::array();
                 for (const auto& p : *found) out.push_back(to_json(p));
                 respond(response::json(200, out.dump()));
               });
             });
}

void register_outbox(router& routes, const api_context& ctx) {
  routes.add("GET", "/api/notifications/outbox", "Notification deliveries (?status=pending|delivered|dead&limit=N)",
             [ctx](request& req, responder respond) {
               std::optional<persistence::outbox_status> status_filter;
               if (auto s = req.query.find("status"); s != req.query.end() && !s->second.empty()) {
                 status_filter = persistence::parse_outbox_status(s->second);
                 if (!status_filter) return respond(validation_error("status", "Expected pending, delivered or dead"));
               }
               std::int64_t limit = 100;
               if (auto l = req.query.find("limit"); l != req.query.end()) {
                 try {
                   limit = std::stoll(l->second);
                 } catch (const std::exception&) {
                   limit = -1;
                 }
                 if (limit < 1 || limit > 10000)
                   return respond(validation_error("limit", "Expected an integer between 1 and 10000"));
               }
               persistence::read_value(
                   ctx.db,
                   [status_filter, limit](persistence::sql_connection& c) {
                     return persistence::list_outbox(c, status_filter, limit);
                   },
                   [respond](const result<std::vector<persistence::outbox_job>>& jobs) {
                     if (!jobs) return respond(error_response(jobs.error()));
                     nlohmann::json out = nlohmann::json::array();
                     for (const auto& j : *jobs) out.push_back(to_json(j));
                     respond(response::json(200, out.dump()));
                   });
             });
}

void register_outbox_retry(router& routes, const api_context& ctx) {
  routes.add("POST", "/api/notifications/outbox/{id}/retry", "Send a dead (or pending) delivery again now",
             [ctx](request& req, responder respond) {
               auto id = path_uuid(req, "id", respond);
               if (!id) return;
               persistence::write_value(
                   ctx.db,
                   [id = *id, now = ctx.time->now()](persistence::sql_connection& c) -> status {
                     if (!persistence::requeue_job(c, id, now))
                       return {errc::not_found, "No pending or dead delivery with that id"};
                     return status::ok();
                   },
                   [respond, dispatcher = ctx.notification_dispatcher](const status& s) {
                     if (!s) return respond(error_response(s));
                     caf::anon_send(dispatcher, actors::sweep_atom_v);  // the dispatcher finds it due now
                     respond(response::no_content());
                   });
             });
}

}  // namespace

void register_notification_routes(router& routes, const api_context& ctx) {
  if (!ctx.notifications) return;
  register_create(routes, ctx);
  register_read(routes, ctx);
  register_update(routes, ctx);
  register_delete(routes, ctx);
  register_filter(routes, ctx);
  register_outbox(routes, ctx);
  register_outbox_retry(routes, ctx);
}

}  // namespace osprey::http

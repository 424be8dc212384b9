// /api/flow_run_notification_policies (Prefect 2's shape where it fits) and /api/notifications/outbox.
// Policies from the config file are listed but read-only here; API policies are stored in the database and
// take effect at once (the policy book is replaced after the commit).
#include <nlohmann/json.hpp>

#include "actors/messages.hpp"
#include "http/api_support.hpp"
#include "http/routes.hpp"
#include "persistence/notification_store.hpp"

namespace osprey::http {
namespace {

constexpr const char* not_found_detail = "flow run notification policy not found";

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
           {{"state_names", p.match.state_names}, {"state_types", p.match.state_types},
            {"tags_any", p.match.tags_any}, {"tags_none", p.match.tags_none}, {"flows", p.match.flows},
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
          {"kind", j.kind},
          {"dedup_key", j.dedup_key},
          {"status", j.status},
          {"attempts", j.attempts},
          {"next_attempt_at", format_iso8601(j.next_attempt_at)},
          {"last_error", j.last_error ? nlohmann::json(*j.last_error) : nlohmann::json(nullptr)},
          {"delivered_at", opt_time(j.delivered_at)},
          {"title", j.payload.value("title", "")}};
}

/// Reads a policy body onto `p` (create: from defaults; PATCH: from the stored policy). Checks channels
/// against the configured ones, state types and the template.
bool read_policy(const nlohmann::json& body, notification_policy& p, const actors::notification_rules& rules,
                 response& error) {
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
      error = validation_error("match.state_types", "Unknown state type '" + t +
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
  if (p.channels.empty()) {
    error = validation_error("channels", block ? "Osprey sends through the channels of its config file "
                                                "(notifications.channels), not blocks: name them in 'channels'"
                                              : "Name at least one channel from notifications.channels");
    return false;
  }
  for (const auto& c : p.channels) {
    if (!rules.settings.find_channel(c)) {
      std::string known;
      for (const auto& ch : rules.settings.channels) known += (known.empty() ? "" : ", ") + ch.name;
      error = validation_error("channels", "Unknown channel '" + c + "' (configured: " +
                                               (known.empty() ? "none" : known) + ")");
      return false;
    }
  }
  if (p.message_template) {
    if (auto s = validate_template(*p.message_template); !s) {
      error = validation_error("message_template", s.message());
      return false;
    }
  }
  if (p.name.empty()) p.name = "api-" + p.id->to_string().substr(0, 8);
  if (const auto* same_name = rules.find_policy(p.name); same_name && same_name->source == "file") {
    error = response::detail(409, "A policy named '" + p.name + "' comes from the config file; choose another name");
    return false;
  }
  return true;
}

/// Runs `change` in a write transaction, then replaces the policy book with the stored policies.
void change_policies(const api_context& ctx, std::function<bool(persistence::sql_connection&)> change,
                     std::function<void(const status&, bool)> done) {
  auto stored = std::make_shared<std::vector<notification_policy>>();
  auto found = std::make_shared<bool>(false);
  ctx.db.write(
      [change, stored, found](persistence::sql_connection& c) {
        *found = change(c);
        *stored = persistence::list_policies(c);
      },
      [book = ctx.notifications, stored, found, done](const status& s) {
        if (s) book->replace(actors::notification_rules::combine(book->current()->settings, *stored));
        done(s, *found);
      });
}

}  // namespace

void register_notification_routes(router& routes, const api_context& ctx) {
  if (!ctx.notifications) return;
  routes.add("POST", "/api/flow_run_notification_policies/", "Create a notification policy (201)",
             [ctx](request& req, responder respond) {
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               notification_policy p;
               p.source = "api";
               p.id = new_uuid4();
               if (!read_policy(*body, p, *ctx.notifications->current(), error)) return respond(std::move(error));
               change_policies(
                   ctx, [p, now = ctx.time->now()](persistence::sql_connection& c) {
                     persistence::insert_policy(c, p, now);
                     return true;
                   },
                   [p, respond](const status& s, bool) {
                     if (s.code() == errc::conflict)
                       return respond(response::detail(409, "A policy named '" + p.name + "' already exists"));
                     if (!s) return respond(error_response(s));
                     respond(response::json(201, to_json(p).dump()));
                   });
             });

  routes.add("GET", "/api/flow_run_notification_policies/{id}", "Read a notification policy",
             [ctx](request& req, responder respond) {
               auto id = path_uuid(req, "id", respond);
               if (!id) return;
               auto found = std::make_shared<std::optional<notification_policy>>();
               ctx.db.read([id = *id, found](persistence::sql_connection& c) { *found = persistence::find_policy(c, id); },
                           [found, respond](const status& s) {
                             if (!s) return respond(error_response(s));
                             if (!*found) return respond(response::detail(404, not_found_detail));
                             respond(response::json(200, to_json(**found).dump()));
                           });
             });

  routes.add("PATCH", "/api/flow_run_notification_policies/{id}", "Update a notification policy (204)",
             [ctx](request& req, responder respond) {
               auto id = path_uuid(req, "id", respond);
               if (!id) return;
               response error;
               auto body = parse_object_body(req, error);
               if (!body) return respond(std::move(error));
               auto found = std::make_shared<std::optional<notification_policy>>();
               ctx.db.read(
                   [id = *id, found](persistence::sql_connection& c) { *found = persistence::find_policy(c, id); },
                   [ctx, found, body = *body, respond](const status& s) {
                     if (!s) return respond(error_response(s));
                     if (!*found) return respond(response::detail(404, not_found_detail));
                     auto p = **found;
                     if (p.source == "file")
                       return respond(response::detail(409, "Policy '" + p.name +
                                                                "' comes from the config file; edit the file and "
                                                                "reload (SIGHUP) instead"));
                     response err;
                     if (!read_policy(body, p, *ctx.notifications->current(), err)) return respond(std::move(err));
                     change_policies(
                         ctx, [p, now = ctx.time->now()](persistence::sql_connection& c) {
                           return persistence::update_policy(c, p, now);
                         },
                         [respond](const status& st, bool updated) {
                           if (st.code() == errc::conflict) return respond(response::detail(409, "That name is taken"));
                           if (!st) return respond(error_response(st));
                           if (!updated) return respond(response::detail(404, not_found_detail));
                           respond(response::no_content());
                         });
                   });
             });

  routes.add("DELETE", "/api/flow_run_notification_policies/{id}", "Delete a notification policy (204)",
             [ctx](request& req, responder respond) {
               auto id = path_uuid(req, "id", respond);
               if (!id) return;
               auto file_policy = std::make_shared<bool>(false);
               change_policies(
                   ctx, [id = *id, file_policy](persistence::sql_connection& c) {
                     auto p = persistence::find_policy(c, id);
                     if (!p) return false;
                     if (p->source == "file") {
                       *file_policy = true;
                       return true;
                     }
                     return persistence::delete_policy(c, id);
                   },
                   [respond, file_policy](const status& s, bool deleted) {
                     if (!s) return respond(error_response(s));
                     if (*file_policy)
                       return respond(response::detail(
                           409, "This policy comes from the config file; remove it there and reload (SIGHUP)"));
                     if (!deleted) return respond(response::detail(404, not_found_detail));
                     respond(response::no_content());
                   });
             });

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
               std::optional<bool> active;
               body_reader a(active_filter, "flow_run_notification_policy_filter.is_active");
               if (!a.optional_bool("eq_", active) || !a.finish()) return respond(a.error());
               if (!limit.is_number_integer() || limit.get<std::int64_t>() < 0 || !offset.is_number_integer() ||
                   offset.get<std::int64_t>() < 0)
                 return respond(validation_error("limit", "limit and offset must be non-negative integers"));
               auto found = std::make_shared<std::vector<notification_policy>>();
               ctx.db.read([found](persistence::sql_connection& c) { *found = persistence::list_policies(c); },
                           [found, active, lim = limit.get<std::int64_t>(), off = offset.get<std::int64_t>(),
                            respond](const status& s) {
                             if (!s) return respond(error_response(s));
                             nlohmann::json out = nlohmann::json::array();
                             std::int64_t index = 0;
                             for (const auto& p : *found) {
                               if (active && p.is_active != *active) continue;
                               if (index++ < off) continue;
                               if (static_cast<std::int64_t>(out.size()) >= lim) break;
                               out.push_back(to_json(p));
                             }
                             respond(response::json(200, out.dump()));
                           });
             });

  routes.add("GET", "/api/notifications/outbox", "Notification deliveries (?status=pending|delivered|dead&limit=N)",
             [ctx](request& req, responder respond) {
               const auto status_filter = req.query.count("status") ? req.query.at("status") : std::string();
               if (!status_filter.empty() && status_filter != "pending" && status_filter != "delivered" &&
                   status_filter != "dead")
                 return respond(validation_error("status", "Expected pending, delivered or dead"));
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
               auto jobs = std::make_shared<std::vector<persistence::outbox_job>>();
               ctx.db.read([jobs, status_filter, limit](persistence::sql_connection& c) {
                 *jobs = persistence::list_outbox(c, status_filter, limit);
               },
                           [jobs, respond](const status& s) {
                             if (!s) return respond(error_response(s));
                             nlohmann::json out = nlohmann::json::array();
                             for (const auto& j : *jobs) out.push_back(to_json(j));
                             respond(response::json(200, out.dump()));
                           });
             });

  routes.add("POST", "/api/notifications/outbox/{id}/retry", "Send a dead (or pending) delivery again now",
             [ctx](request& req, responder respond) {
               auto id = path_uuid(req, "id", respond);
               if (!id) return;
               auto requeued = std::make_shared<bool>(false);
               ctx.db.write([id = *id, requeued, now = ctx.time->now()](persistence::sql_connection& c) {
                 *requeued = persistence::requeue_job(c, id, now);
               },
                            [requeued, respond, dispatcher = ctx.notification_dispatcher](const status& s) {
                              if (!s) return respond(error_response(s));
                              if (!*requeued)
                                return respond(response::detail(404, "No pending or dead delivery with that id"));
                              caf::anon_send(dispatcher, actors::sweep_atom_v);
                              respond(response::no_content());
                            });
             });
}

}  // namespace osprey::http

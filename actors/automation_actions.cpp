// The automation action runner (see the header).
#include "actors/automation_actions.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/automation_action_runner.hpp"
#include "domain/automation_targets.hpp"
#include "domain/template_render.hpp"
#include "notifiers/notifier.hpp"
#include "persistence/block_store.hpp"
#include "persistence/database_calls.hpp"

namespace osprey::actors {
namespace action_runner {
namespace {

using nlohmann::json;

std::string text_field(const json& data, const char* key) {
  const auto it = data.find(key);
  return it != data.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// The channel a Prefect notification block stands for; nullopt (and `why`) for any other block.
std::optional<config::channel_settings> channel_of(const std::string& slug, const json& data, bool private_ok,
                                                   std::string& why) {
  config::channel_settings c;
  c.name = "block";
  c.allow_private_network = private_ok;
  if (slug == "slack-webhook") {
    c.type = config::channel_type::slack;
    c.url = text_field(data, "url");
  } else if (slug == "ms-teams-webhook") {
    c.type = config::channel_type::teams;
    c.url = text_field(data, "url");
  } else if (slug == "pager-duty-webhook") {
    c.type = config::channel_type::pagerduty;
    c.routing_key = text_field(data, "integration_key");
  } else if (slug == "opsgenie-webhook") {
    c.type = config::channel_type::opsgenie;
    c.api_key = text_field(data, "apikey");
  } else if (slug == "twilio-sms") {
    c.type = config::channel_type::twilio;
    c.account_sid = text_field(data, "account_sid");
    c.auth_token = text_field(data, "auth_token");
    c.from = text_field(data, "from_phone_number");
    if (auto to = data.find("to_phone_numbers"); to != data.end() && to->is_array())
      for (const auto& n : *to)
        if (n.is_string()) c.to.push_back(n.get<std::string>());
  } else if (slug == "sendgrid-email") {
    c.type = config::channel_type::sendgrid;
    c.api_key = text_field(data, "api_key");
    c.from = text_field(data, "sender_email");
    if (auto to = data.find("to_emails"); to != data.end() && to->is_array())
      for (const auto& n : *to)
        if (n.is_string()) c.to.push_back(n.get<std::string>());
  } else {
    why = "The referenced block was not a notification block this server can send to (" + slug + ")";
    return std::nullopt;
  }
  return c;
}

json outcome_json(const action_outcome& o) {
  json related = json::array();
  for (const auto& r : o.related) related.push_back(r);
  return {{"verdict", static_cast<int>(o.verdict)},
          {"reason", o.reason},
          {"retry_after", o.retry_after ? o.retry_after->count() : std::int64_t{-1}},
          {"related", related},
          {"details", o.details}};
}

action_outcome outcome_of(const std::string& text) {
  const auto j = json::parse(text, nullptr, false);
  action_outcome o;
  if (!j.is_object()) return action_outcome::failed("internal: unreadable action outcome");
  o.verdict = static_cast<notifiers::verdict>(j.value("verdict", static_cast<int>(notifiers::verdict::dead)));
  o.reason = j.value("reason", "");
  if (const auto after = j.value("retry_after", std::int64_t{-1}); after >= 0)
    o.retry_after = std::chrono::seconds(after);
  for (const auto& r : j.value("related", json::array())) o.related.push_back(r.get<resource_labels>());
  o.details = j.value("details", json::object());
  return o;
}

/// The notification block or webhook block an action names, read with its secrets.
struct found_block {
  std::string slug;
  std::string name;
  json data;
};

/// Reads the block the action names, then sends (job, block, read error, rendered) to the runner.
void read_block(runner self, persistence::outbox_job job, json rendered) {
  auto& st = self->state;
  const auto block = uuid::parse(job.payload["action"].value("block_document_id", ""));
  if (!block) return report(self, std::move(job), action_outcome::failed("block_document_id is not a UUID"));
  persistence::read_value(
      st.options.db,
      [box = st.options.block_secrets,
       id = block_document_id{*block}](persistence::sql_connection& c) -> result<found_block> {
        if (!box) return status(errc::internal, "block secrets are not available");
        auto doc = persistence::find_block_document(c, *box, id, true);
        if (!doc) return status(errc::not_found, "Block document not found");
        auto type = persistence::find_block_type(c, doc->doc.type);
        return found_block{type ? type->slug : std::string(), doc->doc.name, doc->doc.data};
      },
      [self = caf::actor{self}, job = std::move(job), rendered = rendered.dump()](result<found_block> found) mutable {
        // JSON travels as text: the actor's messages carry no JSON values.
        const json read = found ? json{{"slug", found->slug}, {"name", found->name}, {"data", found->data}} : json();
        caf::anon_send(self, std::move(job), read.dump(), found ? std::string() : found.error().message(),
                       std::move(rendered));
      });
}

/// Renders `fields` (name → template) of the action against the firing; the failure names the template.
result<json> render_fields(const persistence::outbox_job& job,
                           std::initializer_list<std::pair<const char*, const char*>> fields) {
  const auto context = automation_targets::template_context(job.payload);
  const auto& action = job.payload["action"];
  json out = json::object();
  for (const auto& [name, fallback] : fields) {
    auto text = render_jinja(action.value(name, fallback), context);
    if (!text) return status(errc::invalid_argument, "Template rendering failed: " + text.error().message());
    out[name] = std::move(*text);
  }
  return out;
}

void send_notification(runner self, persistence::outbox_job job) {
  auto rendered = render_fields(job, {{"subject", "Prefect automated notification"}, {"body", ""}});
  if (!rendered) return report(self, std::move(job), action_outcome::failed(rendered.error().message()));
  read_block(self, std::move(job), std::move(*rendered));
}

void call_webhook(runner self, persistence::outbox_job job) {
  auto rendered = render_fields(job, {{"payload", ""}});
  if (!rendered) return report(self, std::move(job), action_outcome::failed(rendered.error().message()));
  read_block(self, std::move(job), std::move(*rendered));
}

/// Sends `requests` and finishes the job with the worst verdict (as the notifier actor does).
void send_all(runner self, persistence::outbox_job job, std::shared_ptr<const notifiers::notifier> notifier,
              std::vector<notifiers::request> requests, std::chrono::milliseconds timeout) {
  auto pending = std::make_shared<std::size_t>(requests.size());
  auto worst = std::make_shared<std::optional<notifiers::classification>>();
  for (auto& r : requests) {
    self->state.options.transport.send(
        std::move(r), timeout, [self = caf::actor{self}, notifier, pending, worst, job](notifiers::reply reply) {
          auto verdict = notifier->classify(reply);
          // Replies come on the transport's one thread, so the counters need no lock.
          if (verdict.outcome != notifiers::verdict::delivered &&
              (!*worst || verdict.outcome == notifiers::verdict::dead))
            *worst = verdict;
          if (--*pending > 0) return;
          action_outcome out;
          out.verdict = notifiers::verdict::delivered;
          if (*worst) {
            out.verdict = (*worst)->outcome;
            out.reason = (*worst)->reason;
            out.retry_after = (*worst)->retry_after;
          }
          finish(self, job, out);
        });
  }
}

/// The block was read: build the notifier's requests and send them.
void deliver_to_block(runner self, persistence::outbox_job job, const json& block, const json& rendered) {
  auto& st = self->state;
  std::string why;
  auto channel =
      channel_of(block.value("slug", ""), block.value("data", json::object()), st.options.allow_private_network, why);
  if (!channel) return report(self, std::move(job), action_outcome::failed(why));
  std::shared_ptr<const notifiers::notifier> notifier = notifiers::make_notifier(*channel);
  notifiers::notification n;
  n.id = job.id.to_string();
  n.kind = notification_kind::action;
  n.policy_name = job.policy_name;
  n.dedup_key = job.dedup_key;
  n.title = rendered.value("subject", "");
  n.message = rendered.value("body", "");
  n.created = job.created;
  auto requests = notifier->requests(n);
  if (requests.empty()) return report(self, std::move(job), action_outcome::done());
  send_all(self, std::move(job), notifier, std::move(requests), channel->timeout);
}

/// Header names whose values a webhook's answer never shows in the action's event (Prefect's
/// should_redact_header: credentials and cookies).
bool redacted_header(const std::string& name) {
  return name == "authorization" || name == "proxy-authorization" || name == "cookie" || name == "set-cookie" ||
         name.find("api-key") != std::string::npos || name.find("token") != std::string::npos;
}

/// call-webhook: the Webhook block's request with the rendered payload. Any answer ends the action (Prefect
/// records the status and does not judge it), except those the outbox retries: no answer, 408, 429, 5xx.
void send_webhook(runner self, persistence::outbox_job job, const json& block, const json& rendered) {
  auto& st = self->state;
  const auto& data = block.value("data", json::object());
  const auto url = text_field(data, "url");
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    return report(self, std::move(job),
                  action_outcome::failed("The webhook block's URL is not an http:// or https:// URL"));
  notifiers::http_request r;
  r.method = data.value("method", "POST");
  r.url = url;
  if (const auto headers = data.find("headers"); headers != data.end() && headers->is_object())
    for (const auto& [name, value] : headers->items())
      r.headers.emplace_back(name, value.is_string() ? value.get<std::string>() : value.dump());
  r.body = rendered.value("payload", "");
  // The block may forbid private addresses; it can allow them only where the server's configuration does.
  r.allow_private_network = st.options.allow_private_network && data.value("allow_private_urls", true);
  const auto block_id = uuid::parse(job.payload["action"].value("block_document_id", "")).value_or(uuid{});
  std::vector<resource_labels> related{
      related_resource("prefect.block-document", block_id, "block", block.value("name", "")),
      {{"prefect.resource.id", "prefect.block-type." + block.value("slug", "")},
       {"prefect.resource.role", "block-type"}}};
  st.options.transport.send(
      std::move(r), std::chrono::seconds(10), [self = caf::actor{self}, job, related](notifiers::reply reply) {
        const auto verdict = notifiers::classify_http(reply);
        if (verdict.outcome == notifiers::verdict::retry || reply.address_refused || reply.status == 0) {
          action_outcome out;
          out.verdict = reply.address_refused ? notifiers::verdict::dead : verdict.outcome;
          out.reason = "Webhook call failed: " + verdict.reason;
          out.retry_after = verdict.retry_after;
          out.related = related;
          return finish(self, job, out);
        }
        json headers = json::object();
        for (const auto& [name, value] : reply.headers)
          if (!redacted_header(name)) headers[name] = value;
        finish(self, job,
               action_outcome::done(related, {{"status_code", reply.status},
                                              {"response_body", reply.body.substr(0, 1000)},
                                              {"response_headers", headers}}));
      });
}

caf::behavior runner_behavior(runner self, automation_action_options options, delivery_listener_actor listener) {
  self->state.options = std::move(options);
  self->state.listener = std::move(listener);
  return {
      [self](deliver_atom, persistence::outbox_job& job) {
        const auto type = job.payload.value("action", json::object()).value("type", "");
        if (type == "do-nothing") return report(self, std::move(job), action_outcome::done());
        if (type == "send-notification") return send_notification(self, std::move(job));
        if (type == "call-webhook") return call_webhook(self, std::move(job));
        if (type == "pause-automation" || type == "resume-automation")
          return run_automation_action(self, std::move(job));
        if (type == "change-flow-run-state" || type == "cancel-flow-run" || type == "suspend-flow-run" ||
            type == "resume-flow-run" || type == "delete-flow-run")
          return run_flow_run_action(self, std::move(job));
        if (type == "run-deployment" || type == "pause-deployment" || type == "resume-deployment")
          return run_deployment_action(self, std::move(job));
        if (type == "pause-work-pool" || type == "resume-work-pool" || type == "pause-work-queue" ||
            type == "resume-work-queue")
          return run_work_pool_action(self, std::move(job));
        report(self, std::move(job), action_outcome::failed("Osprey does not run " + type + " actions"));
      },
      [self](persistence::outbox_job& job, const std::string& block, const std::string& read_error,
             const std::string& rendered) {
        if (!read_error.empty())
          return report(self, std::move(job), action_outcome::failed("reading the block: " + read_error));
        const auto b = json::parse(block, nullptr, false);
        const auto r = json::parse(rendered, nullptr, false);
        if (job.payload["action"].value("type", "") == "call-webhook") {
          if (b.value("slug", "") != "webhook")
            return report(self, std::move(job), action_outcome::failed("The referenced block was not a webhook block"));
          return send_webhook(self, std::move(job), b, r);
        }
        deliver_to_block(self, std::move(job), b, r);
      },
      [self](persistence::outbox_job& job, const std::string& outcome) {
        report(self, std::move(job), outcome_of(outcome));
      },
  };
}

}  // namespace

action_outcome action_outcome::done(std::vector<resource_labels> related, json details) {
  action_outcome o;
  o.verdict = notifiers::verdict::delivered;
  o.related = std::move(related);
  o.details = std::move(details);
  return o;
}

action_outcome action_outcome::failed(std::string reason, std::vector<resource_labels> related, json details) {
  action_outcome o;
  o.verdict = notifiers::verdict::dead;
  o.reason = std::move(reason);
  o.related = std::move(related);
  o.details = std::move(details);
  return o;
}

resource_labels related_resource(const std::string& kind, const uuid& id, const std::string& role,
                                 const std::string& name) {
  resource_labels r{{"prefect.resource.id", kind + "." + id.to_string()}, {"prefect.resource.role", role}};
  if (!name.empty()) r["prefect.resource.name"] = name;
  return r;
}

void finish(const caf::actor& self, persistence::outbox_job job, const action_outcome& outcome) {
  caf::anon_send(self, std::move(job), outcome_json(outcome).dump());
}

void report(runner self, persistence::outbox_job job, const action_outcome& outcome) {
  auto& st = self->state;
  if (outcome.verdict != notifiers::verdict::retry) {
    // Prefect's succeed()/fail(): action.triggered, then executed or failed, linked by `follows`.
    const auto& p = job.payload;
    const auto& a = p.value("automation", json::object());
    resource_labels resource = {{"prefect.resource.id", "prefect.automation." + a.value("id", "")},
                                {"prefect.resource.name", a.value("name", "")},
                                {"prefect.trigger-type", a.value("trigger", json::object()).value("type", "event")}};
    if (a.value("trigger", json::object()).contains("posture"))
      resource["prefect.posture"] = a["trigger"].value("posture", "");
    std::vector<resource_labels> related = outcome.related;
    if (auto id = p.value("automation_triggered_event_id", ""); !id.empty())
      related.push_back(
          {{"prefect.resource.id", "prefect.event." + id}, {"prefect.resource.role", "automation-triggered-event"}});
    const auto& triggering = p.value("triggering_event", json(nullptr));
    const auto fired = parse_iso8601(p.value("triggered", "")).value_or(st.options.time->now());
    std::optional<uuid> follows;
    if (triggering.is_object()) {
      related.push_back({{"prefect.resource.id", "prefect.event." + triggering.value("id", "")},
                         {"prefect.resource.role", "triggering-event"}});
      // Only a close cause is followed, as Prefect does (its ordering waits for what an event follows).
      if (const auto occurred = parse_iso8601(triggering.value("occurred", "")))
        if (fired - *occurred < std::chrono::minutes(5) && *occurred - fired < std::chrono::minutes(5))
          follows = uuid::parse(triggering.value("id", ""));
    }
    const json details = {{"action_index", p.value("action_index", 0)},
                          {"action_type", p.value("action", json::object()).value("type", "")},
                          {"invocation", job.id.to_string()}};
    event triggered;
    triggered.id = new_uuid7(st.options.time->now());
    triggered.occurred = fired;
    triggered.name = "prefect.automation.action.triggered";
    triggered.resource = resource;
    triggered.related = related;
    triggered.payload = details;
    triggered.follows = follows;
    event result = triggered;
    result.id = new_uuid7(st.options.time->now());
    result.occurred = st.options.time->now();
    result.follows = triggered.id;
    result.name = outcome.verdict == notifiers::verdict::delivered ? "prefect.automation.action.executed"
                                                                   : "prefect.automation.action.failed";
    if (outcome.verdict == notifiers::verdict::dead) result.payload["reason"] = outcome.reason;
    for (const auto& [key, value] : outcome.details.items()) result.payload[key] = value;
    publish_events(st.options.bus, {std::move(triggered), std::move(result)});
  }
  delivery_result r;
  r.jobs.push_back(std::move(job));
  r.outcome = outcome.verdict;
  r.reason = outcome.reason;
  r.retry_after = outcome.retry_after;
  self->send(st.listener, sent_atom_v, std::move(r));
}

}  // namespace action_runner

void action_peers::set_flow_runs(flow_run_registry_actor registry) {
  std::lock_guard lock(mutex_);
  flow_runs_ = std::move(registry);
}

flow_run_registry_actor action_peers::flow_runs() const {
  std::lock_guard lock(mutex_);
  return flow_runs_;
}

notifier_actor spawn_automation_action_runner(caf::actor_system& system, automation_action_options options,
                                              delivery_listener_actor listener) {
  return caf::actor_cast<notifier_actor>(
      system.spawn(action_runner::runner_behavior, std::move(options), std::move(listener)));
}

}  // namespace osprey::actors

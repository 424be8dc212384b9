// The automation action runner (see the header).
#include "actors/automation_actions.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "domain/automation_lifecycle.hpp"
#include "domain/template_render.hpp"
#include "logging/log.hpp"
#include "notifiers/notifier.hpp"
#include "persistence/automation_store.hpp"
#include "persistence/block_store.hpp"
#include "persistence/database_calls.hpp"

namespace osprey::actors {
namespace {

using nlohmann::json;

/// A verdict on one job, with what it leaves in the action.executed/failed event.
struct action_outcome {
  notifiers::verdict verdict = notifiers::verdict::dead;
  std::string reason;
  std::optional<std::chrono::seconds> retry_after;
};

struct runner_state {
  automation_action_options options;
  delivery_listener_actor listener;
  static inline const char* name = "osprey.automation_actions";
};
using runner = caf::stateful_actor<runner_state>*;

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
  } else {
    why = "The referenced block was not a notification block this server can send to (" + slug + ")";
    return std::nullopt;
  }
  return c;
}

/// The names a template may use (Prefect's _template_context, without the objects it fetches from its API).
json template_context(const json& payload) {
  return {{"automation", payload.value("automation", json::object())},
          {"event", payload.value("triggering_event", json(nullptr))},
          {"labels", payload.value("triggering_labels", json::object())},
          {"firing", {{"id", payload.value("firing_id", "")}, {"triggered", payload.value("triggered", "")}}}};
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
    std::vector<resource_labels> related;
    if (auto id = p.value("automation_triggered_event_id", ""); !id.empty())
      related.push_back({{"prefect.resource.id", "prefect.event." + id},
                         {"prefect.resource.role", "automation-triggered-event"}});
    const auto& triggering = p.value("triggering_event", json(nullptr));
    if (triggering.is_object())
      related.push_back({{"prefect.resource.id", "prefect.event." + triggering.value("id", "")},
                         {"prefect.resource.role", "triggering-event"}});
    const json details = {{"action_index", p.value("action_index", 0)},
                          {"action_type", p.value("action", json::object()).value("type", "")},
                          {"invocation", job.id.to_string()}};
    event triggered;
    triggered.id = new_uuid7(st.options.time->now());
    triggered.occurred = parse_iso8601(p.value("triggered", "")).value_or(st.options.time->now());
    triggered.name = "prefect.automation.action.triggered";
    triggered.resource = resource;
    triggered.related = related;
    triggered.payload = details;
    event result = triggered;
    result.id = new_uuid7(st.options.time->now());
    result.occurred = st.options.time->now();
    result.follows = triggered.id;
    result.name = outcome.verdict == notifiers::verdict::delivered ? "prefect.automation.action.executed"
                                                                   : "prefect.automation.action.failed";
    if (outcome.verdict == notifiers::verdict::dead) result.payload["reason"] = outcome.reason;
    publish_events(st.options.bus, {std::move(triggered), std::move(result)});
  }
  delivery_result r;
  r.jobs.push_back(std::move(job));
  r.outcome = outcome.verdict;
  r.reason = outcome.reason;
  r.retry_after = outcome.retry_after;
  self->send(st.listener, sent_atom_v, std::move(r));
}

void send_notification(runner self, persistence::outbox_job job) {
  auto& st = self->state;
  const auto& action = job.payload["action"];
  const auto block = uuid::parse(action.value("block_document_id", ""));
  if (!block) return report(self, std::move(job), {notifiers::verdict::dead, "block_document_id is not a UUID", {}});
  const auto context = template_context(job.payload);
  auto subject = render_jinja(action.value("subject", "Prefect automated notification"), context);
  auto body = render_jinja(action.value("body", ""), context);
  if (!subject || !body)
    return report(self, std::move(job),
                  {notifiers::verdict::dead,
                   "Template rendering failed: " + (subject ? body.error().message() : subject.error().message()), {}});
  struct found_block {
    std::string slug;
    json data;
  };
  persistence::read_value(
      st.options.db,
      [box = st.options.block_secrets, id = block_document_id{*block}](persistence::sql_connection& c)
          -> result<found_block> {
        if (!box) return status(errc::internal, "block secrets are not available");
        auto doc = persistence::find_block_document(c, *box, id, true);
        if (!doc) return status(errc::not_found, "Block document not found");
        auto type = persistence::find_block_type(c, doc->doc.type);
        return found_block{type ? type->slug : std::string(), doc->doc.data};
      },
      [self = caf::actor{self}, job, title = *subject, message = *body](result<found_block> found) mutable {
        // The block's data travels as text: the actor's messages carry no JSON values.
        caf::anon_send(self, std::move(job), found ? found->slug : std::string(),
                       found ? found->data.dump() : std::string(), found ? std::string() : found.error().message(),
                       std::move(title), std::move(message));
      });
}

/// The block was read: build the notifier's requests and send them.
void deliver_to_block(runner self, persistence::outbox_job job, const std::string& slug, const std::string& data,
                      const std::string& read_error, const std::string& title, const std::string& message) {
  auto& st = self->state;
  if (!read_error.empty())
    return report(self, std::move(job), {notifiers::verdict::dead, "reading the notification block: " + read_error, {}});
  std::string why;
  auto channel = channel_of(slug, json::parse(data, nullptr, false), st.options.allow_private_network, why);
  if (!channel) return report(self, std::move(job), {notifiers::verdict::dead, why, {}});
  std::shared_ptr<const notifiers::notifier> notifier = notifiers::make_notifier(*channel);
  notifiers::notification n;
  n.id = job.id.to_string();
  n.kind = notification_kind::action;
  n.policy_name = job.policy_name;
  n.dedup_key = job.dedup_key;
  n.title = title;
  n.message = message;
  n.created = job.created;
  auto requests = notifier->requests(n);
  if (requests.empty()) return report(self, std::move(job), {notifiers::verdict::delivered, "", {}});
  // Each request's verdict; the worst one decides (as the notifier actor does).
  auto pending = std::make_shared<std::size_t>(requests.size());
  auto worst = std::make_shared<std::optional<notifiers::classification>>();
  for (auto& r : requests) {
    st.options.transport.send(std::move(r), channel->timeout,
                              [self = caf::actor{self}, notifier, pending, worst, job](notifiers::reply reply) {
                                auto verdict = notifier->classify(reply);
                                // Replies come on the transport's one thread, so the counters need no lock.
                                if (verdict.outcome != notifiers::verdict::delivered &&
                                    (!*worst || verdict.outcome == notifiers::verdict::dead))
                                  *worst = verdict;
                                if (--*pending > 0) return;
                                action_outcome out{notifiers::verdict::delivered, "", {}};
                                if (*worst) out = {(*worst)->outcome, (*worst)->reason, (*worst)->retry_after};
                                caf::anon_send(self, job, static_cast<int>(out.verdict), out.reason,
                                               out.retry_after ? out.retry_after->count() : std::int64_t{-1});
                              });
  }
}

void set_automation_enabled(runner self, persistence::outbox_job job, bool enabled) {
  auto& st = self->state;
  const auto& action = job.payload["action"];
  std::string target = action.value("automation_id", "");
  if (action.value("source", "selected") == "inferred") target = job.payload["automation"].value("id", "");
  const auto id = uuid::parse(target);
  if (!id) return report(self, std::move(job), {notifiers::verdict::dead, "No automation could be inferred", {}});
  persistence::write_value(
      st.options.db,
      [id = automation_id{*id}, enabled, now = st.options.time->now()](persistence::sql_connection& c)
          -> result<automation> {
        auto a = persistence::find_automation(c, id);
        if (!a) return status(errc::not_found, "Automation not found");
        a->enabled = enabled;
        a->updated = now;
        persistence::update_automation(c, *a);
        return std::move(*a);
      },
      [self = caf::actor{self}, job, bus = st.options.bus](result<automation> a) {
        if (a) publish_events(bus, {automation_lifecycle_event(lifecycle_action::updated, *a, a->updated)});
        caf::anon_send(self, job, static_cast<int>(a ? notifiers::verdict::delivered : notifiers::verdict::dead),
                       a ? std::string() : a.error().message(), std::int64_t{-1});
      });
}

caf::behavior runner_behavior(runner self, automation_action_options options, delivery_listener_actor listener) {
  self->state.options = std::move(options);
  self->state.listener = std::move(listener);
  return {
      [self](deliver_atom, persistence::outbox_job& job) {
        const auto type = job.payload.value("action", json::object()).value("type", "");
        if (type == "do-nothing") return report(self, std::move(job), {notifiers::verdict::delivered, "", {}});
        if (type == "send-notification") return send_notification(self, std::move(job));
        if (type == "pause-automation") return set_automation_enabled(self, std::move(job), false);
        if (type == "resume-automation") return set_automation_enabled(self, std::move(job), true);
        report(self, std::move(job),
               {notifiers::verdict::dead, "Osprey does not run " + type + " actions yet", {}});
      },
      [self](persistence::outbox_job& job, const std::string& slug, const std::string& data, const std::string& error,
             const std::string& title, const std::string& message) {
        deliver_to_block(self, std::move(job), slug, data, error, title, message);
      },
      [self](persistence::outbox_job& job, int verdict, const std::string& reason, std::int64_t retry_after) {
        std::optional<std::chrono::seconds> after;
        if (retry_after >= 0) after = std::chrono::seconds(retry_after);
        report(self, std::move(job), {static_cast<notifiers::verdict>(verdict), reason, after});
      },
  };
}

}  // namespace

notifier_actor spawn_automation_action_runner(caf::actor_system& system, automation_action_options options,
                                              delivery_listener_actor listener) {
  return caf::actor_cast<notifier_actor>(system.spawn(runner_behavior, std::move(options), std::move(listener)));
}

}  // namespace osprey::actors

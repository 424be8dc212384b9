#include "notifications/rules.hpp"

#include <algorithm>
#include <set>

#include "persistence/deployment_store.hpp"

namespace osprey::notifications {
namespace {

/// PagerDuty incidents and Opsgenie alerts are closed by a resolve; other backends only get a message.
bool closes_alerts(config::channel_type t) {
  return t == config::channel_type::pagerduty || t == config::channel_type::opsgenie;
}

nlohmann::json payload_for(const notification_policy& policy, const nlohmann::json& values) {
  auto text = render_notification(policy, values);
  return {{"title", std::move(text.title)}, {"message", std::move(text.message)}, {"values", values}};
}

persistence::outbox_job job_for(const notification_policy& policy, const std::string& channel,
                                const notification_facts& facts, notification_kind kind, nlohmann::json payload,
                                timestamp now, const std::string& owner, std::chrono::seconds lease) {
  persistence::outbox_job j;
  j.id = new_uuid4();
  j.created = now;
  j.policy_name = policy.name;
  j.channel_name = channel;
  j.flow_run = facts.run;
  j.state = facts.state.id;
  j.state_name = facts.state.name;
  j.dedup_key = dedup_key_for(policy, facts);
  j.kind = kind;
  j.payload = std::move(payload);
  j.group_wait = policy.group_wait;
  j.next_attempt_at = now;
  j.lease_owner = owner;
  j.lease_expires_at = now + lease;
  return j;
}

/// Whether any channel of `policy` would take a resolve job: only then is the outbox searched for open alerts
/// (this runs for every completed run, inside the writer's transaction).
bool may_resolve(const notification_rules& rules, const notification_policy& policy) {
  if (policy.send_resolved) return true;
  return std::any_of(policy.channels.begin(), policy.channels.end(),
                     [&](const std::string& name) { return rules.takes_resolve(policy, name); });
}

}  // namespace

const notification_policy* notification_rules::find_policy(std::string_view name) const {
  for (const auto& p : policies)
    if (p.name == name) return &p;
  return nullptr;
}

bool notification_rules::takes_resolve(const notification_policy& policy, std::string_view channel) const {
  const auto* configured = settings.find_channel(channel);
  return configured && sends_resolve(policy, closes_alerts(configured->type));
}

std::shared_ptr<const notification_rules> notification_rules::combine(config::notification_settings settings,
                                                                      const std::vector<notification_policy>& stored) {
  auto rules = std::make_shared<notification_rules>();
  for (const auto& p : settings.policies)
    if (p.is_active) rules->policies.push_back(p);
  for (const auto& p : stored)
    if (p.source == "api" && p.is_active && !rules->find_policy(p.name)) rules->policies.push_back(p);
  rules->settings = std::move(settings);
  return rules;
}

std::vector<persistence::outbox_job> enqueue_notifications(persistence::sql_connection& conn,
                                                           const notification_rules& rules,
                                                           const notification_facts& run_facts, timestamp now,
                                                           const std::string& owner, std::chrono::seconds lease) {
  if (!rules.settings.enabled || rules.policies.empty()) return {};
  auto facts = run_facts;
  if (facts.deployment_id)
    facts.deployment_name = persistence::find_deployment_name(conn, *facts.deployment_id).value_or("");
  std::vector<persistence::outbox_job> jobs;
  for (const auto& policy : rules.policies) {
    const auto decision = decide_notification(policy, facts);
    if (!decision.trigger && !decision.resolve) continue;
    const auto values = template_values(facts, policy.name, rules.settings.ui_url);
    if (decision.trigger)
      for (const auto& channel : policy.channels)
        jobs.push_back(job_for(policy, channel, facts, notification_kind::trigger, payload_for(policy, values), now,
                               owner, lease));
    if (!decision.resolve || !may_resolve(rules, policy)) continue;
    std::set<std::string> resolved;
    for (const auto& open : persistence::open_alerts(conn, dedup_key_for(policy, facts))) {
      if (open.policy_name != policy.name || !resolved.insert(open.channel_name).second) continue;
      if (!rules.takes_resolve(policy, open.channel_name)) continue;
      jobs.push_back(job_for(policy, open.channel_name, facts, notification_kind::resolve, payload_for(policy, values),
                             now, owner, lease));
    }
  }
  if (jobs.empty()) return {};
  return persistence::insert_outbox_jobs(conn, jobs);
}

}  // namespace osprey::notifications

#include "actors/notification_rules.hpp"

#include <algorithm>
#include <set>

namespace osprey::actors {
namespace {

bool channel_resolves(config::channel_type t) {
  return t == config::channel_type::pagerduty || t == config::channel_type::opsgenie;
}

/// The stored title is the plain rendered title for every kind: the notifier adds what marks a resolve
/// ("Recovered: ", notifiers::headline), so prefixing it here too made "Recovered: Resolved: ...".
nlohmann::json payload_for(const notification_policy& policy, const nlohmann::json& values) {
  return {{"title", render_template(default_title_template(), values)},
          {"message", render_template(policy.message_template ? std::string_view(*policy.message_template)
                                                              : default_message_template(),
                                      values)},
          {"values", values},
          {"group_wait_ms", policy.group_wait.count()}};
}

persistence::outbox_job job_for(const notification_policy& policy, const std::string& channel,
                                const notification_facts& facts, const char* kind, nlohmann::json payload,
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
  j.next_attempt_at = now;
  j.lease_owner = owner;
  j.lease_expires_at = now + lease;
  return j;
}

/// Whether any channel of `policy` would take a resolve job: only then is the outbox searched for open alerts
/// (this runs for every completed run, inside the writer's transaction).
bool can_resolve(const notification_rules& rules, const notification_policy& policy) {
  if (policy.send_resolved) return true;
  return std::any_of(policy.channels.begin(), policy.channels.end(), [&](const std::string& name) {
    const auto* channel = rules.settings.find_channel(name);
    return channel && channel_resolves(channel->type);
  });
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

const notification_policy* notification_rules::find_policy(std::string_view name) const {
  for (const auto& p : policies)
    if (p.name == name) return &p;
  return nullptr;
}

std::shared_ptr<const notification_rules> notification_rules::combine(
    config::notification_settings settings, const std::vector<notification_policy>& stored) {
  auto rules = std::make_shared<notification_rules>();
  for (const auto& p : settings.policies)
    if (p.is_active) rules->policies.push_back(p);
  for (const auto& p : stored)
    if (p.source == "api" && p.is_active && !rules->find_policy(p.name)) rules->policies.push_back(p);
  rules->settings = std::move(settings);
  return rules;
}

std::string dedup_key_for(const notification_policy& policy, const notification_facts& facts) {
  if (policy.scope == dedup_scope::deployment && facts.deployment_id)
    return "osprey/" + policy.name + "/deployment/" + facts.deployment_id->to_string();
  return "osprey/" + policy.name + "/" + facts.run.to_string();
}

std::vector<persistence::outbox_job> enqueue_notifications(persistence::sql_connection& conn,
                                                          const notification_rules& rules,
                                                          const notification_facts& facts, timestamp now,
                                                          const std::string& owner, std::chrono::seconds lease) {
  if (!rules.settings.enabled || rules.policies.empty()) return {};
  std::vector<persistence::outbox_job> jobs;
  for (const auto& policy : rules.policies) {
    const bool trigger = matches(policy.match, facts);
    const bool resolve = contains(policy.resolve_on, facts.state.name);
    if (!trigger && !resolve) continue;
    const auto values = template_values(facts, policy.name, rules.settings.ui_url);
    if (trigger)
      for (const auto& channel : policy.channels)
        jobs.push_back(job_for(policy, channel, facts, "trigger", payload_for(policy, values), now, owner, lease));
    if (!resolve || !can_resolve(rules, policy)) continue;
    std::set<std::string> resolved;
    for (const auto& open : persistence::open_alerts(conn, dedup_key_for(policy, facts))) {
      if (open.policy_name != policy.name || !resolved.insert(open.channel_name).second) continue;
      const auto* channel = rules.settings.find_channel(open.channel_name);
      if (!channel || !(channel_resolves(channel->type) || policy.send_resolved)) continue;
      jobs.push_back(job_for(policy, open.channel_name, facts, "resolve", payload_for(policy, values), now,
                             owner, lease));
    }
  }
  if (jobs.empty()) return {};
  return persistence::insert_outbox_jobs(conn, jobs);
}

std::string deployment_name_of(persistence::sql_connection& conn, const uuid& deployment) {
  auto rows = conn.query("SELECT name FROM deployment WHERE id = $1", {persistence::id(deployment)});
  return rows.empty() ? std::string() : rows[0].text(0);
}

}  // namespace osprey::actors

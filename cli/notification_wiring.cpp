#include "cli/notification_wiring.hpp"

#include <unistd.h>

#include <future>

#include "actors/event_bus.hpp"
#include "domain/automation_lifecycle.hpp"
#include "domain/uuid.hpp"
#include "domain/version.hpp"
#include "logging/log.hpp"
#include "persistence/automation_store.hpp"
#include "persistence/notification_store.hpp"

namespace osprey::cli {

result<std::shared_ptr<const notifications::notification_rules>> load_notification_rules(
    const persistence::database& db, const config::notification_settings& settings,
    std::vector<event>* automation_events) {
  std::promise<status> written;
  auto changes = std::make_shared<persistence::file_automation_changes>();
  db.write(
      [policies = settings.policies, automations = settings.automations, changes](persistence::sql_connection& c) {
        const auto now = system_clock::instance().now();
        persistence::sync_file_policies(c, policies, now);
        *changes = persistence::sync_file_automations(c, automations, now);
      },
      [&written](const status& s) { written.set_value(s); });
  if (auto s = written.get_future().get(); !s)
    return s.with_context("storing the notification policies and automations");
  const auto now = system_clock::instance().now();
  const std::pair<lifecycle_action, const std::vector<automation>*> kinds[] = {
      {lifecycle_action::created, &changes->created},
      {lifecycle_action::updated, &changes->updated},
      {lifecycle_action::deleted, &changes->deleted}};
  for (const auto& [action, list] : kinds)
    for (const auto& a : *list) {
      log::line(log::level::info, "automations", "config file automation '", a.name, "' ",
                action == lifecycle_action::created   ? "stored"
                : action == lifecycle_action::updated ? "changed"
                                                      : "removed");
      if (automation_events) automation_events->push_back(automation_lifecycle_event(action, a, now));
    }
  std::vector<notification_policy> stored;
  std::promise<status> read;
  db.read([&stored](persistence::sql_connection& c) { stored = persistence::list_policies(c); },
          [&read](const status& s) { read.set_value(s); });
  if (auto s = read.get_future().get(); !s) return s.with_context("reading the notification policies");
  return notifications::notification_rules::combine(settings, stored);
}

void reload_notifications(const common_options& opts, const persistence::database& db, notifications::policy_book& book,
                          const actors::notification_dispatcher_actor& dispatcher, const actors::event_bus_actor& bus) {
  log::line(log::level::info, "notifications", "Received SIGHUP: reloading the notification settings...");
  auto loaded = load_settings_or_report(opts);
  if (!loaded) {
    log::line(log::level::warning, "notifications", "reload refused; the running notification settings stay in force");
    return;
  }
  std::vector<event> automation_events;
  auto rules = load_notification_rules(db, loaded->values.notifications, &automation_events);
  if (!automation_events.empty()) actors::publish_events(bus, std::move(automation_events));
  if (!rules) {
    log::line(log::level::warning, "notifications", "reload failed (", rules.error().message(),
              "); the running notification settings stay in force");
    return;
  }
  book.replace(*rules);
  caf::anon_send(dispatcher, actors::sweep_atom_v);
  log::line(log::level::info, "notifications", "Reloaded: ", describe_notifications(**rules),
            " (other settings take effect at the next start)");
}

std::string describe_notifications(const notifications::notification_rules& rules) {
  const auto& s = rules.settings;
  if (s.channels.empty() && rules.policies.empty()) return "notifications none configured";
  std::string text = "notifications " + std::to_string(s.channels.size()) + " channel(s), " +
                     std::to_string(rules.policies.size()) + " active policy(ies)";
  if (!s.enabled) text += " (disabled: notifications.enabled is false)";
  return text;
}

persistence::server_instance this_server_instance() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  persistence::server_instance self;
  self.host = host;
  self.pid = getpid();
  self.id = self.host + ":" + std::to_string(self.pid) + ":" + new_uuid4().to_string().substr(0, 8);
  self.version = osprey_version;
  self.started = system_clock::instance().now();
  self.heartbeat = self.started;
  return self;
}

}  // namespace osprey::cli

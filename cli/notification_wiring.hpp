#pragma once
// Server-side wiring of notifications: the rules the server starts with, SIGHUP reload, and the one-line
// summary printed at start.

#include <memory>
#include <string>

#include "actors/event_bus_protocol.hpp"
#include "actors/notification_protocol.hpp"
#include "notifications/rules.hpp"
#include "cli/commands.hpp"
#include "persistence/database.hpp"
#include "persistence/server_instance_store.hpp"

namespace osprey::cli {

/// Stores the file policies and automations of `settings` (replacing the previous file's) and combines the
/// policies with the API's in the database. Blocks until both are done. `automation_events` (when given) gets
/// the prefect.automation.created|updated|deleted events of the automations that changed.
result<std::shared_ptr<const notifications::notification_rules>> load_notification_rules(
    const persistence::database& db, const config::notification_settings& settings,
    std::vector<event>* automation_events = nullptr);

/// SIGHUP: reloads the config file; a valid one replaces the notification channels and policies at once
/// (jobs already in the outbox keep their channel names), an invalid one changes nothing and every error
/// is printed. Other settings need a restart (said when they differ).
/// The file's automations are stored again too, and the changes announced on `bus` (the evaluator reloads).
void reload_notifications(const common_options& opts, const persistence::database& db, notifications::policy_book& book,
                          const actors::notification_dispatcher_actor& dispatcher, const actors::event_bus_actor& bus);

/// "notifications  3 channel(s), 2 polic(ies)" or "notifications  none configured".
std::string describe_notifications(const notifications::notification_rules& rules);

/// This process as one of the servers sharing its database (started now; listen set once HTTP is up). Its id,
/// "<hostname>:<pid>:<8 random hex digits>", owns its outbox leases; the random part keeps a restarted server
/// whose pid was reused apart from the dead one.
persistence::server_instance this_server_instance();

}  // namespace osprey::cli

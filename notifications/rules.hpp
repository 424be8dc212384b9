#pragma once
// The notification rules in force, and how a committed state change is turned into outbox rows.
//
// The rules are the config file's channels and settings plus every active policy (file and API): an immutable
// snapshot, swapped whole on reload or when an API policy changes; readers (the database writer thread
// matching state changes, the dispatcher, the notifier actors) keep the snapshot they started with.
//
// Why this is its own module and not in actors/, domain/ or persistence/: matching runs inside the flow-run
// transition's write job (a function over the database, no actor), and it joins what domain/ decides
// (domain/notification.hpp) with the configured channels (config/) and the outbox's queries
// (persistence/notification_store.hpp); domain/ sees neither config nor the database, persistence/ sees no
// config.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/notification_settings.hpp"
#include "domain/notification.hpp"
#include "persistence/notification_store.hpp"

namespace osprey::notifications {

struct notification_rules {
  config::notification_settings settings;     ///< channels, ui_url, retry; settings.policies = file policies
  std::vector<notification_policy> policies;  ///< active policies, file and API, matched in this order

  [[nodiscard]] const notification_policy* find_policy(std::string_view name) const;
  /// Whether a resolve of `policy` goes to the configured channel `channel` (false when it is not configured).
  [[nodiscard]] bool takes_resolve(const notification_policy& policy, std::string_view channel) const;
  /// File policies followed by the active API policies among `stored` (a stored file policy is ignored:
  /// the file is the truth for those).
  static std::shared_ptr<const notification_rules> combine(config::notification_settings settings,
                                                           const std::vector<notification_policy>& stored);
};

/// The current snapshot. Thread-safe.
class policy_book {
 public:
  explicit policy_book(std::shared_ptr<const notification_rules> rules) : rules_(std::move(rules)) {}
  [[nodiscard]] std::shared_ptr<const notification_rules> current() const {
    std::lock_guard lock(mutex_);
    return rules_;
  }
  void replace(std::shared_ptr<const notification_rules> rules) {
    std::lock_guard lock(mutex_);
    rules_ = std::move(rules);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const notification_rules> rules_;
};

/// Matches one committed state change against `rules` and writes the resulting outbox jobs, inside the
/// transaction that writes the state (call it from the same write job). Triggers go to every channel of
/// every matching policy; a state named in a policy's resolve_on closes that policy's open alerts on
/// channels that resolve (PagerDuty, Opsgenie) or, with send_resolved, sends a recovery message to the
/// others. The deployment's name (facts.deployment_name) is read here, in the same transaction. Jobs are
/// inserted leased to `owner` for `lease`, so the caller can hand them straight to the dispatcher after the
/// commit. Returns the jobs inserted (none when notifications are disabled). Throws sql_error.
std::vector<persistence::outbox_job> enqueue_notifications(persistence::sql_connection& conn,
                                                           const notification_rules& rules,
                                                           const notification_facts& facts, timestamp now,
                                                           const std::string& owner, std::chrono::seconds lease);

}  // namespace osprey::notifications

#pragma once
// The notification rules in force: channels and settings from the config file plus every active policy
// (file and API). An immutable snapshot, swapped whole on reload or when an API policy changes; readers
// (the database writer thread matching state changes, the dispatcher) keep the snapshot they started with.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/notification_settings.hpp"
#include "domain/notification.hpp"
#include "persistence/notification_store.hpp"

namespace osprey::actors {

struct notification_rules {
  config::notification_settings settings;     ///< channels, ui_url, retry; settings.policies = file policies
  std::vector<notification_policy> policies;  ///< active policies, file and API, matched in this order

  [[nodiscard]] const notification_policy* find_policy(std::string_view name) const;
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

/// The alert identity a policy uses for a run: "osprey/<policy>/<flow run id>", or ".../deployment/<id>" for
/// deployment-scoped policies (runs without a deployment fall back to the run).
std::string dedup_key_for(const notification_policy& policy, const notification_facts& facts);

/// Matches one committed state change against `rules` and writes the resulting outbox jobs, inside the
/// transaction that writes the state (call it from the same write job). Triggers go to every channel of
/// every matching policy; a state named in a policy's resolve_on closes that policy's open alerts on
/// channels that resolve (PagerDuty, Opsgenie) or, with send_resolved, sends a recovery message to the
/// others. Jobs are inserted leased to `owner` for `lease`, so the caller can hand them straight to the
/// dispatcher after the commit. Returns the jobs inserted (none when notifications are disabled).
std::vector<persistence::outbox_job> enqueue_notifications(persistence::sql_connection& conn,
                                                          const notification_rules& rules,
                                                          const notification_facts& facts, timestamp now,
                                                          const std::string& owner, std::chrono::seconds lease);

/// The deployment's name, for facts of runs that have one ("" when it is gone).
std::string deployment_name_of(persistence::sql_connection& conn, const uuid& deployment);

}  // namespace osprey::actors

#pragma once
// Notification policies changed at run time (REST /api/flow_run_notification_policies): the rules every such
// change obeys, and the writes that keep the policy book in step with the database.
//
// The rules:
// - Policies from the config file are read-only: they are changed in the file and reloaded (SIGHUP).
// - An API policy names at least one configured channel, carries a valid template, and does not take a file
//   policy's name; names are unique. An unnamed one is called api-<first 8 hex digits of its id>.
//
// Every change is one write job that re-checks what it relies on against the stored row (a concurrent
// change cannot slip past the read-only rule), writes, and lists the stored policies; after its COMMIT the
// policy book is replaced, so the next state change is matched against the new set (changes commit, and so
// replace the book, in order). Callbacks run on a database thread.
//
// Why here and not in domain/: the rules need the configured channels and the policy book, which domain/
// does not see. Why functions over the database and not an actor: there is no state to own beyond the book,
// which is already a thread-safe snapshot.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "notifications/rules.hpp"
#include "persistence/database.hpp"
#include "persistence/database_calls.hpp"

namespace osprey::notifications {

/// Why a policy cannot be stored as it is.
struct policy_problem {
  std::string field;  ///< the policy field at fault ("channels", "message_template"); "" for the policy as a whole
  status why;         ///< invalid_argument (a field's value), or conflict (a name a file policy holds)
};

/// Completes a new or edited API policy and checks it against `rules`: names an unnamed policy (its id must be
/// set), then requires a channel, configured channels only, a valid template and a name no file policy has.
/// nullopt when it may be stored.
std::optional<policy_problem> check_api_policy(notification_policy& policy, const notification_rules& rules);

/// Which API policies to list: is_active equal to `active` (any when nullopt), then skip `offset`, at most
/// `limit`.
struct policy_filter {
  std::optional<bool> active;
  std::int64_t offset = 0;
  std::int64_t limit = 200;
};

/// The policy service. Cheap to copy (shared handles); every method returns at once and answers `done` once.
class policy_service {
 public:
  policy_service(persistence::database db, std::shared_ptr<policy_book> book)
      : db_(std::move(db)), book_(std::move(book)) {}

  /// check_api_policy against the rules in force.
  [[nodiscard]] std::optional<policy_problem> check(notification_policy& policy) const;

  /// The stored policy (file or API), or not_found.
  void find(const uuid& id, persistence::result_callback<notification_policy> done) const;
  /// Stored policies by name, filtered.
  void list(const policy_filter& filter, persistence::result_callback<std::vector<notification_policy>> done) const;
  /// The policy to edit: not_found, or failed_precondition for a file policy (read-only).
  void find_editable(const uuid& id, persistence::result_callback<notification_policy> done) const;

  /// Stores a new API policy that check() accepted → the policy, or conflict when its name is taken.
  void create(notification_policy policy, timestamp now, persistence::result_callback<notification_policy> done) const;
  /// Replaces the API policy with `policy.id` by `policy` (accepted by check()) → not_found, failed_precondition
  /// for a file policy, conflict when the new name is taken.
  void update(notification_policy policy, timestamp now, persistence::completion done) const;
  /// Deletes an API policy → not_found, or failed_precondition for a file policy.
  void remove(const uuid& id, persistence::completion done) const;

 private:
  void change(std::function<result<notification_policy>(persistence::sql_connection&)> job,
              persistence::result_callback<notification_policy> done) const;

  persistence::database db_;
  std::shared_ptr<policy_book> book_;
};

}  // namespace osprey::notifications

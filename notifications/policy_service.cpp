#include "notifications/policy_service.hpp"

#include "persistence/notification_store.hpp"

namespace osprey::notifications {
namespace {

constexpr const char* not_found_message = "flow run notification policy not found";

status not_found() { return {errc::not_found, not_found_message}; }

/// The refusal for changing a file policy; `edit` tells PATCH (edit the file) from DELETE (remove it there).
status read_only(const notification_policy& p, bool edit) {
  if (edit)
    return {errc::failed_precondition,
            "Policy '" + p.name + "' comes from the config file; edit the file and reload (SIGHUP) instead"};
  return {errc::failed_precondition, "This policy comes from the config file; remove it there and reload (SIGHUP)"};
}

/// The stored policy `id` if the API may change it.
result<notification_policy> editable(persistence::sql_connection& c, const uuid& id, bool edit) {
  auto stored = persistence::find_policy(c, id);
  if (!stored) return not_found();
  if (stored->source == "file") return read_only(*stored, edit);
  return std::move(*stored);
}

/// A database conflict (the unique name) as the message the caller should see.
status renamed_conflict(const status& s, std::string message) {
  return s.code() == errc::conflict ? status(errc::conflict, std::move(message)) : s;
}

}  // namespace

std::optional<policy_problem> check_api_policy(notification_policy& p, const notification_rules& rules) {
  if (p.channels.empty())
    return policy_problem{"channels",
                          {errc::invalid_argument, "Name at least one channel from notifications.channels"}};
  for (const auto& c : p.channels) {
    if (rules.settings.find_channel(c)) continue;
    std::string known;
    for (const auto& ch : rules.settings.channels) known += (known.empty() ? "" : ", ") + ch.name;
    return policy_problem{
        "channels",
        {errc::invalid_argument, "Unknown channel '" + c + "' (configured: " + (known.empty() ? "none" : known) + ")"}};
  }
  if (p.message_template)
    if (auto s = validate_template(*p.message_template); !s)
      return policy_problem{"message_template", {errc::invalid_argument, s.message()}};
  if (p.name.empty() && p.id) p.name = "api-" + p.id->to_string().substr(0, 8);
  if (const auto* same_name = rules.find_policy(p.name); same_name && same_name->source == "file")
    return policy_problem{
        "", {errc::conflict, "A policy named '" + p.name + "' comes from the config file; choose another name"}};
  return std::nullopt;
}

std::optional<policy_problem> policy_service::check(notification_policy& policy) const {
  return check_api_policy(policy, *book_->current());
}

void policy_service::find(const uuid& id, persistence::result_callback<notification_policy> done) const {
  persistence::read_value(
      db_,
      [id](persistence::sql_connection& c) {
        return persistence::or_not_found(persistence::find_policy(c, id), not_found_message);
      },
      std::move(done));
}

void policy_service::list(const policy_filter& filter,
                          persistence::result_callback<std::vector<notification_policy>> done) const {
  persistence::read_value(
      db_,
      [filter](persistence::sql_connection& c) {
        std::vector<notification_policy> out;
        std::int64_t index = 0;
        for (auto& p : persistence::list_policies(c)) {
          if (filter.active && p.is_active != *filter.active) continue;
          if (index++ < filter.offset) continue;
          if (static_cast<std::int64_t>(out.size()) >= filter.limit) break;
          out.push_back(std::move(p));
        }
        return out;
      },
      std::move(done));
}

void policy_service::find_editable(const uuid& id, persistence::result_callback<notification_policy> done) const {
  persistence::read_value(
      db_, [id](persistence::sql_connection& c) { return editable(c, id, true); }, std::move(done));
}

void policy_service::create(notification_policy policy, timestamp now,
                            persistence::result_callback<notification_policy> done) const {
  const std::string taken = "A policy named '" + policy.name + "' already exists";
  change(
      [policy, now](persistence::sql_connection& c) -> result<notification_policy> {
        persistence::insert_policy(c, policy, now);  // a taken name throws a constraint error: conflict
        return policy;
      },
      [taken, done](result<notification_policy> r) {
        done(r ? std::move(r) : result<notification_policy>(renamed_conflict(r.error(), taken)));
      });
}

void policy_service::update(notification_policy policy, timestamp now, persistence::completion done) const {
  change(
      [policy, now](persistence::sql_connection& c) -> result<notification_policy> {
        if (auto stored = editable(c, *policy.id, true); !stored) return stored;
        if (!persistence::update_policy(c, policy, now)) return not_found();
        return policy;
      },
      [done](const result<notification_policy>& r) {
        done(r ? status::ok() : renamed_conflict(r.error(), "That name is taken"));
      });
}

void policy_service::remove(const uuid& id, persistence::completion done) const {
  change(
      [id](persistence::sql_connection& c) -> result<notification_policy> {
        auto stored = editable(c, id, false);
        if (stored && !persistence::delete_policy(c, id)) return not_found();
        return stored;
      },
      [done](const result<notification_policy>& r) { done(r ? status::ok() : r.error()); });
}

void policy_service::change(std::function<result<notification_policy>(persistence::sql_connection&)> job,
                            persistence::result_callback<notification_policy> done) const {
  struct changed {
    result<notification_policy> outcome;
    std::vector<notification_policy> stored;  ///< after the change; only when it was made
  };
  persistence::write_value(
      db_,
      [job](persistence::sql_connection& c) {
        changed out{job(c), {}};
        if (out.outcome) out.stored = persistence::list_policies(c);
        return out;
      },
      [book = book_, done](result<changed> r) {
        if (!r) return done(r.error());
        if (r->outcome) book->replace(notification_rules::combine(book->current()->settings, r->stored));
        done(std::move(r->outcome));
      });
}

}  // namespace osprey::notifications

// Deployment concurrency slots for flow-run transitions, and a deployment's own limit (see the header).
#include "persistence/deployment_slots.hpp"

#include <nlohmann/json.hpp>

#include "persistence/concurrency_store.hpp"

namespace osprey::persistence {
namespace {

/// What the rules read of the run's deployment.
struct deployment_limit {
  bool deployment_exists = false;
  std::optional<concurrency_limit> limit;  ///< none: the deployment has no limit
  collision_strategy strategy = collision_strategy::enqueue;
  std::optional<std::chrono::seconds> grace;  ///< concurrency_options.grace_period_seconds
};

deployment_limit read_deployment_limit(sql_connection& conn, const uuid& deployment) {
  deployment_limit out;
  auto rows =
      conn.query("SELECT concurrency_limit_id, concurrency_options FROM deployment WHERE id = $1", {id(deployment)});
  if (rows.empty()) return out;
  out.deployment_exists = true;
  if (!rows[0].is_null(0)) out.limit = find_limit(conn, concurrency_limit_id{rows[0].id(0)});
  if (!rows[0].is_null(1)) {
    const auto options = nlohmann::json::parse(rows[0].text(1), nullptr, false);
    if (options.is_object()) {
      if (options.value("collision_strategy", nlohmann::json()) == "CANCEL_NEW")
        out.strategy = collision_strategy::cancel_new;
      if (const auto it = options.find("grace_period_seconds"); it != options.end() && it->is_number_integer())
        out.grace = std::chrono::seconds(it->get<std::int64_t>());
    }
  }
  return out;
}

/// One slot of `limit` under a lease held by the run (Prefect's bulk_increment_active_slots + create_lease);
/// nullopt when the limit is full or inactive.
std::optional<std::string> take_slot(sql_connection& conn, const concurrency_limit& limit, const flow_run_id& run,
                                     std::chrono::seconds ttl, timestamp now, const slot_wait_caps& caps) {
  if (!limit.active) return std::nullopt;  // Prefect's increment matches active limits only: never acquired
  acquire_request request;
  request.names = {limit.name};
  request.lease_duration = std::chrono::duration_cast<std::chrono::microseconds>(ttl);
  request.holder = lease_holder{"flow_run", run.value};
  auto taken = acquire_slots(conn, request, now, caps);
  if (taken.decision.verdict != acquire_verdict::granted || !taken.lease) return std::nullopt;
  return taken.lease->to_string();
}

std::optional<concurrency_lease_id> lease_id_of(const std::string& text) {
  auto parsed = uuid::parse(text);
  if (!parsed) return std::nullopt;
  return concurrency_lease_id{*parsed};
}

void release_one_slot(sql_connection& conn, const deployment_limit& d, timestamp now, const slot_wait_caps& caps) {
  if (d.limit) release_named(conn, {d.limit->name}, 1, std::nullopt, now, caps);
}

}  // namespace

std::string deployment_limit_name(const deployment_id& d) { return "deployment:" + d.to_string(); }

void secure_deployment_slots(sql_connection& conn, const deployment_concurrency_plan& plan,
                             flow_transition_input& input, const deployment_slot_settings& settings) {
  if (!plan.acquire_slot && !plan.renew_lease) return;
  const auto d = read_deployment_limit(conn, *input.run.deployment_id);
  const auto ttl = d.grace.value_or(settings.initial_lease);
  using slot = deployment_slot_attempt::outcome;
  if (plan.acquire_slot) {
    auto& attempt = input.deployment_slot;
    attempt.strategy = d.strategy;
    attempt.wait = settings.slot_wait;
    if (!d.deployment_exists)
      attempt.result = slot::deployment_missing;
    else if (!d.limit)
      attempt.result = slot::not_limited;
    else if (d.limit->limit == 0)
      attempt.result = slot::zero_limit;
    else if (auto lease = take_slot(conn, *d.limit, input.run.id, ttl, input.now, settings.caps)) {
      attempt.result = slot::acquired;
      attempt.lease_id = std::move(lease);
    } else {
      attempt.result = slot::full;
    }
  }
  if (plan.renew_lease && d.limit) {
    using renewal = deployment_lease_renewal::outcome;
    auto& r = input.lease_renewal;
    const auto lease = lease_id_of(*plan.renew_lease);
    if (lease && renew_lease(conn, *lease, input.now + ttl, input.now)) {
      r.result = renewal::renewed;
    } else if (auto taken = take_slot(conn, *d.limit, input.run.id, ttl, input.now, settings.caps)) {
      r.result = renewal::reacquired;
      r.new_lease_id = std::move(taken);
    } else {
      r.result = renewal::lost;
    }
  }
}

void release_deployment_slots(sql_connection& conn, const flow_transition_effects& effects, const uuid& deployment,
                              timestamp now, const slot_wait_caps& caps) {
  if (effects.release_leases.empty() && !effects.release_deployment_slot && !effects.revoke_lease) return;
  const auto d = read_deployment_limit(conn, deployment);
  for (const auto& text : effects.release_leases) {
    const auto lease = lease_id_of(text);
    // A lease the store no longer knows (reaped, or never stored): Prefect gives one slot back instead.
    if (!lease || !release_lease(conn, *lease, now, caps)) release_one_slot(conn, d, now, caps);
  }
  if (effects.release_deployment_slot) release_one_slot(conn, d, now, caps);
  if (effects.revoke_lease)
    if (const auto lease = lease_id_of(*effects.revoke_lease)) revoke_lease(conn, *lease);
}

void sync_deployment_limit(sql_connection& conn, deployment& d, std::optional<std::int64_t> limit, timestamp now) {
  std::optional<concurrency_limit> linked;
  if (d.concurrency_limit_id) linked = find_limit(conn, concurrency_limit_id{*d.concurrency_limit_id});
  const auto own_name = deployment_limit_name(d.id);
  if (!limit) {
    if (linked && linked->name == own_name) {
      delete_limit(conn, linked->id);
      d.concurrency_limit_id.reset();
    }
    return;
  }
  if (!linked) linked = find_limit_by_name(conn, own_name);  // left by an earlier deployment of the same id
  if (linked) {
    if (linked->limit != *limit) {
      linked->limit = *limit;
      linked->updated = now;
      update_limit(conn, *linked);
    }
    d.concurrency_limit_id = linked->id.value;
    return;
  }
  concurrency_limit created;
  created.id = concurrency_limit_id{new_uuid4()};
  created.created = created.updated = now;
  created.name = own_name;
  created.limit = *limit;
  insert_limit(conn, created);
  d.concurrency_limit_id = created.id.value;
}

void drop_deployment_limit(sql_connection& conn, const deployment_id& d) {
  if (auto own = find_limit_by_name(conn, deployment_limit_name(d))) delete_limit(conn, own->id);
}

}  // namespace osprey::persistence

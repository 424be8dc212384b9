#pragma once
// The store side of deployment concurrency limits for one flow-run transition (steps 3 and 6 of the contract
// in domain/flow_policy.hpp), and the limit a deployment's `concurrency_limit` keeps (Prefect's
// _create_or_update_deployment_concurrency_limit). Run on the writer's connection inside the transition's write
// job, so taking a slot, deciding and writing the state commit together; a job that runs twice (batch retry)
// takes its slot again on the rolled-back rows. Throw sql_error.

#include <chrono>
#include <optional>

#include "domain/concurrency.hpp"
#include "domain/deployment.hpp"
#include "domain/flow_policy.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

/// Prefect's server settings the deployment slots read.
struct deployment_slot_settings {
  /// server.concurrency.initial_deployment_lease_duration: the lease a Pending run takes lasts this long unless
  /// the deployment's concurrency_options.grace_period_seconds says otherwise (Prefect: 300 s).
  std::chrono::seconds initial_lease{300};
  /// server.deployments.concurrency_slot_wait_seconds: how far ahead an enqueued run is rescheduled (30 s).
  std::chrono::seconds slot_wait{30};
  slot_wait_caps caps;
};

/// Does what `plan` asks: takes a slot of the run's deployment limit under a lease held by the run
/// (→ input.deployment_slot) and renews the current state's lease, or takes a new slot when it is gone
/// (→ input.lease_renewal). `input.run.deployment_id` must be set.
void secure_deployment_slots(sql_connection& conn, const deployment_concurrency_plan& plan,
                             flow_transition_input& input, const deployment_slot_settings& settings);

/// Gives back what `effects` release (leases, else one slot of the deployment's limit) and revokes what they
/// revoke, after the transition of a run of `deployment` was written.
void release_deployment_slots(sql_connection& conn, const flow_transition_effects& effects, const uuid& deployment,
                              timestamp now, const slot_wait_caps& caps);

/// Makes deployment `d`'s limit hold `limit`: none deletes the limit d.concurrency_limit_id names when it is the
/// deployment's own ("deployment:<id>") and clears the id (a shared global limit stays, unlike Prefect, which
/// deletes it); otherwise the named limit takes the new value, or a limit "deployment:<id>" is created (or
/// reused) and d.concurrency_limit_id points at it. Call before the deployment row is written.
void sync_deployment_limit(sql_connection& conn, deployment& d, std::optional<std::int64_t> limit, timestamp now);

/// Deletes the deployment's own limit ("deployment:<id>"), when there is one; for deleting the deployment.
void drop_deployment_limit(sql_connection& conn, const deployment_id& d);

/// The name of a deployment's own limit.
std::string deployment_limit_name(const deployment_id& d);

}  // namespace osprey::persistence

// Automation actions on Osprey's own objects (see actors/automation_action_runner.hpp): flow runs through
// their actors, deployments, work pools, work queues and automations through the database, each as the
// matching API route changes it.
#include <caf/send.hpp>

#include "actors/automation_action_runner.hpp"
#include "actors/flow_runs.hpp"
#include "domain/automation_lifecycle.hpp"
#include "domain/automation_targets.hpp"
#include "domain/deployment.hpp"
#include "domain/run_bookkeeping.hpp"
#include "domain/work_pool.hpp"
#include "persistence/automation_store.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/deployment_store.hpp"
#include "persistence/variable_store.hpp"
#include "persistence/work_pool_store.hpp"

namespace osprey::actors::action_runner {
namespace {

using nlohmann::json;
namespace targets = automation_targets;

std::string type_of(const persistence::outbox_job& job) {
  return job.payload.value("action", json::object()).value("type", "");
}

/// A failure the outbox retries (the database is busy, the server still starting) or one it gives up on,
/// worded as Prefect words an unexpected answer of its API.
action_outcome outcome_of_error(const std::string& type, const status& error, std::vector<resource_labels> related) {
  action_outcome out;
  out.related = std::move(related);
  switch (error.code()) {
    case errc::unavailable:
    case errc::timeout:
    case errc::internal:
      out.verdict = notifiers::verdict::retry;
      out.reason = error.message();
      return out;
    case errc::not_found:
      out.reason = "Unexpected status from '" + type + "' action: 404";
      out.details["status_code"] = 404;
      break;
    case errc::conflict:
    case errc::invalid_argument:
      out.reason = "Validation error occurred for '" + type + "' - " + error.message();
      out.details["status_code"] = error.code() == errc::conflict ? 409 : 422;
      break;
    default: out.reason = error.message();
  }
  out.verdict = notifiers::verdict::dead;
  return out;
}

action_outcome not_started_yet() {
  action_outcome out;
  out.verdict = notifiers::verdict::retry;
  out.reason = "the server is still starting";
  out.retry_after = std::chrono::seconds(1);
  return out;
}

/// A transition's answer: done when accepted, otherwise Prefect's "Failed to set state: <reason>".
action_outcome transition_result(const std::string& type, const transition_outcome& outcome,
                                 std::vector<resource_labels> related) {
  if (!outcome.error) return outcome_of_error(type, outcome.error, std::move(related));
  if (outcome.decision.kind != decision_kind::accept) {
    const char* verb = type == "resume-flow-run" ? "Failed to resume flow run: " : "Failed to set state: ";
    return action_outcome::failed(verb + outcome.decision.reason, std::move(related));
  }
  return action_outcome::done(std::move(related), {{"status_code", outcome.written ? 201 : 200}});
}

}  // namespace

void run_flow_run_action(runner self, persistence::outbox_job job) {
  const auto type = type_of(job);
  const auto target = targets::flow_run_target(job.payload);
  if (!target) return report(self, std::move(job), action_outcome::failed(target.error().message()));
  const auto registry = self->state.options.peers->flow_runs();
  if (!registry) return report(self, std::move(job), not_started_yet());
  const flow_run_id run{*target};
  std::vector<resource_labels> related{related_resource("prefect.flow-run", *target, "target")};
  const caf::actor me{self};
  if (type == "delete-flow-run") {
    return remove_flow_runs(registry, {run}, [me, job, type, related](const removal_outcome& out) {
      if (!out.error) return finish(me, job, outcome_of_error(type, out.error, related));
      if (out.deleted.empty()) return finish(me, job, outcome_of_error(type, status(errc::not_found, ""), related));
      finish(me, job, action_outcome::done(related, {{"status_code", 204}}));
    });
  }
  if (type == "resume-flow-run") {
    // As the client's resume_flow_run: no run input, checked against what the pause waits for.
    return persistence::read_value(
        self->state.options.db, [run](persistence::sql_connection& c) { return check_resume_input(c, run, json()); },
        [me, job, type, related, registry, run](result<std::optional<transition_call::checked_input>> checked) {
          if (!checked) return finish(me, job, outcome_of_error(type, checked.error(), related));
          transition_call call;
          call.resume = true;
          call.input = std::move(*checked);
          propose_transition(registry, run, std::move(call), [me, job, type, related](const transition_outcome& out) {
            finish(me, job, transition_result(type, out, related));
          });
        });
  }
  transition_call call;
  call.request = targets::flow_run_proposal(job.payload, self->state.options.time->now());
  propose_transition(registry, run, std::move(call), [me, job, type, related](const transition_outcome& out) {
    finish(me, job, transition_result(type, out, related));
  });
}

void run_deployment_action(runner self, persistence::outbox_job job) {
  const auto type = type_of(job);
  const auto target = targets::target_id(job.payload, targets::target_kind::deployment);
  if (!target) return report(self, std::move(job), action_outcome::failed(target.error().message()));
  const deployment_id deployment{*target};
  std::vector<resource_labels> related{related_resource("prefect.deployment", *target, "target")};
  const caf::actor me{self};
  const auto now = self->state.options.time->now();
  if (type != "run-deployment") {
    const bool pause = type == "pause-deployment";
    return persistence::write_value(
        self->state.options.db,
        [deployment, pause, now](persistence::sql_connection& c) {
          return persistence::pause_deployment(c, deployment, pause, now);
        },
        [me, job, type, related](const status& s) {
          finish(me, job,
                 s ? action_outcome::done(related, {{"status_code", 200}}) : outcome_of_error(type, s, related));
        });
  }
  const auto registry = self->state.options.peers->flow_runs();
  if (!registry) return report(self, std::move(job), not_started_yet());
  // The run as the deployment makes it, with the action's rendered parameters and job variables; the key
  // makes a retried job find the run its earlier attempt created.
  deployment_run_request request;
  request.run.id = flow_run_id{new_uuid7(now)};
  request.run.name = generate_run_name();
  request.run.created = request.run.updated = now;
  request.run.idempotency_key = targets::idempotency_key(job.payload, job.id);
  request.run.empirical_policy = normalize_flow_run_policy(json::object());
  const auto& action = job.payload["action"];
  if (const auto vars = action.value("job_variables", json()); vars.is_object()) request.run.job_variables = vars;
  persistence::read_value(
      self->state.options.db,
      [deployment, request, payload = job.payload](persistence::sql_connection& c) mutable -> result<flow_run> {
        auto d = persistence::find_deployment(c, deployment);
        if (!d) return status(errc::not_found, "Deployment not found");
        variable_lookup variables = [&c](const std::string& name) -> std::optional<json> {
          if (auto v = persistence::find_variable_by_name(c, name)) return v->value;
          return std::nullopt;
        };
        auto parameters = targets::render_run_parameters(payload["action"].value("parameters", json()),
                                                         targets::template_context(payload), variables);
        if (!parameters) return parameters.error();
        request.parameters = std::move(*parameters);
        return merge_deployment_run(*d, std::move(request), [&c](const std::string& pool, const std::string& queue) {
          auto found = persistence::find_work_queue(c, pool, queue);
          return found.queue ? std::optional(named_queue{found.queue->id, found.queue->name}) : std::nullopt;
        });
      },
      [me, job, type, related, registry, initial = targets::scheduled_run_state(action, now)](result<flow_run> run) {
        if (!run) {
          if (run.error().code() == errc::failed_precondition)
            return finish(me, job, action_outcome::failed(run.error().message(), related));
          return finish(me, job, outcome_of_error(type, run.error(), related));
        }
        create_flow_run(
            registry, {std::move(*run), initial, client_info{}, std::nullopt},
            [me, job, type, related](const creation_outcome& out) mutable {
              if (!out.error) return finish(me, job, outcome_of_error(type, out.error, related));
              related.push_back(related_resource("prefect.flow-run", out.stored.id.value, "flow-run", out.stored.name));
              finish(me, job, action_outcome::done(related, {{"status_code", out.created ? 201 : 200}}));
            });
      });
}

void run_work_pool_action(runner self, persistence::outbox_job job) {
  const auto type = type_of(job);
  const bool pool = type.find("work-pool") != std::string::npos;
  const bool pause = type.rfind("pause-", 0) == 0;
  const auto target =
      targets::target_id(job.payload, pool ? targets::target_kind::work_pool : targets::target_kind::work_queue);
  if (!target) return report(self, std::move(job), action_outcome::failed(target.error().message()));
  const caf::actor me{self};
  persistence::write_value(
      self->state.options.db,
      [id = *target, pool, pause,
       now = self->state.options.time->now()](persistence::sql_connection& c) -> result<resource_labels> {
        if (pool) {
          auto p = persistence::find_pool(c, work_pool_id{id});
          if (!p) return status(errc::failed_precondition, "Work pool " + id.to_string() + " not found");
          apply_pool_pause(*p, pause, persistence::any_worker_online(c, p->id), now);
          p->updated = now;
          persistence::update_pool(c, *p);
          return related_resource("prefect.work-pool", id, "target", p->name);
        }
        auto q = persistence::find_queue(c, work_queue_id{id});
        if (!q) return status(errc::failed_precondition, "Work queue " + id.to_string() + " not found");
        apply_queue_pause(*q, pause, now);
        q->updated = now;
        persistence::update_queue(c, *q);
        return related_resource("prefect.work-queue", id, "target", q->name);
      },
      [me, job, type](const result<resource_labels>& target_resource) {
        if (!target_resource && target_resource.error().code() == errc::failed_precondition)
          return finish(me, job, action_outcome::failed(target_resource.error().message()));
        if (!target_resource) return finish(me, job, outcome_of_error(type, target_resource.error(), {}));
        finish(me, job, action_outcome::done({*target_resource}, {{"status_code", 204}}));
      });
}

void run_automation_action(runner self, persistence::outbox_job job) {
  const auto& action = job.payload["action"];
  const bool enabled = type_of(job) == "resume-automation";
  std::string target = action.value("automation_id", "");
  if (action.value("source", "selected") == "inferred") target = job.payload["automation"].value("id", "");
  const auto id = uuid::parse(target);
  if (!id) return report(self, std::move(job), action_outcome::failed("No automation could be inferred"));
  const std::vector<resource_labels> related{related_resource("prefect.automation", *id, "target")};
  persistence::write_value(
      self->state.options.db,
      [id = automation_id{*id}, enabled,
       now = self->state.options.time->now()](persistence::sql_connection& c) -> result<automation> {
        auto a = persistence::find_automation(c, id);
        if (!a) return status(errc::not_found, "Automation not found");
        a->enabled = enabled;
        a->updated = now;
        persistence::update_automation(c, *a);
        return std::move(*a);
      },
      [me = caf::actor{self}, job, bus = self->state.options.bus, related](result<automation> a) {
        if (!a) return finish(me, job, outcome_of_error(type_of(job), a.error(), related));
        publish_events(bus, {automation_lifecycle_event(lifecycle_action::updated, *a, a->updated)});
        finish(me, job, action_outcome::done(related, {{"status_code", 204}}));
      });
}

}  // namespace osprey::actors::action_runner

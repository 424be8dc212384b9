#include "actors/task_run_transitions.hpp"

#include "domain/orchestration.hpp"
#include "domain/run_bookkeeping.hpp"
#include "domain/task_policy.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/task_run_store.hpp"

namespace osprey::actors {

transition_outcome decide_task_transition(persistence::sql_connection& c, const uuid& task_run,
                                          const transition_request& request, timestamp now) {
  transition_outcome outcome;
  persistence::lock_task_run(c, task_run);
  auto stored = persistence::find_task_run(c, task_run);
  if (!stored) {
    outcome.error = status(errc::not_found, "Task run with id " + task_run.to_string() + " not found");
    return outcome;
  }
  task_transition_input in;
  in.current = stored->state;
  in.request = request;
  in.now = now;
  in.run.id = task_run_id{task_run};
  if (stored->flow_run_id) in.run.flow_run = flow_run_id{*stored->flow_run_id};
  in.run.counters = bookkeeping_of(*stored);
  const auto& frrc = stored->columns.value("flow_run_run_count", nlohmann::json(0));
  in.run.flow_run_run_count = frrc.is_number() ? frrc.get<int>() : 0;
  in.run.policy = parse_task_run_policy(stored->columns.value("empirical_policy", nlohmann::json::object()));
  if (stored->flow_run_id)
    if (auto parent = persistence::find_flow_run(c, flow_run_id{*stored->flow_run_id}))
      in.flow_run = parent_flow_run{parent->id, parent->state, static_cast<int>(parent->run_count)};
  if (auto key = cache_lookup_key(in)) in.cached_state = persistence::find_cached_task_state(c, *key, in.now);
  // Tag concurrency limits arrive with the concurrency work; until then no tag is limited.
  auto result = orchestrate_task_transition(in);
  outcome.decision = result.decision;
  outcome.state = result.written ? result.written : stored->state;
  outcome.written = result.written.has_value();
  if (result.written || result.run_changed)
    persistence::write_task_transition(c, task_run, result.written, result.run.counters, result.run.flow_run_run_count,
                                       in.now);
  if (result.effects.insert_cache)
    persistence::insert_task_cache_entry(c, result.effects.insert_cache->cache_key,
                                         result.effects.insert_cache->cache_expiration,
                                         result.effects.insert_cache->state, in.now);
  return outcome;
}

bool schedules_background_task(const run_state& written) {
  return written.type == state_type::scheduled && detail_flag(written, "deferred");
}

std::vector<std::pair<uuid, std::string>> scheduled_background_tasks(persistence::sql_connection& conn) {
  std::vector<std::pair<uuid, std::string>> out;
  for (const auto& row : conn.query("SELECT id, task_key FROM task_run WHERE flow_run_id IS NULL AND "
                                    "state_type = 'SCHEDULED' ORDER BY expected_start_time, id"))
    out.emplace_back(row.id(0), row.text(1));
  return out;
}

void propose_task_transition(const persistence::database& db, const uuid& task_run, const transition_request& request,
                             const clock& time, transition_callback done,
                             std::shared_ptr<background_task_queue> background_tasks) {
  struct decided {
    transition_outcome outcome;
    std::string enqueue_key;  ///< set: hand the run to the task workers once committed
  };
  persistence::write_value(
      db,
      [task_run, request, &time, enqueue = background_tasks != nullptr](persistence::sql_connection& c) {
        decided d{decide_task_transition(c, task_run, request, time.now()), {}};
        if (enqueue && d.outcome.written && d.outcome.state && schedules_background_task(*d.outcome.state))
          if (auto stored = persistence::find_task_run(c, task_run))
            d.enqueue_key = stored->columns.value("task_key", "");
        return d;
      },
      [done, background_tasks, task_run](result<decided> d) {
        if (!d) {
          transition_outcome failed;
          failed.error = d.error();
          return done(failed);
        }
        if (!d->enqueue_key.empty())
          background_tasks->enqueue(task_run, d->enqueue_key, d->outcome.state->name == "AwaitingRetry");
        done(d->outcome);
      });
}

}  // namespace osprey::actors

// Writer-side CPU of storing events and recording task runs, row at a time against prepared multi-row
// statements, on one SQLite connection.
// Thread CPU time (not wall time), so that a busy machine disturbs the figures less than it does api_bench's.
//
//   build/bench/event_store_bench [--events-per-commit N] [--commits C] [--cache-kib K] PATH.db
//
// The events are shaped like the Prefect engine's task-run events (a task-run resource with 3 related
// resources and a validated_state/task_run payload). PATH is created; it must not exist.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "persistence/event_store.hpp"
#include "persistence/migrator.hpp"
#include "persistence/task_run_store.hpp"

using namespace osprey;

namespace {

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

event engine_event(timestamp at) {
  event e;
  e.id = new_uuid4();
  e.occurred = at;
  e.received = at;
  e.name = "prefect.task-run.Completed";
  const auto task_run = new_uuid4().to_string();
  e.resource = {{"prefect.resource.id", "prefect.task-run." + task_run},
                {"prefect.resource.name", "task-3"},
                {"prefect.state-name", "Completed"},
                {"prefect.state-type", "COMPLETED"},
                {"prefect.orchestration", "client"}};
  e.related = {{{"prefect.resource.id", "prefect.flow-run." + new_uuid4().to_string()},
                {"prefect.resource.role", "flow-run"},
                {"prefect.resource.name", "bench-run"}},
               {{"prefect.resource.id", "prefect.flow." + new_uuid4().to_string()},
                {"prefect.resource.role", "flow"},
                {"prefect.resource.name", "bench-flow"}},
               {{"prefect.resource.id", "prefect.tag.bench"}, {"prefect.resource.role", "tag"}}};
  e.payload = {{"intended", {{"from", "RUNNING"}, {"to", "COMPLETED"}}},
               {"validated_state",
                {{"type", "COMPLETED"},
                 {"name", "Completed"},
                 {"timestamp", format_iso8601(at)},
                 {"message", nullptr},
                 {"state_details", {{"task_run_id", task_run}}}}},
               {"task_run",
                {{"id", task_run},
                 {"name", "task-3"},
                 {"task_key", "bench-task-abc"},
                 {"dynamic_key", "3"},
                 {"tags", {"bench"}},
                 {"run_count", 1}}}};
  return e;
}

/// The recorder's events for `runs` task runs of one flow run: Pending, Running, Completed each, oldest first.
std::vector<task_run_event> task_run_events(const uuid& flow_run, std::size_t runs, timestamp& at) {
  std::vector<task_run_event> out;
  std::vector<uuid> ids;
  for (std::size_t i = 0; i < runs; ++i) ids.push_back(new_uuid4());
  const std::pair<state_type, const char*> states[] = {
      {state_type::pending, "Pending"}, {state_type::running, "Running"}, {state_type::completed, "Completed"}};
  for (const auto& [type, name] : states)
    for (std::size_t i = 0; i < runs; ++i) {
      task_run_event e;
      e.task_run_id = ids[i];
      e.flow_run_id = flow_run;
      e.state.id = state_id{new_uuid4()};
      e.state.type = type;
      e.state.name = name;
      e.state.at = at += std::chrono::milliseconds(1);
      e.columns = {{"name", "task-" + std::to_string(i)},
                   {"task_key", "bench-task-" + std::to_string(i)},
                   {"dynamic_key", "0"},
                   {"tags", {"bench"}},
                   {"run_count", 1},
                   {"empirical_policy", {{"retries", 0}, {"retry_delay", 0}}}};
      out.push_back(std::move(e));
    }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t per_commit = 200, commits = 100;
  long cache_kib = 0;
  const char* path = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--events-per-commit") && i + 1 < argc)
      per_commit = std::strtoul(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--commits") && i + 1 < argc)
      commits = std::strtoul(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--cache-kib") && i + 1 < argc)
      cache_kib = std::strtol(argv[++i], nullptr, 10);
    else
      path = argv[i];
  }
  if (!path) {
    std::fprintf(stderr, "usage: event_store_bench [--events-per-commit N] [--commits C] [--cache-kib K] PATH.db\n");
    return 2;
  }
  persistence::database_target target;
  target.sqlite_path = path;
  auto conn = persistence::open_connection(target);
  if (!conn) {
    std::fprintf(stderr, "cannot open %s: %s\n", path, conn.error().message().c_str());
    return 1;
  }
  auto& c = **conn;
  persistence::migrator m(c);
  auto plan = m.plan_upgrade("head");
  if (!plan || !m.apply(*plan)) {
    std::fprintf(stderr, "cannot migrate %s\n", path);
    return 1;
  }
  if (cache_kib > 0) c.execute_script("PRAGMA cache_size=-" + std::to_string(cache_kib));
  timestamp at = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  double row_at_a_time = 0, prepare = 0, multi_row = 0;
  for (std::size_t round = 0; round < commits; ++round) {
    std::vector<event> events;
    for (std::size_t i = 0; i < per_commit; ++i) events.push_back(engine_event(at += std::chrono::milliseconds(1)));
    const bool multi = round % 2 == 1;  // alternate, so both meet the same table sizes
    double t0 = thread_cpu_seconds();
    c.begin_write();
    if (multi) {
      const auto rows = persistence::prepare_event_insert(events, at);
      const double t1 = thread_cpu_seconds();
      prepare += t1 - t0;
      t0 = t1;
      persistence::insert_prepared_events(c, events, rows);
    } else {
      for (const auto& e : events) persistence::insert_events(c, {e}, at);  // one-row statements, as before
    }
    c.commit();
    (multi ? multi_row : row_at_a_time) += thread_cpu_seconds() - t0;
  }
  // The task-run recorder's writes: one event at a time against prepared statements and multi-row state rows.
  const uuid flow = new_uuid4();
  c.execute("INSERT INTO flow (id, name) VALUES ($1, 'bench')", {persistence::id(flow)});
  double one_by_one = 0, recorder_prepare = 0, recorder_batched = 0;
  for (std::size_t round = 0; round < commits; ++round) {
    const uuid flow_run = new_uuid4();
    c.execute("INSERT INTO flow_run (id, name, flow_id) VALUES ($1, 'bench', $2)",
              {persistence::id(flow_run), persistence::id(flow)});
    const auto events = task_run_events(flow_run, per_commit / 3, at);
    const bool batched = round % 2 == 1;
    double t0 = thread_cpu_seconds();
    c.begin_write();
    if (batched) {
      const auto rows = persistence::prepare_task_run_events(events, at);
      const double t1 = thread_cpu_seconds();
      recorder_prepare += t1 - t0;
      t0 = t1;
      persistence::record_prepared_task_run_events(c, events, rows);
    } else {
      for (const auto& e : events) persistence::record_task_run_event(c, e, at);
    }
    c.commit();
    (batched ? recorder_batched : one_by_one) += thread_cpu_seconds() - t0;
  }
  const double recorded = static_cast<double>(per_commit / 3 * 3 * commits / 2);

  const double n = static_cast<double>(per_commit * commits / 2);
  std::printf("events per commit %zu, %zu commits each way, cache %s\n", per_commit, commits / 2,
              cache_kib > 0 ? (std::to_string(cache_kib) + " KiB").c_str() : "default");
  std::printf("row at a time (prepare + write): %7.1f us CPU per event\n", row_at_a_time * 1e6 / n);
  std::printf("multi-row write:                 %7.1f us CPU per event (+ prepare %.1f us, off the writer)\n",
              multi_row * 1e6 / n, prepare * 1e6 / n);
  std::printf("task-run recorder, one by one:   %7.1f us CPU per event\n", one_by_one * 1e6 / recorded);
  std::printf("task-run recorder, prepared:     %7.1f us CPU per event (+ prepare %.1f us, off the writer)\n",
              recorder_batched * 1e6 / recorded, recorder_prepare * 1e6 / recorded);
  return 0;
}

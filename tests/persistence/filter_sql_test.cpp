// The filter grammar compiled to SQL, on SQLite and PostgreSQL: each criterion selects exactly the expected rows
// of a small fixture (flows, deployments, work pools and queues, flow runs with states, task runs, logs), the
// cross-entity EXISTS joins, operator or_, inclusive time bounds, tags, like_ with % and _ in the user's text, and
// every sort order. Bodies are written as the client sends them and parsed by domain/filters.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "domain/filters.hpp"
#include "persistence/filter_sql.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/log_store.hpp"
#include "persistence/task_run_store.hpp"
#include "persistence/ui_store.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using nlohmann::json;
using persistence::dialect;
using names = std::vector<std::string>;
using osprey::testing::scratch_database;

namespace {

struct criterion_case {
  std::string body;
  names expected;
};

const names all_runs = {"alpha", "beta_100%", "betaX100", "delta", "gamma"};

timestamp hour(int h) { return *parse_iso8601("2026-01-01T00:00:00Z") + std::chrono::hours(h); }
std::string iso(int h) { return format_iso8601(hour(h)); }

names sorted(names v) {
  std::sort(v.begin(), v.end());
  return v;
}

class FilterSql : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    conn_ = db_.connect_at_head();
    ASSERT_TRUE(conn_);
    seed();
  }

  // ---- fixture --------------------------------------------------------------------------------------------

  uuid add_flow(const std::string& name, std::vector<std::string> tags, int created_hour) {
    flow f;
    f.id = flow_id{new_uuid4()};
    f.name = name;
    f.tags = std::move(tags);
    f.created = f.updated = hour(created_hour);
    persistence::upsert_flow(*conn_, f);
    ids_[name] = f.id.value;
    return f.id.value;
  }

  uuid add_pool(const std::string& name, const std::string& type) {
    const auto id = new_uuid4();
    conn_->execute("INSERT INTO work_pool (id, name, type) VALUES ($1, $2, $3)",
                   {persistence::id(id), persistence::text(name), persistence::text(type)});
    return id;
  }

  uuid add_queue(const std::string& name, const uuid& pool) {
    const auto id = new_uuid4();
    conn_->execute("INSERT INTO work_queue (id, name, priority, work_pool_id) VALUES ($1, $2, 1, $3)",
                   {persistence::id(id), persistence::text(name), persistence::id(pool)});
    return id;
  }

  uuid add_deployment(const std::string& name, const std::string& flow, bool paused, const json& tags,
                      const std::string& queue_name, const uuid& queue) {
    const auto id = new_uuid4();
    conn_->execute(
        "INSERT INTO deployment (id, name, flow_id, paused, tags, work_queue_name, work_queue_id) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {persistence::id(id), persistence::text(name), persistence::id(ids_.at(flow)), persistence::boolean(paused),
         persistence::text(tags.dump()), persistence::text(queue_name), persistence::id(queue)});
    ids_[name] = id;
    return id;
  }

  struct run_spec {
    std::string name{};
    std::string flow{};
    std::vector<std::string> tags{};
    state_type type = state_type::pending;
    std::string state_name{};
    std::optional<timestamp> start{}, end{}, expected{}, next_scheduled{};
    std::optional<uuid> deployment{}, queue{}, parent_task{};
    std::optional<std::string> queue_name{}, version{}, key{};
    json created_by{};
  };

  void add_run(const run_spec& s) {
    flow_run run;
    run.id = flow_run_id{new_uuid4()};
    run.name = s.name;
    run.flow = flow_id{ids_.at(s.flow)};
    run.created = run.updated = hour(0);
    run.tags = s.tags;
    run.deployment_id = s.deployment;
    run.work_queue_id = s.queue;
    run.work_queue_name = s.queue_name;
    run.flow_version = s.version;
    run.idempotency_key = s.key;
    run.parent_task_run_id = s.parent_task;
    run.created_by = s.created_by;
    run.expected_start_time = s.expected;
    run.next_scheduled_start_time = s.next_scheduled;
    run_state initial;
    initial.id = state_id{new_uuid7(hour(0))};
    initial.type = s.type;
    initial.name = s.state_name.empty() ? default_state_name(s.type) : s.state_name;
    initial.at = hour(0);
    run_bookkeeping counters;
    counters.start_time = s.start;
    counters.end_time = s.end;
    counters.expected_start_time = s.expected;
    counters.next_scheduled_start_time = s.next_scheduled;
    persistence::create_flow_run(*conn_, run, initial, counters);
    ids_[s.name] = run.id.value;
  }

  void add_task_run(const std::string& name, std::optional<std::string> run, const json& tags, state_type type,
                    std::optional<timestamp> start) {
    const auto id = new_uuid4();
    conn_->execute(
        "INSERT INTO task_run (id, name, flow_run_id, task_key, dynamic_key, tags, state_type, state_name, "
        "start_time, expected_start_time) VALUES ($1, $2, $3, $4, '0', $5, $6, $7, $8, $8)",
        {persistence::id(id), persistence::text(name), run ? persistence::id(ids_.at(*run)) : persistence::null_value(),
         persistence::text(name), persistence::text(tags.dump()), persistence::text(to_string(type)),
         persistence::text(default_state_name(type)), start ? persistence::ts(*start) : persistence::null_value()});
    ids_[name] = id;
  }

  void add_log(const std::string& message, const std::string& logger, int level, int at_hour,
               std::optional<std::string> run, std::optional<std::string> task) {
    log_record l;
    l.id = new_uuid4();
    l.created = hour(0);
    l.name = logger;
    l.level = level;
    l.message = message;
    l.at = hour(at_hour);
    if (run) l.flow_run_id = ids_.at(*run);
    if (task) l.task_run_id = ids_.at(*task);
    persistence::insert_logs(*conn_, {l});
  }

  void seed() {
    add_flow("etl", {"prod", "nightly"}, 1);
    add_flow("Report_Builder", {"prod"}, 2);
    add_flow("ml-train", {}, 3);
    const auto pool_a = add_pool("pool-a", "process");
    add_pool("pool-b", "docker");
    const auto a_default = add_queue("default", pool_a);
    const auto a_high = add_queue("high", pool_a);
    add_deployment("etl-daily", "etl", false, {"prod"}, "default", a_default);
    add_deployment("report-weekly", "Report_Builder", true, json::array(), "high", a_high);
    creator_ = new_uuid4();

    add_run({.name = "alpha",
             .flow = "etl",
             .tags = {"prod", "nightly"},
             .type = state_type::completed,
             .start = hour(1),
             .end = hour(2),
             .expected = hour(1),
             .deployment = ids_.at("etl-daily"),
             .queue = a_default,
             .queue_name = "default",
             .version = "1.0",
             .key = "k1",
             .created_by = {{"id", creator_.to_string()}, {"type", "DEPLOYMENT"}}});
    add_run({.name = "beta_100%",
             .flow = "etl",
             .tags = {"prod"},
             .type = state_type::failed,
             .start = hour(2),
             .end = hour(3),
             .expected = hour(2),
             .version = "2.0"});
    add_run({.name = "gamma",
             .flow = "Report_Builder",
             .tags = {},
             .type = state_type::scheduled,
             .state_name = "Late",
             .expected = hour(5),
             .next_scheduled = hour(5),
             .deployment = ids_.at("report-weekly"),
             .queue = a_high,
             .queue_name = "high",
             .created_by = {{"type", "AUTOMATION"}}});
    add_task_run("parent-task", "alpha", {"io"}, state_type::completed, hour(1));
    add_task_run("load-task", "beta_100%", json::array(), state_type::failed, hour(2));
    add_task_run("orphan-task", std::nullopt, json::array(), state_type::running, std::nullopt);
    add_run({.name = "delta",
             .flow = "ml-train",
             .tags = {"nightly"},
             .type = state_type::running,
             .start = hour(3),
             .expected = hour(3),
             .parent_task = ids_.at("parent-task")});
    add_run(
        {.name = "betaX100", .flow = "ml-train", .tags = {"dev"}, .type = state_type::pending, .expected = hour(4)});

    add_log("debug connection pool", "prefect.flow_runs", 10, 1, "alpha", std::nullopt);
    add_log("Task started", "prefect.task_runs", 20, 2, "alpha", "parent-task");
    add_log("Error: connection timeout", "prefect.flow_runs", 40, 3, "beta_100%", std::nullopt);
    add_log("Crash!", "worker", 50, 4, std::nullopt, std::nullopt);
  }

  // ---- queries --------------------------------------------------------------------------------------------

  /// The filter set of a body (all six filter keys are accepted by the flow-run parser).
  static filters::filter_set filter_set(const std::string& body) {
    filters::filter_error error;
    auto q = filters::parse_flow_run_query(json::parse(body), filters::body_kind::count, error);
    EXPECT_TRUE(q) << body << " → " << error.describe();
    return q ? q->filters : filters::filter_set{};
  }

  names run_names(const std::string& body, std::optional<filters::flow_run_sort> sort = std::nullopt,
                  std::int64_t limit = 200, std::int64_t offset = 0) {
    const auto where = persistence::flow_run_where(GetParam(), filter_set(body));
    names out;
    for (const auto& r : persistence::select_flow_runs(
             *conn_, where.sql, where.params, persistence::order_by(sort.value_or(filters::flow_run_sort::name_asc)),
             limit, offset))
      out.push_back(r.name);
    if (limit == 200 && offset == 0) {
      EXPECT_EQ(persistence::count_flow_runs(*conn_, where.sql, where.params), static_cast<std::int64_t>(out.size()))
          << body;
    }
    return sort ? out : sorted(out);
  }

  void expect_runs(const std::vector<criterion_case>& cases) {
    for (const auto& c : cases) EXPECT_EQ(run_names(c.body), sorted(c.expected)) << c.body;
  }

  names flow_names(const std::string& body, std::optional<filters::flow_sort> sort = std::nullopt,
                   std::int64_t limit = 200, std::int64_t offset = 0) {
    const auto where = persistence::flow_where(GetParam(), filter_set(body));
    names out;
    for (const auto& f :
         persistence::select_flows(*conn_, where.sql, where.params,
                                   persistence::order_by(sort.value_or(filters::flow_sort::name_asc)), limit, offset))
      out.push_back(f.name);
    if (limit == 200 && offset == 0) {
      EXPECT_EQ(persistence::count_flows(*conn_, where.sql, where.params), static_cast<std::int64_t>(out.size()))
          << body;
    }
    return sort ? out : sorted(out);
  }

  names column(const std::string& table_and_alias, const persistence::sql_where& where, const std::string& order) {
    names out;
    for (const auto& row : conn_->query("SELECT name FROM " + table_and_alias +
                                            (where.sql.empty() ? "" : " WHERE " + where.sql) + " ORDER BY " + order,
                                        where.params))
      out.push_back(row.text(0));
    return out;
  }

  /// Also checks that the page form of the filter (task_run_page_where) selects the same task runs, and that the
  /// count form (task_run_count_where, a join on SQLite) counts them, alone and per state.
  names task_names(const std::string& body) {
    const auto order = persistence::order_by(filters::task_run_sort::name_asc);
    auto found = column("task_run t", persistence::task_run_where(GetParam(), filter_set(body)), order);
    EXPECT_EQ(column("task_run t", persistence::task_run_page_where(GetParam(), filter_set(body)), order), found)
        << body;
    const auto counted = persistence::task_run_count_where(GetParam(), filter_set(body));
    EXPECT_EQ(persistence::count_task_runs(*conn_, counted.sql, counted.params, counted.joins),
              static_cast<std::int64_t>(found.size()))
        << body;
    std::int64_t by_state = 0;
    for (const auto& [type, n] : persistence::count_task_runs_by_state(*conn_, counted)) by_state += n;
    EXPECT_EQ(by_state, static_cast<std::int64_t>(found.size())) << body;
    return found;
  }

  names deployment_names(const std::string& body) {
    return column("deployment d", persistence::deployment_where(GetParam(), filter_set(body)), "d.name");
  }

  names log_messages(const std::string& logs, filters::log_sort sort = filters::log_sort::timestamp_asc,
                     std::int64_t limit = 200, std::int64_t offset = 0) {
    filters::filter_error error;
    auto q = filters::parse_log_query(json::parse(R"({"logs": )" + logs + "}"), error);
    EXPECT_TRUE(q) << logs << " → " << error.describe();
    if (!q) return {};
    const auto where = persistence::log_where(GetParam(), q->logs);
    names out;
    for (const auto& l :
         persistence::select_logs(*conn_, where.sql, where.params, persistence::order_by(sort), limit, offset))
      out.push_back(l.message);
    return out;
  }

  std::string id_of(const std::string& name) const { return ids_.at(name).to_string(); }

  scratch_database db_{GetParam()};
  std::unique_ptr<persistence::sql_connection> conn_;
  std::map<std::string, uuid> ids_;
  uuid creator_;
};

}  // namespace

TEST_P(FilterSql, NoFilterSelectsEverything) {
  EXPECT_EQ(run_names("{}"), sorted(all_runs));
  EXPECT_EQ(run_names(R"({"flow_runs": {}})"), sorted(all_runs));
  EXPECT_EQ(flow_names("{}"), sorted({"Report_Builder", "etl", "ml-train"}));
  EXPECT_EQ(log_messages("null").size(), 4U);
  EXPECT_TRUE(persistence::flow_run_where(GetParam(), {}).sql.empty());
}

TEST_P(FilterSql, FlowRunIdsNamesAndLike) {
  const std::vector<criterion_case> cases = {
      {R"({"flow_runs": {"id": {"any_": [")" + id_of("alpha") + R"(", ")" + id_of("gamma") + R"("]}}})",
       {"alpha", "gamma"}},
      {R"({"flow_runs": {"id": {"any_": []}}})", {}},
      {R"({"flow_runs": {"id": {"not_any_": [")" + id_of("alpha") + R"("]}}})",
       {"beta_100%", "betaX100", "delta", "gamma"}},
      {R"({"flow_runs": {"id": {"not_any_": []}}})", all_runs},
      {R"({"flow_runs": {"name": {"any_": ["alpha", "nope"]}}})", {"alpha"}},
      {R"({"flow_runs": {"name": {"like_": "BETA"}}})", {"beta_100%", "betaX100"}},
      // % and _ in the user's text match only themselves.
      {R"({"flow_runs": {"name": {"like_": "a_1"}}})", {"beta_100%"}},
      {R"({"flow_runs": {"name": {"like_": "100%"}}})", {"beta_100%"}},
      {R"({"flow_runs": {"name": {"like_": "%"}}})", {"beta_100%"}},
      {R"({"flow_runs": {"name": {"like_": "\\"}}})", {}},
      {R"({"flow_runs": {"name": {"like_": ""}}})", all_runs},
      {R"({"flow_runs": {"flow_version": {"any_": ["2.0"]}}})", {"beta_100%"}},
      {R"({"flow_runs": {"idempotency_key": {"any_": ["k1"]}}})", {"alpha"}},
      // NOT IN never matches NULL keys, in SQL as under Prefect.
      {R"({"flow_runs": {"idempotency_key": {"not_any_": ["k1"]}}})", {}},
  };
  expect_runs(cases);
}

TEST_P(FilterSql, FlowRunTags) {
  const std::vector<criterion_case> cases = {
      {R"({"flow_runs": {"tags": {"all_": ["prod", "nightly"]}}})", {"alpha"}},
      {R"({"flow_runs": {"tags": {"all_": ["prod"]}}})", {"alpha", "beta_100%"}},
      {R"({"flow_runs": {"tags": {"all_": []}}})", all_runs},
      {R"({"flow_runs": {"tags": {"any_": ["nightly", "dev"]}}})", {"alpha", "betaX100", "delta"}},
      {R"({"flow_runs": {"tags": {"any_": []}}})", {}},
      {R"({"flow_runs": {"tags": {"is_null_": true}}})", {"gamma"}},
      {R"({"flow_runs": {"tags": {"is_null_": false}}})", {"alpha", "beta_100%", "betaX100", "delta"}},
      {R"({"flow_runs": {"tags": {"all_": ["dev"], "is_null_": true, "operator": "or_"}}})", {"betaX100", "gamma"}},
  };
  expect_runs(cases);
}

TEST_P(FilterSql, FlowRunStatesDeploymentsQueuesCreators) {
  const std::vector<criterion_case> cases = {
      {R"({"flow_runs": {"state": {"type": {"any_": ["COMPLETED", "FAILED"]}}}})", {"alpha", "beta_100%"}},
      {R"({"flow_runs": {"state": {"type": {"not_any_": ["COMPLETED", "FAILED"]}}}})", {"betaX100", "delta", "gamma"}},
      {R"({"flow_runs": {"state": {"type": {"any_": []}}}})", {}},
      {R"({"flow_runs": {"state": {"name": {"any_": ["Late"]}}}})", {"gamma"}},
      {R"({"flow_runs": {"state": {"name": {"not_any_": ["Late", "Pending"]}}}})", {"alpha", "beta_100%", "delta"}},
      {R"({"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}, "name": {"not_any_": ["Late"]}}}})", {}},
      {R"({"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}, "name": {"any_": ["Late"]}, "operator": "or_"}}})",
       {"alpha", "gamma"}},
      {R"({"flow_runs": {"deployment_id": {"any_": [")" + id_of("etl-daily") + R"("]}}})", {"alpha"}},
      {R"({"flow_runs": {"deployment_id": {"is_null_": true}}})", {"beta_100%", "betaX100", "delta"}},
      {R"({"flow_runs": {"work_queue_name": {"any_": ["high"]}}})", {"gamma"}},
      {R"({"flow_runs": {"work_queue_name": {"is_null_": false}}})", {"alpha", "gamma"}},
      {R"({"flow_runs": {"parent_task_run_id": {"any_": [")" + id_of("parent-task") + R"("]}}})", {"delta"}},
      {R"({"flow_runs": {"parent_task_run_id": {"is_null_": false}}})", {"delta"}},
      {R"({"flow_runs": {"parent_flow_run_id": {"any_": [")" + id_of("alpha") + R"("]}}})", {"delta"}},
      {R"({"flow_runs": {"parent_flow_run_id": {"any_": [")" + id_of("gamma") + R"("]}}})", {}},
      {R"({"flow_runs": {"created_by": {"type_": ["AUTOMATION"]}}})", {"gamma"}},
      {R"({"flow_runs": {"created_by": {"id_": [")" + creator_.to_string() + R"("]}}})", {"alpha"}},
      {R"({"flow_runs": {"created_by": {"is_null_": true}}})", {"beta_100%", "betaX100", "delta"}},
  };
  expect_runs(cases);
}

TEST_P(FilterSql, TimeBoundsAreInclusive) {
  const std::vector<criterion_case> cases = {
      // start_time compares COALESCE(start_time, expected_start_time).
      {R"({"flow_runs": {"start_time": {"before_": ")" + iso(2) + R"("}}})", {"alpha", "beta_100%"}},
      {R"({"flow_runs": {"start_time": {"after_": ")" + iso(4) + R"("}}})", {"betaX100", "gamma"}},
      {R"({"flow_runs": {"start_time": {"after_": ")" + iso(2) + R"(", "before_": ")" + iso(3) + R"("}}})",
       {"beta_100%", "delta"}},
      {R"({"flow_runs": {"start_time": {"is_null_": true}}})", {"betaX100", "gamma"}},
      {R"({"flow_runs": {"end_time": {"after_": ")" + iso(3) + R"("}}})", {"beta_100%"}},
      {R"({"flow_runs": {"end_time": {"before_": ")" + iso(2) + R"("}}})", {"alpha"}},
      {R"({"flow_runs": {"end_time": {"is_null_": true}}})", {"betaX100", "delta", "gamma"}},
      {R"({"flow_runs": {"expected_start_time": {"before_": ")" + iso(1) + R"("}}})", {"alpha"}},
      {R"({"flow_runs": {"next_scheduled_start_time": {"before_": ")" + iso(5) + R"("}}})", {"gamma"}},
      {R"({"flow_runs": {"next_scheduled_start_time": {"before_": ")" +
           format_iso8601(hour(5) - std::chrono::microseconds(1)) + R"("}}})",
       {}},
      // The client's str(datetime) form, with a space and an offset.
      {R"({"flow_runs": {"expected_start_time": {"after_": "2026-01-01 06:00:00+02:00"}}})", {"betaX100", "gamma"}},
  };
  expect_runs(cases);
}

TEST_P(FilterSql, OperatorOrCombinesCriteria) {
  const std::vector<criterion_case> cases = {
      {R"({"flow_runs": {"operator": "or_", "name": {"any_": ["alpha"]}, "state": {"type": {"any_": ["RUNNING"]}}}})",
       {"alpha", "delta"}},
      {R"({"flow_runs": {"operator": "and_", "name": {"any_": ["alpha"]}, "state": {"type": {"any_": ["RUNNING"]}}}})",
       {}},
      // An empty criterion is true, so under or_ everything matches (Prefect's sa.true()).
      {R"({"flow_runs": {"operator": "or_", "name": {}, "tags": {"any_": ["dev"]}}})", all_runs},
      {R"({"flow_runs": {"operator": "or_", "id": {"any_": []}, "tags": {"any_": ["dev"]}}})", {"betaX100"}},
  };
  expect_runs(cases);
}

TEST_P(FilterSql, FlowRunsThroughOtherEntities) {
  const std::vector<criterion_case> cases = {
      {R"({"flows": {"name": {"any_": ["ml-train"]}}})", {"betaX100", "delta"}},
      {R"({"flows": {"tags": {"all_": ["prod"]}}})", {"alpha", "beta_100%", "gamma"}},
      {R"({"flows": {"name": {"like_": "report"}}})", {"gamma"}},
      {R"({"deployments": {}})", {"alpha", "gamma"}},
      {R"({"deployments": {"name": {"like_": "weekly"}}})", {"gamma"}},
      {R"({"deployments": {"paused": {"eq_": false}}})", {"alpha"}},
      {R"({"deployments": {"tags": {"any_": ["prod"]}}})", {"alpha"}},
      {R"({"deployments": {"tags": {"is_null_": true}}})", {"gamma"}},
      {R"({"deployments": {"flow_or_deployment_name": {"like_": "builder"}}})", {"gamma"}},
      {R"({"deployments": {"flow_or_deployment_name": {"like_": "daily"}}})", {"alpha"}},
      {R"({"deployments": {"work_queue_name": {"any_": ["high"]}}})", {"gamma"}},
      {R"({"work_pools": {"type": {"any_": ["process"]}}})", {"alpha", "gamma"}},
      {R"({"work_pools": {"name": {"any_": ["pool-b"]}}})", {}},
      {R"({"work_pool_queues": {"name": {"startswith_": ["HI"]}}})", {"gamma"}},
      {R"({"work_pool_queues": {"name": {"any_": ["default"]}}, "work_pools": {"name": {"any_": ["pool-a"]}}})",
       {"alpha"}},
      {R"({"task_runs": {"name": {"any_": ["load-task"]}}})", {"beta_100%"}},
      {R"({"task_runs": {"subflow_runs": {"exists_": true}}})", {"alpha"}},
      {R"({"task_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}})", {"alpha"}},
      {R"({"task_runs": {}})", {"alpha", "beta_100%"}},
      {R"({"flows": {"name": {"any_": ["etl"]}}, "flow_runs": {"state": {"type": {"any_": ["FAILED"]}}}})",
       {"beta_100%"}},
      {R"({"flows": {"name": {"any_": ["etl"]}}, "task_runs": {"tags": {"all_": ["io"]}}})", {"alpha"}},
  };
  expect_runs(cases);
}

TEST_P(FilterSql, FlowsByTheirOwnFieldsAndThroughOtherEntities) {
  const std::vector<criterion_case> cases = {
      {R"({"flows": {"name": {"like_": "REPORT_"}}})", {"Report_Builder"}},
      {R"({"flows": {"name": {"any_": ["etl", "ml-train"]}}})", {"etl", "ml-train"}},
      {R"({"flows": {"id": {"not_any_": [")" + id_of("etl") + R"("]}}})", {"Report_Builder", "ml-train"}},
      {R"({"flows": {"tags": {"all_": ["prod"]}}})", {"Report_Builder", "etl"}},
      {R"({"flows": {"tags": {"is_null_": true}}})", {"ml-train"}},
      {R"({"flows": {"deployment": {"is_null_": true}}})", {"ml-train"}},
      {R"({"flows": {"deployment": {"is_null_": false}}})", {"Report_Builder", "etl"}},
      {R"({"flows": {"operator": "or_", "tags": {"is_null_": true}, "name": {"any_": ["etl"]}}})", {"etl", "ml-train"}},
      {R"({"flow_runs": {"state": {"type": {"any_": ["RUNNING"]}}}})", {"ml-train"}},
      {R"({"flow_runs": {"state": {"type": {"any_": ["CANCELLED"]}}}})", {}},
      {R"({"task_runs": {"name": {"any_": ["parent-task"]}}})", {"etl"}},
      {R"({"flow_runs": {"tags": {"any_": ["prod"]}}, "task_runs": {"state": {"type": {"any_": ["FAILED"]}}}})",
       {"etl"}},
      {R"({"deployments": {"paused": {"eq_": true}}})", {"Report_Builder"}},
      {R"({"work_pools": {"name": {"any_": ["pool-a"]}}})", {"Report_Builder", "etl"}},
      {R"({"work_pool_queues": {"name": {"any_": ["high"]}}})", {"Report_Builder"}},
  };
  for (const auto& c : cases) EXPECT_EQ(flow_names(c.body), sorted(c.expected)) << c.body;
}

TEST_P(FilterSql, TaskRunsAndDeploymentsCompileToo) {
  EXPECT_EQ(task_names("{}"), (names{"load-task", "orphan-task", "parent-task"}));
  EXPECT_EQ(task_names(R"({"task_runs": {"flow_run_id": {}}})"), (names{"load-task", "parent-task"}));
  EXPECT_EQ(task_names(R"({"task_runs": {"flow_run_id": {"is_null_": true}}})"), (names{"orphan-task"}));
  EXPECT_EQ(task_names(R"({"task_runs": {"flow_run_id": {"any_": [")" + id_of("beta_100%") + R"("]}}})"),
            (names{"load-task"}));
  EXPECT_EQ(task_names(R"({"task_runs": {"subflow_runs": {"exists_": false}}})"), (names{"load-task", "orphan-task"}));
  EXPECT_EQ(task_names(R"({"task_runs": {"tags": {"all_": ["io"]}}})"), (names{"parent-task"}));
  EXPECT_EQ(task_names(R"({"task_runs": {"tags": {"is_null_": true}}})"), (names{"load-task", "orphan-task"}));
  EXPECT_EQ(task_names(R"({"task_runs": {"name": {"like_": "TASK"}, "state": {"type": {"any_": ["FAILED"]}}}})"),
            (names{"load-task"}));
  EXPECT_EQ(task_names(R"({"task_runs": {"start_time": {"before_": ")" + iso(1) + R"("}}})"), (names{"parent-task"}));
  EXPECT_EQ(task_names(R"({"task_runs": {"start_time": {"is_null_": true}}})"), (names{"orphan-task"}));
  EXPECT_EQ(task_names(R"({"flow_runs": {"name": {"any_": ["alpha"]}}})"), (names{"parent-task"}));
  EXPECT_EQ(task_names(R"({"flows": {"name": {"any_": ["etl"]}}})"), (names{"load-task", "parent-task"}));
  EXPECT_EQ(task_names(R"({"deployments": {}})"), (names{"parent-task"}));
  EXPECT_EQ(task_names(R"({"work_pools": {"type": {"any_": ["process"]}}})"), (names{"parent-task"}));
  // The dashboard's empty flow-run filter: every task run that has a flow run (compiled without a list of runs).
  EXPECT_EQ(task_names(R"({"flow_runs": {"operator": "and_"}})"), (names{"load-task", "parent-task"}));
  // A window of flow runs (the runs page) and flow runs named by id (the flow-run page), with task-run criteria.
  EXPECT_EQ(task_names(R"({"flow_runs": {"expected_start_time": {"after_": ")" + iso(1) + R"(", "before_": ")" +
                       iso(2) + R"("}}})"),
            (names{"load-task", "parent-task"}));
  EXPECT_EQ(task_names(R"({"flow_runs": {"id": {"any_": [")" + id_of("alpha") + R"(", ")" + id_of("gamma") +
                       R"("]}}, "task_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}})"),
            (names{"parent-task"}));
  // Several run-side filters land in one sub-select over the same run.
  EXPECT_EQ(task_names(R"({"flow_runs": {"name": {"any_": ["alpha"]}}, "flows": {"name": {"any_": ["etl"]}}})"),
            (names{"parent-task"}));
  EXPECT_EQ(task_names(R"({"flow_runs": {"name": {"any_": ["alpha"]}}, "deployments": {"tags": {"is_null_": true}}})"),
            (names{}));

  EXPECT_EQ(deployment_names(R"({"deployments": {"tags": {"is_null_": true}}})"), (names{"report-weekly"}));
  EXPECT_EQ(deployment_names(R"({"deployments": {"id": {"any_": [")" + id_of("etl-daily") + R"("]}}})"),
            (names{"etl-daily"}));
  EXPECT_EQ(deployment_names(R"({"flows": {"name": {"any_": ["etl"]}}})"), (names{"etl-daily"}));
  EXPECT_EQ(deployment_names(R"({"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}})"),
            (names{"report-weekly"}));
  EXPECT_EQ(deployment_names(R"({"task_runs": {}})"), (names{"etl-daily"}));
  EXPECT_EQ(deployment_names(R"({"work_pool_queues": {"name": {"any_": ["high"]}}})"), (names{"report-weekly"}));
}

TEST_P(FilterSql, LogCriteria) {
  const std::string all[] = {"debug connection pool", "Task started", "Error: connection timeout", "Crash!"};
  EXPECT_EQ(log_messages("{}"), (names{all[0], all[1], all[2], all[3]}));
  EXPECT_EQ(log_messages("{}", filters::log_sort::timestamp_desc), (names{all[3], all[2], all[1], all[0]}));
  EXPECT_EQ(log_messages("{}", filters::log_sort::timestamp_asc, 2, 1), (names{all[1], all[2]}));
  EXPECT_EQ(log_messages(R"({"level": {"ge_": 20, "le_": 40}})"), (names{all[1], all[2]}));
  EXPECT_EQ(log_messages(R"({"level": {"ge_": 100000}})"), names{});
  EXPECT_EQ(log_messages(R"({"timestamp": {"before_": ")" + iso(2) + R"("}})"), (names{all[0], all[1]}));
  EXPECT_EQ(log_messages(R"({"timestamp": {"after_": ")" + iso(3) + R"("}})"), (names{all[2], all[3]}));
  EXPECT_EQ(log_messages(R"({"flow_run_id": {"any_": [")" + id_of("alpha") + R"("]}})"), (names{all[0], all[1]}));
  EXPECT_EQ(log_messages(R"({"task_run_id": {"is_null_": true}})"), (names{all[0], all[2], all[3]}));
  EXPECT_EQ(log_messages(R"({"task_run_id": {"any_": [")" + id_of("parent-task") + R"("]}})"), (names{all[1]}));
  EXPECT_EQ(log_messages(R"({"operator": "or_", "level": {"ge_": 50}, "flow_run_id": {"any_": [")" +
                         id_of("beta_100%") + R"("]}})"),
            (names{all[2], all[3]}));
}

TEST_P(FilterSql, LogTextSearch) {
  auto text = [&](const std::string& query) { return log_messages(json{{"text", {{"query", query}}}}.dump()); };
  EXPECT_EQ(text("connection"), (names{"debug connection pool", "Error: connection timeout"}));
  EXPECT_EQ(text("connection -debug"), (names{"Error: connection timeout"}));
  EXPECT_EQ(text("+error +TIMEOUT"), (names{"Error: connection timeout"}));
  EXPECT_EQ(text("\"connection timeout\""), (names{"Error: connection timeout"}));
  EXPECT_EQ(text("worker"), (names{"Crash!"}));  // the logger name is searched too
  EXPECT_EQ(text("crash started"), (names{"Task started", "Crash!"}));
  EXPECT_EQ(text("%"), names{});  // no wildcard
  EXPECT_EQ(text("   ").size(), 4U);
}

TEST_P(FilterSql, SortOrders) {
  using s = filters::flow_run_sort;
  EXPECT_EQ(run_names("{}", s::start_time_asc), (names{"alpha", "beta_100%", "delta", "betaX100", "gamma"}));
  EXPECT_EQ(run_names("{}", s::start_time_desc), (names{"gamma", "betaX100", "delta", "beta_100%", "alpha"}));
  EXPECT_EQ(run_names("{}", s::expected_start_time_asc), (names{"alpha", "beta_100%", "delta", "betaX100", "gamma"}));
  EXPECT_EQ(run_names("{}", s::expected_start_time_desc), (names{"gamma", "betaX100", "delta", "beta_100%", "alpha"}));
  const std::string lower_case = R"({"flow_runs": {"name": {"any_": ["alpha", "gamma", "delta"]}}})";
  EXPECT_EQ(run_names(lower_case, s::name_asc), (names{"alpha", "delta", "gamma"}));
  EXPECT_EQ(run_names(lower_case, s::name_desc), (names{"gamma", "delta", "alpha"}));
  EXPECT_EQ(run_names(R"({"flow_runs": {"end_time": {"is_null_": false}}})", s::end_time_desc),
            (names{"beta_100%", "alpha"}));
  // NULLs sort as each dialect sorts them, as under Prefect: PostgreSQL puts them last ascending.
  const auto next = run_names("{}", s::next_scheduled_start_time_asc);
  EXPECT_EQ(GetParam() == dialect::postgresql ? next.front() : next.back(), "gamma");

  names by_id = all_runs;
  std::sort(by_id.begin(), by_id.end(), [&](const auto& a, const auto& b) { return id_of(a) > id_of(b); });
  EXPECT_EQ(run_names("{}", s::id_desc), by_id);
  EXPECT_EQ(run_names("{}", s::id_desc, 2, 1), (names{by_id[1], by_id[2]}));

  using f = filters::flow_sort;
  EXPECT_EQ(flow_names("{}", f::created_desc), (names{"ml-train", "Report_Builder", "etl"}));
  EXPECT_EQ(flow_names("{}", f::updated_desc), (names{"ml-train", "Report_Builder", "etl"}));
  EXPECT_EQ(flow_names(R"({"flows": {"name": {"any_": ["etl", "ml-train"]}}})", f::name_desc),
            (names{"ml-train", "etl"}));
  EXPECT_EQ(flow_names(R"({"flows": {"name": {"any_": ["etl", "ml-train"]}}})", f::name_asc),
            (names{"etl", "ml-train"}));
  EXPECT_EQ(flow_names("{}", f::created_desc, 1, 1), (names{"Report_Builder"}));
}

TEST_P(FilterSql, APageOfRunsIsChosenThenJoinedToItsStateQueueAndPool) {
  using s = filters::flow_run_sort;
  // The flows page: a flow's runs that started, newest first, a page at a time.
  const std::string etl = R"({"flows": {"name": {"any_": ["etl"]}}, "flow_runs": {"start_time": {"is_null_": false}}})";
  EXPECT_EQ(run_names(etl, s::start_time_desc, 1), (names{"beta_100%"}));
  EXPECT_EQ(run_names(etl, s::start_time_desc, 1, 1), (names{"alpha"}));
  EXPECT_EQ(run_names(etl, s::start_time_desc, 5, 2), (names{}));
  EXPECT_EQ(run_names("{}", s::expected_start_time_desc, 2, 1), (names{"betaX100", "delta"}));
  const auto where = persistence::flow_run_where(GetParam(), filter_set(etl));
  const auto runs =
      persistence::select_flow_runs(*conn_, where.sql, where.params, persistence::order_by(s::start_time_asc), 10, 0);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].name, "alpha");
  ASSERT_TRUE(runs[0].state);
  EXPECT_EQ(runs[0].state->type, state_type::completed);
  EXPECT_EQ(runs[0].work_queue_name.value_or(""), "default");
  EXPECT_EQ(runs[0].work_pool_name.value_or(""), "pool-a");
  ASSERT_TRUE(runs[1].state);
  EXPECT_EQ(runs[1].state->type, state_type::failed);
  EXPECT_FALSE(runs[1].work_pool_name);
}

TEST_P(FilterSql, UserTextNeverBecomesSql) {
  const std::string hostile = "x'); DROP TABLE flow; --";
  EXPECT_EQ(run_names(json{{"flow_runs", {{"name", {{"any_", {hostile}}, {"like_", hostile}}}}}}.dump()), names{});
  EXPECT_EQ(run_names(json{{"flow_runs", {{"tags", {{"all_", {hostile}}, {"any_", {"'", "\""}}}}}}}.dump()), names{});
  EXPECT_EQ(log_messages(json{{"text", {{"query", "\"' OR 1=1 --\""}}}}.dump()), names{});
  EXPECT_EQ(flow_names("{}").size(), 3U);
  EXPECT_EQ(log_messages("{}").size(), 4U);

  // Lists travel as one parameter each: the statement text depends on the filter's shape only.
  const auto one = persistence::flow_run_where(GetParam(), filter_set(R"({"flow_runs": {"name": {"any_": ["a"]}}})"));
  const auto three =
      persistence::flow_run_where(GetParam(), filter_set(R"({"flow_runs": {"name": {"any_": ["a", "b", "c"]}}})"));
  EXPECT_EQ(one.sql, three.sql);
  EXPECT_EQ(one.params.size(), 1U);
  EXPECT_EQ(one.sql.find('\''), std::string::npos) << one.sql;
}

INSTANTIATE_TEST_SUITE_P(D, FilterSql, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

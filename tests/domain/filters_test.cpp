// The filter grammar of every …/filter, …/count and …/paginate body: what parses into which tree, Prefect's
// defaults and bounds for sort/limit/offset/page, and a table of refusals with pydantic's location and type.
#include <gtest/gtest.h>

#include "domain/filters.hpp"

using namespace osprey;
using namespace osprey::filters;
using nlohmann::json;

namespace {

flow_run_query runs(const json& body, body_kind kind = body_kind::filter) {
  filter_error error;
  auto q = parse_flow_run_query(body, kind, error);
  EXPECT_TRUE(q) << body << " → " << error.describe();
  return q.value_or(flow_run_query{});
}

flow_query flows(const json& body, body_kind kind = body_kind::filter) {
  filter_error error;
  auto q = parse_flow_query(body, kind, error);
  EXPECT_TRUE(q) << body << " → " << error.describe();
  return q.value_or(flow_query{});
}

timestamp at(const char* iso) { return *parse_iso8601(iso); }

}  // namespace

TEST(Filters, EmptyBodiesTakePrefectsDefaults) {
  auto f = flows(json::object());
  EXPECT_EQ(f.sort, flow_sort::name_asc);
  EXPECT_EQ(f.window.limit, 200);
  EXPECT_EQ(f.window.offset, 0);
  EXPECT_FALSE(f.filters.flows || f.filters.flow_runs || f.filters.task_runs || f.filters.deployments);

  auto r = runs(json::object());
  EXPECT_EQ(r.sort, flow_run_sort::id_desc);
  EXPECT_EQ(r.window.limit, 200);

  filter_error error;
  auto logs = parse_log_query(json::object(), error);
  ASSERT_TRUE(logs);
  EXPECT_EQ(logs->sort, log_sort::timestamp_asc);
  EXPECT_FALSE(logs->logs);

  auto tasks = parse_task_run_query(json::object(), body_kind::filter, error);
  ASSERT_TRUE(tasks);
  EXPECT_EQ(tasks->sort, task_run_sort::id_desc);
}

TEST(Filters, NullMeansAbsentAsFastApiReadsIt) {
  auto r =
      runs({{"flows", nullptr}, {"flow_runs", nullptr}, {"sort", nullptr}, {"limit", nullptr}, {"offset", nullptr}});
  EXPECT_FALSE(r.filters.flows);
  EXPECT_FALSE(r.filters.flow_runs);
  EXPECT_EQ(r.sort, flow_run_sort::id_desc);
  EXPECT_EQ(r.window.limit, 200);
  EXPECT_EQ(r.window.offset, 0);
}

TEST(Filters, AcceptsWhatThePrefectClientSends) {
  // FlowFilter.model_dump(mode="json") and the extra "work_queues" key of read_flows().
  json body = {
      {"flows",
       {{"id", nullptr}, {"name", {{"any_", {"etl"}}, {"like_", nullptr}}}, {"tags", nullptr}, {"operator", "and_"}}},
      {"flow_runs", nullptr},
      {"task_runs", {{"id", nullptr}, {"flow_run_id", {{"any_", nullptr}, {"is_null_", false}, {"operator", "and_"}}}}},
      {"deployments", {{"concurrency_limit", nullptr}, {"work_queue_name", nullptr}}},
      {"work_pools", nullptr},
      {"work_queues", nullptr},
      {"sort", "NAME_DESC"},
      {"limit", nullptr},
      {"offset", 0}};
  auto f = flows(body);
  ASSERT_TRUE(f.filters.flows && f.filters.flows->name && f.filters.flows->name->any);
  EXPECT_EQ(*f.filters.flows->name->any, std::vector<std::string>{"etl"});
  EXPECT_FALSE(f.filters.flows->name->like);
  EXPECT_EQ(f.sort, flow_sort::name_desc);
  ASSERT_TRUE(f.filters.task_runs && f.filters.task_runs->flow_run_id);
  EXPECT_EQ(f.filters.task_runs->flow_run_id->is_null, false);
  EXPECT_TRUE(f.filters.deployments);
}

TEST(Filters, ParsesEveryFlowRunCriterion) {
  const std::string id = "9b7c8f3e-2f7a-4c61-9d1a-0c5a3f1e2b4d";
  json body = {
      {"flow_runs",
       {{"operator", "or_"},
        {"id", {{"any_", {id}}, {"not_any_", json::array()}}},
        {"name", {{"any_", {"a"}}, {"like_", "10%_off"}}},
        {"tags", {{"all_", {"x", "y"}}, {"any_", {"z"}}, {"is_null_", false}, {"operator", "or_"}}},
        {"deployment_id", {{"any_", {id}}, {"is_null_", true}, {"operator", "or_"}}},
        {"work_queue_name", {{"any_", {"default"}}, {"is_null_", false}}},
        {"state",
         {{"type", {{"any_", {"COMPLETED", "FAILED"}}, {"not_any_", {"CRASHED"}}}},
          {"name", {{"any_", {"Late"}}, {"not_any_", nullptr}}},
          {"operator", "and_"}}},
        {"flow_version", {{"any_", {"1.0"}}}},
        {"start_time",
         {{"before_", "2026-08-21 11:27:33.123456+00:00"}, {"after_", "2026-08-20T00:00:00Z"}, {"is_null_", false}}},
        {"end_time", {{"is_null_", true}}},
        {"expected_start_time", {{"before_", "2026-08-21"}}},
        {"next_scheduled_start_time", {{"after_", "2026-08-21T10:00:00+02:00"}}},
        {"parent_flow_run_id", {{"any_", {id}}}},
        {"parent_task_run_id", {{"is_null_", true}}},
        {"idempotency_key", {{"any_", {"k"}}, {"not_any_", {"j"}}}},
        {"created_by", {{"id_", {id}}, {"type_", {"DEPLOYMENT"}}, {"is_null_", false}}}}}};
  auto r = runs(body);
  ASSERT_TRUE(r.filters.flow_runs);
  const auto& f = *r.filters.flow_runs;
  EXPECT_EQ(f.combine, op::or_);
  EXPECT_EQ(f.id->any->at(0).to_string(), id);
  EXPECT_TRUE(f.id->not_any && f.id->not_any->empty());
  EXPECT_EQ(*f.name->like, "10%_off");
  EXPECT_EQ(f.tags->combine, op::or_);
  EXPECT_EQ(*f.tags->all, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(f.deployment_id->is_null, true);
  EXPECT_EQ(*f.state->type_any, (std::vector<state_type>{state_type::completed, state_type::failed}));
  EXPECT_EQ(*f.state->type_not_any, std::vector<state_type>{state_type::crashed});
  EXPECT_EQ(*f.state->name_any, std::vector<std::string>{"Late"});
  EXPECT_FALSE(f.state->name_not_any);
  EXPECT_EQ(*f.start_time->before, at("2026-08-21T11:27:33.123456Z"));
  EXPECT_EQ(*f.start_time->after, at("2026-08-20T00:00:00Z"));
  EXPECT_EQ(*f.expected_start_time->before, at("2026-08-21T00:00:00Z"));
  EXPECT_EQ(*f.next_scheduled_start_time->after, at("2026-08-21T08:00:00Z"));
  EXPECT_EQ(f.end_time->is_null, true);
  EXPECT_EQ(f.parent_task_run_id->is_null, true);
  EXPECT_EQ(*f.created_by->type_any, std::vector<std::string>{"DEPLOYMENT"});
}

TEST(Filters, TaskRunFlowRunIdDefaultsToHavingOne) {
  filter_error error;
  auto absent = parse_task_run_filter(json{{"flow_run_id", json::object()}}, {}, error);
  ASSERT_TRUE(absent);
  EXPECT_EQ(absent->flow_run_id->is_null, false);
  auto explicit_null = parse_task_run_filter(json{{"flow_run_id", {{"is_null_", nullptr}}}}, {}, error);
  ASSERT_TRUE(explicit_null);
  EXPECT_FALSE(explicit_null->flow_run_id->is_null);
}

TEST(Filters, PagingFollowsLimitBody) {
  EXPECT_EQ(runs({{"limit", 0}}).window.limit, 0);
  EXPECT_EQ(runs({{"limit", 200}}).window.limit, 200);
  EXPECT_EQ(runs({{"limit", 5.0}}).window.limit, 5);
  EXPECT_EQ(runs({{"offset", 40}}).window.offset, 40);

  auto page = runs({{"limit", 10}, {"page", 3}}, body_kind::paginate);
  EXPECT_EQ(page.window.page, 3);
  EXPECT_EQ(page.window.offset, 20);
  EXPECT_EQ(page.window.pages(0), 0);
  EXPECT_EQ(page.window.pages(20), 2);
  EXPECT_EQ(page.window.pages(21), 3);
  EXPECT_EQ(runs({{"limit", 0}}, body_kind::paginate).window.pages(5), 0);

  // An absurd page saturates instead of overflowing.
  auto far = runs({{"limit", 200}, {"page", std::numeric_limits<std::int64_t>::max()}}, body_kind::paginate);
  EXPECT_EQ(far.window.offset, std::numeric_limits<std::int64_t>::max());

  // Count ignores paging keys, as Prefect does.
  EXPECT_EQ(runs({{"sort", "bogus"}, {"limit", 9999}}, body_kind::count).window.limit, 200);
}

TEST(Filters, ParsesLogFiltersAndTextSearch) {
  filter_error error;
  auto q = parse_log_query({{"logs",
                             {{"level", {{"ge_", 20}, {"le_", 50}}},
                              {"timestamp", {{"before_", "2026-01-01T00:00:00Z"}}},
                              {"flow_run_id", {{"any_", {"9b7c8f3e-2f7a-4c61-9d1a-0c5a3f1e2b4d"}}}},
                              {"task_run_id", {{"is_null_", true}}},
                              {"text", {{"query", "error -debug +db \"connection timeout\""}}}}},
                            {"sort", "TIMESTAMP_DESC"},
                            {"limit", 3},
                            {"offset", 1}},
                           error);
  ASSERT_TRUE(q) << error.describe();
  EXPECT_EQ(q->sort, log_sort::timestamp_desc);
  EXPECT_EQ(*q->logs->level->ge, 20);
  EXPECT_EQ(q->logs->task_run_id->is_null, true);
  EXPECT_EQ(q->logs->text->include, (std::vector<std::string>{"error", "connection timeout"}));
  EXPECT_EQ(q->logs->text->exclude, std::vector<std::string>{"debug"});
  EXPECT_EQ(q->logs->text->required, std::vector<std::string>{"db"});
}

TEST(Filters, TextSearchSyntax) {
  struct row {
    const char* query;
    std::vector<std::string> include, exclude, required;
  };
  const std::vector<row> table = {
      {"", {}, {}, {}},
      {"   ", {}, {}, {}},
      {"a b", {"a", "b"}, {}, {}},
      {"-a !b +c", {}, {"a", "b"}, {"c"}},
      {"- a", {"a"}, {}, {}},  // a lone prefix is skipped
      {R"("x \"y\" z")", {R"(x "y" z)"}, {}, {}},
      {R"(-"two words")", {}, {"two words"}, {}},
      {R"("unclosed phrase)", {"unclosed phrase"}, {}, {}},
      {R"(a"b")", {"a", "b"}, {}, {}},
  };
  for (const auto& r : table) {
    auto parsed = parse_text_search(r.query);
    EXPECT_EQ(parsed.include, r.include) << r.query;
    EXPECT_EQ(parsed.exclude, r.exclude) << r.query;
    EXPECT_EQ(parsed.required, r.required) << r.query;
  }
}

TEST(Filters, RefusesWhatPrefectRefuses) {
  enum class route { flows, flow_runs, flow_runs_count, flow_runs_page, task_runs, logs };
  struct row {
    route where;
    json body;
    std::vector<std::string> location;
    const char* type;
  };
  const std::string id = "9b7c8f3e-2f7a-4c61-9d1a-0c5a3f1e2b4d";
  const std::vector<row> table = {
      {route::flow_runs, {{"bogus", 1}}, {"bogus"}, "extra_forbidden"},
      {route::flow_runs, {{"page", 2}}, {"page"}, "extra_forbidden"},
      {route::flow_runs_page, {{"offset", 2}}, {"offset"}, "extra_forbidden"},
      {route::flow_runs_count, {{"flow_runs", {{"nme", json::object()}}}}, {"flow_runs", "nme"}, "extra_forbidden"},
      {route::task_runs, {{"work_pools", json::object()}}, {"work_pools"}, "extra_forbidden"},
      {route::flows, {{"work_pool_queues", json::object()}}, {"work_pool_queues"}, "extra_forbidden"},
      {route::logs, {{"flows", json::object()}}, {"flows"}, "extra_forbidden"},
      {route::flows,
       {{"flows", {{"name", {{"startswith_", {"a"}}}}}}},
       {"flows", "name", "startswith_"},
       "extra_forbidden"},
      {route::flows, {{"flows", {{"tags", {{"any_", {"a"}}}}}}}, {"flows", "tags", "any_"}, "extra_forbidden"},
      {route::flows, {{"flows", {{"id", {{"operator", "or_"}}}}}}, {"flows", "id", "operator"}, "extra_forbidden"},
      {route::task_runs,
       {{"task_runs", {{"state", {{"type", {{"not_any_", {"FAILED"}}}}}}}}},
       {"task_runs", "state", "type", "not_any_"},
       "extra_forbidden"},
      {route::logs, {{"logs", {{"name", {{"any_", {"x"}}}}}}}, {"logs", "name"}, "extra_forbidden"},
      {route::flow_runs, {{"flow_runs", "all"}}, {"flow_runs"}, "model_type"},
      {route::flow_runs, {{"flow_runs", {{"id", {{"any_", id}}}}}}, {"flow_runs", "id", "any_"}, "list_type"},
      {route::flow_runs,
       {{"flow_runs", {{"id", {{"any_", {id, "nope"}}}}}}},
       {"flow_runs", "id", "any_", "1"},
       "uuid_parsing"},
      {route::flow_runs, {{"flow_runs", {{"id", {{"any_", {42}}}}}}}, {"flow_runs", "id", "any_", "0"}, "uuid_type"},
      {route::flow_runs, {{"flow_runs", {{"name", {{"like_", 5}}}}}}, {"flow_runs", "name", "like_"}, "string_type"},
      {route::flow_runs,
       {{"flow_runs", {{"tags", {{"all_", {"a", 1}}}}}}},
       {"flow_runs", "tags", "all_", "1"},
       "string_type"},
      {route::flow_runs,
       {{"flow_runs", {{"tags", {{"is_null_", "yes"}}}}}},
       {"flow_runs", "tags", "is_null_"},
       "bool_type"},
      {route::flow_runs,
       {{"flow_runs", {{"start_time", {{"before_", "yesterday"}}}}}},
       {"flow_runs", "start_time", "before_"},
       "datetime_parsing"},
      {route::flow_runs,
       {{"flow_runs", {{"start_time", {{"after_", "0000-01-01T00:00:00Z"}}}}}},
       {"flow_runs", "start_time", "after_"},
       "datetime_parsing"},
      {route::flow_runs,
       {{"flow_runs", {{"expected_start_time", {{"is_null_", true}}}}}},
       {"flow_runs", "expected_start_time", "is_null_"},
       "extra_forbidden"},
      {route::flow_runs,
       {{"flow_runs", {{"state", {{"type", {{"any_", {"LATE"}}}}}}}}},
       {"flow_runs", "state", "type", "any_", "0"},
       "enum"},
      {route::flow_runs,
       {{"flow_runs", {{"state", {{"type", {{"any_", {"completed"}}}}}}}}},
       {"flow_runs", "state", "type", "any_", "0"},
       "enum"},
      {route::flow_runs, {{"flow_runs", {{"operator", "xor_"}}}}, {"flow_runs", "operator"}, "enum"},
      {route::flow_runs, {{"sort", "NAME"}}, {"sort"}, "enum"},
      {route::flows, {{"sort", "ID_DESC"}}, {"sort"}, "enum"},
      {route::flow_runs, {{"limit", "many"}}, {"limit"}, "int_parsing"},
      {route::flow_runs, {{"limit", 2.5}}, {"limit"}, "int_from_float"},
      {route::flow_runs, {{"offset", -1}}, {"offset"}, "greater_than_equal"},
      {route::flow_runs_page, {{"page", 0}}, {"page"}, "greater_than_equal"},
      {route::logs, {{"logs", {{"level", {{"ge_", "high"}}}}}}, {"logs", "level", "ge_"}, "int_parsing"},
      {route::logs, {{"logs", {{"text", json::object()}}}}, {"logs", "text", "query"}, "missing"},
      {route::logs,
       {{"logs", {{"text", {{"query", std::string(201, 'x')}}}}}},
       {"logs", "text", "query"},
       "string_too_long"},
      {route::logs, {{"sort", "TIMESTAMP"}}, {"sort"}, "enum"},
  };
  for (const auto& r : table) {
    filter_error error;
    bool ok = false;
    switch (r.where) {
      case route::flows: ok = parse_flow_query(r.body, body_kind::filter, error).has_value(); break;
      case route::flow_runs: ok = parse_flow_run_query(r.body, body_kind::filter, error).has_value(); break;
      case route::flow_runs_count: ok = parse_flow_run_query(r.body, body_kind::count, error).has_value(); break;
      case route::flow_runs_page: ok = parse_flow_run_query(r.body, body_kind::paginate, error).has_value(); break;
      case route::task_runs: ok = parse_task_run_query(r.body, body_kind::filter, error).has_value(); break;
      case route::logs: ok = parse_log_query(r.body, error).has_value(); break;
    }
    EXPECT_FALSE(ok) << r.body;
    EXPECT_EQ(error.location, r.location) << r.body << " → " << error.describe();
    EXPECT_EQ(error.type, r.type) << r.body << " → " << error.describe();
    EXPECT_FALSE(error.plain_detail) << r.body;
    EXPECT_FALSE(error.message.empty()) << r.body;
  }
}

TEST(Filters, LimitOutOfBoundsIsAnsweredLikeLimitBody) {
  for (const json& limit : {json(201), json(-1), json(1000000)}) {
    filter_error error;
    EXPECT_FALSE(parse_flow_run_query({{"limit", limit}}, body_kind::filter, error)) << limit;
    EXPECT_TRUE(error.plain_detail) << limit;
    EXPECT_EQ(error.message, limit.get<int>() < 0 ? "Invalid limit: must be greater than or equal to 0."
                                                  : "Invalid limit: must be less than or equal to 200.");
  }
}

TEST(Filters, EnumErrorsListTheAllowedNames) {
  filter_error error;
  EXPECT_FALSE(parse_flow_query({{"sort", "x"}}, body_kind::filter, error));
  EXPECT_EQ(error.message, "Input should be 'CREATED_DESC', 'UPDATED_DESC', 'NAME_ASC' or 'NAME_DESC'");
  EXPECT_EQ(error.describe(), "sort: " + error.message);
}

TEST(Filters, SortNamesRoundTrip) {
  EXPECT_STREQ(to_string(flow_run_sort::next_scheduled_start_time_asc), "NEXT_SCHEDULED_START_TIME_ASC");
  EXPECT_STREQ(to_string(flow_sort::updated_desc), "UPDATED_DESC");
  EXPECT_STREQ(to_string(task_run_sort::end_time_desc), "END_TIME_DESC");
  EXPECT_STREQ(to_string(log_sort::timestamp_desc), "TIMESTAMP_DESC");
  for (auto s : {flow_run_sort::id_desc, flow_run_sort::start_time_asc, flow_run_sort::end_time_desc}) {
    filter_error error;
    auto q = parse_flow_run_query({{"sort", to_string(s)}}, body_kind::filter, error);
    ASSERT_TRUE(q);
    EXPECT_EQ(q->sort, s);
  }
}

// matches_live: the LogFilter criteria Prefect's live log stream checks, each alone and together.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "domain/log_match.hpp"

namespace osprey {
namespace {

using nlohmann::json;

const uuid run = *uuid::parse("0190b0a0-0000-7000-8000-000000000001");
const uuid other_run = *uuid::parse("0190b0a0-0000-7000-8000-000000000002");
const uuid task = *uuid::parse("0190b0a0-0000-7000-8000-000000000003");

log_record make_log(std::int64_t level, const char* at, std::optional<uuid> flow_run, std::optional<uuid> task_run) {
  log_record l;
  l.level = level;
  l.at = parse_iso8601(at).value();
  l.flow_run_id = flow_run;
  l.task_run_id = task_run;
  return l;
}

filters::log_filter filter_of(const json& body) {
  filters::filter_error error;
  auto f = filters::parse_log_filter(body, {"filter"}, error);
  EXPECT_TRUE(f.has_value()) << error.describe();
  return f.value_or(filters::log_filter{});
}

struct case_row {
  const char* what;
  json filter;
  log_record log;
  bool matches;
};

TEST(LogMatch, EachCriterionAsPrefectsStreamChecksIt) {
  const auto t = "2026-12-07T10:00:00Z";
  const std::vector<case_row> rows = {
      {"empty filter", json::object(), make_log(10, t, std::nullopt, std::nullopt), true},
      {"level ge_ below", {{"level", {{"ge_", 20}}}}, make_log(10, t, run, std::nullopt), false},
      {"level ge_ equal", {{"level", {{"ge_", 20}}}}, make_log(20, t, run, std::nullopt), true},
      {"level le_ above", {{"level", {{"le_", 20}}}}, make_log(30, t, run, std::nullopt), false},
      {"timestamp before_ later",
       {{"timestamp", {{"before_", "2026-12-07T09:59:59Z"}}}},
       make_log(20, t, run, {}),
       false},
      {"timestamp before_ equal", {{"timestamp", {{"before_", t}}}}, make_log(20, t, run, {}), true},
      {"timestamp after_ earlier",
       {{"timestamp", {{"after_", "2026-12-07T10:00:01Z"}}}},
       make_log(20, t, run, {}),
       false},
      {"flow run listed", {{"flow_run_id", {{"any_", {run.to_string()}}}}}, make_log(20, t, run, {}), true},
      {"flow run not listed", {{"flow_run_id", {{"any_", {run.to_string()}}}}}, make_log(20, t, other_run, {}), false},
      {"no flow run, one asked", {{"flow_run_id", {{"any_", {run.to_string()}}}}}, make_log(20, t, {}, {}), false},
      {"task run listed", {{"task_run_id", {{"any_", {task.to_string()}}}}}, make_log(20, t, run, task), true},
      {"no task run, one asked", {{"task_run_id", {{"any_", {task.to_string()}}}}}, make_log(20, t, run, {}), false},
      {"is_null_ true, flow log", {{"task_run_id", {{"is_null_", true}}}}, make_log(20, t, run, {}), true},
      {"is_null_ true, task log", {{"task_run_id", {{"is_null_", true}}}}, make_log(20, t, run, task), false},
      {"is_null_ false, task log", {{"task_run_id", {{"is_null_", false}}}}, make_log(20, t, run, task), true},
      {"text is not checked", {{"text", {{"query", "absent"}}}}, make_log(20, t, run, {}), true},
      {"or_ still needs every criterion",
       {{"operator", "or_"}, {"level", {{"ge_", 40}}}, {"flow_run_id", {{"any_", {run.to_string()}}}}},
       make_log(20, t, run, {}),
       false},
  };
  for (const auto& row : rows) EXPECT_EQ(matches_live(filter_of(row.filter), row.log), row.matches) << row.what;
}

}  // namespace
}  // namespace osprey

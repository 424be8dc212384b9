#pragma once
// The filter bodies of the routes outside the run graph: /api/variables/filter|count,
// /api/artifacts/filter|count|latest/filter|latest/count and /api/saved_searches/filter (Prefect 3.9.1's
// VariableFilter, ArtifactFilter, ArtifactCollectionFilter, AutomationFilter with their sort enums). Pure, like
// domain/filters.hpp, whose criterion structs, error and paging types these reuse; the run filters an artifact
// body may carry (flows, flow_runs, task_runs, deployments) are parsed by domain/filters.hpp itself.
//
// As FastAPI reads these bodies: top-level keys other than the route's parameters are ignored (the body is
// a set of separate Body parameters), while every filter object refuses unknown keys (extra="forbid").

#include <nlohmann/json.hpp>
#include <optional>

#include "domain/filters.hpp"

namespace osprey::filters {

/// VariableFilter: id {any_}, name {any_, like_}, tags {all_, is_null_, operator}, operator.
struct variable_filter {
  op combine = op::and_;
  std::optional<id_criterion> id;
  std::optional<text_criterion> name;
  std::optional<tags_criterion> tags;
};

/// ArtifactFilter (id) or ArtifactCollectionFilter (latest_id): that id {any_}, key {any_, like_, exists_ (read
/// as is_null = !exists_)}, flow_run_id {any_}, task_run_id {any_}, type {any_, not_any_}, operator.
struct artifact_filter {
  op combine = op::and_;
  std::optional<id_criterion> id;  ///< the artifact's id, or a collection's latest_id
  std::optional<text_criterion> key;
  std::optional<id_criterion> flow_run_id;
  std::optional<id_criterion> task_run_id;
  std::optional<text_criterion> type;
};

/// AutomationFilter: id {any_}, name {any_}, created {before_}, tags {all_, any_, is_null_, operator}, operator.
struct automation_filter {
  op combine = op::and_;
  std::optional<id_criterion> id;
  std::optional<text_criterion> name;
  std::optional<time_criterion> created;
  std::optional<tags_criterion> tags;
};

enum class variable_sort { created_desc, updated_desc, name_desc, name_asc };
enum class automation_sort { created_desc, updated_desc, name_asc, name_desc };
enum class artifact_sort { created_desc, updated_desc, id_desc, key_desc, key_asc };

struct variable_query {
  std::optional<variable_filter> variables;
  variable_sort sort = variable_sort::name_asc;
  page_window window;
};

struct artifact_query {
  std::optional<artifact_filter> artifacts;
  filter_set runs;  ///< flows, flow_runs, task_runs, deployments (the artifact's run must match them)
  artifact_sort sort = artifact_sort::id_desc;
  page_window window;
};

struct automation_query {
  std::optional<automation_filter> automations;
  automation_sort sort = automation_sort::name_asc;
  page_window window;
};

/// POST /automations/filter (automations, sort, limit, offset) or /automations/count (automations).
std::optional<automation_query> parse_automation_query(const nlohmann::json& body, body_kind kind, filter_error& error);

/// POST /variables/filter (variables, sort, limit, offset) or /variables/count (variables).
std::optional<variable_query> parse_variable_query(const nlohmann::json& body, body_kind kind, filter_error& error);

/// POST /artifacts/filter|count (`collection` false) or /artifacts/latest/filter|count (true): artifacts, flows,
/// flow_runs, task_runs, deployments, and for filter sort, limit, offset.
std::optional<artifact_query> parse_artifact_query(const nlohmann::json& body, body_kind kind, bool collection,
                                                   filter_error& error);

/// A body of limit and offset only (POST /saved_searches/filter).
std::optional<page_window> parse_page_body(const nlohmann::json& body, filter_error& error);

}  // namespace osprey::filters

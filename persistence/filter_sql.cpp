#include "persistence/filter_sql.hpp"

#include <nlohmann/json.hpp>
#include <vector>

#include "persistence/sql_lists.hpp"

namespace osprey::persistence {
namespace {

using filters::op;

constexpr const char* always = "1 = 1";
constexpr const char* never = "1 = 0";

/// `like_` / `startswith_` text as a LIKE pattern: \, % and _ in the user's text match only themselves.
std::string like_escaped(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 4);
  for (char c : s) {
    if (c == '\\' || c == '%' || c == '_') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

/// Joins conditions with AND / OR. Constant-true parts are dropped from an AND (they bind no parameters, so
/// nothing bound goes missing); an empty combination is true, as Prefect's `sa.true()`.
std::string combine(op how, const std::vector<std::string>& parts) {
  std::vector<const std::string*> kept;
  for (const auto& p : parts)
    if (how == op::or_ || p != always) kept.push_back(&p);
  if (kept.empty()) return always;
  if (kept.size() == 1) return *kept.front();
  std::string out = "(";
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (i > 0) out += how == op::and_ ? " AND " : " OR ";
    out += "(" + *kept[i] + ")";
  }
  return out + ")";
}

/// Builds one WHERE: binds parameters in order and hands out fresh aliases for nested sub-queries (with a
/// digit, so they never clash with the fixed outer aliases f, r, s, t, d, l).
class compiler {
 public:
  explicit compiler(dialect d) : d_(d) {}

  sql_where finish(const std::string& condition) {
    sql_where out;
    if (condition != always) out.sql = condition;
    out.params = std::move(params_);
    return out;
  }

  // ---- entities -------------------------------------------------------------------------------------------

  std::string flow(const filters::flow_filter& f, const std::string& a) {
    std::vector<std::string> parts;
    if (f.id) parts.push_back(ids(a + ".id", *f.id));
    if (f.deployment) {
      std::vector<std::string> sub;
      if (f.deployment->value) {
        const auto d = fresh("d");
        sub.push_back(std::string(*f.deployment->value ? "NOT " : "") + "EXISTS (SELECT 1 FROM deployment " + d +
                      " WHERE " + d + ".flow_id = " + a + ".id)");
      }
      parts.push_back(combine(f.deployment->combine, sub));
    }
    if (f.name) parts.push_back(text(a + ".name", *f.name));
    if (f.tags) parts.push_back(tags(a + ".tags", *f.tags));
    return combine(f.combine, parts);
  }

  std::string flow_run(const filters::flow_run_filter& f, const std::string& a) {
    std::vector<std::string> parts;
    if (f.id) parts.push_back(ids(a + ".id", *f.id));
    if (f.name) parts.push_back(text(a + ".name", *f.name));
    if (f.tags) parts.push_back(tags(a + ".tags", *f.tags));
    if (f.deployment_id) parts.push_back(ids(a + ".deployment_id", *f.deployment_id));
    if (f.work_queue_name) parts.push_back(text(a + ".work_queue_name", *f.work_queue_name));
    if (f.flow_version) parts.push_back(text(a + ".flow_version", *f.flow_version));
    if (f.state) parts.push_back(state(a, *f.state));
    // Prefect compares a run's start as COALESCE(start_time, expected_start_time); is_null_ looks at start_time.
    if (f.start_time)
      parts.push_back(
          time("COALESCE(" + a + ".start_time, " + a + ".expected_start_time)", a + ".start_time", *f.start_time));
    if (f.end_time) parts.push_back(time(a + ".end_time", a + ".end_time", *f.end_time));
    if (f.expected_start_time)
      parts.push_back(time(a + ".expected_start_time", a + ".expected_start_time", *f.expected_start_time));
    if (f.next_scheduled_start_time)
      parts.push_back(
          time(a + ".next_scheduled_start_time", a + ".next_scheduled_start_time", *f.next_scheduled_start_time));
    if (f.parent_flow_run_id) {
      // Subflows of the given runs: the parent task run belongs to one of them. Uncorrelated, as an IN: the given
      // runs' task runs are listed once and the runs' parent_task_run_id index finds their subflows, where a
      // correlated EXISTS visited every flow run (the flow-run page's count of subflows: 188 ms on 1 M runs).
      std::vector<std::string> sub;
      if (f.parent_flow_run_id->any) {
        const auto t = fresh("t");
        sub.push_back(a + ".parent_task_run_id IN (SELECT " + t + ".id FROM task_run " + t + " WHERE " +
                      in_ids(t + ".flow_run_id", *f.parent_flow_run_id->any) + ")");
      }
      parts.push_back(combine(f.parent_flow_run_id->combine, sub));
    }
    if (f.parent_task_run_id) parts.push_back(ids(a + ".parent_task_run_id", *f.parent_task_run_id));
    if (f.idempotency_key) parts.push_back(text(a + ".idempotency_key", *f.idempotency_key));
    if (f.created_by) parts.push_back(created_by(a + ".created_by", *f.created_by));
    return combine(f.combine, parts);
  }

  std::string task_run(const filters::task_run_filter& f, const std::string& a) {
    std::vector<std::string> parts;
    if (f.id) parts.push_back(ids(a + ".id", *f.id));
    if (f.name) parts.push_back(text(a + ".name", *f.name));
    if (f.tags) parts.push_back(tags(a + ".tags", *f.tags));
    if (f.state) parts.push_back(state(a, *f.state));
    if (f.start_time) parts.push_back(time(a + ".start_time", a + ".start_time", *f.start_time));
    if (f.end_time) parts.push_back(time(a + ".end_time", a + ".end_time", *f.end_time));
    if (f.expected_start_time)
      parts.push_back(time(a + ".expected_start_time", a + ".expected_start_time", *f.expected_start_time));
    if (f.subflow_runs) {
      std::vector<std::string> sub;
      if (f.subflow_runs->value) {
        // Uncorrelated: the few task runs that are subflow parents are listed once, where a correlated EXISTS
        // probed the flow-run index for each of the ~150,000 task runs of a dashboard's day.
        const auto r = fresh("r");
        sub.push_back(a + ".id " + (*f.subflow_runs->value ? "" : "NOT ") + "IN (SELECT " + r +
                      ".parent_task_run_id FROM flow_run " + r + " WHERE " + r + ".parent_task_run_id IS NOT NULL)");
      }
      parts.push_back(combine(op::and_, sub));
    }
    if (f.flow_run_id) {
      // Prefect's TaskRunFilterFlowRunId: is_null_ true wins over any_; is_null_ false without any_ means
      // "has a flow run"; otherwise any_ decides.
      const auto& c = *f.flow_run_id;
      std::vector<std::string> sub;
      if (c.is_null == true)
        sub.push_back(a + ".flow_run_id IS NULL");
      else if (c.is_null == false && !c.any)
        sub.push_back(a + ".flow_run_id IS NOT NULL");
      else if (c.any)
        sub.push_back(in_ids(a + ".flow_run_id", *c.any));
      parts.push_back(combine(c.combine, sub));
    }
    return combine(f.combine, parts);
  }

  std::string deployment(const filters::deployment_filter& f, const std::string& a) {
    std::vector<std::string> parts;
    if (f.id) parts.push_back(ids(a + ".id", *f.id));
    if (f.name) parts.push_back(text(a + ".name", *f.name));
    if (f.flow_or_deployment_name) {
      std::vector<std::string> sub;
      if (f.flow_or_deployment_name->like && !f.flow_or_deployment_name->like->empty()) {
        const auto& needle = *f.flow_or_deployment_name->like;
        const auto fl = fresh("f");
        sub.push_back("(" + contains(a + ".name", needle) + " OR EXISTS (SELECT 1 FROM flow " + fl + " WHERE " + fl +
                      ".id = " + a + ".flow_id AND " + contains(fl + ".name", needle) + "))");
      }
      parts.push_back(combine(op::and_, sub));
    }
    if (f.paused) {
      std::vector<std::string> sub;
      if (f.paused->value) sub.push_back((*f.paused->value ? "" : "NOT ") + a + ".paused");
      parts.push_back(combine(op::and_, sub));
    }
    if (f.tags) parts.push_back(tags(a + ".tags", *f.tags));
    if (f.work_queue_name) parts.push_back(text(a + ".work_queue_name", *f.work_queue_name));
    return combine(f.combine, parts);
  }

  std::string work_pool(const filters::work_pool_filter& f, const std::string& a) {
    std::vector<std::string> parts;
    if (f.id) parts.push_back(ids(a + ".id", *f.id));
    if (f.name) parts.push_back(text(a + ".name", *f.name));
    if (f.type) parts.push_back(text(a + ".type", *f.type));
    return combine(f.combine, parts);
  }

  std::string work_queue(const filters::work_queue_filter& f, const std::string& a) {
    std::vector<std::string> parts;
    if (f.id) parts.push_back(ids(a + ".id", *f.id));
    if (f.name) parts.push_back(text(a + ".name", *f.name));
    return combine(f.combine, parts);
  }

  std::string worker(const filters::worker_filter& f, const std::string& a) {
    std::vector<std::string> parts;
    if (f.last_heartbeat_time)
      parts.push_back(time(a + ".last_heartbeat_time", a + ".last_heartbeat_time", *f.last_heartbeat_time));
    if (f.status) parts.push_back(text(a + ".status", *f.status));
    return combine(f.combine, parts);
  }

  std::string log(const filters::log_filter& f, const std::string& a) {
    std::vector<std::string> parts;
    if (f.level) {
      std::vector<std::string> sub;
      if (f.level->ge) sub.push_back(a + ".level >= " + cast(bind(integer(*f.level->ge)), "bigint"));
      if (f.level->le) sub.push_back(a + ".level <= " + cast(bind(integer(*f.level->le)), "bigint"));
      parts.push_back(combine(op::and_, sub));
    }
    if (f.at) parts.push_back(time(a + ".timestamp", a + ".timestamp", *f.at));
    if (f.flow_run_id) parts.push_back(ids(a + ".flow_run_id", *f.flow_run_id));
    if (f.task_run_id) parts.push_back(ids(a + ".task_run_id", *f.task_run_id));
    if (f.text) {
      // Prefect adds the text search's clauses to the log filter's own list: include terms (any of), exclude
      // terms (none of), required terms (all of), each a case-insensitive substring of "<message> <name>".
      const std::string haystack = "lower(" + a + ".message || ' ' || " + a + ".name)";
      auto found = [&](const std::string& term) {
        const auto needle = "lower(" + cast(bind(text_value(term)), "text") + ")";
        return d_ == dialect::postgresql ? "strpos(" + haystack + ", " + needle + ") > 0"
                                         : "instr(" + haystack + ", " + needle + ") > 0";
      };
      std::vector<std::string> include, exclude, required;
      for (const auto& term : f.text->include) include.push_back(found(term));
      for (const auto& term : f.text->exclude) exclude.push_back("NOT " + found(term));
      for (const auto& term : f.text->required) required.push_back(found(term));
      if (!include.empty()) parts.push_back(combine(op::or_, include));
      if (!exclude.empty()) parts.push_back(combine(op::and_, exclude));
      if (!required.empty()) parts.push_back(combine(op::and_, required));
    }
    return combine(f.combine, parts);
  }

  // ---- cross-entity EXISTS ----------------------------------------------------------------------------------

  /// A work queue row (`queue_id` names it) matching `queues` and whose pool matches `pools`.
  std::string queue_exists(const std::string& queue_id, const filters::filter_set& fs) {
    const auto q = fresh("q");
    const auto p = fresh("p");
    std::string sql = "EXISTS (SELECT 1 FROM work_queue " + q;
    if (fs.work_pools) sql += " JOIN work_pool " + p + " ON " + p + ".id = " + q + ".work_pool_id";
    sql += " WHERE " + q + ".id = " + queue_id;
    if (fs.work_queues) sql += " AND " + work_queue(*fs.work_queues, q);
    if (fs.work_pools) sql += " AND " + work_pool(*fs.work_pools, p);
    return sql + ")";
  }

  /// The same as `column IN (ids of the matching queues)`. Runs are filtered by queue, flow or deployment with
  /// an uncorrelated IN rather than a correlated EXISTS: the EXISTS form makes both databases visit every run and
  /// probe the small table, the IN form lets them start from the few matching ids and the run's index on the
  /// column (1,000,000 runs: a full scan against an index range).
  std::string queue_in(const std::string& column, const filters::filter_set& fs) {
    const auto q = fresh("q");
    const auto p = fresh("p");
    std::string sql = column + " IN (SELECT " + q + ".id FROM work_queue " + q;
    if (fs.work_pools) sql += " JOIN work_pool " + p + " ON " + p + ".id = " + q + ".work_pool_id";
    std::vector<std::string> conditions;
    if (fs.work_queues) conditions.push_back(work_queue(*fs.work_queues, q));
    if (fs.work_pools) conditions.push_back(work_pool(*fs.work_pools, p));
    return sql + " WHERE " + combine(op::and_, conditions) + ")";
  }

  std::string flow_in(const std::string& column, const filters::flow_filter& f) {
    const auto a = fresh("f");
    return column + " IN (SELECT " + a + ".id FROM flow " + a + " WHERE " + flow(f, a) + ")";
  }

  std::string deployment_in(const std::string& column, const filters::deployment_filter& f) {
    const auto a = fresh("d");
    return column + " IN (SELECT " + a + ".id FROM deployment " + a + " WHERE " + deployment(f, a) + ")";
  }

  /// A flow run (joined to the outer row by `join`, a condition over the returned alias) matching
  /// `flow_runs`, with a task run matching `task_runs`.
  std::string run_exists(const std::string& r, const std::string& join, const filters::filter_set& fs) {
    std::string sql = "EXISTS (SELECT 1 FROM flow_run " + r + " WHERE " + join;
    if (fs.flow_runs) sql += " AND " + flow_run(*fs.flow_runs, r);
    if (fs.task_runs) {
      const auto t = fresh("t");
      sql += " AND EXISTS (SELECT 1 FROM task_run " + t + " WHERE " + t + ".flow_run_id = " + r + ".id AND " +
             task_run(*fs.task_runs, t) + ")";
    }
    return sql + ")";
  }

  std::string fresh(const char* stem) { return std::string(stem) + std::to_string(++aliases_); }

 private:
  // ---- parameters -------------------------------------------------------------------------------------------

  static sql_value text_value(const std::string& s) { return persistence::text(s); }

  std::string bind(sql_value v) {
    params_.push_back(std::move(v));
    return "$" + std::to_string(params_.size());
  }
  /// PostgreSQL gets explicit parameter types; SQLite has no `::`.
  [[nodiscard]] std::string cast(const std::string& placeholder, const char* type) const {
    return d_ == dialect::postgresql ? placeholder + "::" + type : placeholder;
  }

  /// The rows of a JSON-array parameter, as a sub-query yielding one text (or uuid) per element.
  std::string elements(const nlohmann::json& array, bool as_uuid) {
    const auto p = bind(text_value(array.dump()));
    if (d_ == dialect::postgresql)
      return "SELECT jsonb_array_elements_text(" + p + "::jsonb)" + (as_uuid ? "::uuid" : "");
    const auto e = fresh("e");
    return "SELECT " + e + ".value FROM json_each(" + p + ") AS " + e;
  }

  /// `column [NOT] IN values`, the values bound as one list (persistence/sql_lists.hpp).
  std::string listed(const std::string& column, const std::vector<std::string>& values, const char* pg_type,
                     bool negate = false) {
    const auto p = bind(list_parameter(d_, values));
    return in_list(d_, column, p, pg_type, negate, fresh("e"));
  }

  static std::vector<std::string> id_texts(const std::vector<uuid>& values) {
    std::vector<std::string> out;
    out.reserve(values.size());
    for (const auto& v : values) out.push_back(v.to_string());
    return out;
  }

  std::string in_ids(const std::string& column, const std::vector<uuid>& values) {
    if (values.empty()) return never;  // Prefect: IN () matches nothing
    return listed(column, id_texts(values), "uuid");
  }

  std::string in_texts(const std::string& column, const std::vector<std::string>& values) {
    if (values.empty()) return never;
    return listed(column, values, "text");
  }

  std::string in_states(const std::string& column, const std::vector<state_type>& values) {
    std::vector<std::string> names;
    for (auto v : values) names.emplace_back(to_string(v));
    return in_texts(column, names);
  }

  std::string pattern(const std::string& column, const std::string& like_pattern) {
    const auto p = bind(text_value(like_pattern));
    return column + (d_ == dialect::postgresql ? " ILIKE " + p + "::text" : " LIKE " + p) + " ESCAPE '\\'";
  }
  std::string contains(const std::string& column, const std::string& needle) {
    return pattern(column, "%" + like_escaped(needle) + "%");
  }

  static std::string null_check(const std::string& column, bool is_null) {
    return column + (is_null ? " IS NULL" : " IS NOT NULL");
  }

  // ---- criteria ---------------------------------------------------------------------------------------------

  std::string ids(const std::string& column, const filters::id_criterion& c) {
    std::vector<std::string> parts;
    if (c.any) parts.push_back(in_ids(column, *c.any));
    if (c.not_any && !c.not_any->empty()) parts.push_back(listed(column, id_texts(*c.not_any), "uuid", true));
    if (c.is_null) parts.push_back(null_check(column, *c.is_null));
    return combine(c.combine, parts);
  }

  std::string text(const std::string& column, const filters::text_criterion& c) {
    std::vector<std::string> parts;
    if (c.any) parts.push_back(in_texts(column, *c.any));
    if (c.not_any && !c.not_any->empty()) parts.push_back(listed(column, *c.not_any, "text", true));
    if (c.like && !c.like->empty()) parts.push_back(contains(column, *c.like));
    if (c.startswith) {
      std::vector<std::string> any_prefix;
      for (const auto& prefix : *c.startswith) any_prefix.push_back(pattern(column, like_escaped(prefix) + "%"));
      parts.push_back(any_prefix.empty() ? never : combine(op::or_, any_prefix));
    }
    if (c.is_null) parts.push_back(null_check(column, *c.is_null));
    return combine(c.combine, parts);
  }

  std::string tags(const std::string& column, const filters::tags_criterion& c) {
    std::vector<std::string> parts;
    if (c.all && !c.all->empty()) {
      if (d_ == dialect::postgresql) {
        parts.push_back(column + " @> " + bind(text_value(nlohmann::json(*c.all).dump())) + "::jsonb");
      } else {
        const auto want = fresh("w");
        const auto have = fresh("h");
        const auto p = bind(text_value(nlohmann::json(*c.all).dump()));
        parts.push_back("NOT EXISTS (SELECT 1 FROM json_each(" + p + ") AS " + want + " WHERE " + want +
                        ".value NOT IN (SELECT " + have + ".value FROM json_each(" + column + ") AS " + have + "))");
      }
    }
    if (c.any) {
      if (c.any->empty()) {
        parts.push_back(never);
      } else if (d_ == dialect::postgresql) {
        parts.push_back(column + " ?| ARRAY(" + elements(nlohmann::json(*c.any), false) + ")");
      } else {
        const auto have = fresh("h");
        parts.push_back("EXISTS (SELECT 1 FROM json_each(" + column + ") AS " + have + " WHERE " + have +
                        ".value IN (" + elements(nlohmann::json(*c.any), false) + "))");
      }
    }
    if (c.is_null) {
      // Prefect stores "no tags" as [] (never NULL).
      if (d_ == dialect::postgresql)
        parts.push_back(column + (*c.is_null ? " = " : " <> ") + "'[]'::jsonb");
      else
        parts.push_back("json_array_length(" + column + ")" + (*c.is_null ? " = 0" : " <> 0"));
    }
    return combine(c.combine, parts);
  }

  std::string time(const std::string& compared, const std::string& null_column, const filters::time_criterion& c) {
    std::vector<std::string> parts;
    if (c.before) parts.push_back(compared + " <= " + cast(bind(ts(*c.before)), "timestamptz"));
    if (c.after) parts.push_back(compared + " >= " + cast(bind(ts(*c.after)), "timestamptz"));
    if (c.is_null) parts.push_back(null_check(null_column, *c.is_null));
    return combine(op::and_, parts);
  }

  /// A run's current state through its denormalised state_type / state_name columns.
  std::string state(const std::string& a, const filters::state_criterion& c) {
    std::vector<std::string> type_parts, name_parts;
    if (c.type_any) type_parts.push_back(in_states(a + ".state_type", *c.type_any));
    if (c.type_not_any && !c.type_not_any->empty()) {
      std::vector<std::string> names;
      for (auto v : *c.type_not_any) names.emplace_back(to_string(v));
      type_parts.push_back(listed(a + ".state_type", names, "text", true));
    }
    if (c.name_any) name_parts.push_back(in_texts(a + ".state_name", *c.name_any));
    if (c.name_not_any && !c.name_not_any->empty())
      name_parts.push_back(listed(a + ".state_name", *c.name_not_any, "text", true));
    std::vector<std::string> parts;
    if (!type_parts.empty()) parts.push_back(combine(op::and_, type_parts));
    if (!name_parts.empty()) parts.push_back(combine(op::and_, name_parts));
    return combine(c.combine, parts);
  }

  std::string created_by(const std::string& column, const filters::created_by_criterion& c) {
    auto field = [&](const char* key) {
      return d_ == dialect::postgresql ? "(" + column + " ->> '" + key + "')"
                                       : "json_extract(" + column + ", '$." + key + "')";
    };
    std::vector<std::string> parts;
    if (c.id_any) {
      std::vector<std::string> as_text;
      for (const auto& u : *c.id_any) as_text.push_back(u.to_string());
      parts.push_back(in_texts(field("id"), as_text));
    }
    if (c.type_any) parts.push_back(in_texts(field("type"), *c.type_any));
    if (c.is_null) parts.push_back(null_check(column, *c.is_null));
    return combine(c.combine, parts);
  }

  dialect d_;
  sql_params params_;
  int aliases_ = 0;
};

}  // namespace

sql_where flow_where(dialect d, const filters::filter_set& fs) {
  compiler c(d);
  std::vector<std::string> parts;
  if (fs.flows) parts.push_back(c.flow(*fs.flows, "f"));
  if (fs.deployments || fs.work_pools || fs.work_queues) {
    const auto dep = c.fresh("d");
    std::string sql = "EXISTS (SELECT 1 FROM deployment " + dep + " WHERE " + dep + ".flow_id = f.id";
    if (fs.deployments) sql += " AND " + c.deployment(*fs.deployments, dep);
    if (fs.work_pools || fs.work_queues) sql += " AND " + c.queue_exists(dep + ".work_queue_id", fs);
    parts.push_back(sql + ")");
  }
  if (fs.flow_runs || fs.task_runs) {
    const auto r = c.fresh("r");
    parts.push_back(c.run_exists(r, r + ".flow_id = f.id", fs));
  }
  return c.finish(combine(op::and_, parts));
}

sql_where flow_run_where(dialect d, const filters::filter_set& fs) {
  compiler c(d);
  std::vector<std::string> parts;
  if (fs.flow_runs) parts.push_back(c.flow_run(*fs.flow_runs, "r"));
  if (fs.deployments) parts.push_back(c.deployment_in("r.deployment_id", *fs.deployments));
  if (fs.work_pools || fs.work_queues) parts.push_back(c.queue_in("r.work_queue_id", fs));
  if (fs.flows) parts.push_back(c.flow_in("r.flow_id", *fs.flows));
  if (fs.task_runs) {
    const auto t = c.fresh("t");
    parts.push_back("EXISTS (SELECT 1 FROM task_run " + t + " WHERE " + t + ".flow_run_id = r.id AND " +
                    c.task_run(*fs.task_runs, t) + ")");
  }
  return c.finish(combine(op::and_, parts));
}

namespace {

/// True when `fs` names its flow runs by id (flow_runs.id.any_, and-ed with the rest): a page of their task runs
/// is best found through the task runs' flow_run_id index, not by walking the sort's index of every task run.
bool names_flow_runs(const filters::filter_set& fs) {
  return fs.flow_runs && fs.flow_runs->combine == op::and_ && fs.flow_runs->id && fs.flow_runs->id->any &&
         fs.flow_runs->id->combine == op::and_;
}

/// How task_runs_matching matches a task run's flow run.
enum class task_run_form {
  in_list,  ///< task_run_where: `t.flow_run_id IN (SELECT ...)`
  page,     ///< task_run_page_where: a correlated EXISTS, unless the flow runs are named by id
  count,    ///< task_run_count_where: on SQLite a join to the flow run, else as in_list
};

/// task_run_where, task_run_page_where and task_run_count_where: they differ only in how a task run's flow run
/// is matched.
sql_where task_runs_matching(dialect d, const filters::filter_set& fs, task_run_form form) {
  compiler c(d);
  std::vector<std::string> parts;
  std::string joins;
  if (fs.task_runs) parts.push_back(c.task_run(*fs.task_runs, "t"));
  if (fs.flows || fs.flow_runs || fs.deployments || fs.work_pools || fs.work_queues) {
    // The task runs of the matching flow runs, as an IN (see queue_in): 5,000,000 task runs are not scanned
    // to find those of a few runs.
    const auto r = c.fresh("r");
    std::vector<std::string> run;
    if (fs.flow_runs) run.push_back(c.flow_run(*fs.flow_runs, r));
    if (fs.flows) run.push_back(c.flow_in(r + ".flow_id", *fs.flows));
    if (fs.deployments) run.push_back(c.deployment_in(r + ".deployment_id", *fs.deployments));
    if (fs.work_pools || fs.work_queues) run.push_back(c.queue_in(r + ".work_queue_id", fs));
    const auto condition = combine(op::and_, run);
    // An empty filter (the dashboard sends `flow_runs: {operator: and_}`) only asks for a flow run: the foreign
    // key makes that a non-null id, which needs no list of every run's id.
    if (condition == always) {
      parts.push_back("t.flow_run_id IS NOT NULL");
    } else if (form == task_run_form::page && !names_flow_runs(fs)) {
      parts.push_back("EXISTS (SELECT 1 FROM flow_run " + r + " WHERE " + r + ".id = t.flow_run_id AND " + condition +
                      ")");
    } else if (form == task_run_form::count && d == dialect::sqlite) {
      // SQLite answers an IN (SELECT ...) by first copying every id the sub-query returns into a temporary
      // index: for a week's 233,000 flow runs that copy was 130 ms of a 320 ms count. Joined on the flow run's
      // primary key (so each task run counts once), it looks up each run's task runs as it finds the run.
      // PostgreSQL plans the IN as a semi-join already.
      joins = "JOIN flow_run " + r + " ON " + r + ".id = t.flow_run_id";
      parts.push_back(condition);
    } else {
      parts.push_back("t.flow_run_id IN (SELECT " + r + ".id FROM flow_run " + r + " WHERE " + condition + ")");
    }
  }
  auto out = c.finish(combine(op::and_, parts));
  out.joins = std::move(joins);
  return out;
}

}  // namespace

sql_where task_run_where(dialect d, const filters::filter_set& fs) {
  return task_runs_matching(d, fs, task_run_form::in_list);
}

sql_where task_run_page_where(dialect d, const filters::filter_set& fs) {
  return task_runs_matching(d, fs, task_run_form::page);
}

sql_where task_run_count_where(dialect d, const filters::filter_set& fs) {
  return task_runs_matching(d, fs, task_run_form::count);
}

sql_where deployment_where(dialect d, const filters::filter_set& fs) {
  compiler c(d);
  std::vector<std::string> parts;
  if (fs.deployments) parts.push_back(c.deployment(*fs.deployments, "d"));
  if (fs.flows) {
    const auto f = c.fresh("f");
    parts.push_back("EXISTS (SELECT 1 FROM flow " + f + " WHERE " + f + ".id = d.flow_id AND " + c.flow(*fs.flows, f) +
                    ")");
  }
  if (fs.flow_runs || fs.task_runs) {
    const auto r = c.fresh("r");
    parts.push_back(c.run_exists(r, r + ".deployment_id = d.id", fs));
  }
  if (fs.work_pools || fs.work_queues) parts.push_back(c.queue_exists("d.work_queue_id", fs));
  return c.finish(combine(op::and_, parts));
}

sql_where work_pool_where(dialect d, const std::optional<filters::work_pool_filter>& filter) {
  compiler c(d);
  return c.finish(filter ? c.work_pool(*filter, "wp") : std::string(always));
}

sql_where work_queue_where(dialect d, const std::optional<filters::work_queue_filter>& filter) {
  compiler c(d);
  return c.finish(filter ? c.work_queue(*filter, "wq") : std::string(always));
}

sql_where worker_where(dialect d, const std::optional<filters::worker_filter>& filter) {
  compiler c(d);
  return c.finish(filter ? c.worker(*filter, "w") : std::string(always));
}

sql_where log_where(dialect d, const std::optional<filters::log_filter>& filter) {
  compiler c(d);
  return c.finish(filter ? c.log(*filter, "l") : std::string(always));
}

std::string order_by(filters::flow_sort sort) {
  switch (sort) {
    case filters::flow_sort::created_desc: return "f.created DESC, f.id DESC";
    case filters::flow_sort::updated_desc: return "f.updated DESC, f.id DESC";
    case filters::flow_sort::name_asc: return "f.name ASC";
    case filters::flow_sort::name_desc: return "f.name DESC";
  }
  return "f.name ASC";
}

std::string order_by(filters::deployment_sort sort) {
  switch (sort) {
    case filters::deployment_sort::created_desc: return "d.created DESC, d.id DESC";
    case filters::deployment_sort::updated_desc: return "d.updated DESC, d.id DESC";
    case filters::deployment_sort::name_asc: return "d.name ASC, d.id ASC";
    case filters::deployment_sort::name_desc: return "d.name DESC, d.id DESC";
  }
  return "d.name ASC, d.id ASC";
}

std::string order_by(filters::flow_run_sort sort) {
  using s = filters::flow_run_sort;
  switch (sort) {
    case s::id_desc: return "r.id DESC";
    case s::start_time_asc: return "COALESCE(r.start_time, r.expected_start_time) ASC, r.id ASC";
    case s::start_time_desc: return "COALESCE(r.start_time, r.expected_start_time) DESC, r.id DESC";
    case s::expected_start_time_asc: return "r.expected_start_time ASC, r.id ASC";
    case s::expected_start_time_desc: return "r.expected_start_time DESC, r.id DESC";
    case s::name_asc: return "r.name ASC, r.id ASC";
    case s::name_desc: return "r.name DESC, r.id DESC";
    case s::next_scheduled_start_time_asc: return "r.next_scheduled_start_time ASC, r.id ASC";
    case s::end_time_desc: return "r.end_time DESC, r.id DESC";
  }
  return "r.id DESC";
}

std::string order_by(filters::task_run_sort sort) {
  using s = filters::task_run_sort;
  switch (sort) {
    case s::id_desc: return "t.id DESC";
    case s::expected_start_time_asc: return "t.expected_start_time ASC, t.id ASC";
    case s::expected_start_time_desc: return "t.expected_start_time DESC, t.id DESC";
    case s::name_asc: return "t.name ASC, t.id ASC";
    case s::name_desc: return "t.name DESC, t.id DESC";
    case s::next_scheduled_start_time_asc: return "t.next_scheduled_start_time ASC, t.id ASC";
    case s::end_time_desc: return "t.end_time DESC, t.id DESC";
  }
  return "t.id DESC";
}

std::string order_by(filters::log_sort sort) {
  return sort == filters::log_sort::timestamp_desc ? "l.timestamp DESC, l.id DESC" : "l.timestamp ASC, l.id ASC";
}

}  // namespace osprey::persistence

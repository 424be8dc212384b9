#include "persistence/object_filter_sql.hpp"

#include <cctype>
#include <nlohmann/json.hpp>
#include <vector>

#include "persistence/sql_lists.hpp"

namespace osprey::persistence {
namespace {

using filters::op;

constexpr const char* always = "1 = 1";
constexpr const char* never = "1 = 0";

std::string like_escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '%' || c == '_') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string combine(op how, const std::vector<std::string>& parts) {
  std::vector<const std::string*> kept;
  for (const auto& p : parts)
    if (how == op::or_ || p != always) kept.push_back(&p);
  if (kept.empty()) return always;
  if (kept.size() == 1) return *kept.front();
  std::string out = "(";
  for (std::size_t i = 0; i < kept.size(); ++i)
    out += std::string(i == 0 ? "(" : how == op::and_ ? " AND (" : " OR (") + *kept[i] + ")";
  return out + ")";
}

/// `sql` with every placeholder $N renumbered $N+by (a nested WHERE compiled on its own, appended after others).
/// User text never appears in the SQL, so a '$' followed by digits is always a placeholder.
std::string shifted(const std::string& sql, std::size_t by) {
  std::string out;
  for (std::size_t i = 0; i < sql.size();) {
    if (sql[i] == '$' && i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      std::size_t j = i + 1;
      while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j]))) ++j;
      out += "$" + std::to_string(std::stoul(sql.substr(i + 1, j - i - 1)) + by);
      i = j;
    } else {
      out.push_back(sql[i++]);
    }
  }
  return out;
}

class compiler {
 public:
  explicit compiler(dialect d) : d_(d) {}

  /// Appends a WHERE compiled by filter_sql (numbered from $1) as one condition.
  std::string nested(sql_where w) {
    if (w.sql.empty()) return always;
    auto sql = shifted(w.sql, params_.size());
    for (auto& p : w.params) params_.push_back(std::move(p));
    return sql;
  }

  sql_where finish(const std::string& condition) {
    sql_where out;
    if (condition != always) out.sql = condition;
    out.params = std::move(params_);
    return out;
  }

  std::string ids(const std::string& column, const filters::id_criterion& c) {
    if (!c.any) return always;
    if (c.any->empty()) return never;
    std::vector<std::string> texts;
    for (const auto& v : *c.any) texts.push_back(v.to_string());
    return listed(column, texts, "uuid");
  }

  std::string text(const std::string& column, const filters::text_criterion& c) {
    std::vector<std::string> parts;
    if (c.any) parts.push_back(c.any->empty() ? never : listed(column, *c.any, "text"));
    if (c.not_any && !c.not_any->empty()) parts.push_back(listed(column, *c.not_any, "text", true));
    if (c.like && !c.like->empty()) {
      const auto p = bind(text_value("%" + like_escaped(*c.like) + "%"));
      parts.push_back(column + (d_ == dialect::postgresql ? " ILIKE " + p + "::text" : " LIKE " + p) + " ESCAPE '\\'");
    }
    if (c.is_null) parts.push_back(column + (*c.is_null ? " IS NULL" : " IS NOT NULL"));
    return combine(c.combine, parts);
  }

  std::string tags(const std::string& column, const filters::tags_criterion& c) {
    std::vector<std::string> parts;
    if (c.all && !c.all->empty()) {
      const auto p = bind(text_value(nlohmann::json(*c.all).dump()));
      if (d_ == dialect::postgresql) {
        parts.push_back(column + " @> " + p + "::jsonb");
      } else {
        parts.push_back("NOT EXISTS (SELECT 1 FROM json_each(" + p +
                        ") AS w WHERE w.value NOT IN (SELECT h.value FROM "
                        "json_each(" +
                        column + ") AS h))");
      }
    }
    if (c.any) {
      if (c.any->empty()) {
        parts.push_back(never);
      } else {
        const auto p = bind(text_value(nlohmann::json(*c.any).dump()));
        if (d_ == dialect::postgresql)
          parts.push_back(column + " ?| ARRAY(SELECT jsonb_array_elements_text(" + p + "::jsonb))");
        else
          parts.push_back("EXISTS (SELECT 1 FROM json_each(" + column +
                          ") AS h WHERE h.value IN (SELECT w.value FROM "
                          "json_each(" +
                          p + ") AS w))");
      }
    }
    if (c.is_null) {
      if (d_ == dialect::postgresql)
        parts.push_back(column + (*c.is_null ? " = " : " <> ") + "'[]'::jsonb");
      else
        parts.push_back("json_array_length(" + column + ")" + (*c.is_null ? " = 0" : " <> 0"));
    }
    return combine(c.combine, parts);
  }

  std::string before(const std::string& column, const filters::time_criterion& c) {
    if (!c.before) return always;
    return column + " <= " + bind(persistence::ts(*c.before));
  }

 private:
  static sql_value text_value(const std::string& s) { return persistence::text(s); }

  std::string bind(sql_value v) {
    params_.push_back(std::move(v));
    return "$" + std::to_string(params_.size());
  }

  /// `column [NOT] IN values`, the values bound as one list (persistence/sql_lists.hpp).
  std::string listed(const std::string& column, const std::vector<std::string>& values, const char* pg_type,
                     bool negate = false) {
    return in_list(d_, column, bind(list_parameter(d_, values)), pg_type, negate);
  }

  dialect d_;
  sql_params params_;
};

}  // namespace

sql_where variable_where(dialect d, const std::optional<filters::variable_filter>& filter) {
  compiler c(d);
  if (!filter) return c.finish(always);
  std::vector<std::string> parts;
  if (filter->id) parts.push_back(c.ids("v.id", *filter->id));
  if (filter->name) parts.push_back(c.text("v.name", *filter->name));
  if (filter->tags) parts.push_back(c.tags("v.tags", *filter->tags));
  return c.finish(combine(filter->combine, parts));
}

sql_where artifact_where(dialect d, const filters::artifact_query& q, bool collection) {
  compiler c(d);
  std::vector<std::string> parts;
  if (q.artifacts) {
    const auto& f = *q.artifacts;
    std::vector<std::string> own;
    if (f.id) own.push_back(c.ids(collection ? "a.latest_id" : "a.id", *f.id));
    if (f.key) own.push_back(c.text("a.key", *f.key));
    if (f.flow_run_id) own.push_back(c.ids("a.flow_run_id", *f.flow_run_id));
    if (f.task_run_id) own.push_back(c.ids("a.task_run_id", *f.task_run_id));
    if (f.type) own.push_back(c.text("a.type", *f.type));
    parts.push_back(combine(f.combine, own));
  }
  if (q.runs.flows || q.runs.flow_runs || q.runs.deployments) {
    filters::filter_set runs;
    runs.flows = q.runs.flows;
    runs.flow_runs = q.runs.flow_runs;
    runs.deployments = q.runs.deployments;
    const auto where = c.nested(flow_run_where(d, runs));
    parts.push_back("EXISTS (SELECT 1 FROM flow_run r WHERE r.id = a.flow_run_id AND " + where + ")");
  }
  if (q.runs.task_runs) {
    filters::filter_set tasks;
    tasks.task_runs = q.runs.task_runs;
    const auto where = c.nested(task_run_where(d, tasks));
    parts.push_back("EXISTS (SELECT 1 FROM task_run t WHERE t.id = a.task_run_id AND " + where + ")");
  }
  return c.finish(combine(op::and_, parts));
}

std::string order_by(filters::variable_sort sort) {
  using s = filters::variable_sort;
  switch (sort) {
    case s::created_desc: return "v.created DESC, v.id DESC";
    case s::updated_desc: return "v.updated DESC, v.id DESC";
    case s::name_desc: return "v.name DESC";
    case s::name_asc: return "v.name ASC";
  }
  return "v.name ASC";
}

sql_where automation_where(dialect d, const std::optional<filters::automation_filter>& filter) {
  compiler c(d);
  if (!filter) return c.finish(always);
  std::vector<std::string> parts;
  if (filter->id) parts.push_back(c.ids("a.id", *filter->id));
  if (filter->name) parts.push_back(c.text("a.name", *filter->name));
  if (filter->created) parts.push_back(c.before("a.created", *filter->created));
  if (filter->tags) parts.push_back(c.tags("a.tags", *filter->tags));
  return c.finish(combine(filter->combine, parts));
}

std::string order_by(filters::automation_sort sort) {
  using s = filters::automation_sort;
  switch (sort) {
    case s::created_desc: return "a.created DESC, a.id DESC";
    case s::updated_desc: return "a.updated DESC, a.id DESC";
    case s::name_desc: return "a.name DESC, a.id";
    case s::name_asc: return "a.name ASC, a.id";
  }
  return "a.name ASC, a.id";
}

std::string order_by(filters::artifact_sort sort) {
  using s = filters::artifact_sort;
  switch (sort) {
    case s::created_desc: return "a.created DESC, a.id DESC";
    case s::updated_desc: return "a.updated DESC, a.id DESC";
    case s::id_desc: return "a.id DESC";
    case s::key_desc: return "a.key DESC, a.id DESC";
    case s::key_asc: return "a.key ASC, a.id ASC";
  }
  return "a.id DESC";
}

}  // namespace osprey::persistence

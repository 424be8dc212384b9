#include "domain/object_filters.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

namespace osprey::filters {
namespace {

using nlohmann::json;
using path = std::vector<std::string>;

// A small reader in the manner of filters.cpp (whose helpers are private to the run filters): each reader
// returns false after filling `error` with pydantic's location, message and type.

path at(const path& where, std::string key) {
  auto out = where;
  out.push_back(std::move(key));
  return out;
}

bool fail(filter_error& error, path where, std::string message, std::string type) {
  error = filter_error{std::move(where), std::move(message), std::move(type), false};
  return false;
}

using reader = std::function<bool(const json& value, const path& where)>;
using field = std::pair<const char*, reader>;

/// Reads an object whose keys must all be among `fields` (extra="forbid"); null values are left absent.
bool read_object(const json& v, const path& where, filter_error& error, const std::vector<field>& fields) {
  if (!v.is_object()) return fail(error, where, "Input should be a valid dictionary or object", "model_type");
  for (const auto& [key, value] : v.items()) {
    const reader* found = nullptr;
    for (const auto& [name, read] : fields)
      if (key == name) found = &read;
    if (!found) return fail(error, at(where, key), "Extra inputs are not permitted", "extra_forbidden");
    if (!value.is_null() && !(*found)(value, at(where, key))) return false;
  }
  return true;
}

reader boolean(std::optional<bool>& out, filter_error& error) {
  return [&out, &error](const json& v, const path& where) {
    if (!v.is_boolean()) return fail(error, where, "Input should be a valid boolean", "bool_type");
    out = v.get<bool>();
    return true;
  };
}

reader string(std::optional<std::string>& out, filter_error& error) {
  return [&out, &error](const json& v, const path& where) {
    if (!v.is_string()) return fail(error, where, "Input should be a valid string", "string_type");
    out = v.get<std::string>();
    return true;
  };
}

reader strings(list<std::string>& out, filter_error& error) {
  return [&out, &error](const json& v, const path& where) {
    if (!v.is_array()) return fail(error, where, "Input should be a valid list", "list_type");
    std::vector<std::string> items;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string())
        return fail(error, at(where, std::to_string(i)), "Input should be a valid string", "string_type");
      items.push_back(v[i].get<std::string>());
    }
    out = std::move(items);
    return true;
  };
}

reader uuids(list<uuid>& out, filter_error& error) {
  return [&out, &error](const json& v, const path& where) {
    if (!v.is_array()) return fail(error, where, "Input should be a valid list", "list_type");
    std::vector<uuid> items;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const auto item = at(where, std::to_string(i));
      if (!v[i].is_string())
        return fail(error, item, "UUID input should be a string, bytes or UUID object", "uuid_type");
      auto parsed = uuid::parse(v[i].get<std::string>());
      if (!parsed)
        return fail(error, item, "Input should be a valid UUID, unable to parse string as a UUID", "uuid_parsing");
      items.push_back(*parsed);
    }
    out = std::move(items);
    return true;
  };
}

template <class E, std::size_t N>
reader enumeration(const std::array<std::pair<E, const char*>, N>& names, E& out, filter_error& error) {
  return [&names, &out, &error](const json& v, const path& where) {
    if (v.is_string())
      for (const auto& [value, name] : names)
        if (v.get_ref<const std::string&>() == name) {
          out = value;
          return true;
        }
    std::string message = "Input should be ";
    for (std::size_t i = 0; i < N; ++i)
      message += (i == 0 ? "" : i + 1 == N ? " or " : ", ") + std::string("'") + names[i].second + "'";
    return fail(error, where, message, "enum");
  };
}

constexpr std::array<std::pair<op, const char*>, 2> op_names{{{op::and_, "and_"}, {op::or_, "or_"}}};

constexpr std::array<std::pair<variable_sort, const char*>, 4> variable_sort_names{{
    {variable_sort::created_desc, "CREATED_DESC"},
    {variable_sort::updated_desc, "UPDATED_DESC"},
    {variable_sort::name_desc, "NAME_DESC"},
    {variable_sort::name_asc, "NAME_ASC"},
}};

constexpr std::array<std::pair<automation_sort, const char*>, 4> automation_sort_names{{
    {automation_sort::created_desc, "CREATED_DESC"},
    {automation_sort::updated_desc, "UPDATED_DESC"},
    {automation_sort::name_asc, "NAME_ASC"},
    {automation_sort::name_desc, "NAME_DESC"},
}};

constexpr std::array<std::pair<artifact_sort, const char*>, 5> artifact_sort_names{{
    {artifact_sort::created_desc, "CREATED_DESC"},
    {artifact_sort::updated_desc, "UPDATED_DESC"},
    {artifact_sort::id_desc, "ID_DESC"},
    {artifact_sort::key_desc, "KEY_DESC"},
    {artifact_sort::key_asc, "KEY_ASC"},
}};

field operator_field(op& out, filter_error& error) { return {"operator", enumeration(op_names, out, error)}; }

/// A nested criterion object in an optional slot.
template <class C>
field sub(const char* key, std::optional<C>& slot, filter_error& error,
          std::function<std::vector<field>(C&)> fields_of) {
  return {key, [&slot, &error, fields_of](const json& v, const path& where) {
            C value{};
            if (!read_object(v, where, error, fields_of(value))) return false;
            slot = std::move(value);
            return true;
          }};
}

/// {"any_": [uuid]}.
field ids_any(const char* key, std::optional<id_criterion>& slot, filter_error& error) {
  return sub<id_criterion>(key, slot, error, [&error](id_criterion& c) {
    return std::vector<field>{{"any_", uuids(c.any, error)}};
  });
}

bool variable_fields(const json& v, const path& where, variable_filter& out, filter_error& error) {
  return read_object(
      v, where, error,
      {ids_any("id", out.id, error),
       sub<text_criterion>(
           "name", out.name, error,
           [&error](text_criterion& c) {
             return std::vector<field>{{"any_", strings(c.any, error)}, {"like_", string(c.like, error)}};
           }),
       sub<tags_criterion>("tags", out.tags, error,
                           [&error](tags_criterion& c) {
                             return std::vector<field>{{"all_", strings(c.all, error)},
                                                       {"is_null_", boolean(c.is_null, error)},
                                                       operator_field(c.combine, error)};
                           }),
       operator_field(out.combine, error)});
}

reader moment(std::optional<timestamp>& out, filter_error& error) {
  return [&out, &error](const json& v, const path& where) {
    if (!v.is_string()) return fail(error, where, "Input should be a valid datetime", "datetime_type");
    auto parsed = parse_iso8601(v.get<std::string>());
    if (!parsed)
      return fail(error, where, "Input should be a valid datetime, invalid character in year", "datetime_parsing");
    out = *parsed;
    return true;
  };
}

bool automation_fields(const json& v, const path& where, automation_filter& out, filter_error& error) {
  return read_object(v, where, error,
                     {ids_any("id", out.id, error),
                      sub<text_criterion>("name", out.name, error,
                                          [&error](text_criterion& c) {
                                            return std::vector<field>{{"any_", strings(c.any, error)}};
                                          }),
                      sub<time_criterion>("created", out.created, error,
                                          [&error](time_criterion& c) {
                                            return std::vector<field>{{"before_", moment(c.before, error)}};
                                          }),
                      sub<tags_criterion>("tags", out.tags, error,
                                          [&error](tags_criterion& c) {
                                            return std::vector<field>{{"all_", strings(c.all, error)},
                                                                      {"any_", strings(c.any, error)},
                                                                      {"is_null_", boolean(c.is_null, error)},
                                                                      operator_field(c.combine, error)};
                                          }),
                      operator_field(out.combine, error)});
}

bool artifact_fields(const json& v, const path& where, bool collection, artifact_filter& out, filter_error& error) {
  auto key_fields = [&error](text_criterion& c) {
    // exists_ is kept in is_null, inverted, once the object has been read (see below).
    return std::vector<field>{
        {"any_", strings(c.any, error)}, {"like_", string(c.like, error)}, {"exists_", boolean(c.is_null, error)}};
  };
  if (!read_object(
          v, where, error,
          {ids_any(collection ? "latest_id" : "id", out.id, error),
           sub<text_criterion>("key", out.key, error, key_fields), ids_any("flow_run_id", out.flow_run_id, error),
           ids_any("task_run_id", out.task_run_id, error),
           sub<text_criterion>(
               "type", out.type, error,
               [&error](text_criterion& c) {
                 return std::vector<field>{{"any_", strings(c.any, error)}, {"not_any_", strings(c.not_any, error)}};
               }),
           operator_field(out.combine, error)}))
    return false;
  if (out.key && out.key->is_null) out.key->is_null = !*out.key->is_null;
  return true;
}

// Integers as pydantic's lax mode takes them: JSON integers, floats without a fraction, numeric strings.
bool read_integer(const json& v, const path& where, std::int64_t& out, filter_error& error) {
  if (v.is_number_unsigned()) {
    if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return fail(error, where, "Input should be a valid integer, the number is too large", "int_parsing_size");
    out = static_cast<std::int64_t>(v.get<std::uint64_t>());
    return true;
  }
  if (v.is_number_integer()) {
    out = v.get<std::int64_t>();
    return true;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d))
      return fail(error, where, "Input should be a valid integer, got a number with a fractional part",
                  "int_from_float");
    if (std::fabs(d) > 9.2e18)
      return fail(error, where, "Input should be a valid integer, the number is too large", "int_parsing_size");
    out = static_cast<std::int64_t>(d);
    return true;
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    std::int64_t parsed = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
    if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) {
      out = parsed;
      return true;
    }
    return fail(error, where, "Input should be a valid integer, unable to parse string as an integer", "int_parsing");
  }
  return fail(error, where, "Input should be a valid integer", "int_type");
}

bool read_limit(const json& v, page_window& window, filter_error& error) {
  std::int64_t limit = 0;
  if (!read_integer(v, {"limit"}, limit, error)) return false;
  // LimitBody refuses out-of-range limits from route code: a plain {"detail"}.
  if (limit < 0 || limit > default_limit) {
    fail(error, {"limit"},
         limit < 0 ? "Invalid limit: must be greater than or equal to 0."
                   : "Invalid limit: must be less than or equal to " + std::to_string(default_limit) + ".",
         "value_error");
    error.plain_detail = true;
    return false;
  }
  window.limit = limit;
  return true;
}

bool read_offset(const json& v, page_window& window, filter_error& error) {
  std::int64_t offset = 0;
  if (!read_integer(v, {"offset"}, offset, error)) return false;
  if (offset < 0) return fail(error, {"offset"}, "Input should be greater than or equal to 0", "greater_than_equal");
  window.offset = offset;
  return true;
}

/// Reads the keys this route takes and ignores the rest (FastAPI's separate Body parameters).
bool read_top(const json& body, filter_error& error, const std::vector<field>& fields) {
  if (!body.is_object()) return fail(error, {}, "Input should be a valid dictionary or object", "model_type");
  for (const auto& [key, read] : fields) {
    auto it = body.find(key);
    if (it != body.end() && !it->is_null() && !read(*it, {key})) return false;
  }
  return true;
}

template <class Query>
void add_paging(std::vector<field>& fields, Query& q, body_kind kind, filter_error& error) {
  if (kind == body_kind::count) return;
  fields.push_back({"limit", [&q, &error](const json& v, const path&) { return read_limit(v, q.window, error); }});
  fields.push_back({"offset", [&q, &error](const json& v, const path&) { return read_offset(v, q.window, error); }});
}

}  // namespace

std::optional<variable_query> parse_variable_query(const json& body, body_kind kind, filter_error& error) {
  variable_query q;
  std::vector<field> fields = {{"variables", [&](const json& v, const path& where) {
                                  variable_filter f;
                                  if (!variable_fields(v, where, f, error)) return false;
                                  q.variables = std::move(f);
                                  return true;
                                }}};
  if (kind != body_kind::count) fields.push_back({"sort", enumeration(variable_sort_names, q.sort, error)});
  add_paging(fields, q, kind, error);
  if (!read_top(body, error, fields)) return std::nullopt;
  return q;
}

std::optional<automation_query> parse_automation_query(const json& body, body_kind kind, filter_error& error) {
  automation_query q;
  std::vector<field> fields = {{"automations", [&](const json& v, const path& where) {
                                  automation_filter f;
                                  if (!automation_fields(v, where, f, error)) return false;
                                  q.automations = std::move(f);
                                  return true;
                                }}};
  if (kind != body_kind::count) fields.push_back({"sort", enumeration(automation_sort_names, q.sort, error)});
  add_paging(fields, q, kind, error);
  if (!read_top(body, error, fields)) return std::nullopt;
  return q;
}

std::optional<artifact_query> parse_artifact_query(const json& body, body_kind kind, bool collection,
                                                   filter_error& error) {
  artifact_query q;
  auto run_filter = [&error](auto parse, auto& slot) {
    return [&error, parse, &slot](const json& v, const path& where) {
      auto parsed = parse(v, where, error);
      if (!parsed) return false;
      slot = std::move(*parsed);
      return true;
    };
  };
  std::vector<field> fields = {
      {"artifacts",
       [&](const json& v, const path& where) {
         artifact_filter f;
         if (!artifact_fields(v, where, collection, f, error)) return false;
         q.artifacts = std::move(f);
         return true;
       }},
      {"flows", run_filter(parse_flow_filter, q.runs.flows)},
      {"flow_runs", run_filter(parse_flow_run_filter, q.runs.flow_runs)},
      {"task_runs", run_filter(parse_task_run_filter, q.runs.task_runs)},
      {"deployments", run_filter(parse_deployment_filter, q.runs.deployments)},
  };
  if (kind != body_kind::count) fields.push_back({"sort", enumeration(artifact_sort_names, q.sort, error)});
  add_paging(fields, q, kind, error);
  if (!read_top(body, error, fields)) return std::nullopt;
  return q;
}

std::optional<page_window> parse_page_body(const json& body, filter_error& error) {
  struct {
    page_window window;
  } q;
  std::vector<field> fields;
  add_paging(fields, q, body_kind::filter, error);
  if (!read_top(body, error, fields)) return std::nullopt;
  return q.window;
}

}  // namespace osprey::filters

#include "domain/filters.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <string_view>
#include <utility>

namespace osprey::filters {
namespace {

using nlohmann::json;
using path = std::vector<std::string>;

path at(const path& where, std::string key) {
  auto out = where;
  out.push_back(std::move(key));
  return out;
}

bool fail(filter_error& error, path where, std::string message, std::string type) {
  error.location = std::move(where);
  error.message = std::move(message);
  error.type = std::move(type);
  error.plain_detail = false;
  return false;
}

// ---- leaves -------------------------------------------------------------------------------------------------

bool read_bool(const json& v, const path& where, std::optional<bool>& out, filter_error& error) {
  if (v.is_null()) return true;
  if (!v.is_boolean()) return fail(error, where, "Input should be a valid boolean", "bool_type");
  out = v.get<bool>();
  return true;
}

bool read_string(const json& v, const path& where, std::optional<std::string>& out, filter_error& error) {
  if (v.is_null()) return true;
  if (!v.is_string()) return fail(error, where, "Input should be a valid string", "string_type");
  out = v.get<std::string>();
  return true;
}

// Integers as pydantic's lax mode takes them: JSON integers, floats without a fraction, numeric strings.
bool read_int(const json& v, const path& where, std::optional<std::int64_t>& out, filter_error& error) {
  if (v.is_null()) return true;
  if (v.is_number_integer() && !v.is_number_unsigned()) {
    out = v.get<std::int64_t>();
    return true;
  }
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return fail(error, where, "Input should be a valid integer, the number is too large", "int_parsing_size");
    out = static_cast<std::int64_t>(u);
    return true;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d))
      return fail(error, where, "Input should be a valid integer, got a number with a fractional part",
                  "int_from_float");
    if (d < -9.2e18 || d > 9.2e18)
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

// Datetimes: ISO 8601 text (a space may replace 'T'; no offset means UTC) or Unix seconds (milliseconds above
// 2e10, as pydantic reads them). Years before 1 are refused (PostgreSQL has no year 0).
bool read_time(const json& v, const path& where, std::optional<timestamp>& out, filter_error& error) {
  using namespace std::chrono;
  if (v.is_null()) return true;
  std::optional<timestamp> t;
  if (v.is_string()) {
    t = parse_iso8601(v.get_ref<const std::string&>());
  } else if (v.is_number() && !v.is_boolean()) {
    double seconds = v.get<double>();
    if (std::isfinite(seconds) && std::fabs(seconds) > 2e10) seconds /= 1000.0;
    if (std::isfinite(seconds) && std::fabs(seconds) < 2.5e11)
      t = timestamp(microseconds(static_cast<std::int64_t>(std::llround(seconds * 1e6))));
  } else {
    return fail(error, where, "Input should be a valid datetime", "datetime_type");
  }
  static const timestamp earliest = time_point_cast<microseconds>(sys_days(year(1) / January / 1));
  static const timestamp latest =
      time_point_cast<microseconds>(sys_days(year(9999) / December / 31) + days(1)) - microseconds(1);
  if (!t || *t < earliest || *t > latest)
    return fail(error, where, "Input should be a valid datetime", "datetime_parsing");
  out = *t;
  return true;
}

template <class E, std::size_t N>
bool read_enum(const json& v, const path& where, const std::array<std::pair<E, const char*>, N>& names, E& out,
               filter_error& error) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    for (const auto& [value, name] : names)
      if (s == name) {
        out = value;
        return true;
      }
  }
  std::string message = "Input should be ";
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) message += i + 1 == N ? " or " : ", ";
    message += "'" + std::string(names[i].second) + "'";
  }
  return fail(error, where, message, "enum");
}

constexpr std::array<std::pair<op, const char*>, 2> op_names{{{op::and_, "and_"}, {op::or_, "or_"}}};

constexpr std::array<std::pair<state_type, const char*>, 9> state_type_names{{
    {state_type::scheduled, "SCHEDULED"},
    {state_type::pending, "PENDING"},
    {state_type::running, "RUNNING"},
    {state_type::completed, "COMPLETED"},
    {state_type::failed, "FAILED"},
    {state_type::cancelled, "CANCELLED"},
    {state_type::crashed, "CRASHED"},
    {state_type::paused, "PAUSED"},
    {state_type::cancelling, "CANCELLING"},
}};

constexpr std::array<std::pair<flow_sort, const char*>, 4> flow_sort_names{{
    {flow_sort::created_desc, "CREATED_DESC"},
    {flow_sort::updated_desc, "UPDATED_DESC"},
    {flow_sort::name_asc, "NAME_ASC"},
    {flow_sort::name_desc, "NAME_DESC"},
}};

constexpr std::array<std::pair<flow_run_sort, const char*>, 9> flow_run_sort_names{{
    {flow_run_sort::id_desc, "ID_DESC"},
    {flow_run_sort::start_time_asc, "START_TIME_ASC"},
    {flow_run_sort::start_time_desc, "START_TIME_DESC"},
    {flow_run_sort::expected_start_time_asc, "EXPECTED_START_TIME_ASC"},
    {flow_run_sort::expected_start_time_desc, "EXPECTED_START_TIME_DESC"},
    {flow_run_sort::name_asc, "NAME_ASC"},
    {flow_run_sort::name_desc, "NAME_DESC"},
    {flow_run_sort::next_scheduled_start_time_asc, "NEXT_SCHEDULED_START_TIME_ASC"},
    {flow_run_sort::end_time_desc, "END_TIME_DESC"},
}};

constexpr std::array<std::pair<task_run_sort, const char*>, 7> task_run_sort_names{{
    {task_run_sort::id_desc, "ID_DESC"},
    {task_run_sort::expected_start_time_asc, "EXPECTED_START_TIME_ASC"},
    {task_run_sort::expected_start_time_desc, "EXPECTED_START_TIME_DESC"},
    {task_run_sort::name_asc, "NAME_ASC"},
    {task_run_sort::name_desc, "NAME_DESC"},
    {task_run_sort::next_scheduled_start_time_asc, "NEXT_SCHEDULED_START_TIME_ASC"},
    {task_run_sort::end_time_desc, "END_TIME_DESC"},
}};

constexpr std::array<std::pair<deployment_sort, const char*>, 4> deployment_sort_names{{
    {deployment_sort::created_desc, "CREATED_DESC"},
    {deployment_sort::updated_desc, "UPDATED_DESC"},
    {deployment_sort::name_asc, "NAME_ASC"},
    {deployment_sort::name_desc, "NAME_DESC"},
}};

constexpr std::array<std::pair<log_sort, const char*>, 2> log_sort_names{{
    {log_sort::timestamp_asc, "TIMESTAMP_ASC"},
    {log_sort::timestamp_desc, "TIMESTAMP_DESC"},
}};

template <class E, std::size_t N>
const char* name_of(const std::array<std::pair<E, const char*>, N>& names, E value) noexcept {
  for (const auto& [v, name] : names)
    if (v == value) return name;
  return names[0].second;
}

// "operator": null is taken as the default (and_).
bool read_op(const json& v, const path& where, op& out, filter_error& error) {
  if (v.is_null()) return true;
  return read_enum(v, where, op_names, out, error);
}

bool uuid_item(const json& v, const path& where, uuid& out, filter_error& error) {
  if (!v.is_string()) return fail(error, where, "UUID input should be a string, bytes or UUID object", "uuid_type");
  auto parsed = uuid::parse(v.get_ref<const std::string&>());
  if (!parsed)
    return fail(error, where, "Input should be a valid UUID, unable to parse string as a UUID", "uuid_parsing");
  out = *parsed;
  return true;
}

bool string_item(const json& v, const path& where, std::string& out, filter_error& error) {
  if (!v.is_string()) return fail(error, where, "Input should be a valid string", "string_type");
  out = v.get<std::string>();
  return true;
}

bool state_type_item(const json& v, const path& where, state_type& out, filter_error& error) {
  return read_enum(v, where, state_type_names, out, error);
}

/// A WorkerStatus value (kept as its text: the SQL compares the stored column).
bool worker_status_item(const json& v, const path& where, std::string& out, filter_error& error) {
  if (!v.is_string() || (v != "ONLINE" && v != "OFFLINE"))
    return fail(error, where, "Input should be 'ONLINE' or 'OFFLINE'", "enum");
  out = v.get<std::string>();
  return true;
}

template <class T, class Item>
bool read_list(const json& v, const path& where, list<T>& out, filter_error& error, Item item) {
  if (v.is_null()) return true;
  if (!v.is_array()) return fail(error, where, "Input should be a valid list", "list_type");
  std::vector<T> values;
  values.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    T value{};
    if (!item(v[i], at(where, std::to_string(i)), value, error)) return false;
    values.push_back(std::move(value));
  }
  out = std::move(values);
  return true;
}

// ---- objects ------------------------------------------------------------------------------------------------

/// One accepted key of a filter object and how to read its value (which may be null).
struct field {
  const char* key;
  std::function<bool(const json& value, const path& where)> read;
};

/// Reads an object whose keys must all be among `fields` (extra="forbid").
bool read_fields(const json& v, const path& where, filter_error& error, const std::vector<field>& fields) {
  if (!v.is_object()) return fail(error, where, "Input should be a valid dictionary or object", "model_type");
  for (const auto& [key, value] : v.items()) {
    const field* found = nullptr;
    for (const auto& f : fields)
      if (key == f.key) found = &f;
    if (!found) return fail(error, at(where, key), "Extra inputs are not permitted", "extra_forbidden");
    if (!found->read(value, at(where, key))) return false;
  }
  return true;
}

/// A nested criterion object stored in an optional slot; null leaves it absent.
template <class C, class Parse>
field sub(const char* key, std::optional<C>& slot, filter_error& error, Parse parse) {
  return {key, [&slot, &error, parse](const json& v, const path& where) {
            if (v.is_null()) return true;
            C value{};
            if (!parse(v, where, value, error)) return false;
            slot = std::move(value);
            return true;
          }};
}

/// Which keys a criterion object accepts.
enum keys : unsigned {
  k_any = 1U << 0,
  k_not_any = 1U << 1,
  k_all = 1U << 2,
  k_like = 1U << 3,
  k_startswith = 1U << 4,
  k_is_null = 1U << 5,
  k_before = 1U << 6,
  k_after = 1U << 7,
  k_operator = 1U << 8,
};

field operator_field(op& slot, filter_error& error) {
  return {"operator", [&slot, &error](const json& v, const path& where) { return read_op(v, where, slot, error); }};
}

auto ids(unsigned accepted) {
  return [accepted](const json& v, const path& where, id_criterion& out, filter_error& error) {
    std::vector<field> f;
    if (accepted & k_any)
      f.push_back({"any_", [&](const json& x, const path& w) { return read_list(x, w, out.any, error, uuid_item); }});
    if (accepted & k_not_any)
      f.push_back(
          {"not_any_", [&](const json& x, const path& w) { return read_list(x, w, out.not_any, error, uuid_item); }});
    if (accepted & k_is_null)
      f.push_back({"is_null_", [&](const json& x, const path& w) { return read_bool(x, w, out.is_null, error); }});
    if (accepted & k_operator) f.push_back(operator_field(out.combine, error));
    return read_fields(v, where, error, f);
  };
}

auto texts(unsigned accepted) {
  return [accepted](const json& v, const path& where, text_criterion& out, filter_error& error) {
    std::vector<field> f;
    if (accepted & k_any)
      f.push_back({"any_", [&](const json& x, const path& w) { return read_list(x, w, out.any, error, string_item); }});
    if (accepted & k_not_any)
      f.push_back(
          {"not_any_", [&](const json& x, const path& w) { return read_list(x, w, out.not_any, error, string_item); }});
    if (accepted & k_like)
      f.push_back({"like_", [&](const json& x, const path& w) { return read_string(x, w, out.like, error); }});
    if (accepted & k_startswith)
      f.push_back({"startswith_",
                   [&](const json& x, const path& w) { return read_list(x, w, out.startswith, error, string_item); }});
    if (accepted & k_is_null)
      f.push_back({"is_null_", [&](const json& x, const path& w) { return read_bool(x, w, out.is_null, error); }});
    if (accepted & k_operator) f.push_back(operator_field(out.combine, error));
    return read_fields(v, where, error, f);
  };
}

auto tags(unsigned accepted) {
  return [accepted](const json& v, const path& where, tags_criterion& out, filter_error& error) {
    std::vector<field> f;
    if (accepted & k_all)
      f.push_back({"all_", [&](const json& x, const path& w) { return read_list(x, w, out.all, error, string_item); }});
    if (accepted & k_any)
      f.push_back({"any_", [&](const json& x, const path& w) { return read_list(x, w, out.any, error, string_item); }});
    f.push_back({"is_null_", [&](const json& x, const path& w) { return read_bool(x, w, out.is_null, error); }});
    f.push_back(operator_field(out.combine, error));
    return read_fields(v, where, error, f);
  };
}

auto times(unsigned accepted) {
  return [accepted](const json& v, const path& where, time_criterion& out, filter_error& error) {
    std::vector<field> f;
    f.push_back({"before_", [&](const json& x, const path& w) { return read_time(x, w, out.before, error); }});
    f.push_back({"after_", [&](const json& x, const path& w) { return read_time(x, w, out.after, error); }});
    if (accepted & k_is_null)
      f.push_back({"is_null_", [&](const json& x, const path& w) { return read_bool(x, w, out.is_null, error); }});
    return read_fields(v, where, error, f);
  };
}

/// {<key>: bool} (deployment.is_null_, paused.eq_, subflow_runs.exists_), with "operator" when Prefect has it.
auto flag(const char* key, bool with_operator) {
  return [key, with_operator](const json& v, const path& where, bool_criterion& out, filter_error& error) {
    std::vector<field> f;
    f.push_back({key, [&](const json& x, const path& w) { return read_bool(x, w, out.value, error); }});
    if (with_operator) f.push_back(operator_field(out.combine, error));
    return read_fields(v, where, error, f);
  };
}

/// state {type {any_, not_any_}, name {any_, not_any_}, operator}; task runs take any_ only.
auto states(unsigned accepted) {
  return [accepted](const json& v, const path& where, state_criterion& out, filter_error& error) {
    auto type_part = [&](const json& x, const path& w) {
      if (x.is_null()) return true;
      std::vector<field> f;
      f.push_back({"any_", [&](const json& y, const path& u) {
                     return read_list(y, u, out.type_any, error, state_type_item);
                   }});
      if (accepted & k_not_any)
        f.push_back({"not_any_", [&](const json& y, const path& u) {
                       return read_list(y, u, out.type_not_any, error, state_type_item);
                     }});
      return read_fields(x, w, error, f);
    };
    auto name_part = [&](const json& x, const path& w) {
      if (x.is_null()) return true;
      std::vector<field> f;
      f.push_back(
          {"any_", [&](const json& y, const path& u) { return read_list(y, u, out.name_any, error, string_item); }});
      if (accepted & k_not_any)
        f.push_back({"not_any_", [&](const json& y, const path& u) {
                       return read_list(y, u, out.name_not_any, error, string_item);
                     }});
      return read_fields(x, w, error, f);
    };
    return read_fields(v, where, error, {{"type", type_part}, {"name", name_part}, operator_field(out.combine, error)});
  };
}

bool parse_created_by(const json& v, const path& where, created_by_criterion& out, filter_error& error) {
  return read_fields(
      v, where, error,
      {{"id_", [&](const json& x, const path& w) { return read_list(x, w, out.id_any, error, uuid_item); }},
       {"type_", [&](const json& x, const path& w) { return read_list(x, w, out.type_any, error, string_item); }},
       {"is_null_", [&](const json& x, const path& w) { return read_bool(x, w, out.is_null, error); }},
       operator_field(out.combine, error)});
}

bool parse_levels(const json& v, const path& where, int_criterion& out, filter_error& error) {
  return read_fields(v, where, error,
                     {{"ge_", [&](const json& x, const path& w) { return read_int(x, w, out.ge, error); }},
                      {"le_", [&](const json& x, const path& w) { return read_int(x, w, out.le, error); }}});
}

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0U) != 0x80U ? 1 : 0;
  return n;
}

bool parse_text(const json& v, const path& where, text_search& out, filter_error& error) {
  std::optional<std::string> query;
  bool seen = false;
  if (!read_fields(v, where, error, {{"query", [&](const json& x, const path& w) {
                                        seen = true;
                                        if (x.is_null())
                                          return fail(error, w, "Input should be a valid string", "string_type");
                                        return read_string(x, w, query, error);
                                      }}}))
    return false;
  if (!seen) return fail(error, at(where, "query"), "Field required", "missing");
  if (code_points(*query) > 200)
    return fail(error, at(where, "query"), "String should have at most 200 characters", "string_too_long");
  out = parse_text_search(*query);
  return true;
}

/// The Prefect default `is_null_ = false` of TaskRunFilterFlowRunId applies when the key is absent.
bool parse_task_flow_run_id(const json& v, const path& where, id_criterion& out, filter_error& error) {
  if (!ids(k_any | k_is_null | k_operator)(v, where, out, error)) return false;
  if (!v.contains("is_null_")) out.is_null = false;
  return true;
}

// ---- entity filters -----------------------------------------------------------------------------------------

bool flow_fields(const json& v, const path& where, flow_filter& out, filter_error& error) {
  return read_fields(v, where, error,
                     {sub("id", out.id, error, ids(k_any | k_not_any)),
                      sub("deployment", out.deployment, error, flag("is_null_", true)),
                      sub("name", out.name, error, texts(k_any | k_like)), sub("tags", out.tags, error, tags(k_all)),
                      operator_field(out.combine, error)});
}

bool flow_run_fields(const json& v, const path& where, flow_run_filter& out, filter_error& error) {
  return read_fields(
      v, where, error,
      {sub("id", out.id, error, ids(k_any | k_not_any)), sub("name", out.name, error, texts(k_any | k_like)),
       sub("tags", out.tags, error, tags(k_all | k_any)),
       sub("deployment_id", out.deployment_id, error, ids(k_any | k_is_null | k_operator)),
       sub("work_queue_name", out.work_queue_name, error, texts(k_any | k_is_null | k_operator)),
       sub("state", out.state, error, states(k_any | k_not_any)),
       sub("flow_version", out.flow_version, error, texts(k_any)),
       sub("start_time", out.start_time, error, times(k_is_null)),
       sub("end_time", out.end_time, error, times(k_is_null)),
       sub("expected_start_time", out.expected_start_time, error, times(0)),
       sub("next_scheduled_start_time", out.next_scheduled_start_time, error, times(0)),
       sub("parent_flow_run_id", out.parent_flow_run_id, error, ids(k_any | k_operator)),
       sub("parent_task_run_id", out.parent_task_run_id, error, ids(k_any | k_is_null | k_operator)),
       sub("idempotency_key", out.idempotency_key, error, texts(k_any | k_not_any)),
       sub("created_by", out.created_by, error, parse_created_by), operator_field(out.combine, error)});
}

bool task_run_fields(const json& v, const path& where, task_run_filter& out, filter_error& error) {
  return read_fields(
      v, where, error,
      {sub("id", out.id, error, ids(k_any)), sub("name", out.name, error, texts(k_any | k_like)),
       sub("tags", out.tags, error, tags(k_all)), sub("state", out.state, error, states(k_any)),
       sub("start_time", out.start_time, error, times(k_is_null)),
       sub("end_time", out.end_time, error, times(k_is_null)),
       sub("expected_start_time", out.expected_start_time, error, times(0)),
       sub("subflow_runs", out.subflow_runs, error, flag("exists_", false)),
       sub("flow_run_id", out.flow_run_id, error, parse_task_flow_run_id), operator_field(out.combine, error)});
}

bool deployment_fields(const json& v, const path& where, deployment_filter& out, filter_error& error) {
  auto ignored_concurrency_limit = [&error](const json& x, const path& w) {
    if (x.is_null()) return true;
    std::optional<std::int64_t> ge, le;
    std::optional<bool> is_null;
    return read_fields(x, w, error,
                       {{"ge_", [&](const json& y, const path& u) { return read_int(y, u, ge, error); }},
                        {"le_", [&](const json& y, const path& u) { return read_int(y, u, le, error); }},
                        {"is_null_", [&](const json& y, const path& u) { return read_bool(y, u, is_null, error); }}});
  };
  return read_fields(v, where, error,
                     {sub("id", out.id, error, ids(k_any | k_not_any)),
                      sub("name", out.name, error, texts(k_any | k_like)),
                      sub("flow_or_deployment_name", out.flow_or_deployment_name, error, texts(k_like)),
                      sub("paused", out.paused, error, flag("eq_", false)),
                      sub("tags", out.tags, error, tags(k_all | k_any)),
                      sub("work_queue_name", out.work_queue_name, error, texts(k_any)),
                      {"concurrency_limit", ignored_concurrency_limit},
                      operator_field(out.combine, error)});
}

bool work_pool_fields(const json& v, const path& where, work_pool_filter& out, filter_error& error) {
  return read_fields(v, where, error,
                     {sub("id", out.id, error, ids(k_any)), sub("name", out.name, error, texts(k_any)),
                      sub("type", out.type, error, texts(k_any)), operator_field(out.combine, error)});
}

bool work_queue_fields(const json& v, const path& where, work_queue_filter& out, filter_error& error) {
  return read_fields(v, where, error,
                     {sub("id", out.id, error, ids(k_any)), sub("name", out.name, error, texts(k_any | k_startswith)),
                      operator_field(out.combine, error)});
}

bool worker_fields(const json& v, const path& where, worker_filter& out, filter_error& error) {
  auto statuses = [](const json& x, const path& w, text_criterion& c, filter_error& e) {
    return read_fields(
        x, w, e,
        {{"any_", [&](const json& y, const path& u) { return read_list(y, u, c.any, e, worker_status_item); }},
         {"not_any_",
          [&](const json& y, const path& u) { return read_list(y, u, c.not_any, e, worker_status_item); }}});
  };
  return read_fields(v, where, error,
                     {sub("last_heartbeat_time", out.last_heartbeat_time, error, times(0)),
                      sub("status", out.status, error, statuses), operator_field(out.combine, error)});
}

bool log_fields(const json& v, const path& where, log_filter& out, filter_error& error) {
  return read_fields(v, where, error,
                     {sub("level", out.level, error, parse_levels), sub("timestamp", out.at, error, times(0)),
                      sub("flow_run_id", out.flow_run_id, error, ids(k_any)),
                      sub("task_run_id", out.task_run_id, error, ids(k_any | k_is_null)),
                      sub("text", out.text, error, parse_text), operator_field(out.combine, error)});
}

template <class F, class Parse>
std::optional<F> parse_one(const json& v, const path& where, filter_error& error, Parse parse) {
  F out{};
  if (!parse(v, where, out, error)) return std::nullopt;
  return out;
}

// ---- bodies -------------------------------------------------------------------------------------------------

/// Which filter keys a route's body takes.
struct accepted_filters {
  bool work_pools = false;
  bool work_pool_queues = false;
  bool ignore_work_queues = false;  ///< the Prefect client sends "work_queues" to /flows/filter; Prefect ignores it
};

bool read_limit(const json& v, page_window& window, filter_error& error) {
  std::optional<std::int64_t> limit;
  if (!read_int(v, {"limit"}, limit, error)) return false;
  if (!limit) return true;
  if (*limit < 0) {
    fail(error, {"limit"}, "Invalid limit: must be greater than or equal to 0.", "value_error");
    error.plain_detail = true;
    return false;
  }
  if (*limit > default_limit) {
    fail(error, {"limit"}, "Invalid limit: must be less than or equal to " + std::to_string(default_limit) + ".",
         "value_error");
    error.plain_detail = true;
    return false;
  }
  window.limit = *limit;
  return true;
}

bool read_at_least(const json& v, const char* key, std::int64_t minimum, std::int64_t& out, filter_error& error) {
  std::optional<std::int64_t> value;
  if (!read_int(v, {key}, value, error)) return false;
  if (!value) return true;
  if (*value < minimum)
    return fail(error, {key}, "Input should be greater than or equal to " + std::to_string(minimum),
                "greater_than_equal");
  out = *value;
  return true;
}

template <class Sort, std::size_t N>
std::optional<query<Sort>> parse_query(const json& body, body_kind kind, accepted_filters accepted,
                                       const std::array<std::pair<Sort, const char*>, N>& sort_names, Sort default_sort,
                                       filter_error& error) {
  query<Sort> q;
  q.sort = default_sort;
  auto& fs = q.filters;
  std::vector<field> fields = {
      sub("flows", fs.flows, error, flow_fields),
      sub("flow_runs", fs.flow_runs, error, flow_run_fields),
      sub("task_runs", fs.task_runs, error, task_run_fields),
      sub("deployments", fs.deployments, error, deployment_fields),
  };
  if (accepted.work_pools) fields.push_back(sub("work_pools", fs.work_pools, error, work_pool_fields));
  if (accepted.work_pool_queues) fields.push_back(sub("work_pool_queues", fs.work_queues, error, work_queue_fields));
  if (accepted.ignore_work_queues) fields.push_back({"work_queues", [](const json&, const path&) { return true; }});
  if (kind == body_kind::count) {
    // Count takes filters only; paging keys sent along (as to the filter route) are ignored, as Prefect does.
    for (const char* key : {"sort", "limit", "offset", "page"})
      fields.push_back({key, [](const json&, const path&) { return true; }});
  } else {
    fields.push_back({"sort", [&](const json& v, const path& where) {
                        return v.is_null() || read_enum(v, where, sort_names, q.sort, error);
                      }});
    fields.push_back({"limit", [&](const json& v, const path&) { return read_limit(v, q.window, error); }});
  }
  if (kind == body_kind::filter)
    fields.push_back(
        {"offset", [&](const json& v, const path&) { return read_at_least(v, "offset", 0, q.window.offset, error); }});
  if (kind == body_kind::paginate)
    fields.push_back(
        {"page", [&](const json& v, const path&) { return read_at_least(v, "page", 1, q.window.page, error); }});
  if (!read_fields(body, {}, error, fields)) return std::nullopt;
  if (kind == body_kind::paginate) {
    // (page - 1) * limit, saturating: an absurd page reads past the end instead of overflowing.
    const std::int64_t before = q.window.page - 1;
    q.window.offset = q.window.limit > 0 && before > std::numeric_limits<std::int64_t>::max() / q.window.limit
                          ? std::numeric_limits<std::int64_t>::max()
                          : before * q.window.limit;
  }
  return q;
}

}  // namespace

std::string filter_error::describe() const {
  std::string where;
  for (const auto& part : location) where += (where.empty() ? "" : ".") + part;
  return where.empty() ? message : where + ": " + message;
}

text_search parse_text_search(const std::string& query) {
  text_search out;
  out.query = query;
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  auto file = [&out](char prefix, std::string term) {
    if (prefix == '-' || prefix == '!')
      out.exclude.push_back(std::move(term));
    else if (prefix == '+')
      out.required.push_back(std::move(term));
    else
      out.include.push_back(std::move(term));
  };
  std::size_t i = 0;
  const std::size_t n = query.size();
  while (i < n) {
    if (is_space(query[i])) {
      ++i;
      continue;
    }
    char prefix = 0;
    if (query[i] == '-' || query[i] == '!' || query[i] == '+') {
      // A prefix counts only when a term follows it directly; a lone one is skipped.
      if (i + 1 >= n || is_space(query[i + 1])) {
        ++i;
        continue;
      }
      prefix = query[i++];
    }
    if (query[i] == '"') {
      ++i;
      std::string phrase;
      while (i < n && query[i] != '"') {
        if (query[i] == '\\' && i + 1 < n && (query[i + 1] == '"' || query[i + 1] == '\\')) {
          phrase.push_back(query[i + 1]);
          i += 2;
        } else {
          phrase.push_back(query[i++]);
        }
      }
      if (i < n) ++i;  // the closing quote; an unclosed phrase runs to the end
      bool blank = true;
      for (char c : phrase) blank = blank && is_space(c);
      if (!blank) file(prefix, std::move(phrase));
      continue;
    }
    const std::size_t start = i;
    while (i < n && !is_space(query[i]) && query[i] != '"') ++i;
    if (i > start) file(prefix, query.substr(start, i - start));
  }
  return out;
}

const char* to_string(flow_sort s) noexcept { return name_of(flow_sort_names, s); }
const char* to_string(flow_run_sort s) noexcept { return name_of(flow_run_sort_names, s); }
const char* to_string(task_run_sort s) noexcept { return name_of(task_run_sort_names, s); }
const char* to_string(log_sort s) noexcept { return name_of(log_sort_names, s); }
const char* to_string(deployment_sort s) noexcept { return name_of(deployment_sort_names, s); }

std::optional<flow_query> parse_flow_query(const json& body, body_kind kind, filter_error& error) {
  return parse_query(body, kind, {.work_pools = true, .ignore_work_queues = true}, flow_sort_names, flow_sort::name_asc,
                     error);
}

std::optional<flow_run_query> parse_flow_run_query(const json& body, body_kind kind, filter_error& error) {
  return parse_query(body, kind, {.work_pools = true, .work_pool_queues = true}, flow_run_sort_names,
                     flow_run_sort::id_desc, error);
}

std::optional<task_run_query> parse_task_run_query(const json& body, body_kind kind, filter_error& error) {
  return parse_query(body, kind, {}, task_run_sort_names, task_run_sort::id_desc, error);
}

std::optional<deployment_query> parse_deployment_query(const json& body, body_kind kind, filter_error& error) {
  return parse_query(body, kind, {.work_pools = true, .work_pool_queues = true}, deployment_sort_names,
                     deployment_sort::name_asc, error);
}

std::optional<log_query> parse_log_query(const json& body, filter_error& error) {
  log_query q;
  if (!read_fields(body, {}, error,
                   {sub("logs", q.logs, error, log_fields),
                    {"sort",
                     [&](const json& v, const path& where) {
                       return v.is_null() || read_enum(v, where, log_sort_names, q.sort, error);
                     }},
                    {"limit", [&](const json& v, const path&) { return read_limit(v, q.window, error); }},
                    {"offset", [&](const json& v, const path&) {
                       return read_at_least(v, "offset", 0, q.window.offset, error);
                     }}}))
    return std::nullopt;
  return q;
}

std::optional<flow_filter> parse_flow_filter(const json& value, const path& location, filter_error& error) {
  return parse_one<flow_filter>(value, location, error, flow_fields);
}
std::optional<flow_run_filter> parse_flow_run_filter(const json& value, const path& location, filter_error& error) {
  return parse_one<flow_run_filter>(value, location, error, flow_run_fields);
}
std::optional<task_run_filter> parse_task_run_filter(const json& value, const path& location, filter_error& error) {
  return parse_one<task_run_filter>(value, location, error, task_run_fields);
}
std::optional<deployment_filter> parse_deployment_filter(const json& value, const path& location, filter_error& error) {
  return parse_one<deployment_filter>(value, location, error, deployment_fields);
}
std::optional<work_pool_filter> parse_work_pool_filter(const json& value, const path& location, filter_error& error) {
  return parse_one<work_pool_filter>(value, location, error, work_pool_fields);
}
std::optional<work_queue_filter> parse_work_queue_filter(const json& value, const path& location, filter_error& error) {
  return parse_one<work_queue_filter>(value, location, error, work_queue_fields);
}
std::optional<worker_filter> parse_worker_filter(const json& value, const path& location, filter_error& error) {
  return parse_one<worker_filter>(value, location, error, worker_fields);
}
std::optional<log_filter> parse_log_filter(const json& value, const path& location, filter_error& error) {
  return parse_one<log_filter>(value, location, error, log_fields);
}

}  // namespace osprey::filters

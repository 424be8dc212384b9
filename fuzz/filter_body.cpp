// filter_body: a POST …/filter, …/count or …/paginate body as the filter routes take it (http/routes_filters.cpp
// and the variable, artifact, work-pool, work-queue and worker routes): the body read as FastAPI reads it (blank
// or null is {}), parsed by every query parser of domain/filters.hpp and domain/object_filters.hpp for each body
// kind, and compiled to WHERE and ORDER BY text for both dialects by persistence/filter_sql.hpp and
// object_filter_sql.hpp. No database is opened: the compilers are pure.
//
// Invariants: a refusal describes itself; in the SQL every $N names one of the parameters and every parameter
// is used; the SQL text is printable ASCII (user text travels only as parameters, never in the statement).

#include <cctype>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "domain/filters.hpp"
#include "domain/json_text.hpp"
#include "domain/object_filters.hpp"
#include "fuzz/check.hpp"
#include "http/api_support.hpp"
#include "persistence/filter_sql.hpp"
#include "persistence/object_filter_sql.hpp"

namespace {

using nlohmann::json;
using namespace osprey;
using persistence::dialect;
using persistence::sql_where;

constexpr dialect dialects[] = {dialect::sqlite, dialect::postgresql};
constexpr filters::body_kind kinds[] = {filters::body_kind::filter, filters::body_kind::count,
                                        filters::body_kind::paginate};

/// routes_filters.cpp's filter_body: a blank body or `null` reads as {}; anything else must be an object.
std::optional<json> read_body(const std::string& text) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  http::request req;
  req.body = text;
  http::response error;
  auto body = http::parse_json_body(req, error);
  if (!body) return std::nullopt;
  if (body->is_null()) return json::object();
  return http::object_body(std::move(*body), error);
}

void check_sql_text(const std::string& sql) {
  for (const char c : sql) FUZZ_CHECK(c == '\n' || (c >= ' ' && c <= '~'));
}

/// Every placeholder $N is 1..params, and each parameter is referenced at least once.
void check_where(const sql_where& w) {
  check_sql_text(w.sql);
  std::vector<bool> used(w.params.size(), false);
  for (std::size_t i = 0; i < w.sql.size(); ++i) {
    if (w.sql[i] != '$') continue;  // a placeholder, or a JSON path ('$.type')
    std::size_t end = i + 1;
    while (end < w.sql.size() && std::isdigit(static_cast<unsigned char>(w.sql[end]))) ++end;
    if (end == i + 1) continue;
    FUZZ_CHECK(end - i - 1 <= 6);
    const auto n = std::stoul(w.sql.substr(i + 1, end - i - 1));
    FUZZ_CHECK(n >= 1 && n <= w.params.size());
    used[n - 1] = true;
    i = end - 1;
  }
  for (const bool u : used) FUZZ_CHECK(u);
  FUZZ_CHECK(!w.sql.empty() || w.params.empty());
}

/// A refusal as the routes render it: a message, and a location and detail that serialise.
void check_refusal(const filters::filter_error& e) {
  FUZZ_CHECK(!e.message.empty());
  const json answer = {{"detail", e.describe()}, {"loc", e.location}, {"msg", e.message}, {"type", e.type}};
  FUZZ_CHECK(parse_json(http::dump_lenient(answer), default_json_max_depth).ok());
}

/// One query parser and the WHERE builder of its route, for every body kind and both dialects.
template <class Parse, class Where>
void check_query(const json& body, Parse parse, Where where) {
  for (const auto kind : kinds) {
    filters::filter_error refused;
    const auto q = parse(body, kind, refused);
    if (!q) {
      check_refusal(refused);
      continue;
    }
    FUZZ_CHECK(q->window.limit >= 0 && q->window.offset >= 0);
    (void)q->window.pages(1'000'000);
    check_sql_text(persistence::order_by(q->sort));
    for (const auto d : dialects) check_where(where(d, q->filters));
  }
}

/// A single filter under `key` (the work-pool, work-queue and worker listings), as work_pool_fields.hpp reads it.
template <class Parse, class Where>
void check_single(const json& body, const char* key, Parse parse, Where where) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) return;
  filters::filter_error refused;
  const auto f = parse(*it, {key}, refused);
  if (!f) return check_refusal(refused);
  for (const auto d : dialects) check_where(where(d, f));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto body = read_body(std::string(osprey::fuzz::as_text(data, size)));
  if (!body) return 0;

  check_query(*body, filters::parse_flow_query, persistence::flow_where);
  check_query(*body, filters::parse_flow_run_query, persistence::flow_run_where);
  check_query(*body, filters::parse_task_run_query, persistence::task_run_where);
  check_query(*body, filters::parse_deployment_query, persistence::deployment_where);

  filters::filter_error refused;
  if (const auto q = filters::parse_log_query(*body, refused)) {
    check_sql_text(persistence::order_by(q->sort));
    for (const auto d : dialects) check_where(persistence::log_where(d, q->logs));
  } else {
    check_refusal(refused);
  }

  for (const auto kind : kinds) {
    filters::filter_error e;
    if (const auto q = filters::parse_variable_query(*body, kind, e)) {
      check_sql_text(persistence::order_by(q->sort));
      for (const auto d : dialects) check_where(persistence::variable_where(d, q->variables));
    } else {
      check_refusal(e);
    }
    for (const bool collection : {false, true}) {
      filters::filter_error a;
      if (const auto q = filters::parse_artifact_query(*body, kind, collection, a)) {
        check_sql_text(persistence::order_by(q->sort));
        for (const auto d : dialects) check_where(persistence::artifact_where(d, *q, collection));
      } else {
        check_refusal(a);
      }
    }
  }

  check_single(*body, "work_pools", filters::parse_work_pool_filter,
               [](dialect d, const auto& f) { return persistence::work_pool_where(d, f); });
  check_single(*body, "work_queues", filters::parse_work_queue_filter,
               [](dialect d, const auto& f) { return persistence::work_queue_where(d, f); });
  check_single(*body, "workers", filters::parse_worker_filter,
               [](dialect d, const auto& f) { return persistence::worker_where(d, f); });
  filters::filter_error page_refused;  // POST /api/saved_searches/filter: limit and offset only
  if (!filters::parse_page_body(*body, page_refused)) check_refusal(page_refused);
  return 0;
}

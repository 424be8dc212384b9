#pragma once
// Internal to http/: what the variable and artifact routes share — reading their filter bodies (absent or null
// is {}; refusals shaped as Prefect answers them), the answer for a refused field, a path id that is not a UUID,
// and Prefect's JSON shapes of variables, artifacts and artifact collections.

#include <nlohmann/json.hpp>
#include <optional>

#include "domain/artifact.hpp"
#include "domain/field_problem.hpp"
#include "domain/filters.hpp"
#include "domain/variable.hpp"
#include "http/api_support.hpp"
#include "http/message.hpp"

namespace osprey::http::object_fields {

/// 422 for a refused filter body, with pydantic's loc (list positions as numbers), msg and type.
response filter_refusal(const filters::filter_error& e);

/// Stores `answer` in `error` and returns false: how the body readers of these routes refuse.
inline bool refuse(response& error, response answer) {
  error = std::move(answer);
  return false;
}

/// 422 for a refused body field. The first `splits` dots of its field separate location parts, as pydantic
/// reports nested fields ("filters.0.value" with 2 splits: ["body", "filters", 0, "value"]); the rest of the
/// field stays whole (a metadata key may hold dots).
response field_refusal(const field_problem& p, std::size_t splits = 0);

/// The path parameter `name` as a UUID. Prefect's `{id:uuid}` routes do not match other text, so it answers
/// 404 {"detail": "Not Found"} then (and returns nullopt).
std::optional<uuid> path_id(request& req, const char* name, const responder& respond);

/// Prefect's Variable {id, created, updated, name, value, tags}.
nlohmann::json variable_json(const variable& v);
/// Prefect's Artifact {id, created, updated, key, type, description, data, metadata_, flow_run_id, task_run_id}.
nlohmann::json artifact_json(const artifact& a);
/// Prefect's ArtifactCollection: the Artifact shape with the collection's own id and times, plus latest_id.
nlohmann::json collection_json(const artifact_collection& c);
/// GET /artifacts/{key}/latest: the collection row read through Prefect's Artifact shape (no latest_id).
nlohmann::json latest_json(const artifact_collection& c);

/// The body of a filter route: absent or `null` reads as {} (every parameter at its default).
std::optional<nlohmann::json> optional_body(const request& req, response& error);

/// Parses a filter/count body with `parse(body, error)`; on failure answers (422, or the plain {"detail"} of
/// an out-of-range limit) and returns nullopt.
template <class Parse>
auto parsed_query(const request& req, const responder& respond, Parse parse)
    -> decltype(parse(nlohmann::json(), std::declval<filters::filter_error&>())) {
  response error;
  auto body = optional_body(req, error);
  if (!body) {
    respond(std::move(error));
    return std::nullopt;
  }
  filters::filter_error refused;
  auto q = parse(*body, refused);
  if (!q) respond(filter_refusal(refused));
  return q;
}

/// The selection of a bulk route's body (the bulk deletes, bulk_set_state): the filter under `key`, read by
/// `parse(value, location, error)` (absent or null: none), and `limit` (http/api_support.hpp bulk_limit). Other
/// keys are left to the caller, as FastAPI ignores the ones a route has no parameter for. On a refusal fills
/// `error` and returns false.
template <class Filter, class Parse>
bool read_bulk_selection(const nlohmann::json& body, const char* key, Parse parse, std::optional<Filter>& filter,
                         std::int64_t& limit, response& error) {
  auto given = bulk_limit(body, error);
  if (!given) return false;
  limit = *given;
  if (auto it = body.find(key); it != body.end() && !it->is_null()) {
    filters::filter_error refused;
    filter = parse(*it, {key}, refused);
    if (!filter) {
      error = filter_refusal(refused);
      return false;
    }
  }
  return true;
}

}  // namespace osprey::http::object_fields

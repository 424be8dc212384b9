// json_body: what every JSON route does with a request body before its own fields (http/api_support.hpp):
// the Content-Type gate, the parse with its nesting limit (domain/json_text.hpp), the object and NUL checks,
// a body_reader walk as the create routes do it, the bulk `limit`, the parameter-schema check of deployments
// (domain/parameter_schema.hpp), and the serialisation of whatever answer results.
//
// Invariants: a refused body answers 422 with a JSON body; an accepted one nests no deeper than the limit;
// what the server would echo or store re-reads to the same text.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/json_text.hpp"
#include "domain/parameter_schema.hpp"
#include "fuzz/check.hpp"
#include "http/api_support.hpp"

namespace {

using nlohmann::json;
using namespace osprey;

/// Containers around the deepest value ([] is 1, [[1]] 2, a scalar 0); iterative, like holds_nul.
std::size_t depth_of(const json& value) {
  std::size_t deepest = 0;
  std::vector<std::pair<const json*, std::size_t>> pending{{&value, 0}};
  while (!pending.empty()) {
    const auto [v, above] = pending.back();
    pending.pop_back();
    if (!v->is_structured()) continue;
    deepest = std::max(deepest, above + 1);
    for (const auto& item : *v) pending.emplace_back(&item, above + 1);
  }
  return deepest;
}

/// An answer the server would send: a status the route layer uses and a body that is JSON.
void check_answer(const http::response& r, int status) {
  FUZZ_CHECK(r.status == status);
  FUZZ_CHECK(parse_json(r.body, default_json_max_depth).ok());
}

/// The fields of POST /api/flow_runs/ (as routes_flow_runs.cpp reads them), then finish()'s extra-key check.
void read_like_a_create_route(const json& body) {
  http::body_reader in(body);
  uuid flow;
  std::optional<uuid> deployment;
  std::optional<std::string> name;
  std::optional<bool> paused;
  json parameters = json::object();
  std::vector<std::string> tags;
  json state;
  bool has_state = false;
  const bool ok = in.required_uuid("flow_id", flow) && in.optional_uuid("deployment_id", deployment) &&
                  in.optional_string("name", name) && in.optional_bool("paused", paused) &&
                  in.object("parameters", parameters) && in.string_list("tags", tags) &&
                  in.any("state", state, &has_state) && in.finish();
  if (!ok) check_answer(in.error(), 422);
}

void check_body(const std::string& text, std::size_t max_depth) {
  http::request req;
  req.method = "POST";
  req.headers["content-type"] = "application/json";
  req.body = text;
  req.json_max_depth = max_depth;

  http::response error;
  auto body = http::parse_json_body(req, error);
  if (!body) return check_answer(error, 422);
  FUZZ_CHECK(depth_of(*body) <= max_depth);

  // Echoed and stored values are serialised with dump_lenient; the result must read back, to itself.
  const auto echoed = http::dump_lenient(*body);
  const auto reread = parse_json(echoed, max_depth);
  FUZZ_CHECK(reread.ok());
  FUZZ_CHECK(http::dump_lenient(reread.value) == echoed);

  auto object = http::object_body(std::move(*body), error);
  if (!object) return check_answer(error, 422);
  FUZZ_CHECK(!holds_nul(*object));
  read_like_a_create_route(*object);
  if (!http::bulk_limit(*object, error)) check_answer(error, 422);

  // A deployment's schema against the parameters of a run created from it (both client-supplied).
  const auto schema = object->find("parameter_openapi_schema");
  if (schema != object->end() && schema->is_object()) {
    const auto parameters = object->value("parameters", json::object());
    for (const bool ignore_required : {false, true}) {
      if (const auto failure = check_parameters(parameters, *schema, ignore_required))
        check_answer(http::validation_error("parameters", *failure), 422);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(osprey::fuzz::as_text(data, size));

  // The gate before any parse: a body must be declared JSON (a web page cannot send that without CORS).
  http::request typed;
  typed.body = text;
  typed.headers["content-type"] = "text/plain";
  const auto refused = http::refuse_non_json_body(typed);
  FUZZ_CHECK(refused.has_value() == !text.empty());
  if (refused) check_answer(*refused, 415);

  // The server's default limit, and a small one so that the too-deep refusal is reached often.
  check_body(text, default_json_max_depth);
  check_body(text, 3);
  return 0;
}

#pragma once
// Renders the Jinja subset of Prefect's automation templates that Osprey supports: text with `{{ path }}`
// expressions, where a path is names joined by dots or `["key"]` subscripts (`{{ event.resource.id }}`,
// `{{ automation.name }}`, `{{ labels["prefect.resource.id"] }}`), and `{# comments #}`. An undefined value
// renders as nothing (Jinja's default Undefined); None, True and False as Python prints them; lists and objects
// as JSON. One filter, `| tojson` (the value as Jinja's htmlsafe JSON: what Prefect's run-deployment
// parameters use to keep a value's type). Anything else — `{% %}` statements, other filters, calls,
// operators — is refused with the offending expression, rather than rendered wrongly. Pure.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "domain/status.hpp"

namespace osprey {

/// `source` rendered with `context` (a JSON object: the names a template may use). errc::invalid_argument
/// naming the unsupported syntax otherwise.
result<std::string> render_jinja(std::string_view source, const nlohmann::json& context);

}  // namespace osprey

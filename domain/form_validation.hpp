#pragma once
// POST /ui/schemas/validate: how the UI's parameter forms (a deployment's custom run, its default parameters)
// are checked before they are sent, as Prefect's server answers it. Values are hydrated first, one top-level
// value at a time ({"__prefect_kind": "json" | "none" | "workspace_variable"} placeholders, domain/
// flow_run_input.hpp); a value that cannot be hydrated is reported under its property with the hydration
// message. A "jinja" placeholder is not rendered here (Prefect does not render it either) and its property is
// not checked. The schema is preprocessed as Prefect does, then every failure is reported
// (domain/parameter_schema.hpp: validation_report's shape). Pure, given the variable lookup.

#include <nlohmann/json.hpp>

#include "domain/flow_run_input.hpp"

namespace osprey {

/// {"errors": [...], "valid": bool}. `values` and `schema` are JSON objects.
nlohmann::json validate_form_values(const nlohmann::json& values, const nlohmann::json& schema,
                                    const variable_lookup& variable);

}  // namespace osprey

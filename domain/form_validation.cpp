#include "domain/form_validation.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "domain/parameter_schema.hpp"

namespace osprey {

using nlohmann::json;

json validate_form_values(const json& values, const json& schema, const variable_lookup& variable) {
  json hydrated = json::object();
  std::set<std::string> unchecked;  // properties holding a Jinja template
  std::vector<schema_failure> placeholder_failures;
  for (const auto& [key, value] : values.items()) {
    if (value.is_object() && value.value("__prefect_kind", json()) == "jinja") {
      unchecked.insert(key);
      hydrated[key] = value;
      continue;
    }
    auto one = hydrate_run_input(json{{key, value}}, variable);
    if (!one) {
      placeholder_failures.push_back({{key}, "_placeholders", std::string(one.error().message())});
      hydrated[key] = value;
      continue;
    }
    if (auto it = one->find(key); it != one->end()) hydrated[key] = std::move(*it);
  }
  auto failures = schema_failures(hydrated, preprocess_parameter_schema(schema));
  std::erase_if(failures, [&](const schema_failure& f) {
    const auto* top = f.path.empty() ? nullptr : std::get_if<std::string>(&f.path.front());
    return top && unchecked.contains(*top);
  });
  failures.insert(failures.end(), placeholder_failures.begin(), placeholder_failures.end());
  return validation_report(failures);
}

}  // namespace osprey

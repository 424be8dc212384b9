#include "domain/saved_search.hpp"

namespace osprey {

std::optional<field_problem> normalise_saved_search_filters(nlohmann::json& filters) {
  if (!filters.is_array()) return field_problem{"filters", "Input should be a valid list", "list_type"};
  nlohmann::json kept = nlohmann::json::array();
  for (std::size_t i = 0; i < filters.size(); ++i) {
    const auto at = "filters." + std::to_string(i);
    const auto& item = filters[i];
    if (!item.is_object()) return field_problem{at, "Input should be a valid dictionary or object", "model_type"};
    nlohmann::json one = nlohmann::json::object();
    for (const char* key : {"object", "property", "type", "operation"}) {
      auto it = item.find(key);
      if (it == item.end()) return field_problem{at + "." + key, "Field required", "missing"};
      if (!it->is_string()) return field_problem{at + "." + key, "Input should be a valid string", "string_type"};
      one[key] = *it;
    }
    auto value = item.find("value");
    if (value == item.end()) return field_problem{at + ".value", "Field required", "missing"};
    one["value"] = *value;
    kept.push_back(std::move(one));
  }
  filters = std::move(kept);
  return std::nullopt;
}

}  // namespace osprey

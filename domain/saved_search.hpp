#pragma once
// Prefect's saved searches: named filter sets the UI keeps (SavedSearchCreate / SavedSearch). Pure checks; the
// http layer reads the body, persistence/saved_search_store keeps the rows.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "domain/field_problem.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

using saved_search_id = typed_id<struct saved_search_tag>;

struct saved_search {
  saved_search_id id;
  timestamp created;
  timestamp updated;
  std::string name;
  nlohmann::json filters = nlohmann::json::array();  ///< a list of SavedSearchFilter objects
};

/// Checks `filters` as list[SavedSearchFilter]: a list of objects each with the strings object, property,
/// type and operation and any `value` (required, null allowed). Keys beyond those five are dropped, as pydantic
/// ignores them there. The problem's field is "filters", "filters.<i>" or "filters.<i>.<key>".
std::optional<field_problem> normalise_saved_search_filters(nlohmann::json& filters);

}  // namespace osprey
